// oclif's help, plus one thing: `tsflyte run FILE ENTITY --help` lists ENTITY's inputs, their types, defaults
// and descriptions, read from the module. Never loads a module for any other help.
import { Help } from "@oclif/core";

const runValueFlags = new Set(["-p", "--project", "-d", "--domain", "--inputs-file", "--name", "--max-parallelism"]);

/** FILE and ENTITY from `run … --help`, skipping flags and the values of flags that take one. */
export function runTargets(argv: readonly string[]): { file: string; entity: string } | undefined {
  if (argv[0] !== "run") return undefined;
  const positionals: string[] = [];
  for (let i = 1; i < argv.length && positionals.length < 2; i++) {
    const arg = argv[i];
    if (arg === "--") break;
    if (arg.startsWith("-")) {
      if (runValueFlags.has(arg)) i++;
      continue;
    }
    positionals.push(arg);
  }
  return positionals.length === 2 ? { file: positionals[0], entity: positionals[1] } : undefined;
}

export default class TsflyteHelp extends Help {
  override async showHelp(argv: string[]): Promise<void> {
    const target = runTargets(argv);
    if (!target) return super.showHelp(argv);
    const { entityInputsHelp } = await import("./lib/local/inputs-help.js");
    const { renderInputsHelp } = await import("./render/inputs-help.js");
    this.log(renderInputsHelp(await entityInputsHelp(target.file, target.entity), this.config.bin));
    this.log("");
    await super.showHelp(["run"]);
  }
}
