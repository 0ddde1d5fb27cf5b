// `tsflyte run FILE ENTITY --input value …`: runs a workflow, task or launch plan locally and records it.
// Thin: the entity's inputs are parsed by the lib, which also runs it; this prints the name, outputs or trace.
import { Args, Flags } from "@oclif/core";
import { BaseCommand, exitCodes, reportRun } from "../base-command.js";
import type { RunResult } from "../lib/local/commands.js";
import type { ResolvedConfig } from "../lib/config/config.js";
import type { RemoteRunOutcome, RemoteRunRequest } from "../lib/remote/run.js";

export default class Run extends BaseCommand {
  static override summary = "run a workflow, task or launch plan here, or with --remote on the control plane";
  static override description =
    "Loads FILE, finds ENTITY (its export name or full name) and runs it in this process with caching, retries and timeouts. " +
    "Each input of the entity is a flag: --<name> (camelCase names also as --kebab-case); booleans --x/--no-x; lists, maps and " +
    "structs as JSON; files and directories as a path or URI; dataframes as a .parquet, .arrow or .csv path; datetimes as ISO 8601, " +
    "now or today; durations as 90s, 1h30m or ISO 8601. `run FILE ENTITY --help` lists the inputs of ENTITY. " +
    "Prints the execution name, then the outputs; a failure prints the error trace and exits 1. " +
    "With --remote, ENTITY and what it calls are registered under a content-hash version and an execution is started on the " +
    "configured control plane, or on Kubernetes with --target kubernetes; its name is printed at once, or with --wait the command follows it to the end.";
  static override examples = [
    `<%= config.bin %> run examples/spend.ts calculateSpend --emp '[{"name":"a","pay":10}]' --scalar 3`,
    "<%= config.bin %> run examples/spend.ts calculateSpend --inputs-file inputs.yaml",
    "<%= config.bin %> run examples/spend.ts calculateSpend --help",
    "<%= config.bin %> run examples/gates.ts release --signal deploy-ok=true --signal batch-size=64",
    `<%= config.bin %> run --remote --wait examples/spend.ts calculateSpend --emp '[{"name":"a","pay":10}]' --scalar 3`,
  ];
  static override usage =
    "run [--remote [--wait] [--image IMAGE]] FILE ENTITY [--<input> VALUE]... [--inputs-file FILE] [--name NAME] [--signal NAME=VALUE]... [--overwrite-cache] [--max-parallelism N] [-q] [-c CONFIG] [-p PROJECT] [-d DOMAIN] [--target TARGET] [-v] [--json]";
  static override strict = false;
  /** Unknown flags are the entity's inputs: oclif passes them through as arguments instead of refusing them. */
  static "--" = false;
  static override enableJsonFlag = true;
  static override args = {
    file: Args.string({ description: "the module that exports ENTITY", required: true }),
    entity: Args.string({ description: "a workflow, task or launch plan: export name or full name", required: true }),
  };
  static override flags = {
    "inputs-file": Flags.string({ summary: "YAML or JSON file of inputs; flags override it" }),
    name: Flags.string({ summary: "name of the execution; default: generated" }),
    "overwrite-cache": Flags.boolean({ summary: "run cached tasks again and replace their cached outputs" }),
    "max-parallelism": Flags.integer({ summary: "task attempts that run at once (default 25; with --remote, the launch plan's)", min: 1 }),
    quiet: Flags.boolean({ char: "q", summary: "do not echo the tasks' console output (with --remote --wait: the progress line) to stderr" }),
    remote: Flags.boolean({ summary: "register ENTITY and run it on the configured control plane" }),
    wait: Flags.boolean({ summary: "with --remote: follow the execution to its end and exit 1 if it fails", dependsOn: ["remote"] }),
    image: Flags.string({ summary: "with --remote: the container image tasks run in", dependsOn: ["remote"] }),
    signal: Flags.string({
      summary: "answer a gate in advance: NAME=VALUE (approve: NAME=true); repeatable. Gates not answered are asked on the terminal",
      multiple: true,
      exclusive: ["remote"],
    }),
  };
  /** Flags of `run` itself: no input may be named like them. */
  static readonly reservedFlags = [
    ...["inputs-file", "name", "overwrite-cache", "max-parallelism", "quiet", "q", "remote", "wait", "image", "signal"],
    ...["config", "c", "project", "p", "domain", "d", "target", "verbose", "v", "json", "help", "h"],
  ];

  async run(): Promise<RunResult | RemoteRunOutcome> {
    const { args, flags } = await this.parse(Run);
    const config = await this.resolvedConfig(flags);
    // What a local and a remote run both take from the command line.
    const request = {
      file: args.file,
      entity: args.entity,
      inputArgs: this.inputArgs(args),
      reservedFlags: Run.reservedFlags,
      inputsFile: flags["inputs-file"],
      project: config.project,
      domain: config.domain,
      name: flags.name,
      overwriteCache: flags["overwrite-cache"],
      maxParallelism: flags["max-parallelism"],
    };
    if (flags.remote) return this.runRemote({ ...request, image: flags.image }, flags, config);
    const { runFromCommandLine } = await import("../lib/local/commands.js");
    process.setSourceMapsEnabled(true);
    const result = await runFromCommandLine({
      ...request,
      maxParallelism: request.maxParallelism ?? 25,
      echo: flags.quiet || this.jsonEnabled() ? "none" : "stderr",
      signals: flags.signal ?? [],
      askOnTerminal: process.stdin.isTTY === true,
    });
    return reportRun(this, result, flags.verbose);
  }

  private async runRemote(request: RemoteRunRequest, flags: { wait?: boolean; quiet?: boolean; verbose?: boolean }, config: ResolvedConfig): Promise<RemoteRunOutcome> {
    const { runRemoteCommand } = await import("../lib/remote/run.js");
    const { progressReporter, renderRemoteRun } = await import("../render/remote-run.js");
    const reporter = flags.wait && !flags.quiet && !this.jsonEnabled() ? progressReporter(process.stderr) : undefined;
    let outcome: RemoteRunOutcome;
    try {
      outcome = await runRemoteCommand(config, request, { wait: flags.wait, onSnapshot: reporter?.update });
    } finally {
      reporter?.end();
    }
    if (this.jsonEnabled()) {
      // The same object whatever the ending; oclif prints it on success, this on a failed execution.
      if (outcome.result && outcome.result.phase !== "SUCCEEDED") {
        process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
        return this.exit(exitCodes.executionFailed);
      }
      return outcome;
    }
    this.log(renderRemoteRun(outcome, await this.detailsCommand(outcome.execution, config.target)));
    if (outcome.result) await reportRun(this, outcome.result, flags.verbose ?? false, { name: "remote", target: config.target });
    return outcome;
  }

  /** The command line after FILE and ENTITY, which holds the entity's inputs; oclif leaves unknown flags alone. */
  private inputArgs(args: { file: string; entity: string }): string[] {
    const at = this.argv.indexOf(args.entity, this.argv.indexOf(args.file) + 1);
    return at >= 0 ? this.argv.slice(at + 1) : [];
  }
}
