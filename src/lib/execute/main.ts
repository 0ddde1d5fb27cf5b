// The tsflyte-execute program (bin/tsflyte-execute → dist/execute.js): one attempt of one task per process, as a
// FlytePropeller pod runs it. Never exits non-zero once error.pb is written: the outcome is in the blob store.
import { InProcessRunner } from "../engine/in-process.js";
import { executeUsage, isHelpRequest } from "./args.js";
import { runTsflyteExecute } from "./execute.js";

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (isHelpRequest(argv)) {
    process.stdout.write(executeUsage);
    return 0;
  }
  // Started by tsflyte's worker pool (cold mode) with an IPC channel: a parent that is gone wants nothing more.
  // It may have gone while this process was still loading, before anyone listened for the disconnect.
  if (typeof process.send === "function") {
    if (!process.connected) return 1;
    process.channel?.unref();
    process.on("disconnect", () => process.exit(1));
  }
  const stop = new AbortController();
  process.once("SIGTERM", () => {
    // Kubernetes sends SIGTERM before SIGKILL: the task sees its signal abort and has a moment to stop cleanly.
    stop.abort(new Error("the task was asked to stop (SIGTERM)"));
    setTimeout(() => process.exit(143), 5_000).unref();
  });
  // The task's console output is the container's output, as in a pod.
  const runner = new InProcessRunner({ echo: "console", containCrashes: true });
  const result = await runTsflyteExecute(argv, {
    env: process.env,
    cwd: process.cwd(),
    runner,
    stderr: (text) => process.stderr.write(text),
    signal: stop.signal,
  });
  return result.exitCode;
}

// Exits at once: timers or sockets the task left open must not keep a finished attempt alive.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`tsflyte-execute: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
