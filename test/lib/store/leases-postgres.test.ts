// Execution leases on a real, throwaway PostgreSQL: concurrent claims have one winner, a lease is taken over only once
// it has run out, a fenced write commits only while its server holds the lease, and an outage reads as "unavailable".
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { LeaseLostError } from "../../../src/lib/store/leases.js";
import { openPostgresStore, type PostgresStore } from "../../../src/lib/store/postgres.js";
import { isStoreUnavailable, retryWhileUnavailable } from "../../../src/lib/store/unavailable.js";
import { startPostgres, type TestPostgres } from "../../support/postgres.js";
import { execution, node } from "./record-fixtures.js";

let server: TestPostgres;
let store: PostgresStore;
before(async () => {
  server = await startPostgres();
  store = await openPostgresStore(server.url);
});
after(async () => {
  await store?.close();
  await server?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("execution leases on PostgreSQL", () => {
  test("of ten servers claiming the same new execution at once, exactly one wins", async () => {
    const key = { project: "p", domain: "d", name: "race" };
    await store.createExecution(execution({ ...key, phase: "QUEUED" }));
    const owners = Array.from({ length: 10 }, (_, i) => `server-${i}`);
    const results = await Promise.all(owners.map((owner) => store.claimExecution(key, owner, 60_000)));
    assert.equal(results.filter(Boolean).length, 1, JSON.stringify(results));
    const batch = await Promise.all(owners.map((owner) => store.claimAvailableExecutions(owner, 60_000, 10)));
    assert.equal(batch.flat().filter((c) => c.name === "race").length, 0, "a held lease is not claimable");
  });

  test("a lease is taken over only once it has run out, and the old owner's writes are refused from then on", async () => {
    const key = { project: "p", domain: "d", name: "takeover" };
    await store.createExecution(execution({ ...key, phase: "RUNNING" }));
    const first = await store.claimExecution(key, "old", 1000);
    assert.ok(first);
    const old = store.fencedBy(key, "old", first.epoch);
    await old.write([{ table: "node", row: node({ project: "p", domain: "d", executionName: "takeover", nodeId: "n0", phase: "RUNNING" }) }]);
    assert.equal(await store.claimExecution(key, "new", 1000), undefined, "not before it ran out");
    assert.deepEqual((await store.renewLeases("old", 1000)).map((h) => h.name).filter((n) => n === "takeover"), ["takeover"]);
    await sleep(1200);
    const claimed = (await store.claimAvailableExecutions("new", 1000, 100)).find((c) => c.name === "takeover");
    assert.equal(claimed?.previousOwner, "old");
    assert.ok(claimed.previousExpiry !== undefined && claimed.previousExpiry <= Date.now());
    await assert.rejects(
      old.write([{ table: "node", row: node({ project: "p", domain: "d", executionName: "takeover", nodeId: "n0", phase: "SUCCEEDED" }) }]),
      (e: unknown) => e instanceof LeaseLostError,
    );
    assert.equal((await store.listNodeExecutions(key))[0].phase, "RUNNING", "the refused write left nothing");
    assert.deepEqual((await store.renewLeases("old", 1000)).filter((h) => h.name === "takeover"), [], "the old owner holds nothing any more");
    await store.fencedBy(key, "new", claimed.epoch).write([{ table: "node", row: node({ project: "p", domain: "d", executionName: "takeover", nodeId: "n0", phase: "SUCCEEDED" }) }]);
    assert.equal((await store.listNodeExecutions(key))[0].phase, "SUCCEEDED");

    // The old owner claims it again once the new one's lease runs out: its earlier run still cannot write.
    await sleep(1200);
    const again = await store.claimExecution(key, "old", 1000);
    assert.ok(again && again.epoch > first.epoch && again.previousOwner === "new");
    await assert.rejects(old.write([{ table: "node", row: node({ project: "p", domain: "d", executionName: "takeover", nodeId: "n0", phase: "FAILED" }) }]), (e: unknown) => e instanceof LeaseLostError);
    await store.fencedBy(key, "old", again.epoch).write([{ table: "node", row: node({ project: "p", domain: "d", executionName: "takeover", nodeId: "n1", phase: "RUNNING" }) }]);
  });

  test("a termination asked through another server reaches the owner at its renewal and survives the owner's writes", async () => {
    const key = { project: "p", domain: "d", name: "terminate" };
    await store.createExecution(execution({ ...key, phase: "QUEUED" }));
    const claimed = await store.claimExecution(key, "owner", 60_000);
    assert.ok(claimed);
    assert.equal(await store.requestTermination(key, "wrong inputs", "alice"), true);
    const held = (await store.renewLeases("owner", 60_000)).find((h) => h.name === "terminate");
    assert.deepEqual(held, { ...key, aborting: true, abortCause: "wrong inputs", abortPrincipal: "alice" });
    await store.fencedBy(key, "owner", claimed.epoch).write([{ table: "execution", row: execution({ ...key, phase: "RUNNING" }) }]);
    const record = await store.getExecution(key);
    assert.equal(record?.phase, "ABORTING");
    assert.deepEqual(record?.abort, { cause: "wrong inputs", principal: "alice" });
  });

  test("leases given up on a graceful stop can be claimed by another server at once", async () => {
    const key = { project: "p", domain: "d", name: "released" };
    await store.createExecution(execution({ ...key, phase: "RUNNING" }));
    assert.ok(await store.claimExecution(key, "leaving", 60_000));
    assert.equal(await store.claimExecution(key, "staying", 60_000), undefined);
    await store.releaseLeases("leaving");
    assert.equal((await store.claimExecution(key, "staying", 60_000))?.previousOwner, "leaving");
  });

  test("while PostgreSQL is stopped, calls fail as unavailable; a retried call completes once it is back", async () => {
    const key = { project: "p", domain: "d", name: "outage" };
    await server.halt();
    try {
      await assert.rejects(store.getExecution(key), (e: unknown) => isStoreUnavailable(e));
      const created = retryWhileUnavailable(() => store.createExecution(execution({ ...key, phase: "QUEUED" })));
      await sleep(1500);
      await server.restart();
      assert.equal(await created, true);
    } finally {
      await server.restart();
    }
    assert.equal((await store.getExecution(key))?.phase, "QUEUED");
  });
});
