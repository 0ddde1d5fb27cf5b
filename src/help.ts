// oclif's help, plus one thing: `tsflyte run FILE ENTITY --help` lists ENTITY's inputs, their types, defaults
// and descriptions, read from the module. Never loads a module for any other help.
import { Errors, Help } from "@oclif/core";

const runValueFlags = new Set(["-p", "--project", "-d", "--domain", "--inputs-file", "--name", "--max-parallelism"]);

/** FILE and ENTITY from `run … --help`, skipping flags and the values of flags that take one. */
export function runTargets(argv: readonly string[]): { file: string; entity: string } | undefined {
  if (argv[0] !== "run") return undefined;
  const positionals: string[] = [];
  for (let i = 1; i < argv.length && positionals.length < 2; i++) {
    const arg = argv[i];
    if (arg === "--") break;
    if (arg.startsWith("-")) {
      if (runValueFlags.has(arg)) i++;
      continue;
    }
    positionals.push(arg);
  }
  return positionals.length === 2 ? { file: positionals[0], entity: positionals[1] } : undefined;
}

export default class TsflyteHelp extends Help {
  override async showHelp(argv: string[]): Promise<void> {
    const target = runTargets(argv);
    if (!target) return this.showHelpOrSuggest(argv);
    const { entityInputsHelp } = await import("./lib/local/inputs-help.js");
    const { renderInputsHelp } = await import("./render/inputs-help.js");
    this.log(renderInputsHelp(await entityInputsHelp(target.file, target.entity), this.config.bin));
    this.log("");
    await super.showHelp(["run"]);
  }

  /** oclif's help, except that `get exectuion --help` suggests `get execution` as running it would, exit 2. */
  private async showHelpOrSuggest(argv: string[]): Promise<void> {
    try {
      await super.showHelp(argv);
    } catch (e) {
      const unknown = e instanceof Errors.CLIError ? /^Command (\S+) not found\.$/.exec(e.message) : null;
      if (!unknown) throw e;
      const { exitCodes, printError } = await import("./base-command.js");
      const { unknownCommandError } = await import("./command-suggestion.js");
      printError(unknownCommandError(this.config.commands, unknown[1], ["--help"], this.config.bin), exitCodes.usage, { json: false });
      Errors.exit(exitCodes.usage);
    }
  }
}
