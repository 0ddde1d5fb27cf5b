// Turns what a user wrote — a command-line text, or a natural YAML/JSON value — into the JS value a t.* type's
// toLiteral accepts. Never coerces silently: "3.5" is not an int, "1" in a file is not a number, 1500 not a duration.
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDuration } from "../types/duration.js";
import type { AnyType } from "../types/types.js";
import { FlyteDirectory, FlyteFile, StructuredDataset } from "../types/values.js";
import { maxNestingDepth } from "../user-file.js";
import { findJsonError, lineColumn } from "./json-syntax.js";
import { InputValueError, showGiven, showText } from "./problems.js";
import { shapeOf, type TypeShape } from "./shape.js";

export interface ConvertOptions {
  /** The folder relative paths are resolved from; `process.cwd()` when absent. */
  cwd?: string;
  /** The clock behind `now` and `today`; tests pin it. */
  now?: () => Date;
  /** How a file wrote the numbers JS cannot hold (`1e400`, `.inf`, `.nan`), by path such as `sizes[2]`, for messages. */
  written?: ReadonlyMap<string, string>;
}

/**
 * A command-line text → the value for `type`. Scalars are parsed from the text (`3`, `2.5`, `yes`,
 * `2026-01-31T12:00:00Z`, `now`, `today`, `90s`, a path or URI); lists, maps and structs are JSON whose nested
 * strings are then converted like file values. `null`/`none` give null for an optional. Throws InputValueError.
 *
 * Datetimes without an offset are UTC, and `today` is today's midnight UTC, so that a run means the same
 * thing on every machine.
 */
export function convertInputValue(type: AnyType, text: string, at: string, options: ConvertOptions = {}): unknown {
  return convert(type, text, at, "text", options);
}

/**
 * A value read from an inputs file (or nested in a flag's JSON) → the value for `type`. Numbers, booleans,
 * lists and mappings must already be what the type says (an int is fine for a float, 3.5 is not an int);
 * strings are converted for datetimes, durations, files, directories and dataframes. Throws InputValueError.
 */
export function convertFileValue(type: AnyType, value: unknown, at: string, options: ConvertOptions = {}): unknown {
  return convert(type, value, at, "value", options);
}

type Mode = "text" | "value";

