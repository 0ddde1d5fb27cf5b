// What `tsflyte run` prints on failure: the failing task nodes deepest first, their messages, and the user's
// own frames, with tsflyte's and Node's hidden unless verbose. Built from hand-made views; no store.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { executionJson, executionToAdmin, type ExecutionDetailsView, type NodeView } from "../../src/lib/engine/history.js";
import { attemptOfNode, renderErrorTrace, stackLines } from "../../src/render/error-trace.js";
import { executionRecord, failedDetails } from "./history-fixtures.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

test("the failing task node, its attempt count, message and user frames; tsflyte's and Node's frames hidden", () => {
  assert.equal(
    renderErrorTrace(failedDetails(), { verbose: false, cwd: "/home/ann/flows" }),
    [
      "Execution a1b2c3 FAILED",
      "",
      "node n1-0-n1 (examples.spend.totalSpend) failed on attempt 3 of 3: USER",
      "  spend must not be negative: -3",
      "    at totalSpend (examples/spend.ts:21:11)",
      "    at async Promise.all (index 0)",
      "    at async examples/helpers.ts:8:3",
      "    (4 tsflyte frames hidden; -v shows them)",
    ].join("\n"),
  );
});

test("verbose shows every frame and the error code; paths outside cwd stay absolute", () => {
  const text = renderErrorTrace(failedDetails(), { verbose: true, cwd: "/home/ann/flows" });
  assert.match(text, /failed on attempt 3 of 3: USER \(Error\)$/m);
  assert.match(text, /^ {4}at runTask \(\/opt\/app\/node_modules\/tsflyte\/dist\/lib\/engine\/in-process\.js:40:20\)$/m);
  assert.match(text, /^ {4}at process\.processTicksAndRejections \(node:internal\/process\/task_queues:95:5\)$/m);
  assert.match(text, /^ {4}at AsyncLocalStorage\.run \(node:async_hooks:346:14\)$/m);
  assert.match(text, /^ {4}at totalSpend \(examples\/spend\.ts:21:11\)$/m);
  assert.doesNotMatch(text, /frames? hidden/);
});

test("frames from this repository's src/lib, dist and bin count as tsflyte's; its examples do not", () => {
  const stack = [
    "TypeError: bad",
    `    at userTask (${repoRoot}/examples/spend.ts:3:9)`,
    `    at runInProcess (${repoRoot}/src/lib/engine/in-process.ts:50:7)`,
    `    at main (file://${repoRoot}/dist/index.js:1:1)`,
    `    at ${repoRoot}/bin/run.js:5:1`,
  ].join("\n");
  assert.deepEqual(stackLines(stack, { verbose: false, cwd: repoRoot }), [
    "    at userTask (examples/spend.ts:3:9)",
    "    (3 tsflyte frames hidden; -v shows them)",
  ]);
  assert.deepEqual(stackLines(stack, { verbose: false, cwd: "/elsewhere" }), [
    `    at userTask (${repoRoot}/examples/spend.ts:3:9)`,
    "    (3 tsflyte frames hidden; -v shows them)",
  ]);
  assert.deepEqual(stackLines("Error: no frames at all", { verbose: false }), []);
});

function taskNode(nodeId: string, phase: NodeView["phase"], message?: string): NodeView {
  return {
    nodeId,
    specNodeId: nodeId.split("-").at(-1)!,
    entity: { kind: "task", name: `m.${nodeId}` },
    phase,
    attempts: message
      ? [{ attempt: 1, phase: "FAILED", runner: "in-process", startedAt: "2024-05-01T12:00:00.000Z", error: { kind: "USER", code: "Error", message, recoverable: false } }]
      : [],
  };
}

function detailsOf(nodes: NodeView[], error = { kind: "USER" as const, code: "Failed", message: "workflow failed" }): ExecutionDetailsView {
  return { execution: executionJson(executionToAdmin(executionRecord({ phase: "FAILED", error }))), inputs: {}, nodes };
}

test("deepest failures first; a parent that only failed because a child did is skipped, and aborted siblings too", () => {
  const nodes: NodeView[] = [
    taskNode("n0", "FAILED", "shallow problem"),
    taskNode("n2", "ABORTED"),
    {
      ...taskNode("n1", "FAILED"),
      entity: { kind: "workflow", name: "m.sub" },
      error: { kind: "USER", code: "SubworkflowFailed", message: "child failed" },
      children: [taskNode("n1-0-n0", "SUCCEEDED"), taskNode("n1-0-n1", "FAILED", "deep problem")],
    },
  ];
  const text = renderErrorTrace(detailsOf(nodes), { verbose: false });
  assert.deepEqual(
    text.split("\n").filter((l) => l.startsWith("node ")),
    ["node n1-0-n1 (m.n1-0-n1) failed on attempt 1 of 1: USER", "node n0 (m.n0) failed on attempt 1 of 1: USER"],
  );
  assert.doesNotMatch(text, /child failed|workflow failed/);
});

test("a failed node without attempts or failed children explains itself with its own error", () => {
  const node = { ...taskNode("n2", "TIMED_OUT"), error: { kind: "SYSTEM" as const, code: "Timeout", message: "no result after 10m" } };
  const text = renderErrorTrace(detailsOf([node]), { verbose: false });
  assert.match(text, /^node n2 \(m\.n2\) timed out: SYSTEM\n {2}no result after 10m$/m);
});

test("the workflow-level message is kept when no node explains the failure", () => {
  const text = renderErrorTrace(
    detailsOf([taskNode("n0", "SUCCEEDED")], { kind: "USER", code: "OutputsMissing", message: "output total is not bound\nsecond line" }),
    { verbose: false },
  );
  assert.equal(
    text,
    [
      "Execution a1b2c3 FAILED",
      "",
      "USER:",
      "  output total is not bound",
      "  second line",
    ].join("\n"),
  );
});

test("attempts count out of what the node's retries allow; system retries beyond it count the attempts made", () => {
  const attempts = (n: number) => Array.from({ length: n }, (_, i) => ({ attempt: i + 1 }));
  // retries: 2 is three attempts, whichever one this is.
  assert.equal(attemptOfNode({ attempt: 2 }, { retries: 2, attempts: attempts(2) as NodeView["attempts"] }), "attempt 2 of 3");
  // No retries, but two worker crashes (the system budget) before it ran: three attempts were made.
  assert.equal(attemptOfNode({ attempt: 3 }, { retries: 0, attempts: attempts(3) as NodeView["attempts"] }), "attempt 3 of 3");
  // A record from before retries were kept: the attempts made.
  assert.equal(attemptOfNode({ attempt: 1 }, { attempts: attempts(2) as NodeView["attempts"] }), "attempt 1 of 2");
});
