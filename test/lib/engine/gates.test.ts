// Gates in the engine, on a real SQLite file and a file:// blob store: sleep, approve (approved and rejected), a typed
// signal, a timeout (TIMED_OUT), a gate as a conditional's case and with after(), an answerer that cannot answer, and an
// execution whose process stops while a gate waits, resumed from its records by a second store on the same file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema, LiteralSchema, type Literal } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { LiteralTypeSchema, SimpleType } from "../../../src/lib/idl/gen/flyteidl/core/types_pb.js";
import { literalMapToPlain } from "../../../src/lib/types/plain.js";
import { task, workflow, conditional, after, approve, waitForInput, sleep, t } from "../../../src/index.js";
import { definitionOf, type Entity } from "../../../src/lib/sdk/entity.js";
import { Interruption, runExecution, type ExecutionRequest, type ResumeState } from "../../../src/lib/engine/engine.js";
import type { GateAnswerer } from "../../../src/lib/engine/gate-node.js";
import { InProcessRunner } from "../../../src/lib/engine/in-process.js";
import { readRecordedLiteralMap, recordedInputs, recordedOutputs } from "../../../src/lib/engine/recorded-values.js";
import { openSqliteStore, type SqliteStore } from "../../../src/lib/store/sqlite.js";
import { openBlobStore } from "../../../src/lib/storage/open.js";
import type { BlobStore } from "../../../src/lib/storage/blob-store.js";
import type { ExecutionKey, NodeExecutionRecord, TaskExecutionRecord } from "../../../src/lib/store/records.js";

interface Env {
  dir: string;
  store: SqliteStore;
  blobs: BlobStore;
}

async function withEnv(fn: (env: Env) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-gates-"));
  const store = openSqliteStore(join(dir, "tsflyte.db"));
  const blobs = openBlobStore(pathToFileURL(join(dir, "data")).href);
  try {
    await fn({ dir, store, blobs });
  } finally {
    await blobs.flush();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

let counter = 0;
const names = new Map<unknown, string>();
function nameOf(entity: Entity): string {
  const def = definitionOf(entity)!;
  if (!names.has(def)) names.set(def, def.explicitName ?? `gates.entity${counter++}`);
  return names.get(def)!;
}

function execute(env: Env, entity: Entity, values: Record<string, unknown>, extra: Partial<ExecutionRequest> = {}, gates?: GateAnswerer) {
  const def = definitionOf(entity)!;
  const literals = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, def.inputs[k].toLiteral(v, k)]));
  return runExecution(
    {
      key: { project: "p", domain: "d", name: `g${counter++}` },
      entity,
      nameOf,
      launch: { kind: def.kind, name: nameOf(entity), version: "local" },
      inputs: create(LiteralMapSchema, { literals }),
      ...extra,
    },
    { store: env.store, blobs: env.blobs, runner: new InProcessRunner({ containCrashes: true }), ...(gates ? { gates } : {}) },
  );
}

async function outputs(env: Env, record: { outputs?: Uint8Array; outputsUri?: string }): Promise<Record<string, unknown>> {
  const map = await readRecordedLiteralMap(env.blobs, recordedOutputs(record));
  assert.ok(map, "recorded outputs");
  return literalMapToPlain(map);
}

const bool = (value: boolean): Literal => create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "boolean", value } } } } } });
const int = (value: number): Literal => create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "integer", value: BigInt(value) } } } } } });

