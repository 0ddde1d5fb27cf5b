// `tsflyte delete execution NAME… [--cause TEXT]`: terminates running executions on the control plane and records
// why. Thin: flags in, one lib call, a line per execution out.
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";

export default class DeleteExecution extends BaseCommand {
  static override summary = "terminate running executions, recording the cause";
  static override hiddenAliases = ["delete:executions"];
  static override description = "Each execution ends ABORTED with the cause and who stopped it recorded; its history is kept.";
  static override examples = [
    '<%= config.bin %> delete execution a8f3k2l1m0n9b8v7c6x5 --cause "wrong inputs"',
    "<%= config.bin %> delete execution a8f3k2l1m0n9b8v7c6x5 b7c6x5a8f3k2l1m0n9b8",
  ];
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = { names: Args.string({ description: "executions to terminate", required: true }) };
  static override flags = {
    cause: Flags.string({ summary: "why it is stopped; recorded with the execution", default: "terminated with tsflyte delete execution" }),
  };

  async run(): Promise<unknown> {
    const { argv, flags } = await this.parse(DeleteExecution);
    const config = await this.resolvedConfig(flags);
    const { terminateExecutions } = await import("../../lib/remote/commands.js");
    const result = await terminateExecutions(config, argv as string[], flags.cause, (key) => {
      if (!this.jsonEnabled()) this.log(`Terminated execution ${key.name} in ${key.project}/${key.domain}`);
    });
    return result;
  }
}
