// `tsflyte get signal EXEC`: the signals an execution's gates wait for, with their types and values (or "waiting"), from
// the control plane or the Kubernetes target. Thin: flags in, one lib call, the printer out.
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";

export default class GetSignal extends BaseCommand {
  static override summary = "list the signals an execution's gates wait for, with their types and values";
  static override hiddenAliases = ["get:signals"];
  static override description = "A signal exists once a gate (approve, waitForInput) of the execution starts waiting; its value reads waiting until it is given with `tsflyte signal` or `tsflyte approve`.";
  static override examples = ["<%= config.bin %> get signal a8f3k2l1m0n9b8v7c6x5", "<%= config.bin %> get signal a8f3k2l1m0n9b8v7c6x5 --output yaml"];
  static override args = {
    execution: Args.string({ description: "the execution whose signals to list", required: true }),
  };
  static override flags = {
    output: Flags.string({ char: "o", summary: "output format", options: ["table", "json", "yaml"], default: "table" }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(GetSignal);
    const config = await this.resolvedConfig(flags);
    const { getSignals } = await import("../../lib/remote/signals.js");
    const { renderSignals } = await import("../../render/signals.js");
    const signals = await getSignals(config, { project: config.project, domain: config.domain, name: args.execution });
    this.log(await renderSignals(signals, flags.output as "table" | "json" | "yaml", args.execution));
    return signals;
  }
}
