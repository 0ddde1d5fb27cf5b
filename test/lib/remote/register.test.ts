// What `register` and `run --remote` send, and in which order: a workflow after the launch plans it calls, a launch
// plan after its workflow, and for one entity exactly what it needs. Real compiles of the golden fixtures.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { before, test } from "node:test";
import { compileProject, type CompiledProject } from "../../../src/lib/compiler/compile.js";
import { closureOf, registrationPlan } from "../../../src/lib/remote/register.js";

const fixture = fileURLToPath(new URL("../../fixtures/golden/launch-plans.ts", import.meta.url));
let compiled: CompiledProject;

before(async () => {
  compiled = await compileProject({ paths: [fixture], version: "v1", image: "golden:1" });
});

const names = (plan: { kind: string; name: string }[]) => plan.map((p) => `${p.kind}:${p.name}`).sort();

test("the plan: every entity once, a workflow after the launch plans it calls, a launch plan after its workflow", () => {
  const plan = registrationPlan(compiled);
  assert.deepEqual(names(plan), [
    "launchPlan:daily_report",
    "launchPlan:hourly_report",
    "launchPlan:launch-plans.daily",
    "launchPlan:launch-plans.usesPlan",
    "task:launch-plans.report",
    "workflow:launch-plans.daily",
    "workflow:launch-plans.usesPlan",
  ]);
  const after = Object.fromEntries(plan.map((p) => [`${p.kind}:${p.name}`, p.after]));
  assert.deepEqual(after["workflow:launch-plans.usesPlan"], ["launchPlan:hourly_report"]);
  assert.deepEqual(after["launchPlan:hourly_report"], ["workflow:launch-plans.daily"]);
  assert.deepEqual(after["task:launch-plans.report"], []);
});

test("one entity's closure: a task alone; a workflow with its tasks, the plans it calls and theirs, and its default plan", () => {
  assert.deepEqual(names(closureOf(compiled, "task", "launch-plans.report")), ["task:launch-plans.report"]);
  assert.deepEqual(names(closureOf(compiled, "workflow", "launch-plans.usesPlan")), [
    "launchPlan:hourly_report",
    "launchPlan:launch-plans.usesPlan",
    "task:launch-plans.report",
    "workflow:launch-plans.daily",
    "workflow:launch-plans.usesPlan",
  ]);
  assert.deepEqual(names(closureOf(compiled, "launchPlan", "daily_report")), ["launchPlan:daily_report", "task:launch-plans.report", "workflow:launch-plans.daily"]);
});

test("a closure holding a dynamic workflow is everything compiled with it: what its body calls is known only when it runs", async () => {
  const example = fileURLToPath(new URL("../../../examples/control-flow.ts", import.meta.url));
  const project = await compileProject({ paths: [example], version: "v1", image: "golden:1" });
  const closure = names(closureOf(project, "workflow", "examples.control-flow.priceOrders"));
  assert.ok(closure.includes("task:examples.control-flow.audit"), "audit, which only the dynamic auditEach calls, is registered");
  assert.deepEqual(closure, names(registrationPlan(project)));
});
