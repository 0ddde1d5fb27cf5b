// The engine on registered IR: each golden workflow, compiled by the real compiler and run from its templates, gives
// the same outputs and node ids as the same workflow run from its SDK entities. Tasks run in-process, looked up by name.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema, type LiteralMap } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { LaunchPlanSpecSchema } from "../../../src/lib/idl/gen/flyteidl/admin/launch_plan_pb.js";
import { compileProject, type CompiledProject } from "../../../src/lib/compiler/compile.js";
import { runExecution } from "../../../src/lib/engine/engine.js";
import { executableFromIr, idKey, type IrClosure } from "../../../src/lib/engine/from-ir.js";
import { InProcessRunner } from "../../../src/lib/engine/in-process.js";
import type { AttemptOutcome, TaskAttempt, TaskRunner } from "../../../src/lib/engine/runner.js";
import type { TaskDefinition } from "../../../src/lib/sdk/entity.js";
import { MemoryBlobStore } from "../../../src/lib/storage/memory-store.js";
import { t } from "../../../src/index.js";

const fixtures = fileURLToPath(new URL("../../fixtures/golden/", import.meta.url));
let compiled: Promise<CompiledProject> | undefined;
const compileFixtures = () => (compiled ??= compileProject({ paths: [fixtures], version: "v1", image: "golden:1" }));

/** Runs a registered template's task with the SDK definition of the same name: a runner double for these tests. */
class ByNameRunner implements TaskRunner {
  readonly name = "by-name";
  private readonly inner = new InProcessRunner();
  constructor(private readonly definitions: ReadonlyMap<string, TaskDefinition>) {}
  run(attempt: TaskAttempt): Promise<AttemptOutcome> {
    assert.ok(attempt.task.template, "an IR task carries its template");
    assert.ok(attempt.taskId, "an IR task carries its registered id");
    const definition = this.definitions.get(attempt.task.name);
    assert.ok(definition, `no SDK task named ${attempt.task.name}`);
    return this.inner.run({ ...attempt, task: { ...attempt.task, definition } });
  }
}

function closureOf(project: CompiledProject): IrClosure {
  return {
    tasks: new Map(project.tasks.map((t) => [idKey(t.spec.template!.id!), t.spec.template!])),
    workflows: new Map(project.workflows.flatMap((w) => [w.spec.template!, ...w.spec.subWorkflows].map((tpl) => [idKey(tpl.id!), tpl]))),
    // Through the bytes the registry stores, as the control plane reads them.
    launchPlans: new Map(project.launchPlans.map((l) => [idKey(l.launchPlan.id!), fromBinary(LaunchPlanSpecSchema, toBinary(LaunchPlanSpecSchema, l.launchPlan.spec!))])),
  };
}

async function runBoth(name: string, inputs: LiteralMap): Promise<{ ir: LiteralMap; sdk: LiteralMap; irNodes: string[] }> {
  const project = await compileFixtures();
  const definitions = new Map(project.entities.filter((e) => e.kind === "task").map((e) => [e.name, e.definition as TaskDefinition]));
  const plan = project.launchPlans.find((l) => l.name === name);
  assert.ok(plan, `no launch plan ${name}`);
  const executable = executableFromIr({ kind: "launchPlan", id: plan.launchPlan.id! }, closureOf(project));
  const blobs = new MemoryBlobStore();
  const nodes: string[] = [];
  const runner = new ByNameRunner(definitions);
  const recording: TaskRunner = { name: "recording", run: (a) => (nodes.push(a.nodeId), runner.run(a)) };
  const ir = await runExecution({ key: { project: "p", domain: "d", name: "ir" }, executable, launch: { kind: "launchPlan", name, version: "v1" }, inputs }, { blobs, runner: recording });
  assert.equal(ir.record.phase, "SUCCEEDED", JSON.stringify(ir.failure?.error));
  const entity = project.entities.find((e) => e.name === name)!.entity;
  const names = new Map(project.entities.map((e) => [e.definition, e.name]));
  const { definitionOf } = await import("../../../src/lib/sdk/entity.js");
  const sdk = await runExecution(
    { key: { project: "p", domain: "d", name: "sdk" }, entity, nameOf: (e) => names.get(definitionOf(e)!) ?? "?", launch: { kind: "workflow", name, version: "local" }, inputs },
    { blobs, runner: new InProcessRunner() },
  );
  assert.equal(sdk.record.phase, "SUCCEEDED");
  return { ir: ir.outputs!, sdk: sdk.outputs!, irNodes: nodes.sort() };
}

const ints = (values: Record<string, number>) =>
  create(LiteralMapSchema, { literals: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, t.int().toLiteral(v, k)])) });

describe("the engine on registered IR", () => {
  test("a diamond gives the SDK run's outputs", async () => {
    const project = await compileFixtures();
    const diamond = project.launchPlans.find((l) => l.name.startsWith("diamond."))!;
    const inputs = Object.keys(diamond.launchPlan.spec!.defaultInputs!.parameters);
    const { ir, sdk } = await runBoth(diamond.name, ints(Object.fromEntries(inputs.map((n) => [n, 3]))));
    assert.deepEqual(toBinary(LiteralMapSchema, ir), toBinary(LiteralMapSchema, sdk));
  });

  test("a subworkflow called twice runs its nodes with the SDK's unique ids", async () => {
    const { ir, sdk, irNodes } = await runBoth("subworkflow.outer", ints({ x: 5 }));
    assert.deepEqual(toBinary(LiteralMapSchema, ir), toBinary(LiteralMapSchema, sdk));
    assert.deepEqual(irNodes, ["n0-0-n0", "n1-0-n0"]);
    assert.equal(t.int().fromLiteral(ir.literals.twice, "twice"), 7);
  });

  test("a launch plan's fixed input cannot be given, and a missing input is named", async () => {
    const project = await compileFixtures();
    const plan = project.launchPlans.find((l) => l.name === "daily_report")!;
    const executable = executableFromIr({ kind: "launchPlan", id: plan.launchPlan.id! }, closureOf(project));
    assert.throws(() => executable.completeInputs(create(LiteralMapSchema, { literals: { region: t.string().toLiteral("x", "region") } })), /region is fixed by the launch plan.*missing input day/);
    const complete = executable.completeInputs(create(LiteralMapSchema, { literals: { day: t.datetime().toLiteral(new Date(0), "day") } }));
    assert.equal(t.string().fromLiteral(complete.literals.region, "region"), "us");
  });

  test("a reference the closure lacks is named", async () => {
    const project = await compileFixtures();
    const plan = project.launchPlans.find((l) => l.name === "subworkflow.outer")!;
    const closure = closureOf(project);
    const tasks = new Map([...closure.tasks].filter(([key]) => !key.includes("subworkflow.inc")));
    assert.throws(
      () => executableFromIr({ kind: "launchPlan", id: plan.launchPlan.id! }, { ...closure, tasks }),
      /task flytesnacks\/development\/subworkflow\.inc\/v1 is not registered/,
    );
  });
});
