// `tsflyte get execution [NAME]`: local executions newest first, or one with --details (nodes, attempts, data).
// Thin: flags in, one lib call, the printer out.
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";

export default class GetExecution extends BaseCommand {
  static override summary = "list executions, or show one with its nodes, attempts, inputs and outputs";
  static override examples = [
    "<%= config.bin %> get execution",
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
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(GetExecution);
    const { getLocalExecutions } = await import("../../lib/local/commands.js");
    const { renderExecutionList, renderExecution, renderExecutionDetails } = await import("../../render/executions.js");
    const { isDetailsView } = await import("../../lib/engine/history.js");
    const result = await getLocalExecutions({
      project: flags.project,
      domain: flags.domain,
      name: args.name,
      details: flags.details,
      nodeId: flags.nodeID,
      limit: flags["filter.limit"],
    });
    const format = flags.output as "table" | "json" | "yaml";
    const color = format === "table" && process.stdout.isTTY === true;
    if (Array.isArray(result)) this.log(renderExecutionList(result, format, { color }));
    else if (isDetailsView(result)) this.log(renderExecutionDetails(result, format, { color }));
    else this.log(renderExecution(result, format, { color }));
    return result;
  }
}
