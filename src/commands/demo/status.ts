// `tsflyte demo status`: whether the demo runs and answers, where it lives, and what it holds.
// Thin: flags in, one lib call, the printer out; exits 3 when no demo runs, so scripts can wait on it.
import { Flags } from "@oclif/core";
import { BaseCommand, exitCodes } from "../../base-command.js";
import type { DemoStatus } from "../../lib/server/demo.js";

/** `demo status` exits with this when no demo runs (1 when it runs but does not answer). */
export const demoNotRunningExitCode = 3;

export default class DemoStatusCommand extends BaseCommand {
  static override summary = "show whether the demo control plane runs, its address, health and execution counts";
  static override examples = ["<%= config.bin %> demo status", "<%= config.bin %> demo status --output json"];
  static override enableJsonFlag = true;
  static override flags = {
    output: Flags.string({ char: "o", summary: "output format", options: ["table", "json", "yaml"], default: "table" }),
  };

  async run(): Promise<DemoStatus> {
    const { flags } = await this.parse(DemoStatusCommand);
    const { demoStatus, demoHome } = await import("../../lib/server/demo.js");
    const config = await this.resolvedConfig(flags);
    const status = await demoStatus({ home: demoHome(), project: config.project, domain: config.domain });
    const code = !status.running ? demoNotRunningExitCode : status.healthy ? 0 : exitCodes.unreachable;
    const format = this.jsonEnabled() ? "json" : flags.output;
    if (format === "json") {
      // Printed here, not by oclif, so the same object comes out when the exit code is not 0.
      if (code === 0 && this.jsonEnabled()) return status;
      process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    } else if (format === "yaml") {
      const { stringify } = await import("yaml");
      process.stdout.write(stringify(status));
    } else {
      const { renderDemoStatus } = await import("../../render/demo.js");
      this.log(renderDemoStatus(status));
    }
    if (code !== 0) this.exit(code);
    return status;
  }
}
