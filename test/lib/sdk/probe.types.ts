import { task, workflow, launchPlan, t } from "tsflyte";
import { z } from "zod";

const Employee = z.object({ name: z.string(), pay: z.number() });
const Named = z.object({ name: z.string() });
const Other = z.object({ id: z.string() });

export const payMultiplier = task(
  { inputs: { rows: t.list(t.struct(Employee)), scalar: t.int() }, outputs: t.list(t.struct(Employee)) },
  async ({ rows, scalar }) => rows.map((r) => ({ ...r, pay: r.pay * scalar })),
);
export const totalSpend = task(
  { inputs: { rows: t.list(t.struct(Employee)) }, outputs: { total: t.float(), count: t.int() } },
  async ({ rows }) => ({ total: rows.reduce((s, r) => s + r.pay, 0), count: rows.length }),
);
const label = task({ inputs: {}, outputs: t.string() }, () => "x");
const count = task({ outputs: t.int() }, () => 1);
const counts = task({ outputs: t.list(t.int()) }, () => [1]);
const takeInt = task({ inputs: { n: t.int() } }, () => undefined);
const takeFloat = task({ inputs: { x: t.float() } }, () => undefined);
const takeNamed = task({ inputs: { who: t.struct(Named) } }, () => undefined);
const takeOther = task({ inputs: { who: t.struct(Other) } }, () => undefined);
const color = task({ outputs: t.enum(["red", "green"]) }, () => "red" as const);
const takeColor = task({ inputs: { c: t.enum(["red", "green"]) } }, () => undefined);
const takeString = task({ inputs: { s: t.string() } }, () => undefined);
const takeOptInt = task({ inputs: { n: t.optional(t.int()) } }, () => undefined);
const takeUnion = task({ inputs: { u: t.union(t.int(), t.string()) } }, () => undefined);
const intOrFloat = task({ outputs: t.union(t.int(), t.float()) }, () => 1);
const takeDuration = task({ inputs: { d: t.duration() } }, () => undefined);
const takeFile = task({ inputs: { f: t.file() } }, () => undefined);
const nothing = task({}, () => undefined);

export const w1 = workflow({ inputs: { emp: t.list(t.struct(Employee)) } }, ({ emp }) => {
  // @ts-expect-error A
  takeInt({ n: label() });
  // @ts-expect-error B
  takeFloat({ x: count() });
  // @ts-expect-error C
  payMultiplier({ rows: emp });
  // @ts-expect-error D
  payMultiplier({ rows: emp, scalar: 2, bogus: 1 });
  // @ts-expect-error E
  payMultiplier({ rows: emp, scalar: "3" });
  // @ts-expect-error F
  takeFloat({ x: totalSpend({ rows: emp }).totl });
  // @ts-expect-error G
  takeFloat({ x: totalSpend({ rows: emp }) });
  // @ts-expect-error H
  takeInt({ n: counts() });
  // @ts-expect-error I
  takeOther({ who: { name: "a" } });
  // @ts-expect-error J
  takeColor({ c: "blue" });
  // @ts-expect-error K struct subset
  takeNamed({ who: payMultiplier({ rows: emp, scalar: 1 }) });
  // @ts-expect-error L union mismatch
  takeUnion({ u: intOrFloat() });
  // @ts-expect-error M int 1.5
  takeInt({ n: 1.5 });
  // @ts-expect-error N duration string
  takeDuration({ d: "90s" });
  // @ts-expect-error O file string
  takeFile({ f: "s3://bucket/key" });
  // @ts-expect-error P node handle
  takeInt({ n: nothing() });
  // @ts-expect-error Q optional into int
  takeInt({ n: task({ outputs: t.optional(t.int()) }, () => null)() });
  // positive
  takeString({ s: color() });
  takeOptInt({ n: count() });
  takeOptInt({});
  takeColor({ c: label() });
  const struct0 = { name: "a", pay: 1 };
  const [first] = [struct0];
  takeNamed({ who: first });
});

