// A warm worker process (dist/execute-worker.js), started by the worker pool: runs tsflyte-execute attempts sent over
// IPC one at a time, keeping task modules imported between them. Never outlives its parent: it exits when the
// IPC channel closes, and checks that its parent is still the one that started it.
import { runTsflyteExecute, type ExecuteResult } from "../execute/execute.js";
import { InProcessRunner } from "./in-process.js";
import { attemptEndMarker, type RunRequestMessage, type WorkerMessage } from "./worker-protocol.js";

const send = process.send?.bind(process);
if (!send) {
  process.stderr.write("tsflyte: execute-worker is started by tsflyte's worker pool, not by hand; run bin/tsflyte-execute instead\n");
  process.exit(2);
}

process.on("disconnect", () => process.exit(0));
// The parent may have gone while this process was still loading, before anyone listened for the disconnect.
if (!process.connected) process.exit(0);
// A parent killed with SIGKILL closes the channel too; this catches a channel that never reports it.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) process.exit(0);
}, 1_000).unref();

// Crashes inside a task end its attempt as a SYSTEM failure; this worker is then retired by the pool.
const runner = new InProcessRunner({ containCrashes: true });
// The codes in-process.ts gives an attempt whose task ended, or would have ended, its process.
const crashCodes = new Set(["TaskExited", "TaskCrashed"]);

// Which streams were written to since their last end marker; a quiet stream needs none (each write wakes the pool).
const written = { stdout: false, stderr: false };
for (const name of ["stdout", "stderr"] as const) {
  const stream = process[name];
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((...args: unknown[]) => {
    written[name] = true;
    return write(...args);
  }) as typeof stream.write;
}

process.on("message", (message: RunRequestMessage) => {
  if (message?.type === "run") void run(message);
});
send({ type: "ready" } satisfies WorkerMessage);

async function run(request: RunRequestMessage): Promise<void> {
  let notes = "";
  let result: ExecuteResult;
  const restore = applyEnv(request.env);
  try {
    if (request.cwd && request.cwd !== process.cwd()) process.chdir(request.cwd);
    result = await runTsflyteExecute(request.args, {
      env: process.env,
      cwd: process.cwd(),
      runner,
      stderr: (text) => (notes += text),
    });
  } catch (error) {
    notes += `tsflyte-execute: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`;
    result = { exitCode: 1 };
  } finally {
    restore();
  }
  const outcome = result.outcome;
  const retire = outcome !== undefined && !outcome.ok && outcome.error.kind === "SYSTEM" && crashCodes.has(outcome.error.code);
  const marked = (["stdout", "stderr"] as const).filter((name) => written[name]);
  for (const name of marked) process[name].write(attemptEndMarker(request.id));
  written.stdout = written.stderr = false;
  const done: WorkerMessage = { type: "done", id: request.id, exitCode: result.exitCode, logs: (outcome?.logs ?? "") + notes, retire, marked };
  send!(done, (error: Error | null) => {
    if (error) process.exit(0); // the parent is gone
  });
}

/** Sets the attempt's environment for its duration (tasks read process.env); returns what undoes it. */
function applyEnv(env: Record<string, string>): () => void {
  const before: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(env)) {
    before[key] = process.env[key];
    process.env[key] = value;
  }
  return () => {
    for (const [key, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}
