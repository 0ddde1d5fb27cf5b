// `tsflyte compile`: the offline equivalent of `pyflyte package`. Thin: flags in, compileToPackage, render out.
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../base-command.js";
import { renderCompileResult, type CompileResult } from "../render/compile.js";

export default class Compile extends BaseCommand {
  static override summary = "compile workflow modules to Flyte IDL v1 files, ready to register";
  static override description =
    "Loads every module under PATHS, finds the exported tasks, workflows and launch plans, checks them as FlyteAdmin would, " +
    "and writes one file per entity in registration order: NN_<name>_1 (TaskSpec), NN_<name>_2 (WorkflowSpec), NN_<name>_3 (LaunchPlan). " +
    "Every workflow also gets a default launch plan of its own name. An --output ending in .tgz writes one archive, as `pyflyte package` " +
    "does: the entity files with project, domain and version (unless --version is given) left for the registrar, and the code bundle " +
    "(fast<md5>.tar.gz) that the tasks run after `tsflyte register files` or `flytectl register files` uploads it.";
  static override examples = [
    "<%= config.bin %> compile examples --output build/flyte-package",
    "<%= config.bin %> compile workflows/spend.ts --image ghcr.io/acme/flows:1 --format json",
    "<%= config.bin %> compile examples --image ghcr.io/acme/flows:1 --output flyte-package.tgz",
  ];
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = {
    paths: Args.string({ description: "files or folders of workflow modules", required: true }),
  };
  static override flags = {
    output: Flags.string({ char: "o", summary: "folder to write the entity files to, or a .tgz package archive to write", default: "flyte-package" }),
    image: Flags.string({ summary: "container image the tasks run in" }),
    version: Flags.string({ summary: "version of every entity; default: a content hash of the code and settings" }),
    format: Flags.string({ summary: "file format", options: ["pb", "json"], default: "pb" }),
  };

  async run(): Promise<CompileResult> {
    const { argv, flags } = await this.parse(Compile);
    const config = await this.resolvedConfig(flags);
    const { compileToPackage } = await import("../lib/compiler/service.js");
    const result = await compileToPackage({
      paths: argv as string[],
      outDir: flags.output,
      image: flags.image,
      version: flags.version,
      format: flags.format as "pb" | "json",
      project: config.project,
      domain: config.domain,
    });
    if (!this.jsonEnabled()) this.log(renderCompileResult(result, this.invocation()));
    return result;
  }
}
