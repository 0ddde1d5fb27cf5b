// Control flow in the engine, on a real SQLite file and a file:// blob store: conditionals (one case runs, the others
// SKIPPED), maps (items as child nodes with their own attempts and cache entries, concurrency, success criteria),
// after(...), node overrides and the failure node, and recover through all of them.
import { entityNamer, withEngineEnv, type EngineTestEnv } from "../../support/engine-env.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { LiteralMapSchema } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { literalMapToPlain } from "../../../src/lib/types/plain.js";
import { task, workflow, launchPlan, conditional, map, after, dynamic, t } from "../../../src/index.js";
import { definitionOf, type Entity } from "../../../src/lib/sdk/entity.js";
import { runExecution, type ExecutionRequest } from "../../../src/lib/engine/engine.js";
import { InProcessRunner } from "../../../src/lib/engine/in-process.js";
import { readRecordedLiteralMap, recordedInputs, recordedOutputs } from "../../../src/lib/engine/recorded-values.js";
import { attemptOutputPrefix } from "../../../src/lib/storage/layout.js";
import type { NodeExecutionRecord } from "../../../src/lib/store/records.js";

type Env = EngineTestEnv;
const withEnv = (fn: (env: Env) => Promise<void>) => withEngineEnv("tsflyte-control-flow-", fn);

let counter = 0;
const nameOf = entityNamer("cf");

function execute(env: Env, entity: Entity, values: Record<string, unknown>, extra: Partial<ExecutionRequest> = {}) {
  const def = definitionOf(entity)!;
  const literals = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, def.inputs[k].toLiteral(v, k)]));
  return runExecution(
    {
      key: { project: "p", domain: "d", name: `cf${counter++}` },
      entity,
      nameOf,
      launch: { kind: def.kind, name: nameOf(entity), version: "local" },
      inputs: create(LiteralMapSchema, { literals }),
      ...extra,
    },
    { store: env.store, blobs: env.blobs, runner: new InProcessRunner({ containCrashes: true }) },
  );
}

async function outputsOf(env: Env, _entity: Entity, record: { outputs?: Uint8Array; outputsUri?: string }): Promise<Record<string, unknown>> {
  const map = await readRecordedLiteralMap(env.blobs, recordedOutputs(record));
  assert.ok(map, "recorded outputs");
  return literalMapToPlain(map);
}

function phases(nodes: NodeExecutionRecord[]): Record<string, string> {
  return Object.fromEntries(nodes.map((n) => [n.nodeId, n.phase]));
}

const square = task({ name: "cf.square", inputs: { n: t.int() }, outputs: t.int() }, async ({ n }) => n * n);
const negate = task({ name: "cf.negate", inputs: { n: t.int() }, outputs: t.int() }, async ({ n }) => -n);
const zero = task({ name: "cf.zero", inputs: { n: t.int() }, outputs: t.int() }, async () => 0);

const sizeOf = workflow({ name: "cf.sizeOf", inputs: { n: t.int() }, outputs: t.int() }, ({ n }) =>
  conditional("size")
    .if(n.gt(5).and(n.lte(10)))
    .then(square({ n }))
    .elif(n.lt(0).or(n.eq(-100)))
    .then(negate({ n }))
    .else()
    .then(zero({ n })),
);

test("a conditional runs the first case whose condition holds; the others are recorded SKIPPED; its outputs are the case's", async () => {
  await withEnv(async (env) => {
    for (const [n, expected, ran] of [
      [7, 49, "n0-n0"],
      [-3, 3, "n0-n1"],
      [11, 0, "n0-n2"],
      [5, 0, "n0-n2"],
    ] as const) {
      const result = await execute(env, sizeOf, { n });
      assert.equal(result.record.phase, "SUCCEEDED");
      assert.deepEqual(await outputsOf(env, sizeOf, result.record), { o0: expected }, `n=${n}`);
      const nodes = await env.store.listNodeExecutions(result.record);
      const cases = ["n0-n0", "n0-n1", "n0-n2"];
      assert.deepEqual(
        phases(nodes),
        { n0: "SUCCEEDED", ...Object.fromEntries(cases.map((c) => [c, c === ran ? "SUCCEEDED" : "SKIPPED"])) },
        `n=${n}`,
      );
      const branch = nodes.find((x) => x.nodeId === "n0")!;
      assert.deepEqual([branch.entityKind, branch.entityName, branch.isParent], ["branch", "size", true]);
      for (const c of cases) assert.equal(nodes.find((x) => x.nodeId === c)!.parentNodeId, "n0");
    }
  });
});

