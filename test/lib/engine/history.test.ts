// Reading the history back: FlyteAdmin-shaped messages from records, and the list and details views from a real
// SQLite file and the file blob store in temp directories, with values, logs, nesting, --nodeID and missing blobs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary, toJson } from "@bufbuild/protobuf";
import { NodeExecutionSchema } from "../../../src/lib/idl/gen/flyteidl/admin/node_execution_pb.js";
import { TaskExecutionSchema } from "../../../src/lib/idl/gen/flyteidl/admin/task_execution_pb.js";
import { LiteralMapSchema, LiteralSchema, type Literal } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import {
  describeExecution,
  executionJson,
  executionToAdmin,
  formatSeconds,
  isDetailsView,
  listExecutionViews,
  mapTaskExecutionToAdmin,
  nodeExecutionToAdmin,
  taskExecutionToAdmin,
  type ExecutionDetailsView,
  type ExecutionView,
} from "../../../src/lib/engine/history.js";
import { UserError } from "../../../src/lib/errors.js";
import { FileBlobStore } from "../../../src/lib/storage/file-store.js";
import { attemptOutputPrefix, executionInputsUri, executionOutputsUri, nodeInputsUri } from "../../../src/lib/storage/layout.js";
import { openSqliteStore } from "../../../src/lib/store/sqlite.js";
import { executionRecord, t0 } from "../../render/history-fixtures.js";
import type { NodeExecutionRecord, StoreWrite, TaskExecutionRecord } from "../../../src/lib/store/records.js";

const key = { project: "flytesnacks", domain: "development", name: "a1b2c3" };
const execution = executionRecord;

function node(nodeId: string, overrides: Partial<NodeExecutionRecord> = {}): NodeExecutionRecord {
  return {
    project: key.project,
    domain: key.domain,
    executionName: key.name,
    nodeId,
    specNodeId: nodeId.split("-").at(-1)!,
    entityKind: "task",
    entityName: `examples.spend.${nodeId}`,
    isParent: false,
    phase: "SUCCEEDED",
    createdAt: t0 + 10,
    startedAt: t0 + 10,
    updatedAt: t0 + 22,
    endedAt: t0 + 22,
    ...overrides,
  };
}

function attempt(nodeId: string, n: number, overrides: Partial<TaskExecutionRecord> = {}): TaskExecutionRecord {
  return {
    project: key.project,
    domain: key.domain,
    executionName: key.name,
    nodeId,
    attempt: n,
    taskName: `examples.spend.${nodeId}`,
    runner: "in-process",
    phase: "SUCCEEDED",
    startedAt: t0 + 100 * (n + 1),
    updatedAt: t0 + 100 * (n + 1) + 20,
    endedAt: t0 + 100 * (n + 1) + 20,
    ...overrides,
  };
}

function int(value: number): Literal {
  return create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "integer", value: BigInt(value) } } } } } });
}

function literalMap(values: Record<string, number>): Uint8Array {
  return toBinary(LiteralMapSchema, create(LiteralMapSchema, { literals: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, int(v)])) }));
}

test("executionToAdmin: a workflow launch, as FlyteAdmin returns it", () => {
  const json = executionJson(executionToAdmin(execution())) as Record<string, any>;
  assert.deepEqual(json.id, { ...key, org: "" });
  assert.deepEqual(json.spec.launchPlan, {
    resourceType: "LAUNCH_PLAN",
    project: "flytesnacks",
    domain: "development",
    name: "examples.spend.calculateSpend",
    version: "local",
    org: "",
  });
  assert.equal(json.spec.metadata.mode, "MANUAL");
  assert.equal(json.spec.metadata.referenceExecution, undefined);
  assert.deepEqual(json.spec.metadata.systemMetadata, { executionCluster: "", namespace: "" });
  assert.equal(json.spec.maxParallelism, 25);
  assert.equal(json.spec.overwriteCache, false);
  assert.equal(json.closure.phase, "SUCCEEDED");
  assert.equal(json.closure.startedAt, "2024-05-01T12:00:00.005Z");
  assert.equal(json.closure.duration, "1.312s");
  assert.equal(json.closure.createdAt, "2024-05-01T12:00:00Z");
  assert.equal(json.closure.updatedAt, "2024-05-01T12:00:01.317Z");
  assert.deepEqual(json.closure.outputs, { uri: execution().outputsUri });
  assert.equal(json.closure.error, undefined);
  assert.equal(json.closure.workflowId.resourceType, "WORKFLOW");
  assert.equal(json.closure.workflowId.name, "examples.spend.calculateSpend");
});

