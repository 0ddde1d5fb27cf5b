// `tsflyte demo teardown`: stops the control plane `demo start` started, keeping its data unless told otherwise.
// Thin: flags in, one lib call, the printer out; never signals a process the demo record does not prove is the demo.
import { Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import type { DemoTeardownResult } from "../../lib/server/demo.js";

export default class DemoTeardown extends BaseCommand {
  static override summary = "stop the demo control plane; its data stays unless --delete-data";
  static override examples = ["<%= config.bin %> demo teardown", "<%= config.bin %> demo teardown --delete-data"];
  static override enableJsonFlag = true;
  static override flags = {
    "delete-data": Flags.boolean({ summary: "also delete $TSFLYTE_HOME/demo: its database, blobs, log and config" }),
  };

  async run(): Promise<DemoTeardownResult> {
    const { flags } = await this.parse(DemoTeardown);
    const { teardownDemo, demoHome } = await import("../../lib/server/demo.js");
    const { renderDemoTeardown } = await import("../../render/demo.js");
    const result = await teardownDemo({ home: demoHome(), deleteData: flags["delete-data"] });
    if (!this.jsonEnabled()) this.log(renderDemoTeardown(result));
    return result;
  }
}
