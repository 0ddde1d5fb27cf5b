// The live progress of `run --remote --wait`: the one status line a terminal redraws, and the change lines a pipe
// or log file gets instead.
import assert from "node:assert/strict";
import { test } from "node:test";
import { progressChanges, progressLine } from "../../src/render/progress.js";
import type { ProgressSnapshot } from "../../src/lib/remote/executions.js";
import type { ExecutionView } from "../../src/lib/engine/history.js";

function snapshot(phase: ExecutionView["phase"], nodes: [string, string][]): ProgressSnapshot {
  const execution = { name: "a1", project: "p", domain: "d", launched: { kind: "workflow", name: "wf", version: "v" }, phase, mode: "MANUAL", createdAt: "", execution: {} } as ExecutionView;
  return { execution, nodes: nodes.map(([nodeId, p]) => ({ nodeId, phase: p as ProgressSnapshot["nodes"][number]["phase"] })) };
}

test("the status line shows the phase, a bar of nodes done, what runs and what failed", () => {
  const line = progressLine(snapshot("RUNNING", [["n0", "SUCCEEDED"], ["n1", "RUNNING"], ["n2", "FAILED"], ["n3", "QUEUED"]]), 8);
  assert.equal(line, "RUNNING    [████░░░░]  2/4 nodes  running n1, n3  failed n2");
  assert.equal(progressLine(snapshot("QUEUED", []), 4), "QUEUED     [░░░░]  0/0 nodes");
});

test("change lines: the start first, each node as it changes, the end last", () => {
  const first = snapshot("RUNNING", [["n0", "RUNNING"]]);
  assert.deepEqual(progressChanges(undefined, first), ["execution RUNNING", "n0 RUNNING"]);
  const same = snapshot("RUNNING", [["n0", "RUNNING"]]);
  assert.deepEqual(progressChanges(first, same), []);
  const done = snapshot("SUCCEEDED", [["n0", "SUCCEEDED"], ["n1", "SUCCEEDED"]]);
  assert.deepEqual(progressChanges(same, done), ["n0 SUCCEEDED", "n1 SUCCEEDED", "execution SUCCEEDED"]);
});
