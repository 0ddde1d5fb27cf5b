// Ownership of unfinished executions among several servers sharing one PostgreSQL database: a lease per execution
// (owner id + expiry, on the database's clock), taken by one conditional UPDATE. Never lets two owners hold one lease.
import type { ControlPlaneStore, ExecutionKey } from "./records.js";

/** How long a lease lasts unless renewed, by default; the owner renews it every third of that. */
export const defaultLeaseMs = 30_000;

/** The renewal period of a lease of `leaseMs`: three renewals fit in one lease, so two may fail before it lapses. */
export function heartbeatIntervalMs(leaseMs: number): number {
  return Math.max(100, Math.floor(leaseMs / 3));
}

/** An execution a claim won, and who held it before (absent when nobody did: a new execution). */
export interface ClaimedExecution extends ExecutionKey {
  /** The lease's epoch: it goes up whenever the owner changes; writes are fenced by owner and epoch. */
  epoch: number;
  previousOwner?: string;
  /** When the previous owner's lease ran out, in the database's milliseconds. */
  previousExpiry?: number;
}

/** What a renewal found of a lease still held: an execution someone asked to terminate is ABORTING. */
export interface HeldExecution extends ExecutionKey {
  aborting: boolean;
  abortCause?: string;
  abortPrincipal?: string;
}

export interface ExecutionLeases {
  /**
   * Takes the lease of one unfinished execution for `owner` if nobody holds it, its holder's lease has expired, or
   * `owner` holds it already (then it is renewed). One conditional UPDATE: of two servers claiming at once, one wins.
   */
  claimExecution(key: ExecutionKey, owner: string, leaseMs: number): Promise<ClaimedExecution | undefined>;
  /** Claims up to `limit` unfinished executions that nobody holds or whose lease has expired, oldest first. */
  claimAvailableExecutions(owner: string, leaseMs: number, limit: number): Promise<ClaimedExecution[]>;
  /** Extends every lease `owner` holds of an unfinished execution; returns those executions. */
  renewLeases(owner: string, leaseMs: number): Promise<HeldExecution[]>;
  /** Gives up the leases `owner` holds, so that another server may take the executions over at once. */
  releaseLeases(owner: string): Promise<void>;
  /**
   * Asks the holder of an execution's lease to terminate it: an unfinished execution becomes ABORTING with the cause,
   * and its holder stops it at its next renewal. False when it had already ended.
   */
  requestTermination(key: ExecutionKey, cause: string, principal: string): Promise<boolean>;
  /**
   * This store, but its writes commit only while `owner` holds `key`'s lease in the `epoch` its claim returned (the
   * check and the rows are one transaction): a server whose lease was taken over cannot record anything more of
   * that run of the execution, even once it claims the execution again.
   */
  fencedBy(key: ExecutionKey, owner: string, epoch: number): ControlPlaneStore;
}

export function hasLeases(store: ControlPlaneStore): store is ControlPlaneStore & ExecutionLeases {
  return typeof (store as Partial<ExecutionLeases>).claimAvailableExecutions === "function";
}

const leaseLostBrand = Symbol.for("tsflyte.LeaseLostError");

/** A write of an execution whose lease this server no longer holds: another server has taken it over. */
export class LeaseLostError extends Error {
  readonly [leaseLostBrand] = true;
  constructor(
    readonly key: ExecutionKey,
    readonly owner: string,
  ) {
    super(`this server (${owner}) no longer holds the lease of execution ${key.project}/${key.domain}/${key.name}: another server has taken it over`);
    this.name = "LeaseLostError";
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[leaseLostBrand] === true;
  }
}
