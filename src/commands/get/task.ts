// `tsflyte get task [NAME]`: registered tasks and their versions, or with --execFile an execution spec to fill in.
// Thin: flags in, one lib call, the printer out.
import { BaseCommand } from "../../base-command.js";
import { entityArgs, entityFlags, execFileFlag, printEntities } from "../../entity-flags.js";

export default class GetTask extends BaseCommand {
  static override summary = "list registered tasks and versions, or write an execution spec for one";
  static override hiddenAliases = ["get:tasks"];
  static override examples = [
    "<%= config.bin %> get task",
    "<%= config.bin %> get task examples.spend.double --latest --output yaml",
    "<%= config.bin %> get task examples.spend.double --latest --execFile double.yaml",
  ];
  static override args = entityArgs;
  static override flags = { ...entityFlags, ...execFileFlag };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(GetTask);
    return printEntities(this, "task", args.name, flags);
  }
}