test("a conditional whose else fails ends the workflow FAILED with the user's message; a nested conditional runs inside a case", async () => {
  await withEnv(async (env) => {
    const flag = workflow({ name: "cf.flag", inputs: { on: t.boolean(), n: t.int() }, outputs: t.int() }, ({ on, n }) =>
      conditional("outer")
        .if(on.isTrue())
        .then(conditional("inner").if(n.gte(0)).then(square({ n })).else().then(negate({ n })))
        .else()
        .fail("the switch is off"),
    );
    const ok = await execute(env, flag, { on: true, n: -4 });
    assert.equal(ok.record.phase, "SUCCEEDED");
    assert.deepEqual(await outputsOf(env, flag, ok.record), { o0: 4 });
    assert.deepEqual(phases(await env.store.listNodeExecutions(ok.record)), { n0: "SUCCEEDED", "n0-n0": "SUCCEEDED", "n0-n0-n0": "SKIPPED", "n0-n0-n1": "SUCCEEDED" });

    const off = await execute(env, flag, { on: false, n: 1 });
    assert.equal(off.record.phase, "FAILED");
    assert.equal(off.record.error?.kind, "USER");
    assert.match(off.record.error?.message ?? "", /the switch is off/);
    const nodes = await env.store.listNodeExecutions(off.record);
    assert.deepEqual(phases(nodes), { n0: "FAILED", "n0-n0": "SKIPPED" });
  });
});

test("a map runs an item per element as child nodes, in order, at most `concurrency` at once, with a fixed input passed whole", async () => {
  await withEnv(async (env) => {
    let running = 0;
    let most = 0;
    const scale = task({ name: "cf.scale", inputs: { x: t.int(), by: t.int() }, outputs: t.int() }, async ({ x, by }) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return x * by;
    });
    const wf = workflow({ name: "cf.mapScale", inputs: { xs: t.list(t.int()) }, outputs: t.list(t.int()) }, ({ xs }) =>
      map(scale, { concurrency: 3 })({ x: xs, by: 10 }),
    );
    const xs = Array.from({ length: 12 }, (_, i) => i);
    const result = await execute(env, wf, { xs });
    assert.equal(result.record.phase, "SUCCEEDED");
    assert.deepEqual(await outputsOf(env, wf, result.record), { o0: xs.map((x) => x * 10) });
    assert.equal(most, 3);
    const nodes = await env.store.listNodeExecutions(result.record);
    const map0 = nodes.find((n) => n.nodeId === "n0")!;
    assert.deepEqual([map0.entityKind, map0.entityName, map0.isParent, map0.phase], ["array", "cf.scale", true, "SUCCEEDED"]);
    const items = nodes.filter((n) => n.parentNodeId === "n0");
    assert.deepEqual(items.map((n) => n.nodeId).sort(), xs.map((i) => `n0-0-${i}`).sort());
    for (const item of items) {
      const index = Number(item.specNodeId);
      const inputs = await readRecordedLiteralMap(env.blobs, recordedInputs(item));
      assert.deepEqual(literalMapToPlain(inputs!), { x: index, by: 10 });
    }
    const attempts = await env.store.listTaskExecutions(result.record);
    assert.equal(attempts.length, 12);
  });
});

