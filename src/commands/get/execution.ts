// `tsflyte get execution [NAME]`: executions newest first, or one with --details (nodes, attempts, data), from the
// configured control plane, or from the local history when none is configured. Thin: flags in, one lib call, the printer out.
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";

export default class GetExecution extends BaseCommand {
  static override summary = "list executions, or show one with its nodes, attempts, inputs and outputs";
  static override hiddenAliases = ["get:executions"];
  static override description =
    "Reads the target's history: the control plane (admin.endpoint), the Kubernetes cluster (--target kubernetes), or the local history of `tsflyte run` when neither is configured.";
  static override examples = [
    "<%= config.bin %> get execution",
    "<%= config.bin %> get execution --filter.fieldSelector phase=FAILED --filter.limit 20",
    "<%= config.bin %> get execution a8f3k2l1m0n9b8v7c6x5 --details --output yaml",
    "<%= config.bin %> get execution a8f3k2l1m0n9b8v7c6x5 --details --nodeID n1",
  ];
  static override args = {
    name: Args.string({ description: "the execution; without it, the newest executions are listed" }),
  };
  static override flags = {
    output: Flags.string({ char: "o", summary: "output format", options: ["table", "json", "yaml"], default: "table" }),
    details: Flags.boolean({ summary: "show every node and attempt, with inputs, outputs, errors and logs" }),
    nodeID: Flags.string({ summary: "only this node (and its children); implies --details" }),
    "filter.limit": Flags.integer({ summary: "how many executions to list", default: 100, min: 1 }),
    "filter.fieldSelector": Flags.string({ summary: 'only executions matching "key=value,key!=value" (phase, name, launch_plan.name, …)' }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(GetExecution);
    const config = await this.resolvedConfig(flags);
    const { getExecutions } = await import("../../lib/remote/commands.js");
    const { renderExecutionList, renderExecution, renderExecutionDetails } = await import("../../render/executions.js");
    const result = await getExecutions(config, {
      project: config.project,
      domain: config.domain,
      name: args.name,
      details: flags.details,
      nodeId: flags.nodeID,
      limit: flags["filter.limit"],
      fieldSelector: flags["filter.fieldSelector"],
    });
    const format = flags.output as "table" | "json" | "yaml";
    const color = format === "table" && process.stdout.isTTY === true;
    if (Array.isArray(result)) this.log(renderExecutionList(result, format, { color }));
    else if ("nodes" in result) this.log(renderExecutionDetails(result, format, { color }));
    else this.log(renderExecution(result, format, { color }));
    return result;
  }
}
