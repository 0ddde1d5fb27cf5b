// `tsflyte create execution --recover NAME | --relaunch NAME`: a new local execution from an earlier one.
// Thin: flags in, one lib call, the run printer out; exits 1 when the new execution fails.
import { Flags } from "@oclif/core";
import { BaseCommand, reportRun } from "../../base-command.js";
import type { RunResult } from "../../lib/local/commands.js";

export default class CreateExecution extends BaseCommand {
  static override summary = "recover or relaunch an execution";
  static override description =
    "--recover NAME starts a new execution that reuses the outputs of every node NAME finished and runs the rest with the code as it is now " +
    "(fix the failing task, then recover). --relaunch NAME runs the same entity again from scratch with the same inputs.";
  static override examples = [
    "<%= config.bin %> create execution --recover a8f3k2l1m0n9b8v7c6x5",
    "<%= config.bin %> create execution --relaunch a8f3k2l1m0n9b8v7c6x5 --overwriteCache",
  ];
  static override enableJsonFlag = true;
  static override flags = {
    recover: Flags.string({ summary: "execution to recover: reuse what it finished, run the rest", exactlyOne: ["recover", "relaunch"] }),
    relaunch: Flags.string({ summary: "execution to run again from scratch with the same inputs", exactlyOne: ["recover", "relaunch"] }),
    overwriteCache: Flags.boolean({ summary: "run cached tasks again and replace their cached outputs" }),
    name: Flags.string({ summary: "name of the new execution; default: generated" }),
    quiet: Flags.boolean({ char: "q", summary: "do not echo the tasks' console output to stderr" }),
  };

  async run(): Promise<RunResult> {
    const { flags } = await this.parse(CreateExecution);
    const { restartExecution } = await import("../../lib/local/commands.js");
    process.setSourceMapsEnabled(true);
    const mode = flags.recover ? "recover" : "relaunch";
    const result = await restartExecution({
      source: { project: flags.project, domain: flags.domain, name: (flags.recover ?? flags.relaunch)! },
      mode,
      name: flags.name,
      overwriteCache: flags.overwriteCache,
      echo: flags.quiet || this.jsonEnabled() ? "none" : "stderr",
    });
    return reportRun(this, result, flags.verbose);
  }
}