test("map items retry and cache on their own; with minSuccessRatio a failed item's element is none, below it the map fails", async () => {
  await withEnv(async (env) => {
    const calls = new Map<number, number>();
    const flaky = task(
      { name: "cf.flaky", inputs: { x: t.int() }, outputs: t.int(), retries: 1, cache: { version: "1" } },
      async ({ x }) => {
        calls.set(x, (calls.get(x) ?? 0) + 1);
        if (x < 0) throw new Error(`negative ${x}`);
        if (x === 3 && calls.get(x) === 1) throw new Error("first try of 3 fails");
        return x + 1;
      },
    );
    const lenient = workflow({ name: "cf.lenient", inputs: { xs: t.list(t.int()) }, outputs: t.list(t.optional(t.int())) }, ({ xs }) =>
      map(flaky, { minSuccessRatio: 0.5 })({ x: xs }),
    );
    const first = await execute(env, lenient, { xs: [1, -2, 3, 4] });
    assert.equal(first.record.phase, "SUCCEEDED");
    assert.deepEqual(await outputsOf(env, lenient, first.record), { o0: [2, null, 4, 5] });
    const attempts = await env.store.listTaskExecutions(first.record);
    const byItem = (id: string) => attempts.filter((a) => a.nodeId === id).map((a) => a.phase);
    assert.deepEqual(byItem("n0-0-2"), ["RETRYABLE_FAILED", "SUCCEEDED"]);
    assert.deepEqual(byItem("n0-0-1"), ["RETRYABLE_FAILED", "FAILED"]);

    // The same items again: every successful item is a cache hit, the failed one runs again.
    calls.clear();
    const again = await execute(env, lenient, { xs: [1, -2, 3, 4] });
    const nodes = await env.store.listNodeExecutions(again.record);
    assert.deepEqual(
      nodes.filter((n) => n.parentNodeId === "n0").sort((a, b) => Number(a.specNodeId) - Number(b.specNodeId)).map((n) => n.cacheStatus),
      ["CACHE_HIT", "CACHE_MISS", "CACHE_HIT", "CACHE_HIT"],
    );
    assert.deepEqual([...calls.keys()], [-2]);

    const strict = workflow({ name: "cf.strict", inputs: { xs: t.list(t.int()) }, outputs: t.list(t.optional(t.int())) }, ({ xs }) =>
      map(flaky, { minSuccesses: 3 })({ x: xs }),
    );
    const failed = await execute(env, strict, { xs: [-1, -2, 5] });
    assert.equal(failed.record.phase, "FAILED");
    assert.match(failed.record.error?.message ?? "", /2 of 3 items failed, more than the 0 allowed/);
    assert.match(failed.record.error?.message ?? "", /negative -1/);
  });
});

test("a map over lists of different lengths fails before any item runs, naming each length", async () => {
  await withEnv(async (env) => {
    let ran = 0;
    const add = task({ name: "cf.add", inputs: { a: t.int(), b: t.int() }, outputs: t.int() }, async ({ a, b }) => {
      ran++;
      return a + b;
    });
    const wf = workflow({ name: "cf.zip", inputs: { as: t.list(t.int()), bs: t.list(t.int()) }, outputs: t.list(t.int()) }, ({ as, bs }) =>
      map(add)({ a: as, b: bs }),
    );
    const result = await execute(env, wf, { as: [1, 2], bs: [1, 2, 3] });
    assert.equal(result.record.phase, "FAILED");
    assert.match(result.record.error?.message ?? "", /a has 2, b has 3/);
    assert.equal(ran, 0);
  });
});

