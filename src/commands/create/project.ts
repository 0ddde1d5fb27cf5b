// `tsflyte create project --id ID --name NAME [--description TEXT]`: a new project on the control plane, with the
// system's domains. Thin: flags in, one lib call, a line out.
import { Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";

export default class CreateProject extends BaseCommand {
  static override summary = "create a project on the control plane";
  static override examples = ['<%= config.bin %> create project --id acme --name "Acme analytics" --description "nightly spend reports"'];
  static override enableJsonFlag = true;
  static override flags = {
    id: Flags.string({ summary: "the project id: lowercase letters, digits and -", required: true }),
    name: Flags.string({ summary: "a human name for the project", required: true }),
    description: Flags.string({ summary: "what the project is for" }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(CreateProject);
    const config = await this.resolvedConfig(flags);
    const { createProjectCommand } = await import("../../lib/remote/commands.js");
    const project = await createProjectCommand(config, { id: flags.id, name: flags.name, description: flags.description });
    if (!this.jsonEnabled()) this.log(`Created project ${project.id} (${project.name}) with domains ${project.domains.join(", ")}`);
    return project;
  }
}
