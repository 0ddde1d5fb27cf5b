// `tsflyte register files PACKAGE.tgz|FILES.pb…`: registers what `pyflyte package` or `tsflyte compile` wrote into the
// configured project and domain, as `flytectl register files` does. Thin: flags in, one lib call, lines out.
import { Args, Flags } from "@oclif/core";
import { BaseCommand } from "../../base-command.js";
import type { RegisterFilesResult } from "../../lib/remote/register-files.js";

export default class RegisterFiles extends BaseCommand {
  static override summary = "register packaged entity files (pyflyte package, tsflyte compile) with the control plane";
  static override description =
    "Takes entity files (NN_<name>_1.pb TaskSpec, _2.pb WorkflowSpec, _3.pb LaunchPlan), archives of them (.tgz, .tar.gz, .tar) " +
    "and folders holding them, as `pyflyte package` and `tsflyte compile` write them. Every entity of the package, and every reference " +
    "to one, is registered in the project and domain of -p/-d (or the config), at --version when given; a package that leaves " +
    "versions blank needs --version. The package's code bundle (fast*.tar.gz) is uploaded and put where the task args ask for it " +
    "({{ .remote_package_path }}). Every file is read and checked before anything is registered.";
  static override examples = [
    "<%= config.bin %> register files flyte-package.tgz --version v1",
    "<%= config.bin %> register files flyte-package.tgz --version v2 -p acme -d staging --activate-launchplans",
    "<%= config.bin %> register files _pb_output/*.pb --version v1 --dry-run",
  ];
  static override strict = false;
  static override enableJsonFlag = true;
  static override args = {
    files: Args.string({ description: "entity files (.pb), package archives (.tgz, .tar.gz, .tar) or folders of them", required: true }),
  };
  static override flags = {
    version: Flags.string({ summary: "version of every entity of the package (required when the package leaves it blank)" }),
    "activate-launchplans": Flags.boolean({ summary: "make the registered launch plans the active versions", aliases: ["enableSchedule"] }),
    "continue-on-error": Flags.boolean({ summary: "register what can be, list what was refused, and exit 2 at the end", aliases: ["continueOnError"] }),
    "dry-run": Flags.boolean({ summary: "read, retarget and list what would be registered; contact nothing", aliases: ["dryRun"] }),
  };

  async run(): Promise<RegisterFilesResult> {
    const { argv, flags } = await this.parse(RegisterFiles);
    const config = await this.resolvedConfig(flags);
    const { registerFilesCommand } = await import("../../lib/remote/commands.js");
    const { registeredLine, registerFilesSummary } = await import("../../render/entities.js");
    const quiet = this.jsonEnabled();
    const result = await registerFilesCommand(config, {
      paths: argv as string[],
      version: flags.version,
      activateLaunchPlans: flags["activate-launchplans"],
      continueOnError: flags["continue-on-error"],
      dryRun: flags["dry-run"],
      onEntity: quiet ? undefined : (entity) => this.log(registeredLine(entity)),
    });
    if (!quiet) this.log(registerFilesSummary(result));
    return result;
  }
}