test("recover re-runs only a map's failed items and reuses a conditional that succeeded", async () => {
  await withEnv(async (env) => {
    let broken = true;
    const runs: number[] = [];
    const fragile = task({ name: "cf.fragile", inputs: { x: t.int() }, outputs: t.int() }, async ({ x }) => {
      runs.push(x);
      if (broken && x === 2) throw new Error("item 2 breaks");
      return x * 3;
    });
    const wf = workflow({ name: "cf.recoverable", inputs: { xs: t.list(t.int()), n: t.int() }, outputs: { sizes: t.int(), tripled: t.list(t.int()) } }, ({ xs, n }) => {
      const sizes = sizeOf({ n });
      const tripled = map(fragile)({ x: xs });
      return { sizes, tripled };
    });
    const failed = await execute(env, wf, { xs: [1, 2, 3], n: 7 });
    assert.equal(failed.record.phase, "FAILED");
    broken = false;
    runs.length = 0;
    const nodes = await env.store.listNodeExecutions(failed.record);
    const recovered = await execute(env, wf, { xs: [1, 2, 3], n: 7 }, {
      mode: "RECOVERED",
      sourceExecution: failed.record.name,
      recover: { executionName: failed.record.name, nodes: new Map(nodes.map((n) => [n.nodeId, n])) },
    });
    assert.equal(recovered.record.phase, "SUCCEEDED");
    assert.deepEqual(await outputsOf(env, wf, recovered.record), { sizes: 49, tripled: [3, 6, 9] });
    assert.deepEqual(runs, [2]);
    const after = phases(await env.store.listNodeExecutions(recovered.record));
    assert.equal(after.n0, "RECOVERED");
    assert.deepEqual([after["n1-0-0"], after["n1-0-1"], after["n1-0-2"]], ["RECOVERED", "SUCCEEDED", "RECOVERED"]);
  });
});

test("after(b, a) runs b once a is done although b reads nothing of a", async () => {
  await withEnv(async (env) => {
    const events: string[] = [];
    const slow = task({ name: "cf.slow" }, async () => {
      await new Promise((r) => setTimeout(r, 30));
      events.push("slow done");
    });
    const fast = task({ name: "cf.fast", outputs: t.string() }, async () => {
      events.push("fast ran");
      return "ok";
    });
    const wf = workflow({ name: "cf.ordered", outputs: t.string() }, () => {
      const first = slow();
      return after(fast(), first);
    });
    const result = await execute(env, wf, {});
    assert.equal(result.record.phase, "SUCCEEDED");
    assert.deepEqual(events, ["slow done", "fast ran"]);
  });
});

test(".with(...) overrides a call's retries, cache and timeout without changing the task", async () => {
  await withEnv(async (env) => {
    let attempts = 0;
    const shaky = task({ name: "cf.shaky", outputs: t.int(), cache: { version: "1" } }, async () => {
      attempts++;
      if (attempts % 3 !== 0) throw new Error(`attempt ${attempts} fails`);
      return attempts;
    });
    const patient = workflow({ name: "cf.patient", outputs: t.int() }, () => shaky().with({ retries: 2, cache: false, name: "patient-shaky" }));
    const result = await execute(env, patient, {});
    assert.equal(result.record.phase, "SUCCEEDED");
    const nodes = await env.store.listNodeExecutions(result.record);
    assert.deepEqual([nodes[0].retries, nodes[0].cacheStatus], [2, "CACHE_DISABLED"]);
    assert.equal((await env.store.listTaskExecutions(result.record)).length, 3);

    // The task itself still allows no retry.
    const plain = workflow({ name: "cf.plain", outputs: t.int() }, () => shaky());
    attempts = 0;
    assert.equal((await execute(env, plain, {})).record.phase, "FAILED");

    const sleepy = task({ name: "cf.sleepy", outputs: t.int() }, async (_, { signal }) => {
      await new Promise((r, reject) => {
        const timer = setTimeout(r, 5000);
        signal.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)));
      });
      return 1;
    });
    const hurried = workflow({ name: "cf.hurried", outputs: t.int() }, () => sleepy().with({ timeout: 50 }));
    const timedOut = await execute(env, hurried, {});
    assert.equal(timedOut.record.phase, "FAILED");
    assert.match(timedOut.record.error?.message ?? "", /timeout of 50ms/);
  });
});

