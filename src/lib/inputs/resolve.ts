// Combines flag texts and inputs-file values into the JS values a run starts with, checked against the types.
// Never stops at the first problem and never returns literals: one InputsError lists everything, values stay JS.
import { TypeMismatchError, UserError } from "../errors.js";
import { acceptsNone, type AnyType } from "../types/types.js";
import { convertFileValue, convertInputValue, type ConvertOptions } from "./convert.js";
import type { InputsFile } from "./file.js";
import { InputValueError, InputsError, showGiven, showText, type InputProblem } from "./problems.js";
import { nearestName } from "./suggest.js";

export interface ResolveInputsOptions extends ConvertOptions {
  inputs: Record<string, AnyType>;
  /** Input name → text or switch value from the command line (parseInputArgs().raw). */
  raw?: Record<string, string | boolean>;
  /** Input name → the flag as spelled (parseInputArgs().flags), for messages; `--name` otherwise. */
  flags?: Record<string, string>;
  /** Problems already found in argv (parseInputArgs().problems), reported with the others. */
  problems?: InputProblem[];
  /** The inputs file, if one was given (readInputsFile()). */
  file?: Pick<InputsFile, "values" | "locations"> & Partial<Pick<InputsFile, "keyLocations" | "paths" | "sources">>;
  /** Names the entity in the error's first line. */
  entity?: string;
}

/**
 * Input name → JS value, ready for the engine. A flag beats the file; an input with a default or an optional
 * one that is given nowhere is left out, so the engine applies its default (or null). Every value is finally
 * checked with `type.toLiteral`, so a struct meets its schema here and not halfway through a run. Throws one
 * InputsError with a line per problem: unknown flags and keys, missing inputs, values that do not convert.
 * `parseInputArgs`'s result spreads straight in: `resolveInputs({ inputs, ...parsed, file })`.
 */
export function resolveInputs(options: ResolveInputsOptions): Record<string, unknown> {
  const { inputs, raw = {}, flags = {}, file } = options;
  const problems: InputProblem[] = [...(options.problems ?? [])];
  const result: Record<string, unknown> = {};
  const written = new Map(Object.entries(file?.sources ?? {}));

  for (const [name, type] of Object.entries(inputs)) {
    const source = sourceOf(name, raw, flags, file);
    if (!source) {
      if (!type.hasDefault && !acceptsNone(type)) {
        problems.push({
          input: name,
          type: type.name,
          where: "missing",
          message: `required; pass --${name} VALUE or set ${name} in the inputs file`,
        });
      }
      continue;
    }
    const { where, given } = source;
    try {
      const value =
        typeof source.text === "string"
          ? convertInputValue(type, source.text, name, options)
          : convertFileValue(type, source.value, name, { ...options, written });
      type.toLiteral(value, name);
      result[name] = value;
    } catch (e) {
      const inside = source.fromFile ? whereInside(e, file?.paths ?? {}) : undefined;
      problems.push({ input: name, type: type.name, given, where: inside ?? where, message: reasonOf(e, name) });
    }
  }

  if (file) {
    const names = Object.keys(inputs);
    for (const key of Object.keys(file.values)) {
      if (Object.hasOwn(inputs, key)) continue;
      const guess = nearestName(key, names);
      const known = names.length ? `inputs are: ${names.join(", ")}` : "this entity takes no inputs";
      problems.push({
        input: key,
        where: file.keyLocations?.[key] ?? file.locations[key] ?? "inputs file",
        message: `unknown input ${JSON.stringify(key)}; ${known}${guess ? `; did you mean ${guess}?` : ""}`,
      });
    }
  }

  if (problems.length) throw new InputsError(problems, options.entity);
  return result;
}

interface Source {
  where: string;
  given: string;
  /** A command-line text, parsed by the type. */
  text?: string;
  /** A natural value: from the file, or a bare switch's true/false. */
  value?: unknown;
  fromFile?: boolean;
}

function sourceOf(
  name: string,
  raw: Record<string, string | boolean>,
  flags: Record<string, string>,
  file: ResolveInputsOptions["file"],
): Source | undefined {
  if (Object.hasOwn(raw, name)) {
    const given = raw[name];
    const where = flags[name] ?? `--${name}`;
    return typeof given === "string" ? { where, given: showText(given), text: given } : { where, given: where, value: given };
  }
  if (file && Object.hasOwn(file.values, name)) {
    const given = file.sources?.[name] ?? showGiven(file.values[name]);
    return { where: file.locations[name] ?? "inputs file", given, value: file.values[name], fromFile: true };
  }
  return undefined;
}

/**
 * Where in the file a problem deep inside an input was written (`order.qty`'s own line rather than `order`'s): the
 * first path the error names, or the nearest value around it that the file has (a missing field: its mapping).
 */
function whereInside(e: unknown, paths: Record<string, string>): string | undefined {
  const named = e instanceof InputValueError ? [e.at] : e instanceof TypeMismatchError ? [...e.paths, e.variable] : [];
  for (const first of named) {
    for (let path = first; ; ) {
      if (Object.hasOwn(paths, path)) return paths[path];
      const parent = path.replace(/(\[\d+\]|\.[^.[\]]*)$/, "");
      if (parent === path || parent === "") break;
      path = parent;
    }
  }
  return undefined;
}

// A problem at the input itself needs no path; one deep inside (`emp[1].when`) keeps its path and type.
function reasonOf(e: unknown, name: string): string {
  if (e instanceof InputValueError) return e.at === name ? e.reason : e.message;
  if (e instanceof UserError) return e.message.startsWith(`${name}: `) ? e.message.slice(name.length + 2) : e.message;
  throw e;
}
