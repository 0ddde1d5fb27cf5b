// The base of every tsflyte command: the shared flags, and one place that turns errors into a clear message
// and a stable exit code (also in --json mode). Never holds a command's logic.
import { Command, Flags, Errors } from "@oclif/core";
import { NotFoundError, UnreachableError, UserError } from "./lib/errors.js";
import { renderError } from "./render/errors.js";
import type { RunResult } from "./lib/local/commands.js";
import type { ConfigFlags, ResolvedConfig, Target } from "./lib/config/config.js";
import type { UsageArg, UsageFlag } from "./usage-error.js";

/**
 * Exit codes, documented in the README: 1 the execution failed, 2 bad usage or bad input (compile problems
 * included), 3 not found, 4 the control plane is unreachable or refused us, 70 a bug in tsflyte.
 */
export const exitCodes = { executionFailed: 1, usage: 2, badInput: 2, notFound: 3, unreachable: 4, bug: 70 } as const;

/** The exit code for an error that ends a command. */
export function exitCodeOf(err: Error & { oclif?: { exit?: number } }): number {
  if (err instanceof NotFoundError) return exitCodes.notFound;
  if (err instanceof UnreachableError) return exitCodes.unreachable;
  if (err instanceof UserError) return exitCodes.badInput;
  if (err instanceof Errors.CLIError && err.oclif?.exit === 2) return exitCodes.usage;
  return exitCodes.bug;
}

export abstract class BaseCommand extends Command {
  static override baseFlags = {
    config: Flags.string({ char: "c", summary: "config file (default: $FLYTECTL_CONFIG, then ~/.flyte/config.yaml)", helpGroup: "GLOBAL" }),
    project: Flags.string({ char: "p", summary: "project (default: task.project in the config, else flytesnacks)", helpGroup: "GLOBAL" }),
    domain: Flags.string({ char: "d", summary: "domain (default: task.domain in the config, else development)", helpGroup: "GLOBAL" }),
    verbose: Flags.boolean({ char: "v", summary: "show stack traces, also tsflyte's own frames", helpGroup: "GLOBAL" }),
    target: Flags.string({
      summary: "where remote commands go: local, admin or kubernetes (default: target in the config, else admin when admin.endpoint is set, else local)",
      helpGroup: "GLOBAL",
      options: ["local", "admin", "kubernetes"],
    }),
  };

  /** The flags the config was resolved from, kept to tell what a later command would resolve (see flagsToFind). */
  private configFlags: ConfigFlags = {};

  /** The config this command runs with: flags, then environment, then the config file, then defaults. Takes a command's whole flags object. */
  async resolvedConfig(flags: { config?: string; project?: string; domain?: string; target?: string }): Promise<ResolvedConfig> {
    const { resolveConfig } = await import("./lib/config/config.js");
    this.configFlags = { config: flags.config, project: flags.project, domain: flags.domain, target: flags.target };
    return resolveConfig(this.configFlags);
  }

  /**
   * The flags a later `get execution` needs to find an execution this command made on `target`: those whose value
   * differs from what the environment and config file give a command without them (`--target local` for a local
   * run while a control plane is configured; `-p` for a project given here).
   */
  async flagsToFind(execution: { project: string; domain: string }, target: Target): Promise<string[]> {
    const { resolveConfig } = await import("./lib/config/config.js");
    const config = this.configFlags.config;
    const later = await resolveConfig({ config }).catch(() => undefined);
    return [
      ...(config !== undefined ? ["-c", config] : []),
      ...(later?.project !== execution.project ? ["-p", execution.project] : []),
      ...(later?.domain !== execution.domain ? ["-d", execution.domain] : []),
      ...(later?.target !== target ? ["--target", target] : []),
    ];
  }

  /** How to write tsflyte in a command printed for the user to paste: as this one was started (`npx tsflyte` under npx). */
  invocation(): string {
    return process.env.npm_lifecycle_event === "npx" ? `npx ${this.config.bin}` : this.config.bin;
  }

  /**
   * The `get execution NAME --details` line that shows an execution this command made on `target`, written the way
   * this command was started, so it runs as printed: `npx tsflyte …` when npm's npx started it.
   */
  async detailsCommand(execution: { project: string; domain: string; name: string }, target: Target): Promise<string> {
    return [this.invocation(), "get", "execution", execution.name, "--details", ...(await this.flagsToFind(execution, target))].join(" ");
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    const verbose = this.argv.includes("-v") || this.argv.includes("--verbose");
    if (err instanceof Errors.ExitError) throw err;
    const { usageErrorFrom } = await import("./usage-error.js");
    const flags = { ...this.ctor.baseFlags, ...this.ctor.flags } as Record<string, UsageFlag>;
    // A command run from its class (tests) gets its class name as id, which names no command.
    const name = this.id && this.config.findCommand(this.id) ? this.id.replaceAll(":", " ") : "";
    err = usageErrorFrom(err, { name, flags, args: (this.ctor.args ?? {}) as Record<string, UsageArg>, bin: this.config.bin }) ?? err;
    const code = exitCodeOf(err);
    printError(err, code, { json: this.jsonEnabled(), verbose });
    return this.exit(code);
  }
}

/** Prints an error that ends a command: `{error}` on stdout in --json mode, else the rendered text on stderr. */
export function printError(err: Error, code: number, options: { json: boolean; verbose?: boolean }): void {
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ error: errorJson(err, code) }, null, 2)}\n`);
  } else {
    const usage = code === exitCodes.usage && !(err instanceof UserError);
    process.stderr.write(`${renderError(err, { verbose: options.verbose, usage })}\n`);
  }
}

/** Prints a finished run (stdout: name and outputs; stderr: the error trace) and exits 1 unless it succeeded. */
export async function reportRun(command: BaseCommand, result: RunResult, verbose: boolean, where?: { name: string; target: Target }): Promise<RunResult> {
  const { renderRunResult } = await import("./render/run.js");
  if (command.jsonEnabled()) {
    if (result.phase === "SUCCEEDED") return result;
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const details = await command.detailsCommand(result.execution, where?.target ?? "local");
    const rendered = renderRunResult(result, { verbose, where: where?.name, details });
    command.log(rendered.stdout);
    if (rendered.stderr) process.stderr.write(`${rendered.stderr}\n`);
    if (result.phase === "SUCCEEDED") return result;
  }
  return command.exit(exitCodes.executionFailed);
}

function errorJson(err: Error, code: number): Record<string, unknown> {
  const problems = (err as { problems?: unknown }).problems;
  const hint = (err as { hint?: unknown }).hint;
  return { message: err.message, exitCode: code, ...(typeof hint === "string" ? { hint } : {}), ...(problems ? { problems } : {}) };
}
