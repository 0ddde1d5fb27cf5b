// Runs the control plane's executions on the engine: a queue in front of a limit of executions at once, resume
// of unfinished ones after a restart, and termination with a cause. Never decides where a task runs (the runner does).
// With a lease (PostgreSQL shared by several servers) it runs only executions whose lease it holds, and never writes
// a record of one after another server took it over.
import { Interruption, Termination } from "../engine/engine.js";
import type { TaskRunner } from "../engine/runner.js";
import { blobsForOneWriter, type BlobStore } from "../storage/blob-store.js";
import { hasLeases, heartbeatIntervalMs, LeaseLostError, type ClaimedExecution, type ExecutionLeases } from "../store/leases.js";
import { terminalExecutionPhases, type ControlPlaneStore, type ExecutionKey } from "../store/records.js";
import { isStoreUnavailable, retryingStore } from "../store/unavailable.js";
import { runRecordedExecution } from "./recorded-execution.js";
import type { ExecutionControl } from "./control.js";

export interface SchedulerOptions {
  store: ControlPlaneStore;
  blobs: BlobStore;
  runner: TaskRunner;
  /** Executions running at once; the rest wait, QUEUED, in arrival order. Task attempts are limited by the runner. */
  maxRunningExecutions?: number;
  log?: (line: string) => void;
  /**
   * Several servers on one database: this server's lease owner id and the lease length. An execution runs here only
   * once this server has claimed its lease; the lease is renewed every third of `ms`.
   */
  lease?: { owner: string; ms: number };
}

interface Running {
  key: ExecutionKey;
  stop: AbortController;
  done: Promise<void>;
  /** When this server's claim of the execution's lease succeeded (lease mode); until then a renewal cannot miss it. */
  claimedAt?: number;
}

const keyString = (key: ExecutionKey) => `${key.project}/${key.domain}/${key.name}`;

