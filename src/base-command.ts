// The base of every tsflyte command: the shared flags, and one place that turns errors into a clear message
// and a stable exit code (also in --json mode). Never holds a command's logic.
import { Command, Flags, Errors } from "@oclif/core";
import { UserError } from "./lib/errors.js";
import { renderError } from "./render/errors.js";
import type { RunResult } from "./lib/local/commands.js";

/** Exit codes: 1 the user can fix it (bad input, compile problems), 2 bad usage, 70 a bug in tsflyte. */
export const exitCodes = { userError: 1, usage: 2, bug: 70 } as const;

export abstract class BaseCommand extends Command {
  static override baseFlags = {
    project: Flags.string({ char: "p", summary: "project of the entities", default: "flytesnacks", helpGroup: "GLOBAL" }),
    domain: Flags.string({ char: "d", summary: "domain of the entities", default: "development", helpGroup: "GLOBAL" }),
    verbose: Flags.boolean({ char: "v", summary: "show stack traces, also tsflyte's own frames", helpGroup: "GLOBAL" }),
  };

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    const verbose = this.argv.includes("-v") || this.argv.includes("--verbose");
    if (err instanceof Errors.ExitError) throw err;
    const isUsage = err instanceof Errors.CLIError && !(err instanceof UserError) && err.oclif?.exit === 2;
    const code = err instanceof UserError ? exitCodes.userError : isUsage ? exitCodes.usage : exitCodes.bug;
    if (this.jsonEnabled()) {
      process.stdout.write(`${JSON.stringify({ error: errorJson(err, code) }, null, 2)}\n`);
    } else {
      process.stderr.write(`${renderError(err, { verbose, usage: code === exitCodes.usage })}\n`);
    }
    return this.exit(code);
  }
}

/** Prints a finished run (stdout: name and outputs; stderr: the error trace) and exits 1 unless it succeeded. */
export async function reportRun(command: BaseCommand, result: RunResult, verbose: boolean): Promise<RunResult> {
  const { renderRunResult } = await import("./render/run.js");
  if (command.jsonEnabled()) {
    if (result.phase === "SUCCEEDED") return result;
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const rendered = renderRunResult(result, { verbose });
    command.log(rendered.stdout);
    if (rendered.stderr) process.stderr.write(`${rendered.stderr}\n`);
    if (result.phase === "SUCCEEDED") return result;
  }
  return command.exit(exitCodes.userError);
}

function errorJson(err: Error, code: number): Record<string, unknown> {
  const problems = (err as { problems?: unknown }).problems;
  return { message: err.message, exitCode: code, ...(problems ? { problems } : {}) };
}
