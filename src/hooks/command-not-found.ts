// oclif's command_not_found hook: a mistyped command gets the nearest real one (`get exectuion` → `get execution`)
// in the style of tsflyte's other errors, exit 2. Never runs the guessed command: the user decides.
import { Errors, type Hook } from "@oclif/core";
import { exitCodes, printError } from "../base-command.js";
import { unknownCommandError } from "../command-suggestion.js";

const hook: Hook.CommandNotFound = async function (options) {
  const argv = options.argv ?? [];
  printError(unknownCommandError(options.config.commands, options.id, argv, options.config.bin), exitCodes.usage, { json: argv.includes("--json") });
  Errors.exit(exitCodes.usage);
};

export default hook;