function convert(type: AnyType, given: unknown, at: string, mode: Mode, options: ConvertOptions): unknown {
  const shape = shapeOf(type);
  const shown = mode === "text" && typeof given === "string" ? showText(given) : showGiven(given);
  const fail = (reason: string) => new InputValueError(at, type.name, shown, reason);
  const text = typeof given === "string" ? given : undefined;

  switch (shape.kind) {
    case "int": {
      if (mode === "text" && text !== undefined && !/^[+-]?\d+$/.test(text.trim())) {
        throw fail("not a whole number; write digits such as 3 or -4");
      }
      const n = mode === "text" ? Number(text) : typeof given === "bigint" ? Number(given) : given;
      if (typeof n !== "number") throw fail(notA("number", given, writtenAs.int));
      if (!Number.isFinite(n)) throw fail(`not an integer (${nonFinite(n, options.written?.get(at))}); write a whole number within ±9007199254740991`);
      if (!Number.isInteger(n)) throw fail("not a whole number; this input takes an int such as 3 or -4");
      if (!Number.isSafeInteger(n)) throw fail("outside the safe integer range ±9007199254740991");
      return n === 0 ? 0 : n;
    }
    case "float": {
      if (mode === "text" && text !== undefined && !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text.trim())) {
        throw fail("not a number; write one such as 2.5, -1, 1e-3");
      }
      const n = mode === "text" ? Number(text) : given;
      if (typeof n !== "number") throw fail(notA("number", given, writtenAs.float));
      if (!Number.isFinite(n)) throw fail(`not a finite number (${nonFinite(n, mode === "text" ? text : options.written?.get(at))}); write one such as 2.5, -1 or 1e-3`);
      return n;
    }
    case "string":
      if (text === undefined) throw fail(notA("string", given));
      return text;
    case "boolean": {
      if (mode === "value" || text === undefined) {
        if (typeof given !== "boolean") throw fail(notA("boolean", given, writtenAs.boolean));
        return given;
      }
      const word = text.trim().toLowerCase();
      if (["true", "1", "yes"].includes(word)) return true;
      if (["false", "0", "no"].includes(word)) return false;
      throw fail("not a boolean; write true/false, yes/no or 1/0");
    }
    case "datetime": {
      if (given instanceof Date && !Number.isNaN(given.getTime())) return given;
      if (text === undefined) throw fail(notA("string with an ISO 8601 date-time", given));
      const date = parseDatetime(text, options.now ?? (() => new Date()));
      if (!date) throw fail("not a date-time; write ISO 8601 such as 2026-01-31T12:00:00Z or 2026-01-31, or now or today");
      return date;
    }
    case "duration": {
      if (text === undefined) {
        throw fail(typeof given === "number" ? "a bare number has no unit; write \"1500ms\", \"90s\" or \"1h30m\"" : notA("string such as \"90s\"", given));
      }
      try {
        return parseDuration(text, at);
      } catch {
        throw fail("not a duration; write 90s, 10m, 1h30m, 250ms or ISO 8601 PT1H30M");
      }
    }
    case "list":
    case "map":
    case "struct":
      return convertContainer(shape, mode === "text" ? parseJson(given as string, shape, fail) : given, at, options, fail);
    case "enum":
      if (text === undefined || !shape.values.includes(text)) {
        throw fail(`not one of the values; write one of ${shape.values.join(", ")}`);
      }
      return text;
    case "optional":
      if (given === null || given === undefined) return null;
      if (mode === "text" && text !== undefined && ["null", "none"].includes(text.trim().toLowerCase())) return null;
      return convert(shape.inner, given, at, mode, options);
    case "union": {
      const reasons: string[] = [];
      for (const variant of shape.variants) {
        try {
          return convert(variant, given, at, mode, options);
        } catch (e) {
          if (!(e instanceof InputValueError)) throw e;
          reasons.push(`as ${variant.name}: ${e.at === at ? e.reason : e.message}`);
        }
      }
      throw fail(`no variant takes it (${reasons.join("; ")})`);
    }
    case "file":
      if (given instanceof FlyteFile) return given;
      return new FlyteFile(storedUri(given, "file", options, fail));
    case "directory":
    case "schema":
      // pyflyte's legacy schema is a folder of parquet files.
      if (given instanceof FlyteDirectory) return given;
      return new FlyteDirectory(storedUri(given, "directory", options, fail));
    case "error":
      if (mode === "text" && text !== undefined) return text.trim().startsWith("{") ? parseJson(text, shape, fail) : text;
      if (text !== undefined || isPlainObject(given)) return given;
      throw fail(notA("message, or a mapping with message and failedNodeId", given));
    case "dataframe": {
      if (given instanceof StructuredDataset) return given;
      const format = text === undefined ? undefined : dataframeFormat(text);
      if (text !== undefined && !format && !hasScheme(text)) {
        throw fail("not a table file; give a .parquet, .arrow or .csv path, or a URI such as s3://bucket/table.parquet");
      }
      return new StructuredDataset(storedUri(given, "dataframe", options, fail), format);
    }
    default:
      return given;
  }
}

function convertContainer(
  shape: TypeShape,
  value: unknown,
  at: string,
  options: ConvertOptions,
  fail: (reason: string) => InputValueError,
): unknown {
  if (shape.kind === "list") {
    if (!Array.isArray(value)) throw fail(notA("list", value));
    return value.map((item, i) => convert(shape.element, item, `${at}[${i}]`, "value", options));
  }
  if (shape.kind === "map") {
    if (!isPlainObject(value)) throw fail(notA("mapping of string keys", value));
    // Built from entries: assigning a `__proto__` key would set the prototype instead.
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, convert(shape.valueType, item, `${at}.${key}`, "value", options)]));
  }
  // A struct's own schema checks it in toLiteral, with the schema's messages; here it only has to be data.
  if (!isPlainObject(value)) throw fail(notA("mapping of fields", value));
  return value;
}

function parseJson(text: string, shape: TypeShape, fail: (reason: string) => InputValueError): unknown {
  const tooDeep = nestedTooDeep(text);
  if (tooDeep !== undefined) {
    const { line, column } = lineColumn(text, tooDeep);
    throw fail(`lists and objects nest more than ${maxNestingDepth} levels deep at ${line > 1 ? `line ${line}, ` : ""}column ${column}; tsflyte reads at most ${maxNestingDepth} levels`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const error = findJsonError(text);
    let what = e instanceof Error ? e.message : String(e);
    if (error) {
      const { line, column } = lineColumn(text, error.offset);
      what = `${error.message} at ${line > 1 ? `line ${line}, ` : ""}column ${column}`;
    }
    const example = shape.kind === "list" ? `'[1, 2]'` : `'{"key": "value"}'`;
    throw fail(`not valid JSON: ${what}; quote the whole value for the shell, e.g. ${example}`);
  }
}

/** Where a JSON text opens its list or object past maxNestingDepth levels, without parsing it; undefined when it never does. */
function nestedTooDeep(text: string): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxNestingDepth) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