/** Sets a signal once a gate has made it, as the API would: by another store on the same file. */
async function setWhenWaiting(env: Env, key: { project: string; domain: string; name: string }, signalId: string, value: Literal): Promise<void> {
  const other = openSqliteStore(join(env.dir, "tsflyte.db"));
  try {
    for (let i = 0; i < 400; i++) {
      const page = await other.listSignals(key);
      if (page.items.some((s) => s.signalId === signalId)) {
        const set = await other.setSignal({ ...key, executionName: key.name, signalId }, toBinary(LiteralSchema, value), Date.now());
        assert.equal(set.outcome, "set");
        return;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(`signal ${signalId} was never created`);
  } finally {
    await other.close();
  }
}

/** The name the next execute() gives. */
function nextKey(): ExecutionKey {
  return { project: "p", domain: "d", name: `g${counter}` };
}

const double = task({ name: "gates.double", inputs: { n: t.int() }, outputs: t.int() }, async ({ n }) => n * 2);
const addOne = task({ name: "gates.addOne", inputs: { n: t.int() }, outputs: t.int() }, async ({ n }) => n + 1);
let stamped: number[] = [];
const stamp = task({ name: "gates.stamp" }, async () => {
  stamped.push(Date.now());
});

const approved = workflow({ name: "gates.approved", inputs: { n: t.int() }, outputs: t.int() }, ({ n }) =>
  addOne({ n: approve(double({ n }), "looks-good", { timeout: "10s" }) }),
);
const typedOut = workflow({ name: "gates.typedOut", outputs: t.int() }, () => double({ n: waitForInput("extra", { type: t.int() }) }));
const napping = workflow({ name: "gates.napping" }, () => {
  after(stamp(), sleep("300ms"));
});
const impatient = workflow({ name: "gates.impatient", inputs: { n: t.int() }, outputs: t.int() }, ({ n }) =>
  addOne({ n: approve(double({ n }), "never-answered", { timeout: "200ms" }) }),
);
const chosen = workflow({ name: "gates.chosen", inputs: { n: t.int() }, outputs: t.int() }, ({ n }) =>
  conditional("ask")
    .if(n.gt(10))
    .then(waitForInput("big-value", { type: t.int() }))
    .else()
    .then(double({ n })),
);

test("sleep waits its duration, then the nodes after it run; the gate is recorded as a gate node", async () => {
  await withEnv(async (env) => {
    stamped = [];
    const before = Date.now();
    const result = await execute(env, napping, {});
    assert.equal(result.record.phase, "SUCCEEDED", JSON.stringify(result.record.error));
    assert.equal(stamped.length, 1);
    assert.ok(stamped[0] - before >= 290, `the task ran ${stamped[0] - before} ms after the start`);
    const gate = (await env.store.listNodeExecutions(result.record)).find((n) => n.nodeId === "n1")!;
    assert.equal(gate.entityKind, "gate");
    assert.equal(gate.entityName, "sleep-gate");
    assert.equal(gate.isParent, false);
    assert.equal(gate.phase, "SUCCEEDED");
  });
});

test("approve waits RUNNING for its signal, made boolean in the store, and passes the value on once approved", async () => {
  await withEnv(async (env) => {
    const key = nextKey();
    const running = execute(env, approved, { n: 4 });
    await setWhenWaiting(env, key, "looks-good", bool(true));
    const result = await running;
    assert.equal(result.record.phase, "SUCCEEDED", JSON.stringify(result.record.error));
    assert.deepEqual(await outputs(env, result.record), { o0: 9 });
    const signal = await env.store.getSignal({ project: "p", domain: "d", executionName: key.name, signalId: "looks-good" });
    assert.deepEqual(fromBinary(LiteralTypeSchema, signal!.type).type, { case: "simple", value: SimpleType.BOOLEAN });
  });
});

test("approve's node is RUNNING while it waits", async () => {
  await withEnv(async (env) => {
    const key = nextKey();
    const running = execute(env, approved, { n: 1 });
    let waiting: NodeExecutionRecord | undefined;
    for (let i = 0; i < 400 && !waiting; i++) {
      await new Promise((r) => setTimeout(r, 10));
      waiting = (await env.store.listNodeExecutions(key)).find((n) => n.nodeId === "n1" && n.phase === "RUNNING");
    }
    assert.ok(waiting, "the gate node is RUNNING");
    assert.equal(waiting.entityName, "looks-good");
    assert.equal((await env.store.getExecution(key))!.phase, "RUNNING");
    await setWhenWaiting(env, key, "looks-good", bool(true));
    assert.equal((await running).record.phase, "SUCCEEDED");
  });
});

test("a rejected approval fails the node with ReceivedRejectSignal, and nothing after it runs", async () => {
  await withEnv(async (env) => {
    const key = nextKey();
    const running = execute(env, approved, { n: 4 });
    await setWhenWaiting(env, key, "looks-good", bool(false));
    const result = await running;
    assert.equal(result.record.phase, "FAILED");
    assert.equal(result.record.error?.code, "ReceivedRejectSignal");
    const nodes = await env.store.listNodeExecutions(key);
    assert.equal(nodes.find((n) => n.nodeId === "n1")?.phase, "FAILED");
    assert.equal(nodes.find((n) => n.nodeId === "n2"), undefined);
  });
});

test("waitForInput gives the signal's value as its output, typed", async () => {
  await withEnv(async (env) => {
    const key = nextKey();
    const running = execute(env, typedOut, {});
    await setWhenWaiting(env, key, "extra", int(21));
    const result = await running;
    assert.equal(result.record.phase, "SUCCEEDED", JSON.stringify(result.record.error));
    assert.deepEqual(await outputs(env, result.record), { o0: 42 });
    const gate = (await env.store.listNodeExecutions(key)).find((n) => n.nodeId === "n0")!;
    assert.deepEqual(await outputs(env, gate), { o0: 21 });
  });
});

test("a gate's timeout fails its node TIMED_OUT, naming the gate and the timeout", async () => {
  await withEnv(async (env) => {
    const started = Date.now();
    const result = await execute(env, impatient, { n: 1 });
    assert.ok(Date.now() - started >= 190);
    assert.equal(result.record.phase, "FAILED");
    const gate = (await env.store.listNodeExecutions(result.record)).find((n) => n.nodeId === "n1")!;
    assert.equal(gate.phase, "TIMED_OUT");
    assert.equal(gate.error?.code, "Timeout");
    assert.match(gate.error!.message, /approve "never-answered" did not get an approval within its timeout of 200ms/);
  });
});

test("a gate runs as a conditional's case; the other case is skipped", async () => {
  await withEnv(async (env) => {
    const key = nextKey();
    const running = execute(env, chosen, { n: 50 });
    await setWhenWaiting(env, key, "big-value", int(7));
    const result = await running;
    assert.equal(result.record.phase, "SUCCEEDED", JSON.stringify(result.record.error));
    assert.deepEqual(await outputs(env, result.record), { o0: 7 });
    const nodes = await env.store.listNodeExecutions(key);
    assert.equal(nodes.find((n) => n.nodeId === "n0-n0")?.entityKind, "gate");
    assert.equal(nodes.find((n) => n.nodeId === "n0-n1")?.phase, "SKIPPED");
  });
});

test("an answerer that cannot answer fails the gate with its reason", async () => {
  await withEnv(async (env) => {
    const asked: string[] = [];
    const gates: GateAnswerer = {
      async answer(question) {
        asked.push(`${question.kind} ${question.signalId} ${literalMapToPlain(question.value!).o0}`);
        return { unanswerable: `approve "looks-good" needs an answer: pass --signal looks-good=true` };
      },
    };
    const result = await execute(env, approved, { n: 3 }, {}, gates);
    assert.deepEqual(asked, ["approve looks-good 6"]);
    assert.equal(result.record.phase, "FAILED");
    assert.equal(result.record.error?.code, "SignalNotGiven");
    assert.match(result.record.error!.message, /--signal looks-good=true/);
  });
});

test("an answerer's value is stored as the signal, so the history shows what was given", async () => {
  await withEnv(async (env) => {
    const key = nextKey();
    const result = await execute(env, typedOut, {}, {}, { answer: async () => int(5) });
    assert.deepEqual(await outputs(env, result.record), { o0: 10 });
    const signal = await env.store.getSignal({ project: "p", domain: "d", executionName: key.name, signalId: "extra" });
    assert.deepEqual(fromBinary(LiteralSchema, signal!.value!), int(5));
  });
});

test("an execution whose process stops while a gate waits resumes from the store with the signal given meanwhile", async () => {
  await withEnv(async (env) => {
    const dbPath = join(env.dir, "tsflyte.db");
    const key = nextKey();
    const stop = new AbortController();
    const running = execute(env, approved, { n: 4 }, { signal: stop.signal });
    // Wait until the gate is on record, then stop "the server" and close its store, as a restart would.
    let signalSeen = false;
    for (let i = 0; i < 400 && !signalSeen; i++) {
      await new Promise((r) => setTimeout(r, 10));
      signalSeen = (await env.store.listSignals(key)).items.length === 1;
    }
    assert.ok(signalSeen);
    stop.abort(new Interruption("the server stops"));
    const first = await running;
    assert.equal(first.record.phase, "RUNNING");
    await env.blobs.flush();
    await env.store.close();

    // Meanwhile, someone approves.
    const api = openSqliteStore(dbPath);
    assert.equal((await api.setSignal({ project: "p", domain: "d", executionName: key.name, signalId: "looks-good" }, toBinary(LiteralSchema, bool(true)), Date.now())).outcome, "set");
    await api.close();

    // A new process picks it up from its records.
    env.store = openSqliteStore(dbPath);
    const record = (await env.store.getExecution(key))!;
    assert.equal(record.phase, "RUNNING");
    const nodes = new Map((await env.store.listNodeExecutions(key)).map((n) => [n.nodeId, n]));
    assert.equal(nodes.get("n1")?.phase, "RUNNING");
    const tasks = new Map<string, TaskExecutionRecord[]>();
    for (const a of await env.store.listTaskExecutions(key)) tasks.set(a.nodeId, [...(tasks.get(a.nodeId) ?? []), a]);
    const resume: ResumeState = { record, nodes, tasks };
    const def = definitionOf(approved)!;
    const resumed = await runExecution(
      { key, entity: approved, nameOf, launch: { kind: def.kind, name: nameOf(approved), version: "local" }, inputs: (await readRecordedLiteralMap(env.blobs, recordedInputs(record)))!, resume },
      { store: env.store, blobs: env.blobs, runner: new InProcessRunner({ containCrashes: true }) },
    );
    assert.equal(resumed.record.phase, "SUCCEEDED", JSON.stringify(resumed.record.error));
    assert.deepEqual(await outputs(env, resumed.record), { o0: 9 });
  });
});

test("a sleep resumed after a restart waits only the time left from its recorded start", async () => {
  await withEnv(async (env) => {
    const dbPath = join(env.dir, "tsflyte.db");
    const long = workflow({ name: "gates.long" }, () => {
      after(stamp(), sleep("1500ms"));
    });
    stamped = [];
    const key = nextKey();
    const stop = new AbortController();
    const started = Date.now();
    const running = execute(env, long, {}, { signal: stop.signal });
    await new Promise((r) => setTimeout(r, 1000));
    stop.abort(new Interruption("the server stops"));
    assert.equal((await running).record.phase, "RUNNING");
    await env.store.close();
    env.store = openSqliteStore(dbPath);
    const record = (await env.store.getExecution(key))!;
    const nodes = new Map((await env.store.listNodeExecutions(key)).map((n) => [n.nodeId, n]));
    assert.equal(nodes.get("n0")?.phase, undefined, "the task after the sleep has not started");
    assert.equal(nodes.get("n1")?.phase, "RUNNING");
    const resumedAt = Date.now();
    const def = definitionOf(long)!;
    const resumed = await runExecution(
      { key, entity: long, nameOf, launch: { kind: def.kind, name: nameOf(long), version: "local" }, inputs: create(LiteralMapSchema, {}), resume: { record, nodes, tasks: new Map() } },
      { store: env.store, blobs: env.blobs, runner: new InProcessRunner({ containCrashes: true }) },
    );
    assert.equal(resumed.record.phase, "SUCCEEDED", JSON.stringify(resumed.record.error));
    assert.equal(stamped.length, 1);
    assert.ok(stamped[0] - started >= 1490, "the whole sleep passed");
    assert.ok(stamped[0] - resumedAt < 1200, `after the restart it waited ${stamped[0] - resumedAt} ms, not the whole 1500 ms again`);
  });
});

test("terminating an execution while a gate waits ends the gate and the execution ABORTED", async () => {
  await withEnv(async (env) => {
    const key = nextKey();
    const stop = new AbortController();
    const running = execute(env, approved, { n: 2 }, { signal: stop.signal });
    for (let i = 0; i < 400 && (await env.store.listSignals(key)).items.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    stop.abort(new Error("not needed any more"));
    const result = await running;
    assert.equal(result.record.phase, "ABORTED");
    const gate = (await env.store.listNodeExecutions(key)).find((n) => n.nodeId === "n1")!;
    assert.equal(gate.phase, "ABORTED");
    assert.equal((await env.store.listNodeExecutions(key)).find((n) => n.nodeId === "n2"), undefined);
  });
});
