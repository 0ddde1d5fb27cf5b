// Benchmarks the subprocess runner in one run: per-task overhead of a warm worker beside the in-process runner on a
// trivial task, and a cold tsflyte-execute process (what a pod runs) beside `node -e 0`. Never asserts timings and
// never builds: it measures the dist/ that is there, against a file:// blob store in a temp folder.
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { compileProject } from "../src/lib/compiler/compile.js";
import { InProcessRunner } from "../src/lib/engine/in-process.js";
import type { AttemptOutcome, TaskAttempt, TaskRunner } from "../src/lib/engine/runner.js";
import { SubprocessRunner } from "../src/lib/engine/subprocess.js";
import { LiteralMapSchema } from "../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../src/lib/idl/gen/flyteidl/core/tasks_pb.js";
import { definitionOf, type TaskDefinition } from "../src/lib/sdk/entity.js";
import { FileBlobStore } from "../src/lib/storage/file-store.js";
import { attemptOutputPrefix, nodeInputsUri, rawOutputPrefix } from "../src/lib/storage/layout.js";
import { inc } from "../test/fixtures/execute/trivial.js";
import { median, timeProcess } from "./support/child-timing.js";

const goalWarmOverheadMs = 10;
const attempts = 200;
const warmUpAttempts = 20;
const coldRuns = 10;
const parallelWorkers = 4;

const projectRoot = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const fixtureDir = join(projectRoot, "test/fixtures/execute");

function fail(message: string): never {
  throw new Error(`benchmark check failed: ${message}`);
}

interface Bench {
  dir: string;
  blobs: FileBlobStore;
  template: TaskTemplate;
  definition: TaskDefinition;
}

let executions = 0;

/** An attempt of `inc` as the engine makes one: its inputs.pb queued in the store, Flyte's layout. */
function attemptOf(bench: Bench, x: number, withDefinition: boolean): TaskAttempt {
  const key = { project: "bench", domain: "development", name: `e${executions++}` };
  const inputs = create(LiteralMapSchema, { literals: { x: bench.definition.inputs.x.toLiteral(x, "x") } });
  const inputsUri = nodeInputsUri(bench.blobs.baseUri, key, "n0");
  bench.blobs.put(inputsUri, toBinary(LiteralMapSchema, inputs));
  return {
    execution: key,
    nodeId: "n0",
    attempt: 0,
    task: { name: "trivial.inc", definition: withDefinition ? bench.definition : undefined, template: bench.template },
    inputs,
    inputsUri,
    outputPrefix: attemptOutputPrefix(bench.blobs.baseUri, key, "n0", 0),
    rawOutputPrefix: rawOutputPrefix(bench.blobs.baseUri, key, "n0", 0),
    blobs: bench.blobs,
    signal: new AbortController().signal,
    interruptible: false,
  };
}

function check(outcome: AttemptOutcome, x: number, label: string): void {
  if (!outcome.ok) fail(`${label}: ${outcome.error.code}: ${outcome.error.message}`);
  const got = Number(bench().definition.outputs.o0.fromLiteral(outcome.outputs.literals.o0, "o0"));
  if (got !== x + 1) fail(`${label}: inc(${x}) gave ${got}`);
}

let current: Bench | undefined;
const bench = () => current ?? fail("no bench");

/** Mean milliseconds per attempt over `count` attempts, `concurrency` at a time. */
async function perAttempt(runner: TaskRunner, count: number, concurrency: number, withDefinition: boolean, label: string): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const x = next++;
        check(await runner.run(attemptOf(bench(), x, withDefinition)), x, label);
      }
    }),
  );
  return (performance.now() - start) / count;
}

