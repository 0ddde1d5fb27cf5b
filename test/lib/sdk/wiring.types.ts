// Type-level tests of the SDK's wiring: `tsc --noEmit` must reject each mistake marked @ts-expect-error, and accept the rest.
// Never run by the test runner and never executed: nothing here may depend on runtime behaviour, only on types.
import { task, workflow, launchPlan, conditional, map, after, dynamic, approve, waitForInput, sleep, t } from "tsflyte";
import { z } from "zod";

/** True only when A and B are the same type, not merely assignable to each other. */
type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
/** `exactly<T>()(value)` compiles only when the value's type is exactly T. */
function exactly<Expected>() {
  return <Actual>(_value: Actual, ..._proof: Equal<Actual, Expected> extends true ? [] : [Actual, "is not", Expected]): void => {};
}

const Employee = z.object({ name: z.string(), pay: z.number() });
const Badge = z.object({ id: z.string() });

export const payMultiplier = task(
  { inputs: { rows: t.list(t.struct(Employee)), scalar: t.int() }, outputs: t.list(t.struct(Employee)) },
  async ({ rows, scalar }) => rows.map((r) => ({ ...r, pay: r.pay * scalar })),
);
export const totalSpend = task(
  { inputs: { rows: t.list(t.struct(Employee)) }, outputs: { total: t.float(), count: t.int() } },
  async ({ rows }) => ({ total: rows.reduce((s, r) => s + r.pay, 0), count: rows.length }),
);

const label = task({ outputs: t.string() }, () => "x");
const count = task({ outputs: t.int() }, () => 1);
const counts = task({ outputs: t.list(t.int()) }, () => [1, 2]);
const maybeCount = task({ outputs: t.optional(t.int()) }, () => null);
const countsByName = task({ outputs: t.map(t.int()) }, () => ({ a: 1 }));
const color = task({ outputs: t.enum(["red", "green", "blue"]) }, () => "red" as const);
const logLine = task({ inputs: { text: t.string() } }, () => undefined);

const takeInt = task({ inputs: { n: t.int() } }, () => undefined);
const takeFloat = task({ inputs: { x: t.float() } }, () => undefined);
const takeInts = task({ inputs: { ns: t.list(t.int()) } }, () => undefined);
const takeOptionalInt = task({ inputs: { n: t.optional(t.int()) } }, () => undefined);
const takeFloatMap = task({ inputs: { m: t.map(t.float()) } }, () => undefined);
const takeIntMap = task({ inputs: { m: t.map(t.int()) } }, () => undefined);
const takeTrafficLight = task({ inputs: { c: t.enum(["red", "green"]) } }, () => undefined);
const takeBadge = task({ inputs: { badge: t.struct(Badge) } }, () => undefined);
const takeWhen = task({ inputs: { at: t.datetime() } }, () => undefined);
const takeStorage = task({ inputs: { wait: t.duration(), file: t.file(), dir: t.directory() } }, () => undefined);
const scaled = task({ inputs: { x: t.float(), factor: t.float().default(1.5) }, outputs: t.float() }, ({ x, factor }) => x * factor);

export const calculateSpend = workflow(
  { inputs: { emp: t.list(t.struct(Employee)), scalar: t.int().default(2) }, outputs: t.float() },
  ({ emp, scalar }) => totalSpend({ rows: payMultiplier({ rows: emp, scalar }) }).total,
);
export const nightly = launchPlan({
  name: "nightly_spend",
  workflow: calculateSpend,
  fixedInputs: { scalar: 3 },
  defaultInputs: { emp: [] },
});
const scheduled = workflow({ inputs: { at: t.datetime(), n: t.int() } }, () => undefined);

// ---- Correct wirings: these must type-check, so the types do not simply reject everything. ----

