// Messages between the API thread and the scheduler thread of `tsflyte serve`. Types only: plain, cloneable data,
// never a store, a socket or a secret.
import type { ExecutionKey } from "../store/records.js";

/** What the scheduler thread opens on its own: its own database connection, blob store and task workers. */
export interface SchedulerThreadConfig {
  db: string;
  storage: string;
  workers: number;
  cwd: string;
  maxRunningExecutions?: number;
  /** PostgreSQL only: the lease length; executions run here only while this server holds their lease. */
  leaseMs?: number;
}

export type ToScheduler =
  | { type: "start"; key: ExecutionKey }
  | { type: "terminate"; id: number; key: ExecutionKey; cause: string; principal: string }
  /** Stop: no new executions or attempts; running attempts get `graceMs` to finish, then are interrupted. */
  | { type: "close"; graceMs: number }
  /** End the grace period of a stop at once. */
  | { type: "stopNow" };

export type FromScheduler =
  | { type: "ready"; resumed: number }
  | { type: "failed"; message: string; hint?: string }
  | { type: "terminated"; id: number; result: boolean; error?: string }
  | { type: "log"; line: string }
  | { type: "closed" };
