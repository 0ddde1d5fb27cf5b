// One behavioural suite for the signals of every SQL store (SQLite and PostgreSQL, on real databases): get-or-create
// keeps the first record, a value is set once, a second different value is refused, listing pages by signal id.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { ControlPlaneStore, SignalRecord } from "../../../src/lib/store/records.js";

const key = { project: "flytesnacks", domain: "development", name: "a0signals" };

function signal(signalId: string, overrides: Partial<SignalRecord> = {}): SignalRecord {
  // Every byte value in the type, so that nothing on the way treats it as text.
  return { project: key.project, domain: key.domain, executionName: key.name, signalId, type: Uint8Array.from({ length: 256 }, (_, i) => i), createdAt: 1_700_000_000_000, updatedAt: 1_700_000_000_000, ...overrides };
}

export function describeSignalStore(backend: string, openStore: () => Promise<ControlPlaneStore>): void {
  const stores: ControlPlaneStore[] = [];
  after(async () => {
    for (const store of stores) await store.close();
  });
  async function open(): Promise<ControlPlaneStore> {
    const store = await openStore();
    stores.push(store);
    return store;
  }

  describe(`${backend}: signals`, () => {
    test("get-or-create makes the signal once; a second call (another gate of the same name) gets the first record", async () => {
      const store = await open();
      const first = signal("deploy-ok");
      assert.deepEqual(await store.getOrCreateSignal(first), first);
      const again = await store.getOrCreateSignal(signal("deploy-ok", { type: Uint8Array.of(9), createdAt: 1_800_000_000_000, updatedAt: 1_800_000_000_000 }));
      assert.deepEqual(again, first);
      assert.deepEqual(await store.getSignal({ ...key, executionName: key.name, signalId: "deploy-ok" }), first);
      assert.equal(await store.getSignal({ ...key, executionName: key.name, signalId: "other" }), undefined);
      assert.equal(await store.getSignal({ ...key, executionName: "another", signalId: "deploy-ok" }), undefined);
    });

    test("a value is set once: the same value again is `same`, another is a conflict that changes nothing, a missing signal is `missing`", async () => {
      const store = await open();
      await store.getOrCreateSignal(signal("batch-size"));
      const id = { ...key, executionName: key.name, signalId: "batch-size" };
      const set = await store.setSignal(id, Uint8Array.of(0, 1, 2, 255), 1_700_000_000_500);
      assert.equal(set.outcome, "set");
      assert.deepEqual(set.outcome === "set" && set.signal, signal("batch-size", { value: Uint8Array.of(0, 1, 2, 255), updatedAt: 1_700_000_000_500 }));
      const same = await store.setSignal(id, Uint8Array.of(0, 1, 2, 255), 1_700_000_000_600);
      assert.equal(same.outcome, "same");
      const conflict = await store.setSignal(id, Uint8Array.of(7), 1_700_000_000_700);
      assert.equal(conflict.outcome, "conflict");
      assert.deepEqual(conflict.outcome === "conflict" && conflict.signal.value, Uint8Array.of(0, 1, 2, 255));
      const stored = await store.getSignal(id);
      assert.deepEqual(stored?.value, Uint8Array.of(0, 1, 2, 255));
      assert.equal(stored?.updatedAt, 1_700_000_000_500);
      assert.deepEqual(await store.setSignal({ ...id, signalId: "never-made" }, Uint8Array.of(1), 1), { outcome: "missing" });
    });

    test("setters racing for one signal: exactly one sets it, and every other sees its value", async () => {
      const store = await open();
      await store.getOrCreateSignal(signal("race"));
      const id = { ...key, executionName: key.name, signalId: "race" };
      const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => store.setSignal(id, Uint8Array.of(i), 1_700_000_001_000 + i)));
      assert.equal(outcomes.filter((o) => o.outcome === "set").length, 1);
      const winner = (await store.getSignal(id))!.value!;
      for (const o of outcomes) if (o.outcome === "conflict") assert.deepEqual(o.signal.value, winner);
    });

    test("an execution's signals list by signal id (bytewise), a page at a time, and only its own", async () => {
      const store = await open();
      for (const id of ["b", "a", "C", "c-2", "a-1"]) await store.getOrCreateSignal(signal(id));
      await store.getOrCreateSignal({ ...signal("zz"), executionName: "another" });
      const all = await store.listSignals(key);
      assert.deepEqual(all.items.map((s) => s.signalId), ["C", "a", "a-1", "b", "c-2"]);
      assert.equal(all.token, undefined);
      const first = await store.listSignals(key, 2);
      assert.deepEqual(first.items.map((s) => s.signalId), ["C", "a"]);
      const second = await store.listSignals(key, 2, first.token);
      assert.deepEqual(second.items.map((s) => s.signalId), ["a-1", "b"]);
      const last = await store.listSignals(key, 2, second.token);
      assert.deepEqual(last.items.map((s) => s.signalId), ["c-2"]);
      assert.equal(last.token, undefined);
      assert.deepEqual((await store.listSignals({ ...key, name: "nothing-here" })).items, []);
    });
  });
}
