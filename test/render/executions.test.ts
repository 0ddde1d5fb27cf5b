// `get execution` output from hand-made history: the list table, one execution, the details tree, and the
// JSON and YAML contracts parsed back. Golden strings: the same view must always print the same text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { toExecutionView, type ExecutionDetailsView } from "../../src/lib/engine/history.js";
import { formatElapsed, renderExecution, renderExecutionDetails, renderExecutionList } from "../../src/render/executions.js";
import { executionRecord, failedDetails, t0 } from "./history-fixtures.js";

const newest = toExecutionView(
  executionRecord({ name: "b9", mode: "RECOVERED", sourceExecution: "a1b2c3", createdAt: t0 + 60_000, startedAt: t0 + 60_000, endedAt: t0 + 184_500 }),
);
const running = toExecutionView(
  executionRecord({ name: "c7", launchKind: "task", launchName: "examples.spend.payMultiplier", phase: "RUNNING", endedAt: undefined, outputsUri: undefined }),
);
const manual = toExecutionView(executionRecord());

test("the list table: newest first as given, aligned, MODE only when some run is not MANUAL", () => {
  assert.equal(
    renderExecutionList([newest, running, manual], "table"),
    [
      "NAME    LAUNCHED                       PHASE      STARTED               DURATION  MODE",
      "b9      examples.spend.calculateSpend  SUCCEEDED  2024-05-01T12:01:00Z      2m5s  RECOVERED",
      "c7      examples.spend.payMultiplier   RUNNING    2024-05-01T12:00:00Z",
      "a1b2c3  examples.spend.calculateSpend  SUCCEEDED  2024-05-01T12:00:00Z     1.31s",
    ].join("\n"),
  );
  assert.equal(
    renderExecutionList([running, manual], "table"),
    [
      "NAME    LAUNCHED                       PHASE      STARTED               DURATION",
      "c7      examples.spend.payMultiplier   RUNNING    2024-05-01T12:00:00Z",
      "a1b2c3  examples.spend.calculateSpend  SUCCEEDED  2024-05-01T12:00:00Z     1.31s",
    ].join("\n"),
  );
  assert.equal(renderExecutionList([], "table"), "No executions found.");
});

test("a list column that is blank in every row is left out (flytectl prints it empty)", () => {
  const queued = toExecutionView(executionRecord({ name: "q1", phase: "QUEUED", startedAt: undefined, endedAt: undefined }));
  assert.equal(
    renderExecutionList([queued], "table"),
    ["NAME  LAUNCHED                       PHASE", "q1    examples.spend.calculateSpend  QUEUED"].join("\n"),
  );
});

test("list JSON and YAML are FlyteAdmin Executions, every field present", () => {
  const list = JSON.parse(renderExecutionList([newest, running], "json")) as Record<string, any>[];
  assert.equal(list.length, 2);
  assert.deepEqual(list[0].id, { project: "flytesnacks", domain: "development", name: "b9", org: "" });
  assert.equal(list[0].spec.metadata.mode, "RECOVERED");
  assert.deepEqual(list[0].spec.metadata.referenceExecution, { project: "flytesnacks", domain: "development", name: "a1b2c3", org: "" });
  assert.equal(list[0].spec.launchPlan.resourceType, "LAUNCH_PLAN");
  assert.equal(list[0].closure.phase, "SUCCEEDED");
  assert.equal(list[0].closure.duration, "124.500s");
  assert.equal(list[0].closure.outputs.uri, "file:///data/metadata/flytesnacks-development-a1b2c3/outputs.pb");
  assert.equal(list[1].spec.launchPlan.resourceType, "TASK");
  assert.equal(list[1].spec.metadata.mode, "MANUAL");
  assert.equal(list[1].closure.workflowId, undefined);
  assert.equal(list[1].closure.duration, undefined);
  assert.deepEqual(parse(renderExecutionList([newest, running], "yaml")), list);
});

test("one execution: a one-row table, and in JSON the same object as in the list", () => {
  assert.equal(
    renderExecution(manual, "table"),
    ["NAME    LAUNCHED                       PHASE      STARTED               DURATION", "a1b2c3  examples.spend.calculateSpend  SUCCEEDED  2024-05-01T12:00:00Z     1.31s"].join("\n"),
  );
  const one = JSON.parse(renderExecution(manual, "json"));
  assert.deepEqual(one, JSON.parse(renderExecutionList([manual], "json"))[0]);
  assert.equal(one.spec.maxParallelism, 25);
  assert.equal(one.spec.overwriteCache, false);
  assert.equal(renderExecution(manual, "json"), JSON.stringify(one, null, 2));
  assert.deepEqual(parse(renderExecution(manual, "yaml")), one);
});

test("details table: header, then a tree with the subworkflow's children, cache statuses and attempts", () => {
  assert.equal(
    renderExecutionDetails(failedDetails(), "table"),
    [
      "Execution  a1b2c3  (flytesnacks/development)",
      "Launched   examples.spend.calculateSpend  (workflow, version local)",
      "Phase      FAILED",
      "Started    2024-05-01T12:00:00Z",
      "Duration   1.31s",
      'Inputs     emp: {"name":"ann","spend":[1,-3]}',
      "           year: 2024",
      "Error      USER: node n1 failed: node n1-0-n1 failed",
      "Nodes",
      "├─ n0          examples.spend.payMultiplier  SUCCEEDED  0.01s  CACHE_HIT",
      "└─ n1          examples.spend.totals         FAILED     1.25s",
      "   ├─ n1-0-n0  examples.spend.sumSpend       SUCCEEDED  0.10s  CACHE_POPULATED",
      "   └─ n1-0-n1  examples.spend.totalSpend     FAILED     0.90s  CACHE_MISS",
      "      ├─ attempt 1 of 3 FAILED USER: spend must not be negative: -3",
      "      ├─ attempt 2 of 3 FAILED USER: spend must not be negative: -3",
      "      └─ attempt 3 of 3 FAILED USER: spend must not be negative: -3",
    ].join("\n"),
  );
});