const isoDatetime =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** An ISO 8601 date or date-time (no offset means UTC), `now`, or `today` (midnight UTC); undefined if none. */
export function parseDatetime(text: string, now: () => Date = () => new Date()): Date | undefined {
  const trimmed = text.trim();
  const word = trimmed.toLowerCase();
  if (word === "now") return now();
  if (word === "today") {
    const d = now();
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  }
  const m = isoDatetime.exec(trimmed);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((x) => Number(x ?? 0));
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, "0")) : 0;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== "Z") {
    const digits = zone.slice(1).replace(":", "");
    const [h, min] = [Number(digits.slice(0, 2)), Number(digits.slice(2) || 0)];
    if (h > 23 || min > 59) return undefined;
    offsetMinutes = (zone[0] === "-" ? -1 : 1) * (h * 60 + min);
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000;
  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear puts them back.
  const date = new Date(utc);
  if (year < 100) date.setUTCFullYear(date.getUTCFullYear() - 1900);
  return date;
}

const schemeRe = /^[a-z][a-z0-9+.-]*:\/\//i;

function hasScheme(text: string): boolean {
  return schemeRe.test(text);
}

function dataframeFormat(pathOrUri: string): string | undefined {
  const path = pathOrUri.replace(/[?#].*$/, "");
  return /\.(parquet|arrow|csv)$/i.exec(path)?.[1].toLowerCase();
}

/**
 * The URI for a path or URI. A remote URI is taken as is (the engine will find out); a local path or file://
 * URI must exist, and be a file or a folder as the type says, so that a typo fails before the run starts.
 */
function storedUri(
  given: unknown,
  kind: "file" | "directory" | "dataframe",
  options: ConvertOptions,
  fail: (reason: string) => InputValueError,
): string {
  const noun = kind === "directory" ? "folder" : "file";
  if (typeof given !== "string" || given === "") throw fail(notA(`${noun} path or URI`, given));
  let path: string;
  if (hasScheme(given)) {
    if (!/^file:/i.test(given)) return given;
    try {
      path = fileURLToPath(given);
    } catch {
      throw fail("not a usable file:// URI; write file:///absolute/path or a plain path");
    }
  } else {
    path = resolve(options.cwd ?? process.cwd(), given);
  }
  const stats = statSync(path, { throwIfNoEntry: false });
  const from = hasScheme(given) ? "" : ` (resolved from ${options.cwd ?? process.cwd()})`;
  if (!stats) throw fail(`${path} does not exist${from}; check the path, or give a URI such as s3://bucket/key`);
  if (kind === "file" && stats.isDirectory()) throw fail(`${path} is a folder; this input takes one file`);
  if (kind === "directory" && !stats.isDirectory()) throw fail(`${path} is not a folder; this input takes a directory`);
  return hasScheme(given) ? given : FlyteFile.from(path).uri;
}

/**
 * How a number or boolean is written: `unquoted` matches the strings that JSON and YAML's core schema read as one
 * when written without quotes, so a string that matches was quoted by the user; `example` is what to write otherwise.
 */
const writtenAs = {
  int: { unquoted: /^[-+]?[0-9]+$/, example: "a whole number such as 3 or -4" },
  float: { unquoted: /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/, example: "a number such as 2.5 or -1" },
  boolean: { unquoted: /^(true|false)$/, example: "true or false" },
};

/** Why a number that is not finite is refused, in the words the user wrote it with when known. */
function nonFinite(n: number, written: string | undefined): string {
  if (Number.isNaN(n)) return `${written ?? "NaN"} is not a number`;
  if (written !== undefined && /inf/i.test(written)) return `${written} is infinite`;
  return `${written ?? "it"} overflows: the largest number is about 1.8e308`;
}

function notA(what: string, given: unknown, written?: { unquoted: RegExp; example: string }): string {
  const actual = given === null ? "null" : Array.isArray(given) ? "a list" : typeof given === "object" ? "a mapping" : `a ${typeof given}`;
  const advice = typeof given === "string" && written ? (written.unquoted.test(given) ? "; write it without quotes" : `; write ${written.example}`) : "";
  const unquoted = typeof given === "number" && what.includes("string") ? `; put it in quotes: "${given}"` : "";
  return `${actual}, where a ${what} is needed${advice}${unquoted}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