export const correct = workflow(
  { inputs: { emp: t.list(t.struct(Employee)), n: t.int() }, outputs: { total: t.float(), spend: t.float(), planned: t.float() } },
  ({ emp, n }) => {
    payMultiplier({ rows: [{ name: "ada", pay: 3 }], scalar: 4 }); // constants for every input
    takeInts({ ns: [count(), n, 7] }); // a list of references (and a constant) into a t.list input
    takeIntMap({ m: { a: count(), b: n } }); // a map of references into a t.map input
    logLine({ text: color() }); // an enum output into a t.string input
    takeTrafficLight({ c: label() }); // a string output into an enum input (Flyte checks the value when it runs)
    takeOptionalInt({ n: count() }); // an int into t.optional(t.int())
    takeOptionalInt({ n: null });
    takeOptionalInt({}); // an optional input may be left out
    scaled({ x: 2 }); // an input with .default() may be left out
    takeStorage({ wait: "90s", file: "s3://bucket/key.csv", dir: "/tmp/data" }); // blobs and durations from strings
    takeWhen({ at: new Date(0) });
    takeBadge({ badge: { id: "b-1" } });
    const totals = totalSpend({ rows: emp }); // named outputs are properties
    takeFloat({ x: totals.total });
    takeInt({ n: totals.count });
    const spend = calculateSpend({ emp }); // a subworkflow, its defaulted input left out
    const planned = nightly({}); // a launch plan: its fixed input is gone, its defaulted one optional
    nightly();
    return { total: totals.total, spend, planned };
  },
);

export const returnsConstant = workflow({ outputs: t.float() }, () => 1.5);
export const returnsNothing = workflow({}, () => {
  logLine({ text: "hi" });
});

export const typedTask = task(
  { inputs: { rows: t.list(t.struct(Employee)), n: t.optional(t.int()), when: t.datetime().default(new Date(0)) }, outputs: t.int() },
  (inputs) => {
    exactly<{ rows: { name: string; pay: number }[]; n: number | null; when: Date }>()(inputs);
    return inputs.rows.length;
  },
);

export async function directCalls(): Promise<void> {
  // Called outside a workflow, a task runs and resolves to plain values of its declared types.
  const x: number = (await totalSpend({ rows: [] })).total;
  const outputs = await totalSpend({ rows: [{ name: "ada", pay: 3 }] });
  exactly<{ total: number; count: number }>()(outputs);
  const rows = await payMultiplier({ rows: [], scalar: 2 });
  exactly<{ name: string; pay: number }[]>()(rows);
  const spend = await calculateSpend({ emp: [] });
  exactly<number>()(spend);
  const maybe = await maybeCount();
  exactly<number | null>()(maybe);
  const done = await logLine({ text: "hi" });
  exactly<void>()(done);
  void x;
}

// ---- Mistakes: each statement below must fail tsc. ----

export const wiringMistakes = workflow(
  { inputs: { emp: t.list(t.struct(Employee)), n: t.int() } },
  ({ emp, n }) => {
    // @ts-expect-error a string output wired into a t.int() input
    takeInt({ n: label() });
    // @ts-expect-error an int output wired into a t.float() input (Flyte does not cast INTEGER to FLOAT)
    takeFloat({ x: count() });
    // @ts-expect-error an int workflow input wired into a t.float() input
    takeFloat({ x: n });
    // @ts-expect-error a required input ("scalar") is missing
    payMultiplier({ rows: emp });
    // @ts-expect-error an unknown input ("bogus")
    payMultiplier({ rows: emp, scalar: 2, bogus: 1 });
    // @ts-expect-error a constant of the wrong type: "3" for a t.int() input
    payMultiplier({ rows: emp, scalar: "3" });
    // @ts-expect-error a named output that does not exist (.totl)
    takeFloat({ x: totalSpend({ rows: emp }).totl });
    // @ts-expect-error a node with named outputs passed whole where one value is expected
    takeFloat({ x: totalSpend({ rows: emp }) });
    // @ts-expect-error a list<int> output wired into an int input
    takeInt({ n: counts() });
    // @ts-expect-error an optional<int> output wired into a required int input
    takeInt({ n: maybeCount() });
    // @ts-expect-error a node without outputs used as a value
    takeInt({ n: logLine({ text: "hi" }) });
    // @ts-expect-error a map<int> output wired into a map<float> input
    takeFloatMap({ m: countsByName() });
    // @ts-expect-error a struct constant of the wrong shape
    takeBadge({ badge: { name: "ada" } });
    // @ts-expect-error an enum constant that is not one of the enum's values
    takeTrafficLight({ c: "blue" });
    // @ts-expect-error an enum output with more values (red|green|blue) wired into a narrower enum (red|green)
    takeTrafficLight({ c: color() });
    // @ts-expect-error a string constant for a t.datetime() input
    takeWhen({ at: "2024-01-01" });
    // @ts-expect-error inputs passed positionally instead of as one object
    takeFloat(3);
    // @ts-expect-error a fixed input of a launch plan passed at the call
    nightly({ emp, scalar: 4 });
  },
);

