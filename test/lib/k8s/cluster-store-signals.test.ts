// The Kubernetes target's signals against a real kube-apiserver (test/support/k8s-testbed.ts): one ConfigMap per
// signal, get-or-create, set once under optimistic concurrency (racing setters: one wins), listing by signal id.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connectCluster, type Cluster } from "../../../src/lib/k8s/cluster.js";
import { ClusterStore } from "../../../src/lib/k8s/cluster-store.js";
import type { SignalRecord } from "../../../src/lib/store/records.js";
import { startTestbed, type Testbed } from "../../support/k8s-testbed.js";

const project = "flytesnacks";
const domain = "development";
const namespace = `${project}-${domain}`;

function signal(executionName: string, signalId: string, fields: Partial<SignalRecord> = {}): SignalRecord {
  return { project, domain, executionName, signalId, type: Uint8Array.from({ length: 256 }, (_, i) => i), createdAt: 1_000, updatedAt: 1_000, ...fields };
}

describe("ClusterStore signals on a real API server", { timeout: 120_000 }, () => {
  let testbed: Testbed;
  let cluster: Cluster;
  let store: ClusterStore;

  before(async () => {
    testbed = await startTestbed();
    cluster = await connectCluster({ kubeconfig: testbed.kubeconfig });
    await cluster.core.createNamespace({ body: { metadata: { name: namespace } } });
    store = new ClusterStore(cluster, { namespaceFor: (p, d) => `${p}-${d}` });
  });
  after(async () => {
    await testbed?.stop();
  });

  test("get-or-create keeps the first record; a value is set once, the same again is `same`, another a conflict", async () => {
    const first = signal("a1", "deploy-ok");
    assert.deepEqual(await store.getOrCreateSignal(first), first);
    assert.deepEqual(await store.getOrCreateSignal(signal("a1", "deploy-ok", { type: Uint8Array.of(1), createdAt: 9_000 })), first);
    const key = { project, domain, executionName: "a1", signalId: "deploy-ok" };
    const set = await store.setSignal(key, Uint8Array.of(0, 255), 2_000);
    assert.equal(set.outcome, "set");
    assert.equal((await store.setSignal(key, Uint8Array.of(0, 255), 3_000)).outcome, "same");
    const conflict = await store.setSignal(key, Uint8Array.of(1), 4_000);
    assert.equal(conflict.outcome, "conflict");
    assert.deepEqual(await store.getSignal(key), { ...first, value: Uint8Array.of(0, 255), updatedAt: 2_000 });
    assert.deepEqual(await store.setSignal({ ...key, signalId: "never-made" }, Uint8Array.of(1), 1), { outcome: "missing" });
    const maps = await cluster.core.listNamespacedConfigMap({ namespace, labelSelector: "tsflyte.io/role=signal,tsflyte.io/execution=a1" });
    assert.equal(maps.items.length, 1);
    assert.equal(maps.items[0].metadata?.labels?.["tsflyte.io/signal-set"], "true");
  });

  test("setters racing for one signal: exactly one sets it, each other one sees its value", async () => {
    await store.getOrCreateSignal(signal("a2", "race"));
    const key = { project, domain, executionName: "a2", signalId: "race" };
    const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => new ClusterStore(cluster, { namespaceFor: (p, d) => `${p}-${d}` }).setSignal(key, Uint8Array.of(i), 5_000 + i)));
    assert.equal(outcomes.filter((o) => o.outcome === "set").length, 1);
    const winner = (await store.getSignal(key))!.value!;
    for (const o of outcomes) if (o.outcome === "conflict") assert.deepEqual(o.signal.value, winner);
  });

  test("an execution's signals list by signal id, a page at a time, and only its own", async () => {
    for (const id of ["b", "a", "C", "a-1"]) await store.getOrCreateSignal(signal("a3", id));
    await store.getOrCreateSignal(signal("a4", "zz"));
    const all = await store.listSignals({ project, domain, name: "a3" });
    assert.deepEqual(all.items.map((s) => s.signalId), ["C", "a", "a-1", "b"]);
    const first = await store.listSignals({ project, domain, name: "a3" }, 3);
    assert.deepEqual(first.items.map((s) => s.signalId), ["C", "a", "a-1"]);
    const rest = await store.listSignals({ project, domain, name: "a3" }, 3, first.token);
    assert.deepEqual(rest.items.map((s) => s.signalId), ["b"]);
    assert.equal(rest.token, undefined);
  });
});
