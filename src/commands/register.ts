// `tsflyte register PATHS… --image I`: compiles every module under PATHS, uploads the code bundle and registers every
// task, workflow and launch plan on the control plane. Thin: flags in, one lib call, lines out as entities land.
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../base-command.js";
import type { RegisterResult } from "../lib/remote/register.js";

export default class Register extends BaseCommand {
  static override summary = "register the tasks, workflows and launch plans under PATHS with the control plane";
  static override description =
    "Compiles every module under PATHS, bundles their code (deterministically; its md5 names the bundle), uploads it and registers " +
    "tasks, then workflows and launch plans in dependency order, each workflow with its default launch plan. The version defaults " +
    "to a content hash of the code and settings, so registering unchanged code again is a no-op. With --target kubernetes, entities " +
    "are kept as ConfigMaps in the project's namespace and the code bundle in kubernetes.storage.";
  static override examples = [
    "<%= config.bin %> register examples --image ghcr.io/acme/flows:1",
    "<%= config.bin %> register examples/spend.ts --image ghcr.io/acme/flows:1 --version v2 --activate-launchplans",
    "<%= config.bin %> register examples --dry-run",
    "<%= config.bin %> register examples --image ghcr.io/acme/flows:1 --target kubernetes",
  ];
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = {
    paths: Args.string({ description: "files or folders of workflow modules", required: true }),
  };
  static override flags = {
    image: Flags.string({ char: "i", summary: "container image the tasks run in (default: the tsflyte image of this version)" }),
    version: Flags.string({ summary: "version of every entity (default: a content hash)" }),
    "activate-launchplans": Flags.boolean({ summary: "make the registered launch plans the active versions" }),
    "dry-run": Flags.boolean({ summary: "compile and list what would be registered; contact nothing" }),
  };

  async run(): Promise<RegisterResult> {
    const { argv, flags } = await this.parse(Register);
    const config = await this.resolvedConfig(flags);
    const { register } = await import("../lib/remote/commands.js");
    const { registeredLine, registerSummary } = await import("../render/entities.js");
    const quiet = this.jsonEnabled();
    const result = await register(config, {
      paths: argv as string[],
      image: flags.image,
      version: flags.version,
      activateLaunchPlans: flags["activate-launchplans"],
      dryRun: flags["dry-run"],
      onEntity: quiet ? undefined : (entity) => this.log(registeredLine(entity)),
    });
    if (!quiet) this.log(registerSummary(result));
    return result;
  }
}