test("details table: a succeeded run shows outputs, a recovered node where it came from, CACHE_DISABLED not at all; attempts count what retries allow", () => {
  const record = executionRecord({ mode: "RECOVERED", sourceExecution: "x0" });
  const view: ExecutionDetailsView = {
    ...failedDetails(),
    execution: JSON.parse(renderExecution(toExecutionView(record), "json")),
    outputs: { total: 42 },
    inputs: {},
    nodes: [
      { nodeId: "n0", specNodeId: "n0", entity: { kind: "task", name: "a.b.first" }, phase: "RECOVERED", recoveredFrom: "x0", attempts: [] },
      {
        nodeId: "n1",
        specNodeId: "n1",
        entity: { kind: "task", name: "a.b.second" },
        phase: "SUCCEEDED",
        cacheStatus: "CACHE_DISABLED",
        duration: "75.000s",
        retries: 2,
        attempts: [
          { attempt: 1, phase: "FAILED", runner: "subprocess", startedAt: "2024-05-01T12:00:00.000Z", error: { kind: "SYSTEM", code: "WorkerExited", message: "worker exited with code 137\nOOM?", recoverable: true } },
          { attempt: 2, phase: "SUCCEEDED", runner: "subprocess", startedAt: "2024-05-01T12:00:01.000Z" },
        ],
      },
    ],
  };
  assert.equal(
    renderExecutionDetails(view, "table"),
    [
      "Execution  a1b2c3  (flytesnacks/development)",
      "Launched   examples.spend.calculateSpend  (workflow, version local)",
      "Mode       RECOVERED from x0",
      "Phase      SUCCEEDED",
      "Started    2024-05-01T12:00:00Z",
      "Duration   1.31s",
      "Inputs     (none)",
      "Outputs    total: 42",
      "Nodes",
      "├─ n0  a.b.first   RECOVERED         recovered from x0",
      "└─ n1  a.b.second  SUCCEEDED  1m15s",
      // retries: 2 allows 3 attempts; the second one succeeded.
      "   ├─ attempt 1 of 3 FAILED SYSTEM: worker exited with code 137 …",
      "   └─ attempt 2 of 3 SUCCEEDED",
    ].join("\n"),
  );
});

test("details JSON and YAML: the view itself, with the admin Execution, values, nested children and attempts", () => {
  const details = failedDetails();
  const json = JSON.parse(renderExecutionDetails(details, "json"));
  assert.deepEqual(json, JSON.parse(JSON.stringify(details)));
  assert.equal(json.execution.closure.phase, "FAILED");
  assert.equal(json.execution.closure.error.message, "node n1 failed: node n1-0-n1 failed");
  assert.deepEqual(json.inputs, { emp: { name: "ann", spend: [1, -3] }, year: 2024 });
  assert.equal(json.outputs, undefined);
  assert.deepEqual(json.nodes.map((n: any) => n.nodeId), ["n0", "n1"]);
  assert.deepEqual(json.nodes[0].outputs, { o0: 1.5 });
  assert.equal(json.nodes[0].cacheStatus, "CACHE_HIT");
  const failed = json.nodes[1].children[1];
  assert.equal(failed.nodeId, "n1-0-n1");
  assert.equal(failed.specNodeId, "n1");
  assert.equal(failed.retries, 2);
  assert.deepEqual(failed.attempts.map((a: any) => [a.attempt, a.phase, a.error.kind]), [[1, "FAILED", "USER"], [2, "FAILED", "USER"], [3, "FAILED", "USER"]]);
  assert.equal(failed.attempts[0].logs, "computing totals\n");
  assert.match(failed.attempts[2].error.stack, /at totalSpend/);

  const yamlText = renderExecutionDetails(details, "yaml");
  assert.deepEqual(parse(yamlText), json);
  assert.match(yamlText, /^ {6}- nodeId: n1-0-n1$/m);
});

test("colors only when asked for, and never inside the widths", () => {
  const plain = renderExecutionList([manual], "table");
  assert.ok(!plain.includes("\u001b["));
  const colored = renderExecutionList([manual], "table", { color: true });
  assert.ok(colored.includes("\u001b[32mSUCCEEDED\u001b[0m"));
  const ansi = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, "g");
  assert.equal(colored.replace(ansi, ""), plain);
});

test("elapsed times read like people write them", () => {
  assert.equal(formatElapsed("0.012s"), "0.01s");
  assert.equal(formatElapsed("59.994s"), "59.99s");
  assert.equal(formatElapsed("59.999s"), "1m0s");
  assert.equal(formatElapsed("90s"), "1m30s");
  assert.equal(formatElapsed("3723.400s"), "1h2m3s");
  assert.equal(formatElapsed(undefined), undefined);
});
