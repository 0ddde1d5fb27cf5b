// The engine on a real SQLite file and a real file:// blob store: scheduling, retries on two budgets, timeouts,
// the cache, recovery and what gets recorded. Tasks are declared here; the in-process runner runs them.
import { entityNamer, withEngineEnv, type EngineTestEnv } from "../../support/engine-env.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { LiteralMapSchema } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { literalMapToPlain } from "../../../src/lib/types/plain.js";
import { task, workflow, t, NonRetryableError, FlyteFile } from "../../../src/index.js";
import { definitionOf, type Entity } from "../../../src/lib/sdk/entity.js";
import { runExecution, type ExecutionRequest } from "../../../src/lib/engine/engine.js";
import { InProcessRunner } from "../../../src/lib/engine/in-process.js";
import { inlineLimitBytes, readRecordedLiteralMap, recordedInputs, recordedOutputs, type RecordedValue } from "../../../src/lib/engine/recorded-values.js";
import type { TaskAttempt } from "../../../src/lib/engine/runner.js";
import type { BlobStore } from "../../../src/lib/storage/blob-store.js";

type Env = EngineTestEnv;
const withEnv = (fn: (env: Env) => Promise<void>) => withEngineEnv("tsflyte-engine-", fn);

let counter = 0;
const nameOf = entityNamer("test");

function inputs(entity: Entity, values: Record<string, unknown>) {
  const def = definitionOf(entity)!;
  return create(LiteralMapSchema, { literals: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, def.inputs[k].toLiteral(v, k)])) });
}

function execute(env: Env, entity: Entity, values: Record<string, unknown>, extra: Partial<ExecutionRequest> = {}) {
  const def = definitionOf(entity)!;
  return runExecution(
    {
      key: { project: "p", domain: "d", name: extra.key?.name ?? `e${counter++}` },
      entity,
      nameOf,
      launch: { kind: def.kind, name: nameOf(entity), version: "local" },
      inputs: inputs(entity, values),
      ...extra,
    },
    { store: env.store, blobs: env.blobs, runner: new InProcessRunner({ containCrashes: true }) },
  );
}

async function readMap(blobs: BlobStore, value: RecordedValue) {
  const map = await readRecordedLiteralMap(blobs, value);
  assert.ok(map, "a recorded literal map");
  return map;
}

/** Every file under the blob store's folder, relative to it. */
function filesUnder(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))) : [];
}