test("the failure node runs once when the workflow fails, with its inputs and the error; never on success", async () => {
  await withEnv(async (env) => {
    const seen: { label: string; failedNodeId: string; message: string }[] = [];
    const cleanup = task(
      { name: "cf.cleanup", inputs: { label: t.string(), err: t.error() } },
      async ({ label, err }) => {
        seen.push({ label, ...err });
      },
    );
    const boom = task({ name: "cf.boom", inputs: { fail: t.boolean() }, outputs: t.int() }, async ({ fail }) => {
      if (fail) throw new Error("kaboom");
      return 1;
    });
    const wf = workflow({ name: "cf.guarded", inputs: { label: t.string(), fail: t.boolean() }, outputs: t.int(), onFailure: cleanup }, ({ fail }) => boom({ fail }));
    const ok = await execute(env, wf, { label: "a", fail: false });
    assert.equal(ok.record.phase, "SUCCEEDED");
    assert.equal(seen.length, 0, "no failure node on success");
    const failed = await execute(env, wf, { label: "b", fail: true });
    assert.equal(failed.record.phase, "FAILED");
    assert.match(failed.record.error?.message ?? "", /kaboom/);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].label, "b");
    assert.equal(seen[0].failedNodeId, "n0");
    assert.match(seen[0].message, /kaboom/);
    const nodes = await env.store.listNodeExecutions(failed.record);
    assert.deepEqual(phases(nodes), { n0: "FAILED", fn0: "SUCCEEDED" });
  });
});

test("a dynamic workflow builds its nodes from its inputs' values when it runs; they run as its children, nested dynamics too", async () => {
  await withEnv(async (env) => {
    const inc = task({ name: "cf.inc", inputs: { x: t.int() }, outputs: t.int(), cache: { version: "1" } }, async ({ x }) => x + 1);
    const total = task({ name: "cf.total", inputs: { xs: t.list(t.int()) }, outputs: t.int() }, async ({ xs }) => xs.reduce((a, b) => a + b, 0));
    const inner = dynamic({ name: "cf.inner", inputs: { k: t.int() }, outputs: t.int() }, ({ k }) => {
      let x: ReturnType<typeof inc> | number = k;
      for (let i = 0; i < k; i++) x = inc({ x });
      return x;
    });
    const outer = dynamic({ name: "cf.outer", inputs: { n: t.int() }, outputs: t.int() }, ({ n }) =>
      total({ xs: Array.from({ length: n }, (_, i) => inner({ k: i })) }),
    );
    const wf = workflow({ name: "cf.grow", inputs: { n: t.int() }, outputs: t.int() }, ({ n }) => outer({ n }));
    const result = await execute(env, wf, { n: 3 });
    assert.equal(result.record.phase, "SUCCEEDED", JSON.stringify(result.record.error));
    // inner(0) = 0, inner(1) = 2, inner(2) = 4
    assert.deepEqual(await outputsOf(env, wf, result.record), { o0: 6 });
    const nodes = await env.store.listNodeExecutions(result.record);
    const byId = new Map(nodes.map((n) => [n.nodeId, n]));
    assert.deepEqual([byId.get("n0")!.phase, byId.get("n0")!.isParent], ["SUCCEEDED", true]);
    // outer's children: inner(0..2) and total; inner(2)'s children: two incs.
    assert.deepEqual(nodes.filter((n) => n.parentNodeId === "n0").map((n) => n.nodeId).sort(), ["n0-0-n0", "n0-0-n1", "n0-0-n2", "n0-0-n3"]);
    assert.deepEqual(nodes.filter((n) => n.parentNodeId === "n0-0-n2").map((n) => [n.nodeId, n.entityName, n.phase]).sort(), [
      ["n0-0-n2-0-n0", "cf.inc", "SUCCEEDED"],
      ["n0-0-n2-0-n1", "cf.inc", "SUCCEEDED"],
    ]);
    // The generated workflow is recorded where Flyte's layout puts it.
    await env.blobs.flush();
    assert.ok(await env.blobs.exists(`${attemptOutputPrefix(env.blobs.baseUri, result.record, "n0", 0)}/futures.pb`));

    // Run again: the cached incs are hits inside the dynamic children.
    const again = await execute(env, wf, { n: 3 });
    const incs = (await env.store.listNodeExecutions(again.record)).filter((n) => n.entityName === "cf.inc");
    assert.ok(incs.length === 3 && incs.every((n) => n.cacheStatus === "CACHE_HIT"), JSON.stringify(incs.map((n) => n.cacheStatus)));
  });
});