test("executionToAdmin: task launches, relaunch and recover references, errors instead of outputs", () => {
  const task = executionJson(
    executionToAdmin(execution({ launchKind: "task", launchName: "examples.spend.payMultiplier", mode: "RELAUNCH", sourceExecution: "x0", overwriteCache: true })),
  ) as Record<string, any>;
  assert.equal(task.spec.launchPlan.resourceType, "TASK");
  assert.equal(task.spec.metadata.mode, "RELAUNCH");
  assert.deepEqual(task.spec.metadata.referenceExecution, { project: "flytesnacks", domain: "development", name: "x0", org: "" });
  assert.equal(task.spec.overwriteCache, true);
  assert.equal(task.closure.workflowId, undefined);

  const failed = executionToAdmin(
    execution({
      launchKind: "launchPlan",
      mode: "RECOVERED",
      sourceExecution: "x1",
      phase: "FAILED",
      outputsUri: undefined,
      error: { kind: "SYSTEM", code: "Orphaned", message: "the process running it is gone", errorUri: "file:///data/e.pb" },
    }),
  );
  const json = executionJson(failed) as Record<string, any>;
  assert.equal(json.spec.launchPlan.resourceType, "LAUNCH_PLAN");
  assert.equal(json.spec.metadata.mode, "RECOVERED");
  assert.equal(json.spec.metadata.referenceExecution.name, "x1");
  assert.equal(json.closure.workflowId, undefined);
  assert.deepEqual(json.closure.error, { code: "Orphaned", message: "the process running it is gone", errorUri: "file:///data/e.pb", kind: "SYSTEM", worker: "" });
  assert.equal(json.closure.outputs, undefined);

  const running = executionJson(executionToAdmin(execution({ phase: "RUNNING", endedAt: undefined, outputsUri: undefined }))) as Record<string, any>;
  assert.equal(running.closure.duration, undefined);
  assert.equal(running.closure.phase, "RUNNING");
});

test("nodeExecutionToAdmin: ids, retry group of a subworkflow child, cache status and catalog key, errors", () => {
  const child = toJson(
    NodeExecutionSchema,
    nodeExecutionToAdmin(
      node("n1-0-n0", { parentNodeId: "n1", cacheStatus: "CACHE_HIT", cacheKey: "k123", inputsUri: "file:///data/in.pb", outputsUri: "file:///data/out.pb" }),
    ),
  ) as Record<string, any>;
  assert.deepEqual(child.id, { nodeId: "n1-0-n0", executionId: key });
  assert.equal(child.inputUri, "file:///data/in.pb");
  assert.equal(child.closure.outputUri, "file:///data/out.pb");
  assert.equal(child.closure.phase, "SUCCEEDED");
  assert.equal(child.closure.duration, "0.012s");
  assert.equal(child.closure.taskNodeMetadata.cacheStatus, "CACHE_HIT");
  assert.equal(child.closure.taskNodeMetadata.catalogKey.artifactTag.name, "k123");
  assert.equal(child.closure.taskNodeMetadata.catalogKey.datasetId.resourceType, "DATASET");
  assert.deepEqual(child.metadata, { retryGroup: "0", specNodeId: "n0" });

  const parent = toJson(
    NodeExecutionSchema,
    nodeExecutionToAdmin(
      node("n1", { entityKind: "workflow", isParent: true, phase: "FAILED", error: { kind: "USER", code: "Failed", message: "child failed" } }),
    ),
  ) as Record<string, any>;
  assert.deepEqual(parent.metadata, { specNodeId: "n1", isParentNode: true });
  assert.equal(parent.closure.taskNodeMetadata, undefined);
  assert.deepEqual(parent.closure.error, { code: "Failed", message: "child failed", kind: "USER" });

  const miss = toJson(NodeExecutionSchema, nodeExecutionToAdmin(node("n2", { cacheStatus: "CACHE_MISS", cacheKey: "k" }))) as Record<string, any>;
  assert.deepEqual(miss.closure.taskNodeMetadata, { cacheStatus: "CACHE_MISS" });
});

