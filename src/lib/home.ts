// Where tsflyte keeps its state on this machine: `$TSFLYTE_HOME`, or `~/.tsflyte`. One small module, so that commands
// needing only the folder (serve, demo) do not load the local target and its compiler. Never creates anything.
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export function tsflyteHome(): string {
  return resolve(process.env.TSFLYTE_HOME || join(homedir(), ".tsflyte"));
}
