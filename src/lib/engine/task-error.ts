// Classifying what a task threw: USER errors (the task's own exceptions) versus SYSTEM errors (the machinery
// failed), and whether another attempt can help. Never lets a non-Error value crash the engine.
import { NonRetryableError } from "../errors.js";
import type { AttemptError } from "./runner.js";

/** A failure of the machinery around a task (a worker died, a pod was evicted): retried on the system budget. */
export class SystemError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "SystemError";
  }
}

/** An error thrown by user code, as recorded: plain errors are retried, NonRetryableError is not. */
export function classifyTaskError(thrown: unknown): AttemptError {
  if (thrown instanceof SystemError) return { kind: "SYSTEM", recoverable: true, code: thrown.code, message: thrown.message };
  if (thrown instanceof Error) {
    return {
      kind: "USER",
      recoverable: !(thrown instanceof NonRetryableError),
      code: thrown.name || "Error",
      message: thrown.message,
      stack: thrown.stack,
      thrown,
    };
  }
  return { kind: "USER", recoverable: true, code: "NonErrorThrown", message: `the task threw ${describeThrown(thrown)} instead of an Error`, thrown };
}

function describeThrown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  try {
    return `${typeof value} ${JSON.stringify(value)}`;
  } catch {
    return typeof value;
  }
}