const ms = (value: number) => `${value.toFixed(2).padStart(8)} ms`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-bench-workers-"));
  const env = { ...process.env, TSFLYTE_EXECUTE_CACHE: join(dir, "cache"), HOME: join(dir, "home") };
  const compiled = await compileProject({ paths: [join(fixtureDir, "trivial.ts")], projectRoot: fixtureDir, version: "bench", image: "bench:1" });
  const template = compiled.tasks.find((t) => t.name === "trivial.inc")?.spec.template ?? fail("trivial.inc did not compile");
  const definition = definitionOf(inc);
  if (definition?.kind !== "task") fail("inc is not a task");
  current = { dir, blobs: new FileBlobStore(join(dir, "data")), template, definition };
  const poolEnv = { TSFLYTE_EXECUTE_CACHE: env.TSFLYTE_EXECUTE_CACHE, HOME: env.HOME };
  const warm = new SubprocessRunner({ size: 1, mode: "warm", cwd: fixtureDir, env: poolEnv });
  const warmParallel = new SubprocessRunner({ size: parallelWorkers, mode: "warm", cwd: fixtureDir, env: poolEnv });
  const cold = new SubprocessRunner({ size: 1, mode: "cold", cwd: fixtureDir, env: poolEnv });
  const inProcess = new InProcessRunner({ containCrashes: true });
  try {
    console.log(`bench:workers — ${cpus().length} CPUs, load ${loadavg()[0].toFixed(2)}, node ${process.version}`);
    // Warm-up: workers started, the module compiled into the cache and imported, the JIT at work, on both sides.
    await warm.pool.warmUp();
    await warmParallel.pool.warmUp();
    await perAttempt(warm, warmUpAttempts, 1, false, "warm-up warm");
    await perAttempt(warmParallel, warmUpAttempts, parallelWorkers, false, "warm-up warm ×4");
    await perAttempt(inProcess, warmUpAttempts, 1, true, "warm-up in-process");
    await perAttempt(cold, 1, 1, false, "warm-up cold");

    // Interleaved rounds, so a slow moment of the machine falls on both sides alike.
    const rounds = 4;
    const inProcessMs: number[] = [];
    const warmMs: number[] = [];
    const parallelMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      inProcessMs.push(await perAttempt(inProcess, attempts / rounds, 1, true, "in-process"));
      warmMs.push(await perAttempt(warm, attempts / rounds, 1, false, "warm"));
      parallelMs.push(await perAttempt(warmParallel, attempts / rounds, parallelWorkers, false, `warm ×${parallelWorkers}`));
    }
    const inProcessPer = median(inProcessMs);
    const warmPer = median(warmMs);
    const overhead = warmPer - inProcessPer;

    const coldMs: number[] = [];
    const nodeMs: number[] = [];
    for (let r = 0; r < coldRuns; r++) {
      const start = performance.now();
      check(await cold.run(attemptOf(bench(), r, false)), r, "cold");
      coldMs.push(performance.now() - start);
      nodeMs.push((await timeProcess({ label: "node -e 0", args: ["-e", "0"], expect: /^$/, cwd: fixtureDir, env })).ms);
    }
    const coldPer = median(coldMs);
    const nodePer = median(nodeMs);

    console.log(`\n${attempts} sequential attempts of a trivial task (inc), each with its inputs.pb and outputs.pb in a file:// store`);
    console.log(`  in-process runner               ${ms(inProcessPer)} per task`);
    console.log(`  warm worker (pool of 1)         ${ms(warmPer)} per task   ${(warmPer / inProcessPer).toFixed(1)}× in-process`);
    console.log(`  warm-worker overhead            ${ms(overhead)} per task   goal < ${goalWarmOverheadMs} ms: ${overhead < goalWarmOverheadMs ? "met" : "NOT MET"}`);
    console.log(`  warm workers ×${parallelWorkers}, ${parallelWorkers} at once   ${ms(median(parallelMs))} per task (throughput)`);
    console.log(`\n${coldRuns} runs each, median`);
    console.log(`  node -e 0                       ${ms(nodePer)}`);
    console.log(`  cold tsflyte-execute attempt    ${ms(coldPer)}   ${(coldPer / nodePer).toFixed(1)}× node -e 0 (+${(coldPer - nodePer).toFixed(1)} ms)`);
  } finally {
    await Promise.all([warm.close(), warmParallel.close(), cold.close()]);
    await bench().blobs.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
