// The API thread's handle on the scheduler thread: ExecutionControl over messages, plus start-up and shutdown.
// Never runs an execution itself; a scheduler thread that dies takes the server down rather than leave it half-alive.
import { Worker } from "node:worker_threads";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { UserError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import type { ExecutionKey } from "../store/records.js";
import type { ExecutionControl } from "./control.js";
import type { FromScheduler, SchedulerThreadConfig, ToScheduler } from "./scheduler-protocol.js";

const threadEntry = join(packageRoot, "dist", "server-scheduler.js");

export interface SchedulerThread {
  control: ExecutionControl;
  /** Executions left unfinished by an earlier server that this one is running again. */
  resumed: number;
  /**
   * Stops taking work, gives running attempts up to `graceMs` to finish (none new starts), interrupts the rest
   * without charging them, stops the task workers and closes the thread's database connection.
   */
  close(graceMs?: number): Promise<void>;
  /** Ends the grace period of a close() under way: what still runs is interrupted now. */
  stopNow(): void;
}

export async function startSchedulerThread(config: SchedulerThreadConfig, log?: (line: string) => void, onCrash?: (error: Error) => void): Promise<SchedulerThread> {
  if (!existsSync(threadEntry)) throw new UserError(`tsflyte is not built: ${threadEntry} is missing`, "run `npm run build` in tsflyte's folder");
  const worker = new Worker(threadEntry, { workerData: config });
  const post = (message: ToScheduler) => worker.postMessage(message);
  const terminations = new Map<number, { resolve: (result: boolean) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let closing: Promise<void> | undefined;
  let closed: () => void = () => undefined;
  const ready = new Promise<number>((resolve, reject) => {
    worker.on("message", (message: FromScheduler) => {
      switch (message.type) {
        case "ready":
          resolve(message.resumed);
          break;
        case "failed":
          reject(new UserError(message.message, message.hint));
          break;
        case "log":
          log?.(message.line);
          break;
        case "terminated": {
          const waiting = terminations.get(message.id);
          terminations.delete(message.id);
          if (message.error) waiting?.reject(new Error(message.error));
          else waiting?.resolve(message.result);
          break;
        }
        case "closed":
          closed();
          break;
      }
    });
    worker.once("error", (e) => {
      reject(e);
      if (!closing) onCrash?.(e);
    });
    worker.once("exit", (code) => {
      const error = new Error(`the scheduler thread exited (code ${code})`);
      reject(error);
      for (const waiting of terminations.values()) waiting.reject(error);
      terminations.clear();
      if (!closing) onCrash?.(error);
    });
  });
  let resumed: number;
  try {
    resumed = await ready;
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  const control: ExecutionControl = {
    start(key: ExecutionKey) {
      post({ type: "start", key });
    },
    terminate(key, cause, principal) {
      const id = ++nextId;
      return new Promise<boolean>((resolve, reject) => {
        terminations.set(id, { resolve, reject });
        post({ type: "terminate", id, key, cause, principal });
      });
    },
  };
  return {
    control,
    resumed,
    close(graceMs = 0) {
      closing ??= (async () => {
        const done = new Promise<void>((resolve) => (closed = resolve));
        post({ type: "close", graceMs });
        // Bounded (the grace period and time to record the interrupted attempts), and unref'd so that a prompt
        // "closed" lets the process exit at once.
        await Promise.race([done, new Promise((resolve) => setTimeout(resolve, graceMs + 30_000).unref())]);
        await worker.terminate();
      })();
      return closing;
    },
    stopNow() {
      if (closing) post({ type: "stopNow" });
    },
  };
}
