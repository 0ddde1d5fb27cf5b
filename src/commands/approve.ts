// `tsflyte approve EXEC NAME`: approves the value an approve() gate of an execution holds, so the workflow goes on.
// Thin: flags in, one lib call, one line out.
import { Args } from "@oclif/core";
import { BaseCommand } from "../base-command.js";

export default class Approve extends BaseCommand {
  static override summary = "approve a gate of an execution, so the workflow goes on";
  static override description = "Sets the approval signal NAME to true. To reject instead (the gate's node fails), run `tsflyte signal EXEC NAME false`.";
  static override examples = ["<%= config.bin %> approve a8f3k2l1m0n9b8v7c6x5 deploy-ok"];
  static override enableJsonFlag = true;
  static override args = {
    execution: Args.string({ description: "the execution whose gate waits", required: true }),
    name: Args.string({ description: "the approval: the name given to approve()", required: true }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(Approve);
    const config = await this.resolvedConfig(flags);
    const { approveCommand } = await import("../lib/remote/signals.js");
    const { renderSetSignal } = await import("../render/signals.js");
    const result = await approveCommand(config, { project: config.project, domain: config.domain, name: args.execution }, args.name);
    if (!this.jsonEnabled()) this.log(renderSetSignal(result, "approved"));
    return result;
  }
}
