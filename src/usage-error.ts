// oclif's stock parse errors ("The following error occurred: Missing required flag version", "Nonexistent flag",
// "Expected --x=y to be one of") rewritten as tsflyte's errors read: one sentence naming the command, and what to do.
// Never changes what is refused, only how it reads; an error it does not recognise is passed through unchanged.
import { Errors } from "@oclif/core";
import { UserError } from "./lib/errors.js";
import { nearestName } from "./lib/inputs/suggest.js";

/** What this needs of a command's flag and argument definitions (oclif's, or the manifest's). */
export interface UsageFlag {
  char?: string;
  summary?: string;
  description?: string;
  options?: readonly string[];
  type?: string;
}
export interface UsageArg {
  name?: string;
  description?: string;
}
export interface UsageCommand {
  /** The command as typed: `get execution`; "" when unknown (a command run from a test). */
  name: string;
  flags: Record<string, UsageFlag>;
  args: Record<string, UsageArg>;
  bin: string;
}

/**
 * The UserError a parse error of `command` stands for, or undefined when `err` is not one of oclif's parse
 * errors. The hint names `--help`, whose examples show a correct command line.
 */
export function usageErrorFrom(err: Error, command: UsageCommand): UserError | undefined {
  if (!(err instanceof Errors.CLIError) || err instanceof UserError) return undefined;
  const text = plain(err.message).replace(/\nSee more help with --help$/, "");
  const help = `\`${[command.bin, command.name, "--help"].filter(Boolean).join(" ")}\``;
  const where = command.name ? `${command.name}: ` : "";
  const fields = err as Errors.CLIError & { flags?: unknown; args?: unknown };
  const typeName = err.constructor.name;

  if (typeName === "NonExistentFlagsError" && Array.isArray(fields.flags)) {
    const flags = fields.flags.map(String);
    return new UserError(`${where}there is no flag ${flags.join(", ")}`, unknownFlagHint(flags[0], command, help));
  }
  if (typeName === "UnexpectedArgsError" && Array.isArray(fields.args)) {
    const names = Object.keys(command.args).map((n) => n.toUpperCase());
    const takes = names.length === 0 ? "takes no arguments" : `takes only ${names.join(" and ")}`;
    const extra = fields.args.map((a) => JSON.stringify(String(a))).join(", ");
    return new UserError(`${where}unexpected argument${fields.args.length === 1 ? "" : "s"} ${extra}: it ${takes}`, `quote a value that holds spaces; ${help} shows the usage`);
  }
  if (typeName === "RequiredArgsError" && Array.isArray(fields.args)) {
    const missing = (fields.args as UsageArg[]).map((a) => `${(a.name ?? "").toUpperCase()}${a.description ? ` (${a.description})` : ""}`);
    return new UserError(`${where}missing ${missing.join(" and ")}`, `${help} shows the usage and examples`);
  }
  const option = /^Expected --(\S+?)=(.*) to be one of: (.*)$/s.exec(text) ?? /^Flag --(\S+) expects one of these values: (.*)$/s.exec(text);
  if (option) {
    const [name, given, list] = option.length === 4 ? [option[1], option[2], option[3]] : [option[1], undefined, option[2]];
    const choices = list.split(", ");
    const guess = given === undefined ? undefined : nearestName(given, choices);
    const problem = given === undefined ? `--${name} needs a value` : `--${name} ${JSON.stringify(given)} is not one of ${list}`;
    return new UserError(`${where}${problem}`, guess ? `did you mean --${name} ${guess}?` : `write one of ${list}`);
  }
  const argOption = /^Expected (.*) to be one of: (.*)$/s.exec(text);
  if (argOption) return new UserError(`${where}${JSON.stringify(argOption[1])} is not one of ${argOption[2]}`, `write one of ${argOption[2]}`);
  const noValue = /^Flag --(\S+) expects a value$/.exec(text);
  if (noValue) return new UserError(`${where}--${noValue[1]} needs a value`, flagHint(noValue[1], command, help));
  const twice = /^Flag --(\S+) can only be specified once$/.exec(text);
  if (twice) return new UserError(`${where}--${twice[1]} is given more than once`, `give --${twice[1]} once`);
  const parsing = /^Parsing --(\S+)\s*\n\s*(.*)$/s.exec(text);
  if (parsing) return new UserError(`${where}--${parsing[1]}: ${lowerFirst(parsing[2].trim())}`, flagHint(parsing[1], command, help));
  const failed = /^The following errors? occurred:\n(.*)$/s.exec(text);
  if (failed) {
    const reasons = new Set(failed[1].split("\n").map((r) => r.trim()).filter(Boolean).map((r) => constraintSentence(r, command)));
    return new UserError(`${where}${[...reasons].join("; ")}`, `${help} shows the usage and examples`);
  }
  return undefined;
}

/** One of oclif's flag constraint reasons (parser/validate), as a phrase. */
function constraintSentence(reason: string, command: UsageCommand): string {
  const required = /^Missing required flag (\S+)$/.exec(reason);
  if (required) {
    const summary = command.flags[required[1]]?.summary;
    return `--${required[1]} is required${summary ? ` (${summary})` : ""}`;
  }
  const exactlyOne = /^Exactly one of the following must be provided: (.*)$/.exec(reason);
  if (exactlyOne) return `give exactly one of ${exactlyOne[1]}`;
  const atLeastOne = /^At least one of the following must be provided: (.*)$/.exec(reason);
  if (atLeastOne) return `give at least one of ${atLeastOne[1]}`;
  const dependsOn = /^All of the following must be provided when using --(\S+): (.*)$/.exec(reason);
  if (dependsOn) return `--${dependsOn[1]} works only together with ${dependsOn[2]}`;
  const oneOfWith = /^One of the following must be provided when using --(\S+): (.*)$/.exec(reason);
  if (oneOfWith) return `--${oneOfWith[1]} needs one of ${oneOfWith[2]}`;
  const exclusive = /^--([^=\s]+)(?:=\S*)? cannot also be provided when using --(\S+)$/.exec(reason);
  // oclif reports an exclusive pair from both sides; one order makes the two reasons one.
  if (exclusive) return `--${[exclusive[1], exclusive[2]].sort().join(" and --")} cannot be given together`;
  const only = /^Only the following can be provided when using --(\S+): (.*)$/.exec(reason);
  if (only) return `with --${only[1]}, only ${only[2]} may be given`;
  return lowerFirst(reason);
}

function unknownFlagHint(flag: string, command: UsageCommand, help: string): string {
  const name = flag.replace(/^-+/, "").replace(/=.*$/, "");
  if (name === "json" && command.flags.output?.options?.includes("json")) return "this command prints JSON with --output json";
  const guess = nearestName(name, Object.keys(command.flags));
  return guess ? `did you mean --${guess}?` : `${help} lists its flags`;
}

function flagHint(name: string, command: UsageCommand, help: string): string {
  const flag = command.flags[name];
  const about = flag?.summary ?? flag?.description;
  return about ? `--${name}: ${about}` : `${help} lists its flags`;
}

function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text;
}

// oclif dims the reasons with ANSI codes when stderr is a terminal.
function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}
