// `tsflyte kubernetes drive NAME`: what an execution's driver Job runs in the cluster. Hidden: users start
// executions with `run --remote --target kubernetes` or `create execution`. Thin: flags in, one lib call.
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";

export default class KubernetesDrive extends BaseCommand {
  static override hidden = true;
  static override summary = "drive one execution inside its Kubernetes Job (run by the Job tsflyte creates)";
  static override args = { name: Args.string({ description: "the execution", required: true }) };
  static override flags = {
    namespace: Flags.string({ summary: "the namespace the execution lives in", required: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(KubernetesDrive);
    const { driveExecution } = await import("../../lib/k8s/driver.js");
    const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
    const outcome = await driveExecution({
      project: flags.project ?? "",
      domain: flags.domain ?? "",
      name: args.name,
      namespace: flags.namespace,
      log,
      settingsJson: process.env.TSFLYTE_K8S_DRIVER,
    });
    // Stopped before the end (evicted, drained): a non-zero exit has the Job start a driver that takes it up again.
    if (!outcome.ended) this.exit(143);
    log(`execution ${args.name} ended${outcome.phase ? ` ${outcome.phase}` : " (nothing left to run)"}`);
  }
}
