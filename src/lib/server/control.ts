// The seam between the control plane's HTTP API and its scheduler: the API writes an execution's QUEUED row
// and inputs, then hands its key over; the scheduler runs it. Never carries HTTP or SQL concerns.
import type { ExecutionKey, ExecutionRecord } from "../store/records.js";

export interface ExecutionControl {
  /**
   * Refuses (with an invalid-argument ApiError) what this target cannot honour of a new execution, e.g. a service
   * account its namespace lacks. Called before anything of the execution is written; a target that honours all may omit it.
   */
  check?(record: ExecutionRecord): Promise<void>;
  /**
   * The execution's QUEUED row and inputs are durable: run it (now, or when a slot frees up). A control that hands
   * it elsewhere (a Kubernetes Job) resolves once it did, and rejects, with the execution FAILED, when it could not.
   */
  start(key: ExecutionKey): void | Promise<void>;
  /**
   * Terminates an execution that has not finished: its running attempts are stopped and it ends ABORTED with
   * this cause. Resolves once the ABORTED phase is recorded; false when it had already finished.
   */
  terminate(key: ExecutionKey, cause: string, principal: string): Promise<boolean>;
}
