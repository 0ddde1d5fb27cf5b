// `tsflyte run FILE ENTITY --input value …`: runs a workflow, task or launch plan locally and records it.
// Thin: the entity's inputs are parsed by the lib, which also runs it; this prints the name, outputs or trace.
import { Args, Flags } from "@oclif/core";
import { BaseCommand, reportRun } from "../base-command.js";
import type { RunResult } from "../lib/local/commands.js";

export default class Run extends BaseCommand {
  static override summary = "run a workflow, task or launch plan on this machine, recorded in the local history";
  static override description =
    "Loads FILE, finds ENTITY (its export name or full name) and runs it in this process with caching, retries and timeouts. " +
    "Each input of the entity is a flag: --<name> (camelCase names also as --kebab-case); booleans --x/--no-x; lists, maps and " +
    "structs as JSON; files and directories as a path or URI; dataframes as a .parquet, .arrow or .csv path; datetimes as ISO 8601, " +
    "now or today; durations as 90s, 1h30m or ISO 8601. `run FILE ENTITY --help` lists the inputs of ENTITY. " +
    "Prints the execution name, then the outputs; a failure prints the error trace and exits 1.";
  static override examples = [
    `<%= config.bin %> run examples/spend.ts calculateSpend --emp '[{"name":"a","pay":10}]' --scalar 3`,
    "<%= config.bin %> run examples/spend.ts calculateSpend --inputs-file inputs.yaml",
    "<%= config.bin %> run examples/spend.ts calculateSpend --help",
  ];
  static override usage = "run FILE ENTITY [--<input> VALUE]... [--inputs-file FILE] [--name NAME] [--overwrite-cache] [--max-parallelism N] [-q] [-p PROJECT] [-d DOMAIN] [-v] [--json]";
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
    "max-parallelism": Flags.integer({ summary: "task attempts that run at once", default: 25, min: 1 }),
    quiet: Flags.boolean({ char: "q", summary: "do not echo the tasks' console output to stderr" }),
  };
  /** Flags of `run` itself: no input may be named like them. */
  static readonly reservedFlags = ["inputs-file", "name", "overwrite-cache", "max-parallelism", "quiet", "q", "project", "p", "domain", "d", "verbose", "v", "json", "help", "h"];

  async run(): Promise<RunResult> {
    const { args, flags } = await this.parse(Run);
    const { runFromCommandLine } = await import("../lib/local/commands.js");
    process.setSourceMapsEnabled(true);
    const result = await runFromCommandLine({
      file: args.file,
      entity: args.entity,
      inputArgs: this.inputArgs(args),
      reservedFlags: Run.reservedFlags,
      inputsFile: flags["inputs-file"],
      project: flags.project,
      domain: flags.domain,
      name: flags.name,
      overwriteCache: flags["overwrite-cache"],
      maxParallelism: flags["max-parallelism"],
      echo: flags.quiet || this.jsonEnabled() ? "none" : "stderr",
    });
    return reportRun(this, result, flags.verbose);
  }

  /** The command line after FILE and ENTITY, which holds the entity's inputs; oclif leaves unknown flags alone. */
  private inputArgs(args: { file: string; entity: string }): string[] {
    const at = this.argv.indexOf(args.entity, this.argv.indexOf(args.file) + 1);
    return at >= 0 ? this.argv.slice(at + 1) : [];
  }
}