// @ts-expect-error R fn wrong type
export const badFn = task({ inputs: { n: t.int() }, outputs: t.string() }, ({ n }) => n * 2);
// @ts-expect-error S fn missing named output
export const badFn2 = task({ outputs: { total: t.float(), count: t.int() } }, () => ({ total: 1 }));
// @ts-expect-error T extra named output
export const badFn3 = task({ outputs: { total: t.float() } }, () => ({ total: 1, count: 2 }));
// @ts-expect-error U destructures unknown input
export const badFn4 = task({ inputs: { n: t.int() } }, ({ m }) => m);
// @ts-expect-error V cache.ignoredInputs
export const badCache = task({ inputs: { n: t.int() }, cache: { version: "1", ignoredInputs: ["m"] } }, () => undefined);
// @ts-expect-error W wf returns wrong type
export const badWf = workflow({ outputs: t.float() }, () => label());
// @ts-expect-error X wf returns int into float
export const badWf2 = workflow({ outputs: t.float() }, () => count());
// @ts-expect-error Y wf missing named output
export const badWf3 = workflow({ outputs: { a: t.int(), b: t.int() } }, () => ({ a: count() }));
// @ts-expect-error Z wf extra named output
export const badWf4 = workflow({ outputs: { a: t.int() } }, () => ({ a: count(), b: count() }));
// @ts-expect-error AA async wf body, no outputs
export const badWf5 = workflow({}, async () => { nothing(); });
// @ts-expect-error AB async wf body with output
export const badWf6 = workflow({ outputs: t.int() }, async () => count());

export const calc = workflow(
  { inputs: { emp: t.list(t.struct(Employee)), scalar: t.int().default(2) }, outputs: t.float() },
  ({ emp, scalar }) => totalSpend({ rows: payMultiplier({ rows: emp, scalar }) }).total,
);
export const sched = workflow({ inputs: { at: t.datetime(), n: t.int() } }, () => undefined);

// @ts-expect-error AC fixed unknown
export const lp1 = launchPlan({ name: "a", workflow: calc, fixedInputs: { bogus: 3 } });
// @ts-expect-error AD fixed wrong type
export const lp2 = launchPlan({ name: "b", workflow: calc, fixedInputs: { scalar: "3" } });
// @ts-expect-error AE default unknown
export const lp3 = launchPlan({ name: "c", workflow: calc, defaultInputs: { bogus: 3 } });
// @ts-expect-error AF default wrong type
export const lp4 = launchPlan({ name: "d", workflow: calc, defaultInputs: { emp: 3 } });
// @ts-expect-error AG kickoff not an input
export const lp5 = launchPlan({ name: "e", workflow: sched, fixedInputs: { n: 1 }, schedule: { cron: "@daily", kickoffTimeInput: "nope" } });
// @ts-expect-error AH kickoff not datetime
export const lp6 = launchPlan({ name: "f", workflow: sched, fixedInputs: { n: 1 }, schedule: { cron: "@daily", kickoffTimeInput: "n" } });
export const nightly = launchPlan({ name: "nightly", workflow: calc, fixedInputs: { scalar: 3 }, defaultInputs: { emp: [] } });

export const w2 = workflow({ inputs: { emp: t.list(t.struct(Employee)) }, outputs: t.float() }, ({ emp }) => {
  // @ts-expect-error AI fixed input passed to LP
  nightly({ emp, scalar: 4 });
  // @ts-expect-error AJ LP required missing
  launchPlan({ name: "g", workflow: calc })({});
  nightly({});
  nightly();
  const sub = calc({ emp });
  return nightly({ emp }) ?? sub;
});

export async function direct(): Promise<void> {
  const x: number = (await totalSpend({ rows: [] })).total;
  const y: string = (await totalSpend({ rows: [] })).total;
  void x; void y;
}