test("a dynamic body's wiring mistake fails its node with the problem; a failed child fails the dynamic node; recover re-runs only what failed", async () => {
  await withEnv(async (env) => {
    const half = task({ name: "cf.half", inputs: { x: t.int() }, outputs: t.int() }, async ({ x }) => x / 2);
    const wrong = dynamic({ name: "cf.wrong", inputs: { n: t.int() }, outputs: t.int() }, ({ n }) => half({ x: String(n) as never }));
    const bad = await execute(env, workflow({ name: "cf.useWrong", inputs: { n: t.int() }, outputs: t.int() }, ({ n }) => wrong({ n })), { n: 4 });
    assert.equal(bad.record.phase, "FAILED");
    assert.equal(bad.record.error?.kind, "USER");
    assert.match(bad.record.error?.message ?? "", /input "x" of node n0 \(cf\.half\)/);

    let broken = true;
    const runs: number[] = [];
    const fragile = task({ name: "cf.fragile2", inputs: { x: t.int() }, outputs: t.int() }, async ({ x }) => {
      runs.push(x);
      if (broken && x === 1) throw new Error("one is broken");
      return x;
    });
    const fan = dynamic({ name: "cf.fan", inputs: { n: t.int() }, outputs: t.list(t.int()) }, ({ n }) => Array.from({ length: n }, (_, x) => fragile({ x })));
    const wf = workflow({ name: "cf.fanWf", inputs: { n: t.int() }, outputs: t.list(t.int()) }, ({ n }) => fan({ n }));
    const failed = await execute(env, wf, { n: 3 });
    assert.equal(failed.record.phase, "FAILED");
    const failedNodes = await env.store.listNodeExecutions(failed.record);
    assert.equal(failedNodes.find((n) => n.nodeId === "n0")!.phase, "FAILED");
    broken = false;
    runs.length = 0;
    const recovered = await execute(env, wf, { n: 3 }, {
      mode: "RECOVERED",
      sourceExecution: failed.record.name,
      recover: { executionName: failed.record.name, nodes: new Map(failedNodes.map((n) => [n.nodeId, n])) },
    });
    assert.equal(recovered.record.phase, "SUCCEEDED");
    assert.deepEqual(await outputsOf(env, wf, recovered.record), { o0: [0, 1, 2] });
    assert.deepEqual(runs.sort(), [1]);
  });
});

test("a map over a subworkflow and over a launch plan, and a conditional whose case is a subworkflow", async () => {
  await withEnv(async (env) => {
    const twice = workflow({ name: "cf.twice", inputs: { n: t.int() }, outputs: t.int() }, ({ n }) => square({ n: square({ n }) }));
    const plan = launchPlan({ name: "cf.twicePlan", workflow: twice });
    const wf = workflow(
      { name: "cf.mapsOfWorkflows", inputs: { ns: t.list(t.int()), pick: t.boolean() }, outputs: { viaWorkflow: t.list(t.int()), viaPlan: t.list(t.int()), picked: t.int() } },
      ({ ns, pick }) => ({
        viaWorkflow: map(twice)({ n: ns }),
        viaPlan: map(plan, { concurrency: 1 })({ n: ns }),
        picked: conditional("which").if(pick.isTrue()).then(twice({ n: 3 })).else().then(negate({ n: 3 })),
      }),
    );
    const result = await execute(env, wf, { ns: [1, 2, 3], pick: true });
    assert.equal(result.record.phase, "SUCCEEDED", JSON.stringify(result.record.error));
    assert.deepEqual(await outputsOf(env, wf, result.record), { picked: 81, viaPlan: [1, 16, 81], viaWorkflow: [1, 16, 81] });
    const nodes = await env.store.listNodeExecutions(result.record);
    // An item that is a subworkflow has its own children: the map's item n0-0-1 ran two squares.
    assert.deepEqual(nodes.filter((n) => n.parentNodeId === "n0-0-1").map((n) => n.nodeId).sort(), ["n0-0-1-0-n0", "n0-0-1-0-n1"]);
    assert.deepEqual(nodes.filter((n) => n.parentNodeId === "n2-n0").map((n) => n.nodeId).sort(), ["n2-n0-0-n0", "n2-n0-0-n1"]);
  });
});