test("a chain records the execution, every node and attempt, and its data in their rows: an in-process run writes no file", async () => {
  await withEnv(async (env) => {
    const double = task({ name: "double", inputs: { x: t.int() }, outputs: t.int() }, async ({ x }) => x * 2);
    const wf = workflow({ name: "chain", inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => double({ x: double({ x }) }));
    const result = await execute(env, wf, { x: 3 }, { key: { project: "p", domain: "d", name: "chain1" } });
    assert.equal(result.record.phase, "SUCCEEDED");
    const stored = await env.store.getExecution({ project: "p", domain: "d", name: "chain1" });
    assert.equal(stored?.phase, "SUCCEEDED");
    const outputs = await readMap(env.blobs, recordedOutputs(stored!));
    assert.equal(outputs.literals.o0.value.case, "scalar");
    const nodes = await env.store.listNodeExecutions(result.record);
    assert.deepEqual(nodes.map((n) => [n.nodeId, n.phase, n.cacheStatus]), [["n0", "SUCCEEDED", "CACHE_DISABLED"], ["n1", "SUCCEEDED", "CACHE_DISABLED"]]);
    const tasks = await env.store.listTaskExecutions(result.record);
    assert.deepEqual(tasks.map((a) => [a.nodeId, a.attempt, a.phase, a.runner]), [["n0", 0, "SUCCEEDED", "in-process"], ["n1", 0, "SUCCEEDED", "in-process"]]);
    // The metadata store is the record: no inputs.pb or outputs.pb anywhere, and no row names a file.
    assert.deepEqual(filesUnder(fileURLToPath(env.blobs.baseUri)), []);
    for (const row of [stored!, ...nodes, ...tasks] as { inputsUri?: string; outputsUri?: string }[]) {
      assert.equal(row.inputsUri, undefined);
      assert.equal(row.outputsUri, undefined);
    }
    const n1Inputs = await readMap(env.blobs, recordedInputs(nodes[1]));
    const n0Outputs = await readMap(env.blobs, recordedOutputs(nodes[0]));
    assert.deepEqual(n1Inputs.literals.x, n0Outputs.literals.o0);
    assert.deepEqual(outputs.literals.o0, (await readMap(env.blobs, recordedOutputs(nodes[1]))).literals.o0);
    assert.deepEqual((await readMap(env.blobs, recordedInputs(stored!))).literals.x, (await readMap(env.blobs, recordedInputs(nodes[0]))).literals.x);
  });
});

test("values over the inline limit go to Flyte's layout in the blob store, and the rows name those files", async () => {
  await withEnv(async (env) => {
    const big = "x".repeat(inlineLimitBytes + 1);
    const echo = task({ name: "echo", inputs: { s: t.string() }, outputs: t.string() }, async ({ s }) => `${s}!`);
    const wf = workflow({ name: "bigChain", inputs: { s: t.string() }, outputs: t.string() }, ({ s }) => echo({ s }));
    const result = await execute(env, wf, { s: big }, { key: { project: "p", domain: "d", name: "big1" } });
    assert.equal(result.record.phase, "SUCCEEDED");
    const stored = (await env.store.getExecution({ project: "p", domain: "d", name: "big1" }))!;
    const [node] = await env.store.listNodeExecutions(stored);
    const [attempt] = await env.store.listTaskExecutions(stored);
    const base = fileURLToPath(env.blobs.baseUri);
    assert.deepEqual(filesUnder(base).sort(), [
      "metadata/p-d-big1/inputs.pb",
      "metadata/p-d-big1/n0/data/0/outputs.pb",
      "metadata/p-d-big1/n0/data/inputs.pb",
      "metadata/p-d-big1/outputs.pb",
    ]);
    assert.equal(stored.inputs, undefined);
    assert.equal(node.outputsUri, attempt.outputsUri);
    const out = literalMapToPlain(await readMap(env.blobs, recordedOutputs(stored))).o0;
    assert.ok(out === `${big}!`, "the large output reads back whole");
  });
});

test("user errors are retried up to `retries`, then fail with Flyte's RetriesExhausted wording", async () => {
  await withEnv(async (env) => {
    let calls = 0;
    const flaky = task({ name: "flaky", inputs: { failures: t.int() }, outputs: t.int(), retries: 2 }, async ({ failures }, { attempt }) => {
      calls++;
      if (attempt < failures) throw new Error(`down ${attempt}`);
      return attempt;
    });
    const ok = await execute(env, flaky, { failures: 2 });
    assert.equal(ok.record.phase, "SUCCEEDED");
    const attempts = await env.store.listTaskExecutions(ok.record);
    assert.deepEqual(attempts.map((a) => a.phase), ["RETRYABLE_FAILED", "RETRYABLE_FAILED", "SUCCEEDED"]);
    assert.equal(attempts[0].error?.kind, "USER");
    assert.equal(attempts[0].error?.message, "down 0");
    // In-process, the error lives in its row: no error.pb was written, so none is named.
    assert.equal(attempts[0].error?.code, "Error");
    assert.equal(attempts[0].error?.errorUri, undefined);

    calls = 0;
    const failed = await execute(env, flaky, { failures: 5 });
    assert.equal(calls, 3);
    assert.equal(failed.record.phase, "FAILED");
    assert.equal(failed.record.error?.kind, "USER");
    assert.equal(failed.record.error?.code, "RetriesExhausted|Error");
    assert.equal(failed.record.error?.message, "[3/3] currentAttempt done. Last Error: USER::down 2");
  });
});

test("a NonRetryableError fails at once, whatever the retries", async () => {
  await withEnv(async (env) => {
    let calls = 0;
    const strict = task({ name: "strict", inputs: {}, outputs: t.int(), retries: 5 }, async () => {
      calls++;
      throw new NonRetryableError("bad input, forever");
    });
    const result = await execute(env, strict, {});
    assert.equal(calls, 1);
    assert.equal(result.record.error?.code, "NonRetryableError");
    assert.equal(result.record.error?.recoverable, false);
    assert.equal(result.record.error?.message, "bad input, forever");
  });
});

test("a task that ends its process is a SYSTEM failure with its own budget of 3", async () => {
  await withEnv(async (env) => {
    const crashy = task({ name: "crashy", inputs: { crashes: t.int() }, outputs: t.int() }, async ({ crashes }, { attempt }) => {
      if (attempt < crashes) process.exit(3);
      return attempt;
    });
    const ok = await execute(env, crashy, { crashes: 2 });
    assert.equal(ok.record.phase, "SUCCEEDED");
    const attempts = await env.store.listTaskExecutions(ok.record);
    assert.deepEqual(attempts.map((a) => [a.phase, a.error?.kind]), [["RETRYABLE_FAILED", "SYSTEM"], ["RETRYABLE_FAILED", "SYSTEM"], ["SUCCEEDED", undefined]]);
    const failed = await execute(env, crashy, { crashes: 10 });
    assert.equal(failed.record.error?.kind, "SYSTEM");
    assert.match(failed.record.error!.message, /^\[3\/3\] currentAttempt done\. Last Error: SYSTEM::the task called process\.exit\(3\)/);
  });
});

test("a timeout ends the attempt, aborts the task's signal and marks the node TIMED_OUT", async () => {
  await withEnv(async (env) => {
    let aborted = false;
    let finished = false;
    const slow = task({ name: "slow", inputs: {}, outputs: t.int(), timeout: "50ms" }, async (_i, { signal }) => {
      signal.addEventListener("abort", () => (aborted = true));
      await new Promise((r) => setTimeout(r, 2000).unref());
      finished = true;
      return 1;
    });
    const result = await execute(env, slow, {});
    assert.equal(finished, false, "the engine stopped waiting before the task ended");
    assert.equal(aborted, true);
    const [node] = await env.store.listNodeExecutions(result.record);
    assert.equal(node.phase, "TIMED_OUT");
    assert.equal(result.record.error?.code, "Timeout");
    assert.match(result.record.error!.message, /did not finish within its timeout of 50ms/);
  });
});

test("cache: a miss populates, a later execution hits, overwrite re-runs, and the interface is part of the key", async () => {
  await withEnv(async (env) => {
    let runs = 0;
    const square = task({ name: "square", inputs: { x: t.int(), note: t.string() }, outputs: t.int(), cache: { version: "1", ignoredInputs: ["note"] } }, async ({ x }) => {
      runs++;
      return x * x;
    });
    const statusOf = async (r: { record: { project: string; domain: string; name: string } }) => (await env.store.listNodeExecutions(r.record))[0].cacheStatus;
    const first = await execute(env, square, { x: 4, note: "a" });
    assert.equal(await statusOf(first), "CACHE_POPULATED");
    const second = await execute(env, square, { x: 4, note: "b" });
    assert.equal(await statusOf(second), "CACHE_HIT");
    assert.equal(runs, 1);
    const other = await execute(env, square, { x: 5, note: "a" });
    assert.equal(await statusOf(other), "CACHE_POPULATED");
    const overwritten = await execute(env, square, { x: 4, note: "a" }, { overwriteCache: true });
    assert.equal(await statusOf(overwritten), "CACHE_POPULATED");
    assert.equal(runs, 3);
    // Same name and version, another interface: not the same cache entry.
    const widened = task({ name: "square", inputs: { x: t.int(), note: t.string() }, outputs: t.float(), cache: { version: "1", ignoredInputs: ["note"] } }, async ({ x }) => {
      runs++;
      return x * x;
    });
    const changed = await execute(env, widened, { x: 4, note: "a" });
    assert.equal(await statusOf(changed), "CACHE_POPULATED");
    assert.equal(runs, 4);
  });
});

test("cache.serialize runs concurrent identical nodes once; the others hit", async () => {
  await withEnv(async (env) => {
    let runs = 0;
    const expensive = task({ name: "expensive", inputs: { x: t.int() }, outputs: t.int(), cache: { version: "1", serialize: true } }, async ({ x }) => {
      runs++;
      await new Promise((r) => setTimeout(r, 30));
      return x + 1;
    });
    const add = task({ name: "add3", inputs: { a: t.int(), b: t.int(), c: t.int() }, outputs: t.int() }, async ({ a, b, c }) => a + b + c);
    const wf = workflow({ name: "fan", inputs: { x: t.int() }, outputs: t.int() }, ({ x }) =>
      add({ a: expensive({ x }), b: expensive({ x }), c: expensive({ x }) }),
    );
    const result = await execute(env, wf, { x: 1 });
    assert.equal(result.record.phase, "SUCCEEDED");
    assert.equal(runs, 1);
    const statuses = (await env.store.listNodeExecutions(result.record)).filter((n) => n.entityName === "expensive").map((n) => n.cacheStatus).sort();
    assert.deepEqual(statuses, ["CACHE_HIT", "CACHE_HIT", "CACHE_POPULATED"]);
  });
});

test("recover reuses what succeeded and runs the rest with the code as it is now", async () => {
  await withEnv(async (env) => {
    let firstRuns = 0;
    let broken = true;
    const first = task({ name: "first", inputs: { x: t.int() }, outputs: t.int() }, async ({ x }) => {
      firstRuns++;
      return x + 1;
    });
    const second = task({ name: "second", inputs: { x: t.int() }, outputs: t.int() }, async ({ x }) => {
      if (broken) throw new NonRetryableError("not yet");
      return x * 10;
    });
    const wf = workflow({ name: "rec", inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => second({ x: first({ x }) }));
    const failed = await execute(env, wf, { x: 1 }, { key: { project: "p", domain: "d", name: "rec1" } });
    assert.equal(failed.record.phase, "FAILED");
    broken = false;
    const nodes = new Map((await env.store.listNodeExecutions(failed.record)).map((n) => [n.nodeId, n]));
    const recovered = await execute(env, wf, { x: 1 }, { mode: "RECOVERED", sourceExecution: "rec1", recover: { executionName: "rec1", nodes } });
    assert.equal(recovered.record.phase, "SUCCEEDED");
    assert.equal(firstRuns, 1);
    const after = await env.store.listNodeExecutions(recovered.record);
    assert.deepEqual(after.map((n) => [n.nodeId, n.phase, n.recoveredFrom]), [["n0", "RECOVERED", "rec1"], ["n1", "SUCCEEDED", undefined]]);
    assert.equal((await env.store.getExecution(recovered.record))?.mode, "RECOVERED");
  });
});

test("a failed node stops the workflow: running siblings are aborted and nothing downstream starts", async () => {
  await withEnv(async (env) => {
    let downstream = false;
    const fail = task({ name: "fail", inputs: {}, outputs: t.int() }, async () => {
      throw new NonRetryableError("no");
    });
    const slow = task({ name: "slowSibling", inputs: {}, outputs: t.int() }, async () => {
      await new Promise((r) => setTimeout(r, 300));
      return 1;
    });
    const after = task({ name: "after", inputs: { a: t.int(), b: t.int() }, outputs: t.int() }, async ({ a, b }) => {
      downstream = true;
      return a + b;
    });
    const wf = workflow({ name: "ff", inputs: {}, outputs: t.int() }, () => after({ a: fail(), b: slow() }));
    const result = await execute(env, wf, {});
    assert.equal(result.record.phase, "FAILED");
    assert.equal(downstream, false);
    const nodes = await env.store.listNodeExecutions(result.record);
    assert.deepEqual(nodes.map((n) => [n.nodeId, n.phase]).sort(), [["n0", "FAILED"], ["n1", "ABORTED"]]);
  });
});

test("max parallelism bounds the task attempts running at once", async () => {
  await withEnv(async (env) => {
    let running = 0;
    let peak = 0;
    const work = task({ name: "work", inputs: { i: t.int() }, outputs: t.int() }, async ({ i }) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return i;
    });
    const sum = task({ name: "sum", inputs: { xs: t.list(t.int()) }, outputs: t.int() }, async ({ xs }) => xs.reduce((a, b) => a + b, 0));
    const wf = workflow({ name: "wide", inputs: {}, outputs: t.int() }, () => sum({ xs: Array.from({ length: 12 }, (_, i) => work({ i })) }));
    const result = await execute(env, wf, {}, { maxParallelism: 3 });
    assert.equal(result.record.phase, "SUCCEEDED");
    assert.equal(peak, 3);
  });
});

test("subworkflow nodes are parents; their children get ids <parent>-0-<node>", async () => {
  await withEnv(async (env) => {
    const inc = task({ name: "inc", inputs: { x: t.int() }, outputs: t.int() }, async ({ x }) => x + 1);
    const inner = workflow({ name: "inner", inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => inc({ x: inc({ x }) }));
    const outer = workflow({ name: "outer", inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => inc({ x: inner({ x }) }));
    const result = await execute(env, outer, { x: 0 });
    assert.equal(result.record.phase, "SUCCEEDED");
    const nodes = await env.store.listNodeExecutions(result.record);
    assert.deepEqual(
      nodes.map((n) => [n.nodeId, n.parentNodeId, n.isParent, n.phase]),
      [["n0", undefined, true, "SUCCEEDED"], ["n0-0-n0", "n0", false, "SUCCEEDED"], ["n0-0-n1", "n0", false, "SUCCEEDED"], ["n1", undefined, false, "SUCCEEDED"]],
    );
  });
});

test("an execution's settings reach every attempt: its raw output prefix for offloaded data, its interruptible flag where a task sets none", async () => {
  await withEnv(async (env) => {
    const report = task({ name: "report", inputs: { text: t.string() }, outputs: t.file() }, async ({ text }) => {
      const path = join(env.dir, "report.txt");
      writeFileSync(path, text);
      return FlyteFile.from(path);
    });
    const raw = `${env.blobs.baseUri}/team-raw`;
    const result = await execute(env, report, { text: "hello" }, { key: { project: "p", domain: "d", name: "raw1" }, settings: { rawOutputPrefix: raw } });
    assert.equal(result.record.phase, "SUCCEEDED");
    assert.deepEqual(result.record.settings, { rawOutputPrefix: raw });
    const file = result.outputs!.literals.o0.value;
    assert.ok(file.case === "scalar" && file.value.value.case === "blob");
    assert.ok(file.value.value.value.uri.startsWith(`${raw}/p-d-raw1/n0/0/`), file.value.value.value.uri);
    assert.equal(readFileSync(fileURLToPath(file.value.value.value.uri), "utf8"), "hello");

    const seen: [string, number, boolean][] = [];
    const inProcess = new InProcessRunner({ containCrashes: true });
    const runner = { name: "in-process", run: (a: TaskAttempt) => (seen.push([a.task.name, a.attempt, a.interruptible]), inProcess.run(a)) };
    const flaky = task({ name: "unsaid", inputs: {}, outputs: t.int(), retries: 1 }, async (_, { attempt }) => {
      if (attempt === 0) throw new Error("once");
      return attempt;
    });
    const pinned = task({ name: "pinned", inputs: {}, outputs: t.int(), retries: 1, interruptible: false }, async () => 1);
    for (const entity of [flaky, pinned]) {
      const def = definitionOf(entity)!;
      const run = await runExecution(
        { key: { project: "p", domain: "d", name: `int-${def.explicitName}` }, entity, nameOf, launch: { kind: "task", name: nameOf(entity), version: "local" }, inputs: create(LiteralMapSchema), settings: { interruptible: true } },
        { store: env.store, blobs: env.blobs, runner },
      );
      assert.equal(run.record.phase, "SUCCEEDED");
    }
    // The last attempt never runs on preemptible capacity; a task's own false beats the execution's true.
    assert.deepEqual(seen, [["unsaid", 0, true], ["unsaid", 1, false], ["pinned", 0, false]]);
  });
});