// @ts-expect-error a task function returning a number for a t.string() output
export const returnsWrongType = task({ inputs: { n: t.int() }, outputs: t.string() }, ({ n }) => n * 2);
// @ts-expect-error a task function missing the named output "count"
export const missesOutput = task({ outputs: { total: t.float(), count: t.int() } }, () => ({ total: 1 }));
// @ts-expect-error a task function reading an input it does not declare
export const readsUnknownInput = task({ inputs: { n: t.int() } }, ({ m }) => m);
// @ts-expect-error cache.ignoredInputs naming something that is not an input
export const ignoresNonInput = task({ inputs: { n: t.int() }, cache: { version: "1", ignoredInputs: ["m"] } }, () => undefined);

// @ts-expect-error a workflow body returning a string output for a t.float() output
export const wfReturnsString = workflow({ outputs: t.float() }, () => label());
// @ts-expect-error a workflow body returning an int output for a t.float() output
export const wfReturnsInt = workflow({ outputs: t.float() }, () => count());
// @ts-expect-error a workflow body missing the named output "b"
export const wfMissesOutput = workflow({ outputs: { a: t.int(), b: t.int() } }, () => ({ a: count() }));
// @ts-expect-error an async workflow body (a body runs once, on references, and must return them synchronously)
export const wfAsync = workflow({ outputs: t.int() }, async () => count());

// @ts-expect-error launchPlan fixedInputs naming an input the workflow does not have
export const fixesUnknown = launchPlan({ name: "lp_unknown", workflow: calculateSpend, fixedInputs: { bogus: 3 } });
// @ts-expect-error launchPlan fixedInputs of the wrong type
export const fixesWrongType = launchPlan({ name: "lp_wrong", workflow: calculateSpend, fixedInputs: { scalar: "3" } });
// @ts-expect-error launchPlan defaultInputs naming an input the workflow does not have
export const defaultsUnknown = launchPlan({ name: "lp_dunknown", workflow: calculateSpend, defaultInputs: { bogus: 3 } });
// @ts-expect-error launchPlan defaultInputs of the wrong type
export const defaultsWrongType = launchPlan({ name: "lp_dwrong", workflow: calculateSpend, defaultInputs: { emp: 3 } });

const plain = launchPlan({ name: "lp_plain", workflow: scheduled, fixedInputs: { n: 1 } });
export const callsPlanWithoutInput = workflow({}, () => {
  // @ts-expect-error a launch plan called without an input that is neither fixed nor defaulted ("at")
  plain({});
});

// --- control flow ---

const square = task({ inputs: { n: t.int() }, outputs: t.int() }, ({ n }) => n * n);
const halve = task({ inputs: { x: t.float() }, outputs: t.float() }, ({ x }) => x / 2);
const describeN = task({ inputs: { n: t.int() }, outputs: t.string() }, ({ n }) => String(n));
const pair = task({ inputs: { a: t.int(), b: t.int() }, outputs: { sum: t.int(), diff: t.int() } }, ({ a, b }) => ({ sum: a + b, diff: a - b }));
const isBig = task({ inputs: { n: t.int() }, outputs: t.boolean() }, ({ n }) => n > 10);

export const branches = workflow({ inputs: { n: t.int(), x: t.float(), on: t.boolean() }, outputs: t.int() }, ({ n, x, on }) => {
  const chosen = conditional("pick")
    .if(n.gt(5).and(n.lte(10)).or(on.isTrue()))
    .then(square({ n }))
    .elif(isBig({ n }).isFalse())
    .then(square({ n: 0 }))
    .else()
    .then(square({ n: 1 }));
  exactly<ReturnType<typeof square>>()(chosen);
  // @ts-expect-error comparing an int with a string
  n.gt("5");
  // @ts-expect-error comparing an int reference with a float reference
  n.eq(x);
  // @ts-expect-error ordering booleans
  on.gt(true);
  // @ts-expect-error isTrue() on an int
  n.isTrue();
  conditional("mixed")
    .if(n.gt(0))
    .then(square({ n }))
    // @ts-expect-error a case giving a string where the first case gives an int
    .elif(n.lt(0)).then(describeN({ n }))
    .else()
    .fail("zero");
  conditional("floaty")
    .if(n.gt(0))
    .then(square({ n }))
    .else()
    // @ts-expect-error an else giving a float where the first case gives an int
    .then(halve({ x }));
  // @ts-expect-error a conditional without an else gives no outputs to use
  square({ n: conditional("open").if(n.gt(0)).then(square({ n })) });
  return chosen;
});