test("a map node: is_array, and one container_array task execution with each item attempt as an external resource", () => {
  const map = node("n1", { entityKind: "array", entityName: "examples.spend.square", isParent: true });
  const meta = toJson(NodeExecutionSchema, nodeExecutionToAdmin(map)) as Record<string, any>;
  assert.deepEqual(meta.metadata, { specNodeId: "n1", isParentNode: true, isArray: true });
  const item = (i: number, overrides: Partial<NodeExecutionRecord> = {}) => node(`n1-0-${i}`, { parentNodeId: "n1", specNodeId: String(i), ...overrides });
  const message = mapTaskExecutionToAdmin(
    map,
    [
      // Out of order, as a store may list them; a cache hit has no attempt.
      { node: item(2, { cacheStatus: "CACHE_HIT" }), attempts: [] },
      { node: item(0, { cacheStatus: "CACHE_POPULATED" }), attempts: [attempt("n1-0-0", 1), attempt("n1-0-0", 0, { phase: "RETRYABLE_FAILED", logsUri: "file:///l0" })] },
      { node: item(1, { phase: "FAILED", cacheStatus: "CACHE_MISS" }), attempts: [attempt("n1-0-1", 0, { phase: "FAILED" })] },
      { node: item(3, { phase: "SKIPPED" }), attempts: [] },
    ],
    { taskId: { project: "p", domain: "d", name: "examples.spend.square", version: "v1" }, logUri: (a) => `http://server/logs/${a.nodeId}/${a.attempt}` },
  );
  const json = toJson(TaskExecutionSchema, message) as Record<string, any>;
  assert.equal(json.id.retryAttempt, undefined, "attempt 0: an ArrayNode is never retried itself");
  assert.equal(json.id.taskId.name, "examples.spend.square");
  assert.equal(json.closure.taskType, "container_array");
  assert.equal(json.closure.phase, "SUCCEEDED");
  assert.deepEqual(
    json.closure.metadata.externalResources.map((r: any) => [r.index ?? 0, r.retryAttempt ?? 0, r.phase, r.cacheStatus, r.logs?.[0]?.uri]),
    [
      [0, 0, "RETRYABLE_FAILED", "CACHE_POPULATED", "http://server/logs/n1-0-0/0"],
      [0, 1, "SUCCEEDED", "CACHE_POPULATED", "http://server/logs/n1-0-0/1"],
      [1, 0, "FAILED", "CACHE_MISS", "http://server/logs/n1-0-1/0"],
      [2, 0, "SUCCEEDED", "CACHE_HIT", undefined],
    ],
    "a skipped item (never started) is not a resource",
  );
  assert.equal(new Set(json.closure.metadata.externalResources.map((r: any) => r.externalId)).size, 4);
});

test("taskExecutionToAdmin: task id, retry attempt, logs and error", () => {
  const json = toJson(
    TaskExecutionSchema,
    taskExecutionToAdmin(
      attempt("n0", 2, { phase: "FAILED", logsUri: "file:///data/logs.txt", error: { kind: "USER", code: "Error", message: "boom", recoverable: true } }),
      "local",
    ),
  ) as Record<string, any>;
  assert.deepEqual(json.id, {
    taskId: { resourceType: "TASK", project: "flytesnacks", domain: "development", name: "examples.spend.n0", version: "local" },
    nodeExecutionId: { nodeId: "n0", executionId: key },
    retryAttempt: 2,
  });
  assert.equal(json.closure.phase, "FAILED");
  assert.deepEqual(json.closure.logs, [{ uri: "file:///data/logs.txt", name: "logs" }]);
  assert.deepEqual(json.closure.error, { code: "Error", message: "boom", kind: "USER" });
  assert.equal(json.closure.duration, "0.020s");
  assert.equal(json.closure.startedAt, "2024-05-01T12:00:00.300Z");
});

test("formatSeconds writes durations the way proto3 JSON does", () => {
  assert.equal(formatSeconds(12), "0.012s");
  assert.equal(formatSeconds(1_500), "1.500s");
  assert.equal(formatSeconds(90_000), "90s");
  assert.equal(formatSeconds(0), "0s");
});