export class Scheduler implements ExecutionControl {
  private readonly queue: ExecutionKey[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Map<string, Running>();
  private readonly limit: number;
  /** The store with every call retried while the database is unavailable: an outage pauses work, it fails nothing. */
  private readonly store: ControlPlaneStore;
  /** Lease mode: the store as it is (for fenced views and heartbeats), and with its calls retried. */
  private readonly leases: (ControlPlaneStore & ExecutionLeases) | undefined;
  private readonly leasing: (ControlPlaneStore & ExecutionLeases) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private heartbeatFailing = false;
  /** Executions a terminate here is ending: held by this server for that, but not to be run. */
  private readonly terminating = new Set<string>();
  private closed = false;
  private endGrace?: () => void;
  private hurried = false;

  constructor(private readonly options: SchedulerOptions) {
    this.limit = options.maxRunningExecutions ?? 64;
    this.store = retryingStore(options.store, { log: options.log });
    if (options.lease) {
      if (!hasLeases(options.store)) throw new Error(`the store at ${options.store.location} cannot hold leases`);
      this.leases = options.store;
      this.leasing = retryingStore(options.store, { log: options.log });
    }
  }

  start(key: ExecutionKey): void {
    const id = keyString(key);
    if (this.closed || this.queued.has(id) || this.running.has(id)) return;
    this.queued.add(id);
    this.queue.push(key);
    this.pump();
  }

  /**
   * Picks up every execution a previous server process left unfinished, oldest first. With a lease: those nobody
   * holds or whose holder's lease ran out, and from then on, at every renewal, whatever becomes so.
   */
  async resumeUnfinished(): Promise<number> {
    if (this.options.lease) {
      const claimed = await this.claimAvailable();
      this.heartbeat = setInterval(() => void this.tick(), heartbeatIntervalMs(this.options.lease.ms));
      this.heartbeat.unref();
      return claimed;
    }
    const unfinished = await this.options.store.listUnfinishedExecutions();
    for (const record of unfinished) this.start(record);
    return unfinished.length;
  }

  async terminate(key: ExecutionKey, cause: string, principal: string): Promise<boolean> {
    const id = keyString(key);
    const running = this.running.get(id);
    if (running) {
      running.stop.abort(new Termination(cause, principal));
      await running.done;
      return true;
    }
    // Not started here yet: it ends without running anything.
    if (this.queued.delete(id)) this.queue.splice(this.queue.findIndex((k) => keyString(k) === id), 1);
    let store = this.store;
    const lease = this.options.lease;
    this.terminating.add(id);
    try {
      if (lease && this.leases && this.leasing) {
        const claimed = await this.leasing.claimExecution(key, lease.owner, lease.ms);
        if (!claimed) {
          // Another server holds it: that server stops it at its next renewal and records it ABORTED.
          if (!(await this.leasing.requestTermination(key, cause, principal))) return false;
          await this.waitUntilEnded(key, 2 * lease.ms);
          return true;
        }
        store = retryingStore(this.leases.fencedBy(key, lease.owner, claimed.epoch), { log: this.options.log });
      }
      const record = await store.getExecution(key);
      if (!record || terminalExecutionPhases.has(record.phase)) return false;
      const t = Date.now();
      await store.write([
        {
          table: "execution",
          row: { ...record, phase: "ABORTED", error: { kind: "USER", code: "Aborted", message: cause }, abort: { cause, principal }, endedAt: t, updatedAt: t },
        },
      ]);
      return true;
    } finally {
      this.terminating.delete(id);
    }
  }

  /** How many executions run now and wait in the queue. */
  get load(): { running: number; queued: number } {
    return { running: this.running.size, queued: this.queue.length };
  }

  /**
   * Stops taking work. Running executions are left as recorded, for the next server process to resume; with a
   * lease, once they have stopped, their leases are given up so that another server may take them over at once.
   */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.queued.clear();
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  /** With a lease: gives up this server's leases (after close(), once nothing runs here any more). */
  async releaseLeases(): Promise<void> {
    if (this.leases && this.options.lease) await this.leases.releaseLeases(this.options.lease.owner);
  }

  /**
   * A graceful stop: takes no more executions (those waiting stay QUEUED), gives the attempts running now up to
   * `graceMs` to finish while no new attempt starts (`attemptsFinished` resolves once none runs), then interrupts
   * what still runs. Interrupted attempts are recorded ABORTED and never-started ones stay QUEUED; neither counts
   * against a budget, and every unfinished execution stays RUNNING or QUEUED for the next start to resume.
   */
  async stop(graceMs: number, attemptsFinished: Promise<void>): Promise<void> {
    this.close();
    let timer: NodeJS.Timeout | undefined;
    if (this.running.size && !this.hurried) {
      this.options.log?.(`stopping: ${this.running.size} execution(s) running; their running attempts get up to ${graceMs / 1000}s to finish, no new attempt starts`);
      await Promise.race([
        attemptsFinished,
        new Promise<void>((resolve) => {
          this.endGrace = resolve;
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    const left = [...this.running.values()];
    if (left.length) this.options.log?.(`stopping: interrupting ${left.length} unfinished execution(s); they resume on the next start`);
    for (const running of left) running.stop.abort(new Interruption("the server is stopping"));
    await Promise.all(left.map((running) => running.done));
  }

  /** Ends the grace period of a stop at once (a second Ctrl-C): what still runs is interrupted, charging nothing. */
  stopNow(): void {
    this.hurried = true;
    this.endGrace?.();
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.limit && this.queue.length) {
      const key = this.queue.shift()!;
      const id = keyString(key);
      this.queued.delete(id);
      const entry: Running = { key, stop: new AbortController(), done: Promise.resolve() };
      entry.done = this.run(key, entry)
        .catch((e: unknown) => {
          if (e instanceof LeaseLostError) this.options.log?.(`execution ${id}: ${e.message}; this server stopped working on it`);
          else this.options.log?.(`execution ${id} stopped with an internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        })
        .finally(() => {
          this.running.delete(id);
          this.pump();
        });
      this.running.set(id, entry);
    }
  }

  private async run(key: ExecutionKey, entry: Running): Promise<void> {
    // Its own view of the shared blob store: a write of another execution that fails (a full disk) is not its error.
    const blobs = blobsForOneWriter(this.options.blobs);
    const lease = this.options.lease;
    if (!lease || !this.leases || !this.leasing) {
      await runRecordedExecution(key, { ...this.options, blobs, store: this.store }, entry.stop.signal);
      return;
    }
    const claimed = await this.leasing.claimExecution(key, lease.owner, lease.ms);
    // Another server holds it (or it has ended): it is that server's to run.
    if (!claimed) return;
    entry.claimedAt = Date.now();
    this.logTakeover(claimed);
    // Every write of the execution is conditional on this server's lease, in the write's own transaction; the
    // first one refused stops the execution here at once (before its next attempt starts, whose RUNNING row
    // is such a write).
    const store = retryingStore(this.leases.fencedBy(key, lease.owner, claimed.epoch), {
      log: this.options.log,
      what: `execution ${keyString(key)}`,
      signal: entry.stop.signal,
      onError: (e) => {
        if (e instanceof LeaseLostError) entry.stop.abort(e);
      },
    });
    await runRecordedExecution(key, { ...this.options, blobs, store }, entry.stop.signal);
  }

  private logTakeover(claimed: ClaimedExecution): void {
    if (!claimed.previousOwner) return;
    const expired = claimed.previousExpiry === undefined ? "" : ` whose lease ran out at ${new Date(claimed.previousExpiry).toISOString()}`;
    this.options.log?.(`took over execution ${keyString(claimed)} from ${claimed.previousOwner}${expired}`);
  }

  /** Claims what nobody holds (or whose lease ran out), up to the free places, and queues it. */
  private async claimAvailable(): Promise<number> {
    const lease = this.options.lease!;
    const free = this.limit - this.running.size - this.queue.length;
    const claimed = await this.leases!.claimAvailableExecutions(lease.owner, lease.ms, free);
    for (const execution of claimed) {
      this.logTakeover(execution);
      this.start(execution);
    }
    return claimed.length;
  }

  /** One heartbeat: renews this server's leases, stops what it lost or was asked to terminate, claims what is free. */
  private tick(): Promise<void> {
    this.ticking ??= (async () => {
      const lease = this.options.lease!;
      try {
        const sentAt = Date.now();
        const held = new Map((await this.leases!.renewLeases(lease.owner, lease.ms)).map((h) => [keyString(h), h]));
        for (const [id, entry] of this.running) {
          const mine = held.get(id);
          if (!mine) {
            // Claimed before this renewal was sent, yet not renewed: another server has it now.
            if (entry.claimedAt !== undefined && entry.claimedAt < sentAt) entry.stop.abort(new LeaseLostError(entry.key, lease.owner));
          } else if (mine.aborting) {
            entry.stop.abort(new Termination(mine.abortCause ?? "terminated", mine.abortPrincipal ?? "unknown"));
          }
        }
        // Held here but not being run (claimed while an earlier run of it was still ending): run it now.
        for (const [id, execution] of held) {
          if (!this.running.has(id) && !this.queued.has(id) && !this.terminating.has(id)) this.start(execution);
        }
        if (!this.closed) await this.claimAvailable();
        if (this.heartbeatFailing) this.options.log?.("leases renewed again: the database is back");
        this.heartbeatFailing = false;
      } catch (e) {
        if (!this.heartbeatFailing) {
          this.options.log?.(`could not renew this server's leases${isStoreUnavailable(e) ? " (the database is unavailable)" : ""}: ${e instanceof Error ? e.message : String(e)}`);
        }
        this.heartbeatFailing = true;
      } finally {
        this.ticking = undefined;
      }
    })();
    return this.ticking;
  }

  private async waitUntilEnded(key: ExecutionKey, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const record = await this.store.getExecution(key);
      if (!record || terminalExecutionPhases.has(record.phase)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
