// The subprocess task runner: runs each attempt through the task container contract, as a FlytePropeller pod would —
// the registered template's container args with Flyte's template variables filled in, the FLYTE_* environment — on
// a warm worker or a fresh tsflyte-execute process, then reads outputs.pb or error.pb back from the blob store.
// Never runs task code in this process, and never trusts a worker that died: that attempt is a SYSTEM failure.
import { basename } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { DynamicJobSpecSchema } from "../idl/gen/flyteidl/core/dynamic_job_pb.js";
import { LiteralMapSchema } from "../idl/gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../idl/gen/flyteidl/core/tasks_pb.js";
import { attemptEnvironment } from "../execute/env.js";
import { decodeErrorDocument } from "./error-document.js";
import type { AttemptError, AttemptOutcome, TaskAttempt, TaskRunner } from "./runner.js";
import { WorkerPool, type WorkerPoolOptions, type WorkerResult } from "./worker-pool.js";
import { describeExit } from "./worker-warm.js";

export class SubprocessRunner implements TaskRunner {
  readonly name = "subprocess";
  readonly isolated = true;
  readonly reportsStart = true;
  readonly pool: WorkerPool;
  private readonly ownsPool: boolean;
  /** Attempts a worker took whose outcome the engine has not got yet, and who waits for there to be none. */
  private active = 0;
  private whenIdle?: () => void;

  /** Give pool options to have a pool of its own (closed by `close()`), or a pool to share one limit among runners. */
  constructor(pool: WorkerPool | WorkerPoolOptions) {
    this.ownsPool = !(pool instanceof WorkerPool);
    this.pool = pool instanceof WorkerPool ? pool : new WorkerPool(pool);
  }

  async run(attempt: TaskAttempt): Promise<AttemptOutcome> {
    const template = attempt.task.template;
    const container = template?.target.case === "container" ? template.target.value : undefined;
    if (!template || !container) {
      const what = template ? `its template has no container (target ${template.target.case ?? "unset"})` : "it has no registered TaskTemplate";
      return failed("SYSTEM", false, "NoTaskContainer", `the subprocess runner cannot run task ${attempt.task.name}: ${what}`);
    }
    const [command, ...args] = container.args.map((arg) => substituteTemplateVars(arg, attempt));
    if (!command || basename(command) !== "tsflyte-execute") {
      return failed("SYSTEM", false, "UnsupportedContainer", `task ${attempt.task.name} runs "${command ?? ""}"; the subprocess runner runs tsflyte-execute containers only`);
    }
    const env: Record<string, string> = {};
    for (const { key, value } of container.env) env[key] = value;
    // The execution's envs after the task's own, as Flyte's pod plugin orders them: the execution's win.
    Object.assign(env, attempt.settings?.envs, attemptEnvironment(attempt, attempt.taskId ?? taskIdOf(template)));
    try {
      // The attempt's inputs.pb may still be in the store's write queue; the worker reads it from disk.
      await attempt.blobs.flush();
    } catch (error) {
      // This attempt's inputs, or another write of its execution (a full disk), did not reach the store.
      return failed("SYSTEM", true, "InputsNotWritten", `could not store the execution's data: ${(error as Error).message}`);
    }
    let began = false;
    const started = async () => {
      began = true;
      this.active++;
      await attempt.started?.();
    };
    try {
      const result = await this.pool.run({ args, env, signal: attempt.signal, started });
      if (result.aborted) return { ok: false, error: { kind: "SYSTEM", recoverable: false, code: "Aborted", message: "the attempt was stopped and its worker killed" }, logs: result.logs };
      if (result.died || result.exitCode !== 0) return { ok: false, error: workerFailure(result), logs: result.logs };
      return await readOutcome(attempt, result);
    } finally {
      if (began && --this.active === 0) this.whenIdle?.();
    }
  }

  /** Starts no more attempts; resolves once those running now have finished and the engine has their outcomes. */
  async drain(): Promise<void> {
    await this.pool.drain();
    while (this.active > 0) await new Promise<void>((resolve) => (this.whenIdle = resolve));
    // The engine records an outcome in the turn it arrives: the last ones are on record before anything is interrupted.
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Closes the pool this runner made; a shared pool is its owner's to close. */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.close();
  }
}

