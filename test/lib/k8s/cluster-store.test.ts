// The Kubernetes target's store against a real kube-apiserver (test/support/k8s-testbed.ts): executions, nodes and
// attempts in the execution's ConfigMap and its record shards with optimistic concurrency, inline bytes, the
// registry, cache entries and projects.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { connectCluster, type Cluster } from "../../../src/lib/k8s/cluster.js";
import { ClusterStore, shardBudgetBytes } from "../../../src/lib/k8s/cluster-store.js";
import type { EntityRecord, ExecutionRecord, NodeExecutionRecord, TaskExecutionRecord } from "../../../src/lib/store/records.js";
import { startTestbed, type Testbed } from "../../support/k8s-testbed.js";

const project = "flytesnacks";
const domain = "development";
const namespace = `${project}-${domain}`;

function execution(name: string, fields: Partial<ExecutionRecord> = {}): ExecutionRecord {
  return {
    project,
    domain,
    name,
    launchKind: "launchPlan",
    launchName: "flows.doubled",
    launchVersion: "v1",
    mode: "MANUAL",
    phase: "QUEUED",
    inputsUri: `s3://b/metadata/${name}/inputs.pb`,
    overwriteCache: false,
    maxParallelism: 25,
    createdAt: 1_000,
    updatedAt: 1_000,
    ...fields,
  };
}

function node(executionName: string, nodeId: string, fields: Partial<NodeExecutionRecord> = {}): NodeExecutionRecord {
  return { project, domain, executionName, nodeId, specNodeId: nodeId, entityKind: "task", entityName: "flows.double", isParent: false, phase: "RUNNING", createdAt: 2_000, updatedAt: 2_000, ...fields };
}

function attempt(executionName: string, nodeId: string, n: number, fields: Partial<TaskExecutionRecord> = {}): TaskExecutionRecord {
  return { project, domain, executionName, nodeId, attempt: n, taskName: "flows.double", runner: "pod", phase: "RUNNING", startedAt: 3_000, updatedAt: 3_000, ...fields };
}

function entity(resource: EntityRecord["resource"], name: string, version: string, fields: Partial<EntityRecord> = {}): EntityRecord {
  return { resource, project, domain, name, version, spec: new Uint8Array([1, 2, 3, version.length]), digest: `d-${version}`, createdAt: Number(version.replace(/\D/g, "") || 0), ...fields };
}

