// `tsflyte signal EXEC NAME VALUE`: gives the value a waitForInput gate waits for; VALUE is read as the signal's type,
// as `run` reads an input of that type. Thin: flags in, one lib call, one line out.
import { Args } from "@oclif/core";
import { BaseCommand } from "../base-command.js";

export default class Signal extends BaseCommand {
  static override summary = "give the value a gate of an execution waits for";
  static override description =
    "VALUE is read as the signal's type, with the rules of `run` inputs: numbers, true/false, durations as 90s, datetimes as ISO 8601 or now, " +
    "lists, maps and structs as JSON, files as a path (uploaded) or URI. A signal is set once; `tsflyte get signal EXEC` lists an execution's signals.";
  static override examples = [
    "<%= config.bin %> signal a8f3k2l1m0n9b8v7c6x5 batch-size 64",
    `<%= config.bin %> signal a8f3k2l1m0n9b8v7c6x5 thresholds '[0.5, 0.9]'`,
  ];
  static override enableJsonFlag = true;
  static override args = {
    execution: Args.string({ description: "the execution whose gate waits", required: true }),
    name: Args.string({ description: "the signal: the name given to waitForInput or approve", required: true }),
    value: Args.string({ description: "its value, read as the signal's type", required: true }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(Signal);
    const config = await this.resolvedConfig(flags);
    const { setSignalCommand } = await import("../lib/remote/signals.js");
    const { renderSetSignal } = await import("../render/signals.js");
    const result = await setSignalCommand(config, { project: config.project, domain: config.domain, name: args.execution }, args.name, args.value);
    if (!this.jsonEnabled()) this.log(renderSetSignal(result, "set"));
    return result;
  }
}
