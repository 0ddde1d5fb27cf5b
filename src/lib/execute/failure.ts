// An attempt that ends before or around the task itself (its code will not load, its inputs cannot be read), with
// the classification tsflyte-execute writes to error.pb. Never used for what the task throws: classifyTaskError is.
import type { AttemptError } from "../engine/runner.js";

/** Carries the AttemptError to write; thrown by the loading steps and caught once, where error.pb is written. */
export class ExecuteFailure extends Error {
  constructor(readonly error: AttemptError) {
    super(error.message);
    this.name = "ExecuteFailure";
  }
}

/** The user's code or bundle is at fault; `recoverable` says whether another attempt can help. */
export function userFailure(code: string, message: string, options: { recoverable?: boolean; stack?: string } = {}): ExecuteFailure {
  return new ExecuteFailure({ kind: "USER", recoverable: options.recoverable ?? false, code, message, stack: options.stack });
}

/** The machinery failed (storage, the cache folder): retried on the system budget. */
export function systemFailure(code: string, message: string, cause?: unknown): ExecuteFailure {
  const reason = cause === undefined ? "" : `: ${cause instanceof Error ? cause.message : String(cause)}`;
  return new ExecuteFailure({ kind: "SYSTEM", recoverable: true, code, message: `${message}${reason}` });
}