async function withHistory(fn: (ctx: { store: ReturnType<typeof openSqliteStore>; blobs: FileBlobStore }) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-history-"));
  const store = openSqliteStore(join(dir, "tsflyte.db"));
  const blobs = new FileBlobStore(join(dir, "data"));
  try {
    await fn({ store, blobs });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A workflow: n0 cached, n1 a subworkflow whose n1-0-n1 failed twice then succeeded, n2 whose blobs are gone,
 * and n10, created first.
 */
async function recordRun(store: ReturnType<typeof openSqliteStore>, blobs: FileBlobStore): Promise<void> {
  const base = blobs.baseUri;
  const exec = execution({ inputsUri: executionInputsUri(base, key), outputsUri: executionOutputsUri(base, key) });
  blobs.put(exec.inputsUri!, literalMap({ year: 2024 }));
  blobs.put(exec.outputsUri!, literalMap({ total: 42 }));
  const n0 = node("n0", { cacheStatus: "CACHE_HIT", cacheKey: "k0", inputsUri: nodeInputsUri(base, key, "n0"), outputsUri: `${attemptOutputPrefix(base, key, "n0", 0)}/outputs.pb` });
  blobs.put(n0.inputsUri!, literalMap({ year: 2024 }));
  blobs.put(n0.outputsUri!, literalMap({ o0: 3 }));
  const n1 = node("n1", { entityKind: "workflow", entityName: "examples.spend.totals", isParent: true, createdAt: t0 + 11, endedAt: t0 + 900 });
  const c0 = node("n1-0-n0", { parentNodeId: "n1", createdAt: t0 + 12 });
  const c1 = node("n1-0-n1", { parentNodeId: "n1", createdAt: t0 + 13, cacheStatus: "CACHE_POPULATED" });
  const n10 = node("n10", { createdAt: t0 + 1 });
  const n2 = node("n2", { createdAt: t0 + 14, outputsUri: `${base}/gone/outputs.pb`, inputsUri: `${base}/gone/inputs.pb` });
  const logsUri = `${attemptOutputPrefix(base, key, "n1-0-n1", 0)}/logs.txt`;
  blobs.put(logsUri, new TextEncoder().encode("starting\nsomething went wrong\n"));
  blobs.put(`${attemptOutputPrefix(base, key, "n1-0-n1", 1)}/logs.txt`, new Uint8Array());
  const stack = "Error: flaky\n    at totalSpend (/home/ann/flows/spend.ts:3:9)";
  const writes: StoreWrite[] = [
    { table: "execution", row: exec },
    ...[n0, n1, c0, c1, n2, n10].map((row): StoreWrite => ({ table: "node", row })),
    { table: "task", row: attempt("n0", 0) },
    { table: "task", row: attempt("n1-0-n0", 0) },
    { table: "task", row: attempt("n1-0-n1", 0, { phase: "FAILED", logsUri, error: { kind: "USER", code: "Error", message: "flaky", recoverable: true, stack } }) },
    { table: "task", row: attempt("n1-0-n1", 1, { phase: "FAILED", logsUri: `${attemptOutputPrefix(base, key, "n1-0-n1", 1)}/logs.txt`, error: { kind: "SYSTEM", code: "WorkerExited", message: "worker exited" } }) },
    { table: "task", row: attempt("n1-0-n1", 2) },
    { table: "task", row: attempt("n2", 0) },
  ];
  await store.write(writes);
  await blobs.flush();
}

test("describeExecution without details: the list view of one execution", async () => {
  await withHistory(async ({ store, blobs }) => {
    await recordRun(store, blobs);
    const view = (await describeExecution(store, blobs, key, { details: false })) as ExecutionView;
    assert.equal(isDetailsView(view), false);
    assert.equal(view.name, "a1b2c3");
    assert.deepEqual(view.launched, { kind: "workflow", name: "examples.spend.calculateSpend", version: "local" });
    assert.equal(view.phase, "SUCCEEDED");
    assert.equal(view.startedAt, "2024-05-01T12:00:00.005Z");
    assert.equal(view.duration, "1.312s");
    assert.equal((view.execution as any).closure.phase, "SUCCEEDED");
    assert.deepEqual(JSON.parse(JSON.stringify(view)), view, "the view is plain JSON");
  });
});

test("describeExecution with details: values, nested children, attempts with errors and logs; missing blobs are absent", async () => {
  await withHistory(async ({ store, blobs }) => {
    await recordRun(store, blobs);
    const view = (await describeExecution(store, blobs, key, { details: true })) as ExecutionDetailsView;
    assert.ok(isDetailsView(view));
    assert.equal((view.execution as any).id.name, "a1b2c3");
    assert.deepEqual(view.inputs, { year: 2024 });
    assert.deepEqual(view.outputs, { total: 42 });
    assert.deepEqual(view.nodes.map((n) => n.nodeId), ["n0", "n1", "n2", "n10"], "siblings in node-id order, not creation order");

    const [n0, n1, n2] = view.nodes;
    assert.deepEqual(n0.entity, { kind: "task", name: "examples.spend.n0" });
    assert.equal(n0.cacheStatus, "CACHE_HIT");
    assert.deepEqual(n0.inputs, { year: 2024 });
    assert.deepEqual(n0.outputs, { o0: 3 });
    assert.equal(n0.duration, "0.012s");
    assert.equal(n0.startedAt, "2024-05-01T12:00:00.010Z");

    assert.deepEqual(n1.entity, { kind: "workflow", name: "examples.spend.totals" });
    assert.deepEqual(n1.children?.map((c) => [c.nodeId, c.specNodeId]), [["n1-0-n0", "n0"], ["n1-0-n1", "n1"]]);
    const flaky = n1.children![1];
    assert.equal(flaky.cacheStatus, "CACHE_POPULATED");
    assert.deepEqual(flaky.attempts.map((a) => [a.attempt, a.phase, a.error?.kind]), [[1, "FAILED", "USER"], [2, "FAILED", "SYSTEM"], [3, "SUCCEEDED", undefined]]);
    assert.deepEqual(flaky.attempts[0].error, { kind: "USER", code: "Error", message: "flaky", recoverable: true, stack: "Error: flaky\n    at totalSpend (/home/ann/flows/spend.ts:3:9)" });
    assert.equal(flaky.attempts[0].logs, "starting\nsomething went wrong\n");
    assert.equal(flaky.attempts[1].error?.recoverable, true, "SYSTEM errors are recoverable unless recorded otherwise");
    assert.ok(!("logs" in flaky.attempts[1]), "empty logs are left out");
    assert.equal(flaky.attempts[0].runner, "in-process");
    assert.equal(flaky.attempts[0].duration, "0.020s");

    assert.ok(!("inputs" in n2) && !("outputs" in n2), "values whose blobs are gone are left out");
    assert.ok(!("children" in n2));
    assert.deepEqual(JSON.parse(JSON.stringify(view)), view, "the view is plain JSON");
  });
});

test("--nodeID narrows the details to that node and its children; an unknown id lists the ids", async () => {
  await withHistory(async ({ store, blobs }) => {
    await recordRun(store, blobs);
    const sub = (await describeExecution(store, blobs, key, { details: true, nodeId: "n1" })) as ExecutionDetailsView;
    assert.deepEqual(sub.nodes.map((n) => n.nodeId), ["n1"]);
    assert.deepEqual(sub.nodes[0].children?.map((n) => n.nodeId), ["n1-0-n0", "n1-0-n1"]);
    const leaf = (await describeExecution(store, blobs, key, { details: false, nodeId: "n1-0-n1" })) as ExecutionDetailsView;
    assert.ok(isDetailsView(leaf), "--nodeID implies details");
    assert.deepEqual(leaf.nodes.map((n) => n.nodeId), ["n1-0-n1"]);
    assert.equal(leaf.nodes[0].attempts.length, 3);
    await assert.rejects(
      describeExecution(store, blobs, key, { details: true, nodeId: "n9" }),
      (e: unknown) =>
        e instanceof UserError && e.message === "node n9 not found in execution a1b2c3; its nodes are: n0, n1, n1-0-n0, n1-0-n1, n2, n10",
    );
  });
});

test("a missing execution is a UserError naming it, its project and domain", async () => {
  await withHistory(async ({ store, blobs }) => {
    await assert.rejects(
      describeExecution(store, blobs, { ...key, name: "nope" }, { details: false }),
      (e: unknown) => e instanceof UserError && e.message === "execution nope not found in project flytesnacks, domain development",
    );
  });
});

test("listExecutionViews: newest first, paged with the store's token", async () => {
  await withHistory(async ({ store }) => {
    await store.write(
      ["e1", "e2", "e3"].map((name, i): StoreWrite => ({ table: "execution", row: execution({ name, createdAt: t0 + i * 1000, mode: i === 2 ? "RELAUNCH" : "MANUAL", sourceExecution: i === 2 ? "e1" : undefined }) })),
    );
    const first = await listExecutionViews(store, { project: key.project, domain: key.domain, limit: 2 });
    assert.deepEqual(first.items.map((v) => v.name), ["e3", "e2"]);
    assert.equal(first.items[0].mode, "RELAUNCH");
    assert.equal(first.items[0].sourceExecution, "e1");
    assert.ok(first.token);
    const second = await listExecutionViews(store, { project: key.project, domain: key.domain, limit: 2, token: first.token });
    assert.deepEqual(second.items.map((v) => v.name), ["e1"]);
    assert.equal(second.token, undefined);
  });
});
