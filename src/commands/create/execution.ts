// `tsflyte create execution --execFile F | --recover NAME | --relaunch NAME`: a new execution from a filled-in spec
// or from an earlier execution, on the control plane (or, for recover and relaunch, locally when none is configured).
// Thin: flags in, one lib call, the printer out; exits 1 when a local execution fails.
import { Flags } from "@oclif/core";
import { BaseCommand, reportRun } from "../../base-command.js";
import type { RunResult } from "../../lib/local/commands.js";

const sources = ["execFile", "recover", "relaunch"];

export default class CreateExecution extends BaseCommand {
  static override summary = "start an execution from an execution spec file, or recover or relaunch one";
  static override hiddenAliases = ["create:executions"];
  static override description =
    "--execFile F starts the task or launch plan named in F (write one with `get task|launchplan NAME --execFile F`); the file is " +
    "checked against schemas/execution-spec.schema.json and the entity's inputs, and flags override it; --iamRoleARN, " +
    "--kubeServiceAcct, --clusterPool, --targetExecutionCluster and --envs NAME=VALUE set what flytectl's keys of the same names set. " +
    "--recover NAME starts a new execution that reuses the outputs of every node NAME finished and runs the rest " +
    "(fix the failing task, then recover). --relaunch NAME runs the same entity again from scratch with the same inputs. " +
    "Without a configured control plane, recover and relaunch run on this machine from the local history.";
  static override examples = [
    "<%= config.bin %> create execution --execFile spend.yaml",
    "<%= config.bin %> create execution --execFile spend.yaml --targetProject acme --targetDomain production --overwriteCache --dryRun",
    "<%= config.bin %> create execution --execFile spend.yaml --kubeServiceAcct spend-runner --envs LOG_LEVEL=debug --envs REGION=eu-west-1",
    "<%= config.bin %> create execution --recover a8f3k2l1m0n9b8v7c6x5",
    "<%= config.bin %> create execution --relaunch a8f3k2l1m0n9b8v7c6x5 --overwriteCache",
  ];
  static override enableJsonFlag = true;
  static override flags = {
    execFile: Flags.string({ summary: "execution spec (YAML) naming a task or launch plan and its inputs", exactlyOne: sources }),
    recover: Flags.string({ summary: "execution to recover: reuse what it finished, run the rest", exactlyOne: sources }),
    relaunch: Flags.string({ summary: "execution to run again from scratch with the same inputs", exactlyOne: sources }),
    dryRun: Flags.boolean({ summary: "with --execFile: check everything and show what would start; start nothing", dependsOn: ["execFile"] }),
    targetProject: Flags.string({ summary: "with --execFile: project to run in (beats targetProject in the file)", dependsOn: ["execFile"] }),
    targetDomain: Flags.string({ summary: "with --execFile: domain to run in (beats targetDomain in the file)", dependsOn: ["execFile"] }),
    version: Flags.string({ summary: "with --execFile: version of the entity (beats version in the file; default: the newest)", dependsOn: ["execFile"] }),
    iamRoleARN: Flags.string({ summary: "with --execFile: IAM role the task pods assume (beats iamRoleARN in the file)", dependsOn: ["execFile"] }),
    kubeServiceAcct: Flags.string({ summary: "with --execFile: service account the task pods run as (beats kubeServiceAcct in the file)", dependsOn: ["execFile"] }),
    clusterPool: Flags.string({ summary: "with --execFile: cluster pool to record for the execution (beats clusterPool in the file)", dependsOn: ["execFile"] }),
    targetExecutionCluster: Flags.string({ summary: "with --execFile: execution cluster label to record (beats targetExecutionCluster in the file)", dependsOn: ["execFile"] }),
    envs: Flags.string({ summary: "with --execFile: NAME=VALUE environment variable for every task; repeat it (beats envs in the file)", multiple: true, dependsOn: ["execFile"] }),
    overwriteCache: Flags.boolean({ summary: "run cached tasks again and replace their cached outputs" }),
    name: Flags.string({ summary: "name of the new execution; default: generated" }),
    quiet: Flags.boolean({ char: "q", summary: "local runs: do not echo the tasks' console output to stderr" }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(CreateExecution);
    const config = await this.resolvedConfig(flags);
    const { renderCreatedExecution } = await import("../../render/create-execution.js");
    if (flags.execFile) {
      const { createExecutionFromFile } = await import("../../lib/remote/exec-spec.js");
      const created = await createExecutionFromFile(config, { ...flags, execFile: flags.execFile });
      if (!this.jsonEnabled()) this.log(renderCreatedExecution(created, created.execution && (await this.detailsCommand(created.execution, config.target))));
      return created;
    }
    const mode = flags.recover ? "recover" : "relaunch";
    const source = { project: config.project, domain: config.domain, name: (flags.recover ?? flags.relaunch)! };
    if (config.target !== "local") {
      const { restartExecutionRemote } = await import("../../lib/remote/commands.js");
      const created = await restartExecutionRemote(config, { mode, source, name: flags.name, overwriteCache: flags.overwriteCache });
      if (!this.jsonEnabled()) this.log(renderCreatedExecution(created, await this.detailsCommand(created.execution, config.target)));
      return created;
    }
    const { restartExecution } = await import("../../lib/local/commands.js");
    process.setSourceMapsEnabled(true);
    const result: RunResult = await restartExecution({
      source,
      mode,
      name: flags.name,
      overwriteCache: flags.overwriteCache,
      echo: flags.quiet || this.jsonEnabled() ? "none" : "stderr",
    });
    return reportRun(this, result, flags.verbose);
  }
}
