// Error classes shared by every room: "you can fix this" (UserError) versus "this is a bug" (BugError).
// Never import anything heavy here; the SDK, the compiler and the CLI all load this file.

const userErrorBrand = Symbol.for("tsflyte.UserError");
const compileErrorBrand = Symbol.for("tsflyte.CompileError");

/**
 * Something the user can fix: bad input, a wiring mistake, a module that does not load. The message says
 * what was wrong, where, and what to do; the CLI prints it without a stack trace.
 */
export class UserError extends Error {
  readonly [userErrorBrand] = true;
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "UserError";
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[userErrorBrand] === true;
  }
}

const notFoundBrand = Symbol.for("tsflyte.NotFoundError");
const unreachableBrand = Symbol.for("tsflyte.UnreachableError");

/** What was asked for does not exist: an execution, an entity, a version, a project (exit code 3). */
export class NotFoundError extends UserError {
  readonly [notFoundBrand] = true;
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = "NotFoundError";
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[notFoundBrand] === true;
  }
}

/**
 * The control plane could not be reached or refused us: DNS, connection refused, TLS, timeout, 401/403 (exit
 * code 4). The message names the endpoint, what failed and the config file used; never a token.
 */
export class UnreachableError extends UserError {
  readonly [unreachableBrand] = true;
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = "UnreachableError";
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[unreachableBrand] === true;
  }
}

/** One problem found while compiling an entity, with the user's source location when known. */
export interface CompileProblem {
  entity: string;
  message: string;
  /** `file:line:col` of the user's code that caused it. */
  location?: string;
}

/** Every problem found by a compile, reported together. */
export class CompileError extends UserError {
  readonly [compileErrorBrand] = true;
  constructor(readonly problems: CompileProblem[]) {
    super(
      problems
        .map((p) => `${p.location ? `${p.location}: ` : ""}${p.entity}: ${p.message}`)
        .join("\n"),
    );
    this.name = "CompileError";
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[compileErrorBrand] === true;
  }
}

/**
 * A value that does not match its declared type: names the variable, the type, and what was given. `paths` are
 * where inside the value the problems are (`emp[0].pay`), when its schema says.
 */
export class TypeMismatchError extends UserError {
  constructor(
    readonly variable: string,
    readonly expected: string,
    readonly given: string,
    detail?: string,
    readonly paths: readonly string[] = [],
  ) {
    super(`${variable}: expected ${expected}, got ${given}${detail ? ` (${detail})` : ""}`);
    this.name = "TypeMismatchError";
  }
}

/** Shows a JS value briefly for error messages: its type and a short rendering. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return `array ${truncate(safeJson(value))}`;
  if (value instanceof Date) return `Date ${Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString()}`;
  if (typeof value === "object") return `${value.constructor?.name === "Object" ? "object" : (value.constructor?.name ?? "object")} ${truncate(safeJson(value))}`;
  if (typeof value === "string") return `string ${truncate(JSON.stringify(value))}`;
  if (typeof value === "bigint") return `bigint ${value}`;
  return `${typeof value} ${String(value)}`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? String(value);
  } catch {
    return String(value);
  }
}

function truncate(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const nonRetryableBrand = Symbol.for("tsflyte.NonRetryableError");

/**
 * Thrown by a task to fail at once, without using its retries: the input can never work, so trying again only
 * wastes time. Recorded as a USER error that is not recoverable (Flyte's NON_RECOVERABLE).
 */
export class NonRetryableError extends Error {
  readonly [nonRetryableBrand] = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NonRetryableError";
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[nonRetryableBrand] === true;
  }
}

const executionFailedBrand = Symbol.for("tsflyte.ExecutionFailedError");

/**
 * A task or workflow called directly from user code failed: names the node and whether the failure was the
 * task's (USER) or the machinery's (SYSTEM). `cause` is what the task threw, when it threw in this process.
 */
export class ExecutionFailedError extends Error {
  readonly [executionFailedBrand] = true;
  constructor(
    message: string,
    readonly nodeId: string,
    readonly kind: "USER" | "SYSTEM" | "UNKNOWN",
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ExecutionFailedError";
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[executionFailedBrand] === true;
  }
}

const executionSpecErrorBrand = Symbol.for("tsflyte.ExecutionSpecError");

/** One problem in an execution spec file (`--execFile`), where it was written: `key` is a path like `inputs.x`. */
export interface ExecutionSpecProblem {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  /** The key path (`envs.FOO`, `inputs.x[1]`); empty for the file as a whole. */
  key: string;
  message: string;
}

/** Every problem found in an execution spec file, one line each: `file:line:col: key: message`. */
export class ExecutionSpecError extends UserError {
  readonly [executionSpecErrorBrand] = true;
  constructor(readonly problems: ExecutionSpecProblem[]) {
    super(
      problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.key ? `${p.key}: ` : ""}${p.message}`).join("\n"),
      "fix the file, or write a fresh one with `tsflyte get task|launchplan NAME --execFile FILE`",
    );
    this.name = "ExecutionSpecError";
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[executionSpecErrorBrand] === true;
  }
}