export const maps = workflow({ inputs: { ns: t.list(t.int()), xs: t.list(t.float()) }, outputs: { all: t.list(t.int()), some: t.list(t.optional(t.int())) } }, ({ ns, xs }) => {
  const all = map(square, { concurrency: 4 })({ n: ns });
  const some = map(square, { minSuccessRatio: 0.5 })({ n: ns });
  exactly<ReturnType<typeof counts>>()(all);
  const sums = map(pair)({ a: ns, b: 1 });
  takeInts({ ns: sums.sum });
  // @ts-expect-error mapping floats into an int input
  map(square)({ n: xs });
  // @ts-expect-error a map's optional elements where plain ints are expected
  takeInts({ ns: some });
  // @ts-expect-error a map without one of the task's inputs
  map(pair)({ a: ns });
  return { all, some };
});

export const ordered = workflow({ inputs: { n: t.int() }, outputs: t.int() }, ({ n }) => {
  const first = logLine({ text: "first" });
  const second = after(square({ n }).with({ retries: 2, timeout: "1m", requests: { cpu: "1" }, cache: false }), first);
  exactly<ReturnType<typeof square>>()(second);
  // @ts-expect-error an override that does not exist
  square({ n }).with({ retry: 2 });
  return second;
});

export const grows = dynamic({ inputs: { k: t.int() }, outputs: t.list(t.int()) }, ({ k }) => {
  exactly<number>()(k);
  return Array.from({ length: k }, (_, i) => square({ n: i }));
});
// @ts-expect-error a dynamic body returning strings for a list of ints
export const growsWrong = dynamic({ inputs: { k: t.int() }, outputs: t.list(t.int()) }, ({ k }) => [describeN({ n: k })]);

const cleanup = task({ inputs: { n: t.int(), err: t.error() } }, ({ err }) => void err.message);
export const guarded = workflow({ inputs: { n: t.int() }, outputs: t.int(), onFailure: cleanup }, ({ n }) => square({ n }));

// ---- Gates: an approved value keeps its type, a signal's value has the declared type, a sleep is a node to order by. ----

export const gatesCorrect = workflow({ inputs: { n: t.int() }, outputs: { total: t.float(), n: t.int() } }, ({ n }) => {
  const approvedTotal = approve(totalSpend({ rows: [] }).total, "total-ok", { timeout: "1h" });
  takeFloat({ x: approvedTotal });
  takeInt({ n: waitForInput("extra", { type: t.int(), timeout: "30m" }) });
  takeInts({ ns: waitForInput("many", { type: t.list(t.int()) }) });
  after(logLine({ text: "later" }), sleep("10m"));
  return { total: approvedTotal, n: approve(n, "n-ok") };
});

export const gatesMisused = workflow({ inputs: { n: t.int() } }, ({ n }) => {
  // @ts-expect-error a waitForInput value of type string wired into a t.int() input
  takeInt({ n: waitForInput("text", { type: t.string() }) });
  // @ts-expect-error a waitForInput value of type int wired into a t.float() input
  takeFloat({ x: waitForInput("count", { type: t.int() }) });
  // @ts-expect-error an approved int wired into a t.float() input: approve passes the value on with its own type
  takeFloat({ x: approve(n, "n-ok") });
  // @ts-expect-error approving a call that has no outputs (Flyte cannot approve nothing)
  approve(logLine({ text: "x" }), "log-ok");
  // @ts-expect-error a sleep used as a value: it only orders nodes
  takeInt({ n: sleep("1m") });
  // @ts-expect-error waitForInput without the type of the value it waits for
  waitForInput("untyped", { timeout: "1h" });
});
