// Golden DOT for each control-flow node kind, drawn from the hand-written IR fixture: branches (elif, else-error,
// nested), array nodes over a task, a launch plan and a subworkflow, gates, and the failure node flytectl omits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromJson } from "@bufbuild/protobuf";
import { workflowToDot } from "../../src/render/workflow-graph.js";
import { TaskCreateRequestSchema } from "../../src/lib/idl/gen/flyteidl/admin/task_pb.js";
import { WorkflowCreateRequestSchema } from "../../src/lib/idl/gen/flyteidl/admin/workflow_pb.js";

const goldenDir = fileURLToPath(new URL("./golden/", import.meta.url));
const update = process.env.UPDATE_GOLDEN === "1";
const fixture = JSON.parse(readFileSync(new URL("../fixtures/control-flow-ir/control-flow.json", import.meta.url), "utf8"));
const tasks = fixture.entities.filter((e: any) => e.task).map((e: any) => fromJson(TaskCreateRequestSchema, e.task).spec!.template!);
const workflows = fixture.entities.filter((e: any) => e.workflow).map((e: any) => fromJson(WorkflowCreateRequestSchema, e.workflow).spec!.template!);

function golden(name: string): string {
  const workflow = workflows.find((w: any) => w.id.name === `cf.${name}`);
  assert.ok(workflow, `no workflow cf.${name} in the fixture`);
  const dot = workflowToDot({ workflow, subWorkflows: workflows, tasks });
  const path = join(goldenDir, `control-flow-${name}.dot`);
  if (update || !existsSync(path)) {
    assert.ok(update, `golden file control-flow-${name}.dot is missing; run UPDATE_GOLDEN=1 and review it`);
    mkdirSync(goldenDir, { recursive: true });
    writeFileSync(path, dot);
  }
  assert.equal(dot, readFileSync(path, "utf8"), `DOT differs from test/render/golden/control-flow-${name}.dot`);
  // Byte-stable whatever order the template lists its nodes in.
  const reversed = { ...workflow, nodes: [...workflow.nodes].reverse() };
  assert.equal(workflowToDot({ workflow: reversed, subWorkflows: workflows, tasks }), dot);
  return dot;
}

test("golden: a branch with an elif and an else that fails", () => {
  const dot = golden("branchy");
  assert.match(dot, /"n0" -> "n0-n0" \[label="x > 5"\];/);
  assert.match(dot, /"n0" -> "n0-error" \[label="else"\];/);
});

test("golden: a branch nested in a branch", () => {
  const dot = golden("nested");
  assert.match(dot, /subgraph "cluster_n1" \{[\s\S]*subgraph "cluster_n1-n0" \{/);
  assert.match(dot, /"n1-n0" -> "n1-n0-n0" \[label="y < 1000"\];/);
});

test("golden: an array node over a task, one over a launch plan, one over a subworkflow", () => {
  assert.match(golden("mapped"), /"n0" \[label="scale \[python-task\] \[map\]", shape=box3d\];/);
  assert.match(golden("lp_map"), /"n0" \[label="square_lp \[launch plan\] \[map\]", shape=box3d\];/);
  assert.match(golden("sub_map"), /"n0" \[label="square_wf \[subworkflow\] \[map\]", shape=box3d\];/);
});

test("golden: approve, signal and sleep gates", () => {
  const dot = golden("gates");
  assert.match(dot, /"n1" \[label="approve review-square \[gate\]", shape=hexagon\];/);
  assert.match(dot, /"n2" \[label="signal extra \[gate\]", shape=hexagon\];/);
  assert.match(dot, /"n3" \[label="sleep 10s \[gate\]", shape=hexagon\];/);
});

test("golden: the failure node, a red box reached from start by a dashed edge", () => {
  const dot = golden("with_cleanup");
  assert.match(dot, /"fn0" \[label="clean_up \[python-task\]", shape=box, color=red\];/);
  assert.match(dot, /"start-node" -> "fn0" \[label="on failure", style=dashed, color=red\];/);
  // It is no part of the graph: nothing else leads to it and it leads nowhere.
  assert.equal(dot.match(/-> "fn0"/g)?.length, 1);
  assert.doesNotMatch(dot, /"fn0" ->/);
});
