// `tsflyte get project [ID]`: the control plane's projects and their domains. Thin: flags in, one lib call, the printer out.
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";

export default class GetProject extends BaseCommand {
  static override summary = "list the projects of the control plane, or show one";
  static override hiddenAliases = ["get:projects"];
  static override examples = ["<%= config.bin %> get project", "<%= config.bin %> get project flytesnacks --output yaml"];
  static override args = { id: Args.string({ description: "a project id" }) };
  static override flags = {
    output: Flags.string({ char: "o", summary: "output format", options: ["table", "json", "yaml"], default: "table" }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(GetProject);
    const config = await this.resolvedConfig(flags);
    const { getProjectList } = await import("../../lib/remote/commands.js");
    const { renderProjects } = await import("../../render/entities.js");
    const result = await getProjectList(config, args.id);
    this.log(await renderProjects(result, flags.output as "table" | "json" | "yaml"));
    return result;
  }
}
