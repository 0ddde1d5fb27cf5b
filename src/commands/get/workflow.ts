// `tsflyte get workflow [NAME]`: registered workflows and versions, or one drawn as DOT, a viewer URL or SVG — also a
// local module's workflow before it is registered (--file). Thin: flags in, one lib call, the printer out.
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import { UserError } from "../../lib/errors.js";
import { entityFlags, printEntities } from "../../entity-flags.js";

const graphFormats = new Set(["dot", "doturl", "svg"]);

export default class GetWorkflow extends BaseCommand {
  static override summary = "list registered workflows and versions, or draw one as dot, doturl or svg";
  static override hiddenAliases = ["get:workflows"];
  static override description =
    "-o dot prints Graphviz DOT (nodes and edges sorted, so the text is stable); -o doturl prints a viewer URL with the DOT in it " +
    "(dotViewer in the config; it opens nothing); -o svg renders with graphviz's dot when installed, else a bundled WebAssembly graphviz. " +
    "--file FILE draws a workflow of a local module without registering it.";
  static override examples = [
    "<%= config.bin %> get workflow",
    "<%= config.bin %> get workflow examples.spend.calculateSpend --latest --output doturl",
    "<%= config.bin %> get workflow examples.spend.calculateSpend --version v2 --output svg --out spend.svg",
    "<%= config.bin %> get workflow --file examples/spend.ts calculateSpend --output dot",
  ];
  static override args = {
    name: Args.string({ description: "the workflow's full name, or with --file its export name" }),
  };
  static override flags = {
    ...entityFlags,
    output: Flags.string({ char: "o", summary: "output format", options: ["table", "json", "yaml", "dot", "doturl", "svg"], default: "table" }),
    file: Flags.string({ summary: "draw NAME from this local module instead of the control plane" }),
    out: Flags.string({ summary: "write the dot, doturl or svg output to this file instead of stdout" }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(GetWorkflow);
    if (!graphFormats.has(flags.output)) {
      if (flags.file || flags.out) throw new UserError("--file and --out go with --output dot, doturl or svg");
      return printEntities(this, "workflow", args.name, flags);
    }
    const config = await this.resolvedConfig(flags);
    const { workflowGraph } = await import("../../lib/remote/commands.js");
    const { drawWorkflow } = await import("../../render/draw-workflow.js");
    const parts = await workflowGraph(config, { name: flags.file ? undefined : args.name, entity: flags.file ? args.name : undefined, file: flags.file, version: flags.version, latest: flags.latest });
    const text = await drawWorkflow(parts, flags.output as "dot" | "doturl" | "svg", config.dotViewer);
    if (flags.out) {
      const { writeFileAtomically } = await import("../../lib/remote/exec-spec.js");
      writeFileAtomically(flags.out, text.endsWith("\n") ? text : `${text}\n`);
      this.log(`Wrote ${flags.out}`);
    } else this.log(text.replace(/\n$/, ""));
    return { workflow: parts.name, format: flags.output, ...(flags.out ? { file: flags.out } : {}) };
  }
}
