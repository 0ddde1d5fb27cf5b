// Calling tasks, workflows and launch plans directly from user code runs them in-process with checked inputs
// and outputs. Never lets a value of the wrong type reach a task function.
import { test } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { task, workflow, launchPlan, t } from "../../../src/index.js";
import { ExecutionFailedError, UserError } from "../../../src/lib/errors.js";

const Employee = z.object({ name: z.string(), pay: z.number() });

const payMultiplier = task(
  { inputs: { rows: t.list(t.struct(Employee)), scalar: t.int() }, outputs: t.list(t.struct(Employee)) },
  async ({ rows, scalar }) => rows.map((r) => ({ ...r, pay: r.pay * scalar })),
);
const totalSpend = task(
  { inputs: { rows: t.list(t.struct(Employee)) }, outputs: { total: t.float(), count: t.int() } },
  async ({ rows }) => ({ total: rows.reduce((s, r) => s + r.pay, 0), count: rows.length }),
);
const calculateSpend = workflow(
  { inputs: { emp: t.list(t.struct(Employee)), scalar: t.int().default(2) }, outputs: t.float() },
  ({ emp, scalar }) => totalSpend({ rows: payMultiplier({ rows: emp, scalar }) }).total,
);
const nightly = launchPlan({ name: "nightly", workflow: calculateSpend, fixedInputs: { scalar: 3 } });

test("a task called directly returns its typed outputs", async () => {
  const out = await totalSpend({ rows: [{ name: "a", pay: 10 }, { name: "b", pay: 5 }] });
  assert.deepEqual(out, { total: 15, count: 2 });
});

test("a workflow called directly runs its nodes and applies input defaults", async () => {
  assert.equal(await calculateSpend({ emp: [{ name: "a", pay: 10 }] }), 20);
  assert.equal(await calculateSpend({ emp: [{ name: "a", pay: 10 }], scalar: 5 }), 50);
});

test("a launch plan called directly applies its fixed inputs and refuses to override them", async () => {
  assert.equal(await nightly({ emp: [{ name: "a", pay: 1 }] }), 3);
  await assert.rejects(() => nightly({ emp: [], scalar: 1 } as never), /scalar is fixed by the launch plan/);
});

test("bad inputs are all reported together, with their types, before anything runs", async () => {
  let ran = false;
  const probe = task({ inputs: { a: t.int(), b: t.string() }, outputs: t.int() }, async () => {
    ran = true;
    return 1;
  });
  await assert.rejects(
    () => probe({ a: "x", c: 1 } as never),
    (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /unknown input "c"/);
      assert.match(e.message, /a: expected int, got string "x"/);
      assert.match(e.message, /missing input "b" of type string/);
      return true;
    },
  );
  assert.equal(ran, false);
});

test("a task returning the wrong type fails with the output named", async () => {
  const wrong = task({ inputs: {}, outputs: { n: t.int() } }, async () => ({ n: "one" }) as never);
  await assert.rejects(() => wrong(), (e: unknown) => {
    assert.ok(e instanceof ExecutionFailedError);
    assert.equal(e.kind, "USER");
    assert.match(e.message, /failed: output n: expected int, got string "one"/);
    return true;
  });
});

test("a failing node names the workflow node and keeps the user's error", async () => {
  const boom = task({ inputs: { x: t.int() }, outputs: t.int() }, async () => {
    throw new Error("kaboom");
  });
  const wf = workflow({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => boom({ x }));
  await assert.rejects(() => wf({ x: 1 }), /node n0 \(task declared at .*direct\.test\.ts:\d+:\d+\) failed: kaboom/);
});

test("independent nodes run concurrently", async () => {
  let running = 0;
  let peak = 0;
  const slow = task({ inputs: { x: t.int() }, outputs: t.int() }, async ({ x }) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 20));
    running--;
    return x;
  });
  const add = task({ inputs: { a: t.int(), b: t.int() }, outputs: t.int() }, async ({ a, b }) => a + b);
  const wf = workflow({ inputs: {}, outputs: t.int() }, () => add({ a: slow({ x: 1 }), b: slow({ x: 2 }) }));
  assert.equal(await wf(), 3);
  assert.equal(peak, 2);
});
