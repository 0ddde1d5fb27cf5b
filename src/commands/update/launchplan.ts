// `tsflyte update launchplan NAME --version V (--activate | --deactivate)`: one of the two is required, so nothing
// is deactivated by accident (flytectl's footgun). Thin: flags in, one lib call, the printer out.
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";

export default class UpdateLaunchPlan extends BaseCommand {
  static override summary = "activate or deactivate a launch plan version";
  static override description = "Activating a version makes it the active one of NAME; the version active before is deactivated.";
  static override examples = [
    "<%= config.bin %> update launchplan examples.spend.nightly --version v2 --activate",
    "<%= config.bin %> update launchplan examples.spend.nightly --version v2 --deactivate",
  ];
  static override enableJsonFlag = true;
  static override args = { name: Args.string({ description: "the launch plan's full name", required: true }) };
  static override flags = {
    version: Flags.string({ summary: "the version to change", required: true }),
    activate: Flags.boolean({ summary: "make this version the active one", exactlyOne: ["activate", "deactivate"] }),
    deactivate: Flags.boolean({ summary: "make this version inactive", exactlyOne: ["activate", "deactivate"] }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(UpdateLaunchPlan);
    const config = await this.resolvedConfig(flags);
    const { updateLaunchPlan } = await import("../../lib/remote/commands.js");
    const view = await updateLaunchPlan(config, { name: args.name, version: flags.version, state: flags.activate ? "ACTIVE" : "INACTIVE" });
    if (!this.jsonEnabled()) this.log(`Launch plan ${view.name} version ${view.version} is now ${view.state} in ${view.project}/${view.domain}`);
    return { name: view.name, version: view.version, project: view.project, domain: view.domain, state: view.state };
  }
}
