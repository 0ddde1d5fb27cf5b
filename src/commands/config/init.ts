// `tsflyte config init`: writes a flytectl-format config file that points tsflyte (and flytectl) at a control plane.
// Thin: flags in, one lib call, the printer out; never replaces an existing file without --force.
import { Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import type { InitConfigResult } from "../../lib/config/init.js";

export default class ConfigInit extends BaseCommand {
  static override summary = "write a config file that points tsflyte and flytectl at a control plane";
  static override description =
    "Writes ~/.flyte/config.yaml, or the file given with --config, in flytectl's format: admin.endpoint as dns:///HOST and admin.insecure, " +
    "plus task.project and task.domain when --project or --domain is given. An existing file is replaced only with --force.";
  static override examples = [
    "<%= config.bin %> config init --host 127.0.0.1:30080 --insecure",
    "<%= config.bin %> config init --host https://flyte.example.com --project acme --domain staging",
    "<%= config.bin %> config init --host http://127.0.0.1:30080 --config ./flyte.yaml --force",
  ];
  static override enableJsonFlag = true;
  static override flags = {
    host: Flags.string({ summary: "the control plane: host:port, or http://host:port for plain http", required: true }),
    insecure: Flags.boolean({ summary: "use plain http, not TLS (an http:// host implies it)" }),
    force: Flags.boolean({ summary: "overwrite an existing config file" }),
  };

  async run(): Promise<InitConfigResult> {
    const { flags, metadata } = await this.parse(ConfigInit);
    const { initConfig } = await import("../../lib/config/init.js");
    // A -p/-d default is not a choice the user made, so it is not written into their file.
    const given = (name: "project" | "domain"): string | undefined => (metadata.flags[name]?.setFromDefault ? undefined : flags[name]);
    const config = (flags as { config?: string }).config;
    const result = await initConfig({ host: flags.host, insecure: flags.insecure, force: flags.force, project: given("project"), domain: given("domain"), config });
    if (!this.jsonEnabled()) {
      const { renderConfigInit } = await import("../../render/config.js");
      this.log(renderConfigInit(result, { shadowedBy: config ? undefined : process.env.FLYTECTL_CONFIG || undefined }));
    }
    return result;
  }
}
