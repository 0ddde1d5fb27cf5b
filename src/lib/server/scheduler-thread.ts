// The scheduler thread of `tsflyte serve`: runs executions (engine, records, task workers) beside the API thread, so
// a busy engine never delays an API answer. Never answers HTTP; it takes work only through scheduler-protocol messages.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { UserError } from "../errors.js";
import { SubprocessRunner } from "../engine/subprocess.js";
import { openBlobStore } from "../storage/open.js";
import { openControlPlaneStore } from "../store/open.js";
import type { FromScheduler, SchedulerThreadConfig, ToScheduler } from "./scheduler-protocol.js";
import { Scheduler } from "./scheduler.js";

const port = parentPort!;
const post = (message: FromScheduler) => port.postMessage(message);
const config = workerData as SchedulerThreadConfig;

async function main(): Promise<void> {
  const store = await openControlPlaneStore(config.db);
  const blobs = openBlobStore(config.storage);
  const runner = new SubprocessRunner({ size: config.workers, cwd: config.cwd });
  const scheduler = new Scheduler({
    store,
    blobs,
    runner,
    maxRunningExecutions: config.maxRunningExecutions,
    log: (line) => post({ type: "log", line }),
    // host/pid/random: readable in another server's log, and unique even for two servers in one process.
    ...(config.leaseMs !== undefined ? { lease: { owner: `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`, ms: config.leaseMs } } : {}),
  });
  port.on("message", (message: ToScheduler) => {
    switch (message.type) {
      case "start":
        scheduler.start(message.key);
        break;
      case "terminate":
        scheduler.terminate(message.key, message.cause, message.principal).then(
          (result) => post({ type: "terminated", id: message.id, result }),
          (e: unknown) => post({ type: "terminated", id: message.id, result: false, error: e instanceof Error ? e.message : String(e) }),
        );
        break;
      case "close":
        void (async () => {
          await scheduler.stop(message.graceMs, runner.drain()).catch((e: unknown) => post({ type: "log", line: `stopping: ${e instanceof Error ? e.message : String(e)}` }));
          await runner.close();
          // Another server may take over what ran here at once, rather than after the lease runs out.
          await scheduler.releaseLeases().catch(() => undefined);
          await blobs.flush().catch(() => undefined);
          await store.close();
          post({ type: "closed" });
        })();
        break;
      case "stopNow":
        scheduler.stopNow();
        break;
    }
  });
  post({ type: "ready", resumed: await scheduler.resumeUnfinished() });
}

main().catch((e: unknown) => {
  post({ type: "failed", message: e instanceof Error ? e.message : String(e), hint: e instanceof UserError ? e.hint : undefined });
});
