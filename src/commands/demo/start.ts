// `tsflyte demo start`: a control plane in the background on 127.0.0.1:30080, and the `export` line to use it.
// Thin: flags in, one lib call, the printer out; never starts a second demo beside a running one.
import { Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import type { DemoStartResult } from "../../lib/server/demo.js";

export default class DemoStart extends BaseCommand {
  static override summary = "start a local control plane in the background and write a config that points at it";
  static override description =
    "Runs `tsflyte serve` on 127.0.0.1:30080 with SQLite and file storage under $TSFLYTE_HOME/demo, waits until it answers, " +
    "writes $TSFLYTE_HOME/demo/config.yaml and prints the `export FLYTECTL_CONFIG=…` line to paste. Running it again while the " +
    "demo runs only prints its address. Stop it with `tsflyte demo teardown`.";
  static override examples = ["<%= config.bin %> demo start", 'eval "$(<%= config.bin %> demo start | tail -1)"'];
  static override enableJsonFlag = true;
  static override flags = {
    // Hidden: the demo's address is part of its promise; tests need a free port.
    port: Flags.integer({ summary: "port to listen on", default: 30080, min: 1, max: 65535, hidden: true }),
  };

  async run(): Promise<DemoStartResult> {
    const { flags } = await this.parse(DemoStart);
    const { startDemo, demoHome } = await import("../../lib/server/demo.js");
    const { renderDemoStart } = await import("../../render/demo.js");
    const result = await startDemo({ home: demoHome(), port: flags.port });
    if (!this.jsonEnabled()) this.log(renderDemoStart(result));
    return result;
  }
}
