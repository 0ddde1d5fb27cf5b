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

test("a map's items: their counts on the status line, and a change line per item between the map's start and end", () => {
  const items = (list: [number, string][]) => list.map(([index, phase]) => ({ nodeId: "n1", index, phase: phase as NonNullable<ProgressSnapshot["items"]>[number]["phase"] }));
  const running = { ...snapshot("RUNNING", [["n0", "SUCCEEDED"], ["n1", "RUNNING"]]), items: items([[0, "SUCCEEDED"], [1, "RETRYABLE_FAILED"], [2, "FAILED"]]) };
  assert.equal(progressLine(running, 4), "RUNNING    [██░░]  1/2 nodes  2/3 items (1 failed)  running n1");
  assert.deepEqual(progressChanges(undefined, running), ["execution RUNNING", "n1 RUNNING", "n1[0] SUCCEEDED", "n1[1] RETRYABLE_FAILED", "n1[2] FAILED", "n0 SUCCEEDED"]);
  const finished = { ...snapshot("SUCCEEDED", [["n0", "SUCCEEDED"], ["n1", "SUCCEEDED"]]), items: items([[0, "SUCCEEDED"], [1, "SUCCEEDED"], [2, "FAILED"], [3, "SUCCEEDED"]]) };
  assert.deepEqual(progressChanges(running, finished), ["n1[1] SUCCEEDED", "n1[3] SUCCEEDED", "n1 SUCCEEDED", "execution SUCCEEDED"]);
});