/**
 * Fills in FlytePropeller's template variables (case-insensitive, as Propeller matches them). Checkpoints go under
 * the attempt's output prefix; there is no previous checkpoint. Unknown variables are left for tsflyte-execute to reject.
 */
export function substituteTemplateVars(arg: string, attempt: Pick<TaskAttempt, "inputsUri" | "outputPrefix" | "rawOutputPrefix">): string {
  return arg.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (whole, name: string) => {
    switch (name.toLowerCase()) {
      case "input":
        return attempt.inputsUri;
      case "inputprefix":
        return attempt.inputsUri.replace(/\/[^/]*$/, "");
      case "outputprefix":
        return attempt.outputPrefix;
      case "rawoutputdataprefix":
        return attempt.rawOutputPrefix;
      case "checkpointoutputprefix":
        return `${attempt.outputPrefix}/_flytecheckpoints`;
      case "prevcheckpointprefix":
        return "";
      default:
        return whole;
    }
  });
}

function taskIdOf(template: TaskTemplate): TaskAttempt["taskId"] {
  const id = template.id;
  return id ? { project: id.project, domain: id.domain, name: id.name, version: id.version } : undefined;
}

async function readOutcome(attempt: TaskAttempt, result: WorkerResult): Promise<AttemptOutcome> {
  const prefix = attempt.outputPrefix;
  const outputs = await readIfThere(attempt, `${prefix}/outputs.pb`);
  try {
    if (outputs) return { ok: true, outputs: fromBinary(LiteralMapSchema, outputs), logs: result.logs, stored: true };
    // A dynamic workflow's attempt writes the workflow it built instead of outputs.
    const futures = await readIfThere(attempt, `${prefix}/futures.pb`);
    if (futures) return { ok: true, outputs: fromBinary(LiteralMapSchema, new Uint8Array()), dynamic: { spec: fromBinary(DynamicJobSpecSchema, futures) }, logs: result.logs, stored: true };
    const error = await readIfThere(attempt, `${prefix}/error.pb`);
    if (error) return { ok: false, error: decodeErrorDocument(error), logs: result.logs, stored: true };
  } catch (e) {
    return failed("SYSTEM", true, "OutputsUnreadable", `the worker wrote an unreadable result under ${prefix}: ${(e as Error).message}`, result.logs);
  }
  return { ok: false, error: workerFailure(result, `it wrote none of outputs.pb, futures.pb and error.pb under ${prefix}`), logs: result.logs };
}

async function readIfThere(attempt: TaskAttempt, uri: string): Promise<Uint8Array | undefined> {
  try {
    return await attempt.blobs.read(uri);
  } catch {
    return undefined;
  }
}

/** A worker that died, exited non-zero, or wrote no result: the machinery's fault, worth another attempt. */
function workerFailure(result: WorkerResult, why?: string): AttemptError {
  const pid = result.pid ? ` (pid ${result.pid})` : "";
  let reason = why;
  if (!reason) {
    if (result.died?.error) reason = `it could not run: ${result.died.error}`;
    else if (result.died) reason = `it ended during the attempt (${describeExit(result.died.code, result.died.signal)})`;
    else reason = `tsflyte-execute exited with code ${result.exitCode}`;
  }
  // A warm worker reports tsflyte-execute's own messages in the logs; a cold one on stderr.
  const tail = (result.stderrTail || result.logs).trim();
  const message = `the task's worker${pid} failed: ${reason}${tail ? `; its last output:\n${tail.split("\n").slice(-20).join("\n")}` : ""}`;
  // Exit code 2 is tsflyte-execute's usage error: the container args are wrong, and will be on every attempt.
  if (result.exitCode === 2 && !result.died) return { kind: "SYSTEM", recoverable: false, code: "BadContainerArgs", message };
  return { kind: "SYSTEM", recoverable: true, code: "WorkerDied", message };
}

function failed(kind: "USER" | "SYSTEM", recoverable: boolean, code: string, message: string, logs = ""): AttemptOutcome {
  return { ok: false, error: { kind, recoverable, code, message }, logs };
}