describe("ClusterStore on a real API server", { timeout: 120_000 }, () => {
  let testbed: Testbed;
  let cluster: Cluster;
  let store: ClusterStore;

  before(async () => {
    testbed = await startTestbed();
    cluster = await connectCluster({ kubeconfig: testbed.kubeconfig });
    await cluster.core.createNamespace({ body: { metadata: { name: namespace } } });
    store = new ClusterStore(cluster, { namespaceFor: (p, d) => `${p}-${d}`, cacheNamespace: namespace });
  });
  after(async () => {
    await testbed?.stop();
  });

  test("an execution is one ConfigMap: created once, rows upserted, read back in order", async () => {
    assert.equal(await store.createExecution(execution("e1")), true);
    assert.equal(await store.createExecution(execution("e1")), false, "a taken name is refused");
    await store.write([
      { table: "execution", row: execution("e1", { phase: "RUNNING", startedAt: 1_500 }) },
      { table: "node", row: node("e1", "n1", { createdAt: 2_500 }) },
      { table: "node", row: node("e1", "n0") },
      { table: "task", row: attempt("e1", "n0", 1) },
      { table: "task", row: attempt("e1", "n0", 0, { phase: "RETRYABLE_FAILED", error: { kind: "USER", code: "OOMKilled", message: "oom" } }) },
    ]);
    await store.write([{ table: "node", row: node("e1", "n0", { phase: "SUCCEEDED", outputsUri: "s3://b/o.pb" }) }]);
    // A second store (another user's CLI) sees the same.
    const other = new ClusterStore(cluster, { namespaceFor: (p, d) => `${p}-${d}` });
    assert.equal((await other.getExecution({ project, domain, name: "e1" }))?.phase, "RUNNING");
    assert.deepEqual((await other.listNodeExecutions({ project, domain, name: "e1" })).map((n) => [n.nodeId, n.phase]), [["n0", "SUCCEEDED"], ["n1", "RUNNING"]]);
    assert.deepEqual((await other.listTaskExecutions({ project, domain, name: "e1" })).map((a) => [a.attempt, a.phase, a.error?.code]), [[0, "RETRYABLE_FAILED", "OOMKilled"], [1, "RUNNING", undefined]]);
    const map = await cluster.core.readNamespacedConfigMap({ name: "e1", namespace });
    assert.equal(map.metadata?.labels?.["tsflyte.io/phase"], "RUNNING");
    assert.equal(map.metadata?.labels?.["tsflyte.io/role"], "execution");
  });

  test("what an execution was launched with round-trips exactly, and its labels and annotations are on its ConfigMap", async () => {
    const launched = execution("e-settings", {
      principal: "sdk",
      settings: {
        labels: { team: "spend" },
        annotations: { "example.com/owner": "Zoë" },
        envs: { ZETA: "1", ALPHA: "a=b" },
        serviceAccount: "spend-runner",
        iamRole: "arn:aws:iam::1:role/spend",
        authRole: { assumableIamRole: "arn:aws:iam::1:role/spend", kubernetesServiceAccount: "" },
        rawOutputPrefix: "s3://b/raw",
        clusterPool: "gpu",
        executionClusterLabel: "eu-1",
        interruptible: true,
        disableAllNotifications: true,
      },
    });
    assert.equal(await store.createExecution(launched), true);
    const other = new ClusterStore(cluster, { namespaceFor: (p, d) => `${p}-${d}` });
    assert.deepEqual(await other.getExecution({ project, domain, name: "e-settings" }), launched);
    await store.write([{ table: "execution", row: { ...launched, phase: "RUNNING" } }]);
    const map = await cluster.core.readNamespacedConfigMap({ name: "e-settings", namespace });
    assert.equal(map.metadata?.labels?.team, "spend");
    assert.equal(map.metadata?.labels?.["tsflyte.io/phase"], "RUNNING");
    assert.equal(map.metadata?.annotations?.["example.com/owner"], "Zoë");
    assert.equal(map.metadata?.annotations?.["tsflyte.io/launched"], "flows.doubled");
  });

  test("two writers of one execution both land: a conflict is read again and reapplied", async () => {
    await store.createExecution(execution("e2"));
    const a = new ClusterStore(cluster, { namespaceFor: (p, d) => `${p}-${d}` });
    const b = new ClusterStore(cluster, { namespaceFor: (p, d) => `${p}-${d}` });
    await a.getExecution({ project, domain, name: "e2" });
    await b.getExecution({ project, domain, name: "e2" });
    // Both start from the same resourceVersion: one of them must conflict and retry.
    await Promise.all([a.write([{ table: "node", row: node("e2", "n0") }]), b.write([{ table: "node", row: node("e2", "n1") }])]);
    assert.deepEqual((await store.listNodeExecutions({ project, domain, name: "e2" })).map((n) => n.nodeId), ["n0", "n1"]);
  });

  test("an execution terminated with a cause cannot be brought back by a driver still writing", async () => {
    await store.createExecution(execution("e3", { phase: "RUNNING" }));
    await store.write([{ table: "execution", row: execution("e3", { phase: "ABORTED", abort: { cause: "wrong inputs", principal: "me" }, endedAt: 5_000 }) }]);
    await store.write([{ table: "execution", row: execution("e3", { phase: "RUNNING" }) }]);
    const record = await store.getExecution({ project, domain, name: "e3" });
    assert.equal(record?.phase, "ABORTED");
    assert.equal(record?.abort?.cause, "wrong inputs");
  });

  test("a record larger than a ConfigMap holds is split into shards, read back whole in one list", async () => {
    const key = { project, domain, name: "big" };
    const inputs = new Uint8Array([10, 3, 0, 255, 7]);
    assert.equal(await store.createExecution(execution("big", { inputs, phase: "RUNNING" })), true);
    // 1,200 nodes and attempts of ~1.2 KB each: more than the 1 MiB one ConfigMap holds, written 100 rows a batch.
    const detail = "x".repeat(1_000);
    for (let from = 0; from < 600; from += 50) {
      const batch = [];
      for (let i = from; i < from + 50; i++) {
        batch.push({ table: "node" as const, row: node("big", `n${i}`, { createdAt: 2_000 + i, error: { kind: "USER" as const, code: "Detail", message: detail } }) });
        batch.push({ table: "task" as const, row: attempt("big", `n${i}`, 0, { error: { kind: "USER" as const, code: "Detail", message: detail } }) });
      }
      await store.write(batch);
    }
    const maps = (await cluster.core.listNamespacedConfigMap({ namespace, labelSelector: "tsflyte.io/execution=big" })).items;
    assert.ok(maps.length >= 9, `${maps.length} ConfigMaps`);
    const execMap = maps.find((m) => m.metadata?.name === "big")!;
    for (const m of maps) {
      const size = Object.values(m.data ?? {}).reduce((sum, text) => sum + text.length, 0);
      assert.ok(size < shardBudgetBytes + 8_000, `${m.metadata?.name} holds ${size} bytes`);
      if (m !== execMap) {
        assert.equal(m.metadata?.labels?.["tsflyte.io/role"], "record-shard");
        assert.deepEqual(m.metadata?.ownerReferences?.map((o) => [o.kind, o.name, o.uid]), [["ConfigMap", "big", execMap.metadata?.uid]]);
      }
    }
    // Not listed as executions.
    assert.deepEqual((await store.listExecutions({ project, domain, filters: [{ field: "name", op: "contains", value: "big" }] })).items.map((e) => e.name), ["big"]);

    // Rows keep their shard when they change; an inline value round-trips as bytes.
    const outputs = new Uint8Array(Buffer.from("outputs of n0 and n599"));
    await store.write([
      { table: "node", row: node("big", "n0", { createdAt: 2_000, phase: "SUCCEEDED", outputs }) },
      { table: "node", row: node("big", "n599", { createdAt: 2_599, phase: "SUCCEEDED", outputs }) },
      { table: "task", row: attempt("big", "n599", 1, { phase: "SUCCEEDED", outputs }) },
    ]);
    // A row that grows its shard past the limit moves to a shard of its own, and is still read once.
    const long = "y".repeat(700 * 1024);
    await store.write([{ table: "node", row: node("big", "n300", { createdAt: 2_300, phase: "FAILED", error: { kind: "USER", code: "Long", message: long } }) }]);

    const other = new ClusterStore(cluster, { namespaceFor: (p, d) => `${p}-${d}` });
    assert.deepEqual((await other.getExecution(key))?.inputs, inputs);
    const nodes = await other.listNodeExecutions(key);
    assert.equal(nodes.length, 600);
    assert.deepEqual(nodes.slice(0, 3).map((n) => n.nodeId), ["n0", "n1", "n2"]);
    assert.deepEqual(nodes[0].outputs, outputs);
    assert.ok(nodes[0].outputs instanceof Uint8Array);
    assert.deepEqual([nodes[599].nodeId, nodes[599].phase, nodes[599].outputs], ["n599", "SUCCEEDED", outputs]);
    assert.equal(nodes[300].error?.message.length, long.length);
    const attempts = await other.listTaskExecutions(key);
    assert.equal(attempts.length, 601);
    assert.deepEqual(attempts.find((a) => a.nodeId === "n599" && a.attempt === 1)?.outputs, outputs);
    const holders = (await cluster.core.listNamespacedConfigMap({ namespace, labelSelector: "tsflyte.io/execution=big" })).items.filter((m) =>
      Object.keys(JSON.parse(m.data?.nodes ?? "{}")).includes("n300"),
    );
    assert.equal(holders.length, 1, "n300 is in one shard");
    assert.ok(Object.values(holders[0].data ?? {}).join("").length < 1024 * 1024);

    // A second writer with an older view conflicts on the shard it shares and lands after reading again.
    const stale = new ClusterStore(cluster, { namespaceFor: (p, d) => `${p}-${d}` });
    await stale.listNodeExecutions(key);
    await other.write([{ table: "node", row: node("big", "n450", { createdAt: 2_450, phase: "SUCCEEDED" }) }]);
    await stale.write([{ table: "node", row: node("big", "n451", { createdAt: 2_451, phase: "SUCCEEDED" }) }]);
    const after = await store.listNodeExecutions(key);
    assert.deepEqual(after.filter((n) => n.nodeId === "n450" || n.nodeId === "n451").map((n) => n.phase), ["SUCCEEDED", "SUCCEEDED"]);
  });

  test("inline bytes round-trip on every record that has them, and user keys that look like the tag stay data", async () => {
    const bytes = new Uint8Array([0, 1, 2, 250]);
    const launched = execution("e-bytes", { inputs: bytes, outputs: Buffer.from([9, 9]), settings: { envs: { $bytes: "not bytes", $$x: "y" }, labels: { team: "a" } } });
    assert.equal(await store.createExecution(launched), true);
    const read = await new ClusterStore(cluster, { namespaceFor: (p, d) => `${p}-${d}` }).getExecution({ project, domain, name: "e-bytes" });
    assert.deepEqual(read?.inputs, bytes);
    assert.deepEqual(read?.outputs, new Uint8Array([9, 9]));
    assert.deepEqual(read?.settings?.envs, { $bytes: "not bytes", $$x: "y" });
    const entry = { key: "k/bytes", taskName: "flows.double", cacheVersion: "1", outputsUri: "", outputs: bytes, project, domain, executionName: "e1", nodeId: "n0", createdAt: 1 };
    await store.write([{ table: "cache", row: entry }]);
    assert.deepEqual(await store.getCacheEntry("k/bytes"), entry);
  });

  test("list executions: newest first, filters, sort keys and pages", async () => {
    for (const [name, createdAt, phase] of [["l1", 10, "SUCCEEDED"], ["l2", 30, "FAILED"], ["l3", 20, "SUCCEEDED"]] as const) {
      await store.createExecution(execution(name, { createdAt, phase, launchName: "flows.listed" }));
    }
    const listed = { project, domain, filters: [{ field: "launch_name", op: "eq", value: "flows.listed" }] } as const;
    assert.deepEqual((await store.listExecutions(listed)).items.map((e) => e.name), ["l2", "l3", "l1"]);
    assert.deepEqual((await store.listExecutions({ ...listed, phase: "SUCCEEDED" })).items.map((e) => e.name), ["l3", "l1"]);
    assert.deepEqual((await store.listExecutions({ ...listed, sortBy: { key: "name", direction: "ASC" } })).items.map((e) => e.name), ["l1", "l2", "l3"]);
    const first = await store.listExecutions({ ...listed, limit: 2 });
    assert.deepEqual(first.items.map((e) => e.name), ["l2", "l3"]);
    assert.ok(first.token);
    const second = await store.listExecutions({ ...listed, limit: 2, token: first.token });
    assert.deepEqual(second.items.map((e) => e.name), ["l1"]);
    assert.equal(second.token, undefined);
    const counts = await store.countExecutions(project, domain);
    assert.ok(counts.SUCCEEDED >= 2 && counts.FAILED >= 1, JSON.stringify(counts));
    assert.ok((await store.listUnfinishedExecutions()).some((e) => e.name === "e2"));
  });

  test("the registry: immutable versions, lists, names, one active launch plan", async () => {
    assert.deepEqual(await store.registerEntity(entity("task", "flows.double", "v1")), { created: true });
    const again = await store.registerEntity(entity("task", "flows.double", "v1", { digest: "other" }));
    assert.equal(again.created, false);
    assert.equal(again.created === false && again.existing.digest, "d-v1", "the first registration stands");
    await store.registerEntity(entity("task", "flows.double", "v2"));
    await store.registerEntity(entity("task", "flows.describe", "v1"));
    const got = await store.getEntity("task", { project, domain, name: "flows.double", version: "v2" });
    assert.deepEqual(got && Array.from(got.spec), [1, 2, 3, 2]);
    assert.equal(await store.getEntity("workflow", { project, domain, name: "flows.double", version: "v2" }), undefined);
    assert.deepEqual((await store.listEntities({ resource: "task", project, domain, name: "flows.double" })).items.map((e) => e.version), ["v2", "v1"]);
    assert.deepEqual((await store.listEntityNames("task", project, domain)).items, ["flows.describe", "flows.double"]);

    await store.registerEntity(entity("launchPlan", "flows.lp", "v1", { state: "ACTIVE" }));
    await store.registerEntity(entity("launchPlan", "flows.lp", "v2", { state: "ACTIVE" }));
    assert.equal((await store.getActiveLaunchPlan(project, domain, "flows.lp"))?.version, "v2");
    assert.equal((await store.getEntity("launchPlan", { project, domain, name: "flows.lp", version: "v1" }))?.state, "INACTIVE");
    assert.equal(await store.setLaunchPlanState({ project, domain, name: "flows.lp", version: "v1" }, "ACTIVE", 9_000), true);
    assert.equal((await store.getActiveLaunchPlan(project, domain, "flows.lp"))?.version, "v1");
    assert.equal(await store.setLaunchPlanState({ project, domain, name: "flows.lp", version: "v9" }, "ACTIVE", 9_000), false);
  });

  test("a 10,000-node workflow's spec registers (gzipped); one too large even so is refused before anything is created", async () => {
    const nodes = Array.from({ length: 10_000 }, (_, i) => `{"id":"n${i}","metadata":{"name":"flows.inc","retries":{}},"task":{"project":"flytesnacks","name":"flows.inc"},"inputs":{"x":{"promise":"start-node.x"}}}`).join(",");
    const big = entity("workflow", "flows.wide", "v1", { spec: new Uint8Array(Buffer.from(`[${nodes}]`)) });
    assert.ok(big.spec.byteLength > 1024 * 1024, "more than a ConfigMap holds as it is");
    assert.deepEqual(await store.registerEntity(big), { created: true });
    const got = await store.getEntity("workflow", big);
    assert.ok(got && Buffer.from(got.spec).equals(Buffer.from(big.spec)), "the spec reads back byte for byte");

    const noise = entity("workflow", "flows.noise", "v1", { spec: new Uint8Array(randomBytes(1024 * 1024)) });
    await assert.rejects(store.registerEntity(noise), (e: Error) => {
      assert.match(e.message, /workflow flows\.noise version v1 is too large to register on Kubernetes: its spec is 1048576 bytes, \d+ gzipped, and a ConfigMap holds at most 1 MiB/);
      return true;
    });
    assert.equal(await store.getEntity("workflow", noise), undefined);

    // Registered by an earlier tsflyte, before specs were gzipped: read as it is.
    const old = entity("task", "flows.old", "v1");
    await cluster.core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: {
          name: `tsflyte-task-${createHash("sha256").update("flows.old\0v1").digest("hex").slice(0, 32)}`,
          labels: { "app.kubernetes.io/managed-by": "tsflyte", "tsflyte.io/role": "entity", "tsflyte.io/resource": "task" },
          annotations: { "tsflyte.io/name": "flows.old", "tsflyte.io/version": "v1", "tsflyte.io/project": project, "tsflyte.io/domain": domain, "tsflyte.io/created-at": "1" },
        },
        binaryData: { spec: Buffer.from(old.spec).toString("base64") },
      },
    });
    assert.deepEqual(Array.from((await store.getEntity("task", old))?.spec ?? []), Array.from(old.spec));
  });

  test("cache entries are found from the driver's namespace", async () => {
    const entry = { key: "k/1", taskName: "flows.double", cacheVersion: "1", outputsUri: "s3://b/o.pb", project, domain, executionName: "e1", nodeId: "n0", createdAt: 1 };
    assert.equal(await store.getCacheEntry("k/1"), undefined);
    await store.write([{ table: "cache", row: entry }]);
    assert.deepEqual(await store.getCacheEntry("k/1"), entry);
  });

  test("a namespace that does not exist is a clear error naming it and how to create it", async () => {
    const lost = new ClusterStore(cluster, { namespaceFor: () => "nowhere" });
    await assert.rejects(lost.createExecution(execution("x1")), (e: Error & { hint?: string }) => {
      assert.match(e.message, /^namespace nowhere does not exist in https:\/\/127\.0\.0\.1:\d+ \(context \S+\)/);
      assert.match(e.hint ?? "", /kubectl create namespace nowhere/);
      return true;
    });
  });

  test("projects are namespaces labelled with them; any valid id is usable", async () => {
    assert.equal(await store.createProject({ id: "acme", name: "Acme", description: "flows", labels: {}, state: "ACTIVE", createdAt: 0 }), true);
    const projects = await store.listProjects();
    assert.deepEqual(projects.map((p) => [p.id, p.name, p.description]), [["acme", "Acme", "flows"]]);
    const ns = await cluster.core.readNamespace({ name: "acme-staging" });
    assert.equal(ns.metadata?.labels?.["tsflyte.io/project"], "acme");
    assert.equal((await store.getProject("flytesnacks"))?.state, "ACTIVE");
  });
});
