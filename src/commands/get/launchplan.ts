// `tsflyte get launchplan [NAME]`: registered launch plans and their versions, or with --execFile an execution spec to fill in.
// Thin: flags in, one lib call, the printer out.
import { BaseCommand } from "../../base-command.js";
import { entityArgs, entityFlags, execFileFlag, printEntities } from "../../entity-flags.js";

export default class GetLaunchPlan extends BaseCommand {
  static override summary = "list registered launch plans, their versions and states, or write an execution spec for one";
  static override hiddenAliases = ["get:launchplans"];
  static override examples = [
    "<%= config.bin %> get launchplan",
    "<%= config.bin %> get launchplan examples.spend.calculateSpend --latest --output yaml",
    "<%= config.bin %> get launchplan examples.spend.calculateSpend --latest --execFile spend.yaml",
  ];
  static override args = entityArgs;
  static override flags = { ...entityFlags, ...execFileFlag };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(GetLaunchPlan);
    return printEntities(this, "launchPlan", args.name, flags);
  }
}
