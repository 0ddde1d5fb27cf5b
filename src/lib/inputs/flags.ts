// The command-line side of `run FILE ENTITY`: which `--flag` names each input answers to, and splitting the argv
// tail into raw input texts and the command's own arguments. Never converts a value; that is convert.ts's job.
import { UserError } from "../errors.js";
import type { AnyType } from "../types/types.js";
import type { InputProblem } from "./problems.js";
import { isBooleanInput } from "./shape.js";
import { nearestName } from "./suggest.js";

/** The flags of one input. */
export interface InputFlag {
  /** Flag names without dashes: the input's own name, then its kebab-case alias when that differs. */
  names: string[];
  /** A switch: `--x` gives true, `--no-x` false, `--x=false` works too; it never takes the next argument. */
  boolean: boolean;
}

/** The raw input texts found in argv, and everything else, left in order for the command. */
export interface ParsedInputArgs {
  /** Input name → the text given (`--n 3`, `--n=3`), or true/false for a bare switch. */
  raw: Record<string, string | boolean>;
  /** Input name → the flag as the user spelled it (`--max-rows`, `--no-dry-run`), for messages. */
  flags: Record<string, string>;
  /** Arguments that are not inputs: reserved flags with their values, positionals, and all after `--`. */
  rest: string[];
  /** Unknown flags, flags without their value, inputs given twice. */
  problems: InputProblem[];
}

/** `maxRows` → `max-rows`, `parseHTTPResponse` → `parse-http-response`. */
export function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2")
    .toLowerCase();
}

/**
 * Each input's flag names. Throws one UserError naming every clash: two inputs answering to the same flag
 * (`maxRows` and `max-rows`, or `x`'s `--no-x` and an input `noX`), or an input shadowing a reserved flag.
 * `reserved` holds the command's own long flags, with or without `--`; single-dash short flags cannot clash.
 */
export function inputFlagNames(inputs: Record<string, AnyType>, reserved: readonly string[] = []): Record<string, InputFlag> {
  const reservedNames = new Set(longNames(reserved));
  const result: Record<string, InputFlag> = {};
  const claims = new Map<string, string[]>();
  const problems: string[] = [];
  for (const [input, type] of Object.entries(inputs)) {
    if (!/^[^\s=-][^\s=]*$/.test(input)) {
      problems.push(`input ${JSON.stringify(input)} cannot be a flag: rename it without spaces, "=" or a leading "-"`);
      continue;
    }
    const alias = kebabCase(input);
    const names = alias === input ? [input] : [input, alias];
    const boolean = isBooleanInput(type);
    result[input] = { names, boolean };
    for (const name of boolean ? [...names, ...names.map((n) => `no-${n}`)] : names) {
      claims.set(name, [...(claims.get(name) ?? []), input]);
    }
  }
  for (const [name, owners] of claims) {
    const distinct = [...new Set(owners)];
    if (distinct.length > 1) {
      problems.push(`inputs ${distinct.map((o) => JSON.stringify(o)).join(" and ")} both answer to --${name}; rename one of them`);
    }
    if (reservedNames.has(name)) {
      problems.push(`input ${JSON.stringify(distinct[0])} would answer to --${name}, which is run's own flag; rename the input`);
    }
  }
  if (problems.length) throw new UserError(`the inputs cannot all be flags:\n  ${problems.join("\n  ")}`);
  return result;
}

/**
 * Splits the argv tail after FILE ENTITY. `--name value`, `--name=value`, `--x`/`--no-x` for switches; a value
 * may start with a single `-` (`--delta -4`) but not with `--`. Reserved flags, positionals and everything
 * after `--` go to `rest` untouched. Problems are collected, not thrown, so that resolveInputs reports them
 * together with the problems of the values.
 */
export function parseInputArgs(
  argv: readonly string[],
  inputs: Record<string, AnyType>,
  reserved: readonly string[] = [],
): ParsedInputArgs {
  const flags = inputFlagNames(inputs, reserved);
  const reservedNames = new Set(longNames(reserved));
  const lookup = new Map<string, { input: string; boolean: boolean; negated: boolean }>();
  for (const [input, flag] of Object.entries(flags)) {
    for (const name of flag.names) {
      lookup.set(name, { input, boolean: flag.boolean, negated: false });
      if (flag.boolean) lookup.set(`no-${name}`, { input, boolean: true, negated: true });
    }
  }
  const parsed: ParsedInputArgs = { raw: {}, flags: {}, rest: [], problems: [] };
  const problem = (p: InputProblem) => parsed.problems.push(p);

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      parsed.rest.push(...argv.slice(i));
      break;
    }
    if (!arg.startsWith("--")) {
      parsed.rest.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const flag = `--${name}`;
    const match = lookup.get(name);

    if (!match) {
      if (reservedNames.has(name) || (name.startsWith("no-") && reservedNames.has(name.slice(3)))) {
        parsed.rest.push(arg);
        continue;
      }
      // Swallow the unknown flag's likely value too, so that it is not reported again as a stray argument.
      if (inline === undefined && i + 1 < argv.length && !argv[i + 1].startsWith("-")) i++;
      problem({ input: name, where: flag, message: unknownFlagMessage(name, flags, reserved) });
      continue;
    }

    const { input } = match;
    let value: string | boolean;
    if (match.boolean) {
      if (match.negated && inline !== undefined) {
        problem({ input, where: flag, message: `${flag} takes no value; write --${name.slice(3)}=${inline} instead` });
        continue;
      }
      value = match.negated ? false : (inline ?? true);
    } else if (inline !== undefined) {
      value = inline;
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
      value = argv[++i];
    } else {
      problem({
        input,
        where: flag,
        message: `${flag} needs a value; write ${flag} VALUE, or ${flag}=VALUE when the value starts with --`,
      });
      continue;
    }

    if (input in parsed.raw) {
      problem({ input, where: flag, message: `given twice (${parsed.flags[input]} and ${flag}); give it once` });
      continue;
    }
    parsed.raw[input] = value;
    parsed.flags[input] = flag;
  }
  return parsed;
}

function unknownFlagMessage(name: string, flags: Record<string, InputFlag>, reserved: readonly string[]): string {
  const primary = Object.values(flags).map((f) => `--${f.names[0]}`);
  const candidates = Object.values(flags).flatMap((f) => f.names);
  const guess = nearestName(name, [...candidates, ...longNames(reserved)]);
  const known = primary.length ? `inputs are: ${primary.join(", ")}` : "this entity takes no inputs";
  return `unknown input; ${known}${guess ? `; did you mean --${guess}?` : ""}`;
}

// Reserved flags may be written `--project` or `project`; `-p` is a short flag and never clashes with an input.
function longNames(reserved: readonly string[]): string[] {
  return reserved.filter((r) => r.startsWith("--") || !r.startsWith("-")).map((r) => r.replace(/^--/, ""));
}
