// Employee spend: a chain of two tasks behind a workflow, and a nightly launch plan with a schedule.
import { task, workflow, launchPlan, t } from "tsflyte";
import { z } from "zod";

const Employee = z.object({ name: z.string(), pay: z.number() });

export const payMultiplier = task(
  {
    inputs: { rows: t.list(t.struct(Employee)), scalar: t.int() },
    outputs: t.list(t.struct(Employee)), // a single output is named o0
    cache: { version: "1.0" },
    retries: 2,
    timeout: "10m",
    interruptible: false,
    requests: { cpu: "1", mem: "100Mi" },
    limits: { cpu: "2", mem: "150Mi" },
  },
  async ({ rows, scalar }) => rows.map((r) => ({ ...r, pay: r.pay * scalar })),
);

export const totalSpend = task(
  { inputs: { rows: t.list(t.struct(Employee)) }, outputs: { total: t.float(), count: t.int() } },
  async ({ rows }) => ({ total: rows.reduce((s, r) => s + r.pay, 0), count: rows.length }),
);

export const calculateSpend = workflow(
  { inputs: { emp: t.list(t.struct(Employee)), scalar: t.int().default(2) }, outputs: t.float() },
  ({ emp, scalar }) => totalSpend({ rows: payMultiplier({ rows: emp, scalar }) }).total,
);

export const nightly = launchPlan({
  name: "nightly_spend",
  workflow: calculateSpend,
  fixedInputs: { scalar: 3 },
  defaultInputs: { emp: [] },
  schedule: { cron: "0 2 * * *" },
});
