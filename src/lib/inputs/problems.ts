// What can be wrong with the inputs a user gave to `run`, and the one error that reports all of it at once.
// Never throws on the first problem: callers collect InputProblems and throw a single InputsError at the end.
import { UserError } from "../errors.js";

const inputsErrorBrand = Symbol.for("tsflyte.InputsError");
const inputValueErrorBrand = Symbol.for("tsflyte.InputValueError");

/** One problem with one input (or one unknown flag or key), with where the user wrote it. */
export interface InputProblem {
  /** The input's name, or the unknown flag or key as written. */
  input: string;
  /** The input's expected type (`type.name`); absent for unknown flags and keys. */
  type?: string;
  /** What was given, shortly rendered; absent when nothing was. */
  given?: string;
  /** `--flag`, `inputs.yaml:3:7`, or `missing`. */
  where: string;
  /** What is wrong and what to do. */
  message: string;
}

/** Every problem with the inputs of a run, one line each. The `problems` are the JSON shape for `--json`. */
export class InputsError extends UserError {
  readonly [inputsErrorBrand] = true;
  constructor(
    readonly problems: InputProblem[],
    entity?: string,
  ) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(
      `${count} with the inputs${entity ? ` of ${entity}` : ""}:\n${problems.map((p) => `  ${renderProblem(p)}`).join("\n")}`,
      "`tsflyte run FILE ENTITY --help` lists the inputs with their types",
    );
    this.name = "InputsError";
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[inputsErrorBrand] === true;
  }
}

/** `where: input (type) given X: message`, or `where: message` for unknown flags and keys. */
export function renderProblem(p: InputProblem): string {
  if (p.type === undefined) return `${p.where}: ${p.message}`;
  const given = p.given === undefined ? "" : ` given ${p.given}`;
  return `${p.where}: ${p.input} (${p.type})${given}: ${p.message}`;
}

/**
 * A value that cannot become its type. `at` is the path inside the input (`emp[0].when`), so a problem deep in
 * a list still says where; `reason` says what to write instead.
 */
export class InputValueError extends UserError {
  readonly [inputValueErrorBrand] = true;
  constructor(
    readonly at: string,
    readonly expected: string,
    readonly given: string,
    readonly reason: string,
  ) {
    super(`${at}: expected ${expected}, got ${given}; ${reason}`);
    this.name = "InputValueError";
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[inputValueErrorBrand] === true;
  }
}

const nonFiniteMark = "\u0000number:";
const nonFiniteRe = /"\\u0000number:(-?Infinity|NaN)"/g;

/** A short rendering of what the user gave: strings quoted so that "" and " 3" stay visible. */
export function showGiven(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (typeof value === "number") return String(value);
  let text: string;
  try {
    // JSON has no Infinity or NaN and would show them as null; they are marked and unquoted instead.
    const json = JSON.stringify(value, (_key, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? `${nonFiniteMark}${v}` : v));
    text = json === undefined ? String(value) : json.replace(nonFiniteRe, "$1");
  } catch {
    text = String(value);
  }
  return truncate(text);
}

/** A command-line text as one would type it in a shell: `'[{"name":"a"}]'` rather than JSON-escaped. */
export function showText(text: string): string {
  return text.includes("'") ? showGiven(text) : truncate(`'${text}'`);
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}
