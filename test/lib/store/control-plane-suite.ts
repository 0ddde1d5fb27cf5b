// One behavioural suite for every ControlPlaneStore, run by the SQLite and the PostgreSQL test files against real
// databases. Must only use the store's interface, so that both answer the same; each test opens a fresh store.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, describe, test } from "node:test";
import { UserError } from "../../../src/lib/errors.js";
import { cacheEntry, execution, fullExecution, fullNode, fullTask, key, node, task } from "./record-fixtures.js";
import { currentOwner, isOwnerAlive } from "../../../src/lib/store/owner.js";
import type {
  ControlPlaneStore,
  EntityRecord,
  ExecutionKey,
  ExecutionPhase,
  ExecutionRecord,
  ExecutionSortKey,
  ListExecutionsQuery,
  NodePhase,
  ProjectRecord,
  StoreWrite,
} from "../../../src/lib/store/records.js";

function entity(overrides: Partial<EntityRecord> = {}): EntityRecord {
  return {
    resource: "workflow",
    project: key.project,
    domain: key.domain,
    name: "examples.spend.calculateSpend",
    version: "v1",
    // Every byte value, so that nothing on the way treats the spec as text.
    spec: Uint8Array.from({ length: 256 }, (_, i) => 255 - i),
    digest: "sha256:0f1e",
    createdAt: 1_700_000_000_000,
    ...overrides,
  };
}

function launchPlan(version: string, overrides: Partial<EntityRecord> = {}): EntityRecord {
  return entity({ resource: "launchPlan", name: "examples.spend.daily", version, state: "INACTIVE", spec: Uint8Array.of(1, 2, 3), ...overrides });
}

/** Byte order, which both stores sort text in (JS's `<` compares UTF-16 units instead). */
function bytewise(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  assert.ok(child.pid);
  return child.pid;
}

function isUserError(pattern: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  };
}

/** Registers the shared suite for one kind of store; `openStore` gives a fresh, empty store each call. */
export function describeControlPlaneStore(backend: string, openStore: () => Promise<ControlPlaneStore>): void {
  const stores: ControlPlaneStore[] = [];
  after(async () => {
    for (const store of stores) await store.close();
  });
  async function open(): Promise<ControlPlaneStore> {
    const store = await openStore();
    stores.push(store);
    return store;
  }

  describe(`${backend}: records round-trip exactly`, () => {
    test("an execution with every field (abort and launch project too), and one with only the required ones", async () => {
      const store = await open();
      const minimal = execution({ name: "min" });
      await store.write([{ table: "execution", row: fullExecution }, { table: "execution", row: minimal }]);
      assert.deepEqual(await store.getExecution(key), fullExecution);
      assert.deepEqual(await store.getExecution({ ...key, name: "min" }), minimal);
      assert.equal(await store.getExecution({ ...key, name: "missing" }), undefined);
    });

    test("node executions and task attempts, full and minimal; booleans stay booleans", async () => {
      const store = await open();
      const minimalNode = node({ nodeId: "n9", createdAt: 1_700_000_000_009 });
      const minimalError = task({ nodeId: "n9", attempt: 1, error: { kind: "USER", code: "E", message: "m" } });
      await store.write([
        { table: "node", row: fullNode },
        { table: "node", row: minimalNode },
        { table: "task", row: fullTask },
        { table: "task", row: task({ nodeId: "n9" }) },
        { table: "task", row: minimalError },
      ]);
      assert.deepEqual(await store.listNodeExecutions(key), [fullNode, minimalNode]);
      assert.deepEqual(await store.listTaskExecutions(key), [fullTask, task({ nodeId: "n9" }), minimalError]);
    });

    test("cache entries: get, replace, miss", async () => {
      const store = await open();
      await store.write([{ table: "cache", row: cacheEntry }]);
      assert.deepEqual(await store.getCacheEntry(cacheEntry.key), cacheEntry);
      const replaced = { ...cacheEntry, outputsUri: "file:///newer.pb", executionName: "def456", createdAt: 1_800_000_000_000 };
      await store.write([{ table: "cache", row: replaced }]);
      assert.deepEqual(await store.getCacheEntry(cacheEntry.key), replaced);
      assert.equal(await store.getCacheEntry("no-such-key"), undefined);
    });

    test("an upsert replaces the whole row, clearing fields the new record leaves out", async () => {
      const store = await open();
      await store.write([{ table: "execution", row: fullExecution }]);
      const rerun = execution({ phase: "QUEUED", updatedAt: 1_700_000_001_000 });
      await store.write([{ table: "execution", row: rerun }]);
      assert.deepEqual(await store.getExecution(key), rerun);
    });
  });

  describe(`${backend}: write`, () => {
    test("a batch with one bad row writes nothing, and the store stays usable", async () => {
      const store = await open();
      const bad = node({ nodeId: "n1", phase: null as unknown as NodePhase });
      await assert.rejects(
        store.write([{ table: "execution", row: execution() }, { table: "node", row: node() }, { table: "node", row: bad }]),
        /NOT NULL|not-null/i,
      );
      assert.equal(await store.getExecution(key), undefined);
      assert.deepEqual(await store.listNodeExecutions(key), []);
      await store.write([{ table: "execution", row: execution() }]);
      assert.deepEqual(await store.getExecution(key), execution());
    });

    test("the same row twice in one batch: the later write wins, whole", async () => {
      const store = await open();
      const { error: _error, ...withoutError } = fullNode;
      await store.write([
        { table: "node", row: fullNode },
        { table: "execution", row: fullExecution },
        { table: "node", row: { ...withoutError, phase: "SUCCEEDED" } },
        { table: "execution", row: execution({ phase: "SUCCEEDED" }) },
      ]);
      assert.deepEqual(await store.listNodeExecutions(key), [{ ...withoutError, phase: "SUCCEEDED" }]);
      assert.deepEqual(await store.getExecution(key), execution({ phase: "SUCCEEDED" }));
    });

    test("an empty batch is fine; a batch of 2,000 upserts lands whole, and a second updates every row", async () => {
      const store = await open();
      await store.write([]);
      const batchOf = (phase: NodePhase): StoreWrite[] =>
        Array.from({ length: 1000 }, (_, i): StoreWrite[] => [
          { table: "node", row: node({ executionName: "e1", nodeId: `n${i}`, specNodeId: `n${i}`, phase }) },
          { table: "task", row: task({ executionName: "e1", nodeId: `n${i}`, phase: phase === "RUNNING" ? "RUNNING" : "SUCCEEDED" }) },
        ]).flat();
      await store.write(batchOf("RUNNING"));
      await store.write(batchOf("SUCCEEDED"));
      const nodes = await store.listNodeExecutions({ ...key, name: "e1" });
      assert.equal(nodes.length, 1000);
      assert.ok(nodes.every((n) => n.phase === "SUCCEEDED"));
      const tasks = await store.listTaskExecutions({ ...key, name: "e1" });
      assert.equal(tasks.length, 1000);
      assert.ok(tasks.every((a) => a.phase === "SUCCEEDED"));
    });
  });

  describe(`${backend}: node and attempt listings`, () => {
    test("nodes by createdAt then nodeId in byte order, attempts by nodeId then attempt, only of the asked execution", async () => {
      const store = await open();
      await store.write([
        { table: "node", row: node({ nodeId: "n2", createdAt: 30 }) },
        { table: "node", row: node({ nodeId: "n10", createdAt: 20 }) },
        { table: "node", row: node({ nodeId: "a", createdAt: 20 }) },
        { table: "node", row: node({ nodeId: "B", createdAt: 20 }) },
        { table: "node", row: node({ nodeId: "n0", createdAt: 10 }) },
        { table: "node", row: node({ executionName: "other", nodeId: "n0", createdAt: 5 }) },
        { table: "task", row: task({ nodeId: "n1", attempt: 1 }) },
        { table: "task", row: task({ nodeId: "n0", attempt: 2 }) },
        { table: "task", row: task({ nodeId: "n1", attempt: 0 }) },
        { table: "task", row: task({ nodeId: "n0", attempt: 10 }) },
        { table: "task", row: task({ nodeId: "n0", attempt: 1 }) },
        { table: "task", row: task({ executionName: "other", nodeId: "a" }) },
      ]);
      assert.deepEqual((await store.listNodeExecutions(key)).map((n) => n.nodeId), ["n0", "B", "a", "n10", "n2"]);
      assert.deepEqual(
        (await store.listTaskExecutions(key)).map((t) => `${t.nodeId}/${t.attempt}`),
        ["n0/1", "n0/2", "n0/10", "n1/0", "n1/1"],
      );
      assert.deepEqual(await store.listTaskExecutions({ ...key, name: "nothing" }), []);
    });
  });

  describe(`${backend}: failOrphanedExecutions`, () => {
    test("fails executions of gone owners with their unfinished nodes and attempts; leaves the rest", async () => {
      const store = await open();
      const me = currentOwner();
      const gonePid = await deadPid();
      const now = 1_800_000_000_000;
      const ownedBy = (name: string, owner: ExecutionRecord["owner"], phase: ExecutionPhase = "RUNNING") => execution({ name, owner, phase });
      const k = (name: string): ExecutionKey => ({ ...key, name });
      await store.write([
        { table: "execution", row: ownedBy("alive", me) },
        { table: "execution", row: ownedBy("dead", { ...me, pid: gonePid }) },
        { table: "execution", row: ownedBy("reused-pid", { ...me, startedAt: me.startedAt + 1 }, "QUEUED") },
        { table: "execution", row: ownedBy("dead-but-done", { ...me, pid: gonePid }, "SUCCEEDED") },
        { table: "execution", row: ownedBy("other-host", { ...me, host: `not-${me.host}`, pid: gonePid }) },
        { table: "execution", row: ownedBy("no-owner", undefined) },
        ...(["SUCCEEDED", "RUNNING", "QUEUED", "SKIPPED", "DYNAMIC_RUNNING"] as const).map(
          (phase, i): StoreWrite => ({ table: "node", row: node({ executionName: "dead", nodeId: `n${i}`, phase }) }),
        ),
        ...(["SUCCEEDED", "RUNNING", "WAITING_FOR_RESOURCES", "RETRYABLE_FAILED"] as const).map(
          (phase, i): StoreWrite => ({ table: "task", row: task({ executionName: "dead", nodeId: "n1", attempt: i, phase }) }),
        ),
        { table: "node", row: node({ executionName: "alive", phase: "RUNNING" }) },
      ]);

      const failed = await store.failOrphanedExecutions(me.host, isOwnerAlive, now);
      const reusedPidIsGone = process.platform === "linux";
      assert.deepEqual(failed.map((e) => e.name).sort(), reusedPidIsGone ? ["dead", "reused-pid"] : ["dead"]);
      assert.deepEqual(failed.find((e) => e.name === "dead"), k("dead"));

      const dead = await store.getExecution(k("dead"));
      assert.equal(dead?.phase, "FAILED");
      assert.equal(dead?.endedAt, now);
      assert.equal(dead?.updatedAt, now);
      assert.deepEqual(
        { kind: dead?.error?.kind, code: dead?.error?.code, recoverable: dead?.error?.recoverable },
        { kind: "SYSTEM", code: "OwnerProcessGone", recoverable: true },
      );
      assert.match(dead?.error?.message ?? "", new RegExp(`pid ${gonePid}\\b.*ended before the execution finished`));
      assert.match(dead?.error?.message ?? "", /tsflyte create execution --recover dead/);

      const nodes = await store.listNodeExecutions(k("dead"));
      assert.deepEqual(nodes.map((n) => n.phase), ["SUCCEEDED", "FAILED", "FAILED", "SKIPPED", "FAILED"]);
      assert.equal(nodes[0].error, undefined);
      assert.equal(nodes[1].error?.code, "OwnerProcessGone");
      assert.equal(nodes[1].endedAt, now);
      const tasks = await store.listTaskExecutions(k("dead"));
      assert.deepEqual(tasks.map((t) => t.phase), ["SUCCEEDED", "FAILED", "FAILED", "RETRYABLE_FAILED"]);

      for (const [name, phase] of [["alive", "RUNNING"], ["dead-but-done", "SUCCEEDED"], ["other-host", "RUNNING"], ["no-owner", "RUNNING"]]) {
        const e = await store.getExecution(k(name));
        assert.equal(e?.phase, phase, name);
        assert.equal(e?.error, undefined, name);
      }
      assert.equal((await store.listNodeExecutions(k("alive")))[0].phase, "RUNNING");
      assert.deepEqual(await store.failOrphanedExecutions(me.host, isOwnerAlive, now + 1), []);
    });
  });

  describe(`${backend}: listExecutions`, () => {
    // 25 executions, several sharing a createdAt so that the name breaks ties; some never started or ended.
    const phases: ExecutionPhase[] = ["FAILED", "SUCCEEDED", "RUNNING", "QUEUED", "ABORTED"];
    const seededRecords = Array.from({ length: 25 }, (_, i) =>
      execution({
        name: `e${String(i).padStart(2, "0")}`,
        createdAt: 1000 + Math.floor(i / 3),
        updatedAt: 5000 - (i % 7),
        phase: phases[i % 5],
        mode: i % 2 === 0 ? "MANUAL" : "RELAUNCH",
        launchName: i % 3 === 0 ? "wf.Daily" : "wf.weekly",
        launchVersion: `v${i % 4}`,
        ...(i % 4 === 0 ? {} : { startedAt: 2000 + (i % 5) }),
        ...(i % 5 === 1 ? { endedAt: 3000 + i } : {}),
        ...(i % 6 === 0 ? { sourceExecution: `src${i}` } : {}),
      }),
    );
    async function seeded(): Promise<ControlPlaneStore> {
      const store = await open();
      await store.write([
        ...seededRecords.map((row): StoreWrite => ({ table: "execution", row })),
        { table: "execution", row: execution({ name: "other-domain", domain: "production", createdAt: 5000 }) },
        { table: "execution", row: execution({ name: "other-project", project: "elsewhere", createdAt: 5000 }) },
      ]);
      return store;
    }
    const expectedOrder = [...seededRecords].sort((a, b) => b.createdAt - a.createdAt || bytewise(b.name, a.name)).map((e) => e.name);
    const scope = { project: key.project, domain: key.domain };

    async function allPages(store: ControlPlaneStore, query: Omit<ListExecutionsQuery, "project" | "domain" | "token">): Promise<string[]> {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page = await store.listExecutions({ ...scope, ...query, token });
        assert.ok(page.items.length <= (query.limit ?? 100));
        names.push(...page.items.map((e) => e.name));
        token = page.token;
      } while (token);
      return names;
    }

    test("newest first, then by name; default limit; project and domain kept apart", async () => {
      const store = await seeded();
      const page = await store.listExecutions(scope);
      assert.deepEqual(page.items.map((e) => e.name), expectedOrder);
      assert.equal(page.token, undefined);
      assert.deepEqual((await store.listExecutions({ ...scope, domain: "production" })).items.map((e) => e.name), ["other-domain"]);
      assert.deepEqual((await store.listExecutions({ ...scope, project: "elsewhere" })).items.map((e) => e.name), ["other-project"]);
      assert.deepEqual(await store.listExecutions({ project: "nobody", domain: key.domain }), { items: [] });
    });

    test("keyset pages cover every execution once; a full last page ends without an empty one; new rows do not shift a cursor", async () => {
      const store = await seeded();
      assert.deepEqual(await allPages(store, { limit: 4 }), expectedOrder);
      const first = await store.listExecutions({ ...scope, limit: 5 });
      const rest = await store.listExecutions({ ...scope, limit: 20, token: first.token });
      assert.equal(rest.items.length, 20);
      assert.equal(rest.token, undefined);
      const ten = await store.listExecutions({ ...scope, limit: 10 });
      await store.write([{ table: "execution", row: execution({ name: "newest", createdAt: 9999 }) }]);
      const next = await store.listExecutions({ ...scope, limit: 10, token: ten.token });
      assert.deepEqual(next.items.map((e) => e.name), expectedOrder.slice(10, 20));
    });

    test("phase, and filters with every operation, all AND-ed, with pages", async () => {
      const store = await seeded();
      const names = (predicate: (e: ExecutionRecord) => boolean) => expectedOrder.filter((n) => predicate(seededRecords.find((e) => e.name === n)!));
      const cases: [Omit<ListExecutionsQuery, "project" | "domain">, (e: ExecutionRecord) => boolean][] = [
        [{ phase: "FAILED" }, (e) => e.phase === "FAILED"],
        [{ filters: [{ field: "phase", op: "eq", value: "FAILED" }] }, (e) => e.phase === "FAILED"],
        [{ filters: [{ field: "phase", op: "ne", value: "FAILED" }] }, (e) => e.phase !== "FAILED"],
        [{ filters: [{ field: "phase", op: "value_in", value: ["FAILED", "ABORTED"] }] }, (e) => e.phase === "FAILED" || e.phase === "ABORTED"],
        [{ filters: [{ field: "phase", op: "value_in", value: [] }] }, () => false],
        [{ filters: [{ field: "created_at", op: "gte", value: 1004 }, { field: "created_at", op: "lt", value: 1007 }] }, (e) => e.createdAt >= 1004 && e.createdAt < 1007],
        [{ filters: [{ field: "created_at", op: "gt", value: 1004 }, { field: "created_at", op: "lte", value: 1007 }] }, (e) => e.createdAt > 1004 && e.createdAt <= 1007],
        [{ filters: [{ field: "updated_at", op: "eq", value: 4998 }] }, (e) => e.updatedAt === 4998],
        [{ filters: [{ field: "started_at", op: "gte", value: 2003 }] }, (e) => (e.startedAt ?? -Infinity) >= 2003],
        [{ filters: [{ field: "ended_at", op: "lt", value: 3010 }] }, (e) => e.endedAt !== undefined && e.endedAt < 3010],
        // `contains` is a case-sensitive substring: "Daily" matches, "daily" does not.
        [{ filters: [{ field: "launch_name", op: "contains", value: "Daily" }] }, (e) => e.launchName.includes("Daily")],
        [{ filters: [{ field: "launch_name", op: "contains", value: "daily" }] }, () => false],
        [{ filters: [{ field: "launch_name", op: "contains", value: "%" }] }, () => false],
        [{ filters: [{ field: "name", op: "contains", value: "1" }, { field: "mode", op: "eq", value: "RELAUNCH" }] }, (e) => e.name.includes("1") && e.mode === "RELAUNCH"],
        [{ filters: [{ field: "launch_version", op: "value_in", value: ["v1", "v3"] }], phase: "SUCCEEDED" }, (e) => ["v1", "v3"].includes(e.launchVersion) && e.phase === "SUCCEEDED"],
        [{ filters: [{ field: "source_execution", op: "eq", value: "src12" }] }, (e) => e.sourceExecution === "src12"],
        [{ filters: [{ field: "launch_kind", op: "eq", value: "workflow" }, { field: "name", op: "gt", value: "e20" }] }, (e) => bytewise(e.name, "e20") > 0],
      ];
      for (const [query, predicate] of cases) {
        const expected = names(predicate);
        assert.deepEqual(await allPages(store, { ...query, limit: 3 }), expected, JSON.stringify(query));
      }
    });

    test("every sort key in both directions, with pages; a missing time sorts before every time", async () => {
      const store = await seeded();
      const keys: ExecutionSortKey[] = ["created_at", "updated_at", "started_at", "ended_at", "name", "phase"];
      const valueOf = (e: ExecutionRecord, sortKey: ExecutionSortKey): string | number => {
        switch (sortKey) {
          case "created_at": return e.createdAt;
          case "updated_at": return e.updatedAt;
          case "started_at": return e.startedAt ?? -1;
          case "ended_at": return e.endedAt ?? -1;
          case "name": return e.name;
          case "phase": return e.phase;
        }
      };
      const compare = (a: string | number, b: string | number) => (typeof a === "number" ? a - (b as number) : bytewise(a, b as string));
      for (const sortKey of keys) {
        for (const direction of ["ASC", "DESC"] as const) {
          const sign = direction === "ASC" ? 1 : -1;
          const expected = [...seededRecords]
            .sort((a, b) => sign * (compare(valueOf(a, sortKey), valueOf(b, sortKey)) || bytewise(a.name, b.name)))
            .map((e) => e.name);
          assert.deepEqual(await allPages(store, { sortBy: { key: sortKey, direction }, limit: 4 }), expected, `${sortKey} ${direction}`);
        }
      }
    });

    test("bad tokens, limits, filters and sorts are UserErrors; a token resumes only the order that made it", async () => {
      const store = await seeded();
      await assert.rejects(store.listExecutions({ ...scope, token: "not-a-token" }), isUserError(/not one that a previous page/));
      await assert.rejects(store.listExecutions({ ...scope, limit: 0 }), UserError);
      const byName = await store.listExecutions({ ...scope, limit: 2, sortBy: { key: "name", direction: "ASC" } });
      const byUpdate = await store.listExecutions({ ...scope, limit: 2, sortBy: { key: "updated_at", direction: "ASC" } });
      const newest = await store.listExecutions({ ...scope, limit: 2 });
      await assert.rejects(store.listExecutions({ ...scope, token: byName.token }), isUserError(/not one that a previous page/));
      await assert.rejects(store.listExecutions({ ...scope, token: newest.token, sortBy: { key: "name", direction: "ASC" } }), UserError);
      await assert.rejects(store.listExecutions({ ...scope, token: byUpdate.token, sortBy: { key: "updated_at", direction: "DESC" } }), UserError);
      // The explicit default order is the default order, and takes its tokens.
      assert.ok((await store.listExecutions({ ...scope, token: newest.token, sortBy: { key: "created_at", direction: "DESC" } })).items.length > 0);
      const bad = (filters: unknown) => store.listExecutions({ ...scope, filters: filters as ListExecutionsQuery["filters"] });
      await assert.rejects(bad([{ field: "owner_host", op: "eq", value: "x" }]), isUserError(/Cannot filter executions by "owner_host"/));
      await assert.rejects(bad([{ field: "phase", op: "like", value: "x" }]), isUserError(/Unknown filter operation "like"/));
      await assert.rejects(bad([{ field: "created_at", op: "gt", value: "yesterday" }]), isUserError(/needs a time in whole milliseconds/));
      await assert.rejects(bad([{ field: "name", op: "eq", value: 3 }]), isUserError(/needs text/));
      await assert.rejects(bad([{ field: "created_at", op: "contains", value: "1" }]), isUserError(/looks for text/));
      await assert.rejects(bad([{ field: "phase", op: "value_in", value: "FAILED" }]), isUserError(/takes a list/));
      await assert.rejects(bad([{ field: "phase", op: "eq", value: ["FAILED"] }]), isUserError(/takes one value/));
      await assert.rejects(
        store.listExecutions({ ...scope, sortBy: { key: "owner_host" as ExecutionSortKey, direction: "ASC" } }),
        isUserError(/cannot be sorted by "owner_host"/),
      );
    });
  });

  describe(`${backend}: control plane executions`, () => {
    test("createExecution inserts, refuses a taken name without changing it, and keeps the abort fields", async () => {
      const store = await open();
      assert.equal(await store.createExecution(fullExecution), true);
      assert.equal(await store.createExecution(execution({ phase: "QUEUED" })), false);
      assert.deepEqual(await store.getExecution(key), fullExecution);
      assert.equal(await store.createExecution(execution({ domain: "production" })), true);
      assert.equal((await store.getExecution({ ...key, domain: "production" }))?.phase, "RUNNING");
    });

    test("listUnfinishedExecutions: every project's unfinished executions, oldest first", async () => {
      const store = await open();
      const phases: ExecutionPhase[] = ["QUEUED", "RUNNING", "SUCCEEDING", "FAILING", "ABORTING", "SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT", "UNDEFINED"];
      await store.write(
        phases.map((phase, i): StoreWrite => ({
          table: "execution",
          row: execution({ name: `x${i}`, phase, project: i % 2 ? "p1" : "p2", createdAt: 100 - i }),
        })),
      );
      await store.write([{ table: "execution", row: execution({ name: "tie", project: "p0", phase: "RUNNING", createdAt: 96 }) }]);
      const unfinished = await store.listUnfinishedExecutions();
      assert.deepEqual(unfinished.map((e) => `${e.project}/${e.name}/${e.phase}`), [
        "p0/tie/RUNNING",
        "p2/x4/ABORTING",
        "p1/x3/FAILING",
        "p2/x2/SUCCEEDING",
        "p1/x1/RUNNING",
        "p2/x0/QUEUED",
      ]);
    });

    test("countExecutions counts each phase in one project and domain", async () => {
      const store = await open();
      const phases: ExecutionPhase[] = ["FAILED", "FAILED", "SUCCEEDED", "RUNNING", "FAILED"];
      await store.write([
        ...phases.map((phase, i): StoreWrite => ({ table: "execution", row: execution({ name: `c${i}`, phase }) })),
        { table: "execution", row: execution({ name: "elsewhere", domain: "production", phase: "ABORTED" }) },
      ]);
      assert.deepEqual(await store.countExecutions(key.project, key.domain), { FAILED: 3, SUCCEEDED: 1, RUNNING: 1 });
      assert.deepEqual(await store.countExecutions(key.project, "staging"), {});
    });
  });

  describe(`${backend}: registry`, () => {
    test("registerEntity writes once; the same key again reports the stored record and changes nothing", async () => {
      const store = await open();
      const first = entity();
      assert.deepEqual(await store.registerEntity(first), { created: true });
      const back = await store.getEntity("workflow", first);
      assert.deepEqual(back, first);
      assert.ok(back?.spec instanceof Uint8Array && !Buffer.isBuffer(back.spec), "the spec comes back as a plain Uint8Array");
      assert.deepEqual(await store.registerEntity(entity()), { created: false, existing: first });
      const different = entity({ digest: "sha256:other", spec: Uint8Array.of(9), createdAt: 1_800_000_000_000 });
      assert.deepEqual(await store.registerEntity(different), { created: false, existing: first });
      assert.deepEqual(await store.getEntity("workflow", first), first);
      // The same key under another resource is another entity.
      assert.deepEqual(await store.registerEntity(entity({ resource: "task" })), { created: true });
      assert.equal(await store.getEntity("launchPlan", first), undefined);
      assert.equal(await store.getEntity("workflow", { ...first, version: "v2" }), undefined);
    });

    test("listEntities: newest first by default, by name, by version, filtered, in pages", async () => {
      const store = await open();
      const records: EntityRecord[] = [];
      for (const name of ["wf.b", "wf.A", "wf.a"]) {
        for (let v = 0; v < 5; v++) records.push(entity({ name, version: `v${v}`, createdAt: 1000 + (v % 3), spec: Uint8Array.of(v) }));
      }
      records.push(entity({ resource: "task", name: "wf.b", version: "t" }), entity({ domain: "production", name: "wf.b", version: "p" }));
      for (const r of records) assert.deepEqual(await store.registerEntity(r), { created: true });
      const workflows = records.filter((r) => r.resource === "workflow" && r.domain === key.domain);
      const scope = { resource: "workflow" as const, project: key.project, domain: key.domain };
      const all = async (query: Partial<Parameters<ControlPlaneStore["listEntities"]>[0]>): Promise<string[]> => {
        const seen: string[] = [];
        let token: string | undefined;
        do {
          const page = await store.listEntities({ ...scope, limit: 4, ...query, token });
          seen.push(...page.items.map((e) => `${e.name}@${e.version}`));
          token = page.token;
        } while (token);
        return seen;
      };
      const ordered = (rows: EntityRecord[], compare: (a: EntityRecord, b: EntityRecord) => number) => [...rows].sort(compare).map((e) => `${e.name}@${e.version}`);
      const newest = (a: EntityRecord, b: EntityRecord) => b.createdAt - a.createdAt || bytewise(b.name, a.name) || bytewise(b.version, a.version);
      assert.deepEqual(await all({}), ordered(workflows, newest));
      assert.deepEqual(await all({ sortBy: { key: "created_at", direction: "ASC" } }), ordered(workflows, (a, b) => -newest(a, b)));
      const byName = (a: EntityRecord, b: EntityRecord) => bytewise(a.name, b.name) || bytewise(a.version, b.version);
      assert.deepEqual(await all({ sortBy: { key: "name", direction: "ASC" } }), ordered(workflows, byName));
      assert.deepEqual(await all({ sortBy: { key: "name", direction: "DESC" } }), ordered(workflows, (a, b) => -byName(a, b)));
      const byVersion = (a: EntityRecord, b: EntityRecord) => bytewise(a.version, b.version) || bytewise(a.name, b.name);
      assert.deepEqual(await all({ sortBy: { key: "version", direction: "DESC" } }), ordered(workflows, (a, b) => -byVersion(a, b)));
      assert.deepEqual(await all({ name: "wf.A" }), ordered(workflows.filter((r) => r.name === "wf.A"), newest));
      const page = await store.listEntities({ ...scope, name: "wf.a", limit: 100 });
      assert.deepEqual(page.items, [...workflows.filter((r) => r.name === "wf.a")].sort(newest));
      assert.equal(page.token, undefined);
      assert.deepEqual((await store.listEntities({ ...scope, resource: "task" })).items.map((e) => e.version), ["t"]);
      assert.deepEqual(await store.listEntities({ ...scope, project: "nobody" }), { items: [] });
      const first = await store.listEntities({ ...scope, limit: 2 });
      await assert.rejects(store.listEntities({ ...scope, token: first.token, sortBy: { key: "name", direction: "ASC" } }), isUserError(/not one that a previous page of entities/));
      await assert.rejects(store.listEntities({ ...scope, token: "garbage" }), UserError);
      await assert.rejects(store.listEntities({ ...scope, limit: -1 }), UserError);
    });

    test("listEntityNames: distinct names of one resource, in byte order, in pages", async () => {
      const store = await open();
      for (const [name, version] of [["wf.b", "1"], ["wf.b", "2"], ["wf.A", "1"], ["wf.a", "1"], ["wf.é", "1"], ["wf.z", "1"]]) {
        await store.registerEntity(entity({ name, version }));
      }
      await store.registerEntity(entity({ resource: "task", name: "task.only", version: "1" }));
      const first = await store.listEntityNames("workflow", key.project, key.domain, 3);
      assert.deepEqual(first.items, ["wf.A", "wf.a", "wf.b"]);
      const second = await store.listEntityNames("workflow", key.project, key.domain, 3, first.token);
      assert.deepEqual(second, { items: ["wf.z", "wf.é"] });
      assert.deepEqual(await store.listEntityNames("task", key.project, key.domain), { items: ["task.only"] });
      await assert.rejects(store.listEntityNames("task", key.project, key.domain, 3, "bad"), UserError);
    });

    test("activating a launch plan version deactivates the others of its name; the active one is found", async () => {
      const store = await open();
      for (const v of ["v1", "v2", "v3"]) await store.registerEntity(launchPlan(v));
      await store.registerEntity(launchPlan("v1", { name: "examples.spend.other", state: "ACTIVE" }));
      await store.registerEntity(launchPlan("v1", { domain: "production", state: "ACTIVE" }));
      const lp = { project: key.project, domain: key.domain, name: "examples.spend.daily" };
      assert.equal(await store.getActiveLaunchPlan(lp.project, lp.domain, lp.name), undefined);

      assert.equal(await store.setLaunchPlanState({ ...lp, version: "v1" }, "ACTIVE", 2000), true);
      assert.deepEqual(await store.getActiveLaunchPlan(lp.project, lp.domain, lp.name), launchPlan("v1", { state: "ACTIVE", updatedAt: 2000 }));
      assert.equal(await store.setLaunchPlanState({ ...lp, version: "v2" }, "ACTIVE", 3000), true);
      assert.equal((await store.getActiveLaunchPlan(lp.project, lp.domain, lp.name))?.version, "v2");
      const states = async () =>
        Object.fromEntries((await store.listEntities({ resource: "launchPlan", ...lp, name: lp.name })).items.map((e) => [e.version, [e.state, e.updatedAt]]));
      assert.deepEqual(await states(), { v1: ["INACTIVE", 3000], v2: ["ACTIVE", 3000], v3: ["INACTIVE", undefined] });
      const active = await store.listEntities({ resource: "launchPlan", project: lp.project, domain: lp.domain, state: "ACTIVE" });
      assert.deepEqual(active.items.map((e) => `${e.name}@${e.version}`), ["examples.spend.other@v1", "examples.spend.daily@v2"]);

      // Other names, and the same name in another domain, keep their active versions.
      assert.equal((await store.getActiveLaunchPlan(lp.project, lp.domain, "examples.spend.other"))?.version, "v1");
      assert.equal((await store.getActiveLaunchPlan(lp.project, "production", lp.name))?.version, "v1");

      assert.equal(await store.setLaunchPlanState({ ...lp, version: "v9" }, "ACTIVE", 4000), false);
      assert.equal(await store.setLaunchPlanState({ ...lp, name: "examples.spend.calculateSpend", version: "v1" }, "ACTIVE", 4000), false);
      assert.equal((await store.getActiveLaunchPlan(lp.project, lp.domain, lp.name))?.version, "v2", "a failed activation changes nothing");

      assert.equal(await store.setLaunchPlanState({ ...lp, version: "v2" }, "INACTIVE", 5000), true);
      assert.equal(await store.getActiveLaunchPlan(lp.project, lp.domain, lp.name), undefined);
      assert.deepEqual(await states(), { v1: ["INACTIVE", 3000], v2: ["INACTIVE", 5000], v3: ["INACTIVE", undefined] });

      // Registering a version as ACTIVE takes over from the active one, as activating it would.
      await store.setLaunchPlanState({ ...lp, version: "v3" }, "ACTIVE", 6000);
      assert.deepEqual(await store.registerEntity(launchPlan("v4", { state: "ACTIVE", createdAt: 7000 })), { created: true });
      assert.deepEqual(await store.getActiveLaunchPlan(lp.project, lp.domain, lp.name), launchPlan("v4", { state: "ACTIVE", createdAt: 7000 }));
      assert.deepEqual((await states()).v3, ["INACTIVE", 7000]);
      // Registering an existing key as ACTIVE changes nothing.
      assert.deepEqual(await store.registerEntity(launchPlan("v1", { state: "ACTIVE" })), {
        created: false,
        existing: launchPlan("v1", { updatedAt: 3000 }),
      });
      assert.equal((await store.getActiveLaunchPlan(lp.project, lp.domain, lp.name))?.version, "v4");
    });

    test("projects: create once, get, list by id in byte order, labels kept", async () => {
      const store = await open();
      const project = (id: string, overrides: Partial<ProjectRecord> = {}): ProjectRecord => ({
        id,
        name: `The ${id} project`,
        description: "",
        labels: {},
        state: "ACTIVE",
        createdAt: 1_700_000_000_000,
        ...overrides,
      });
      const snacks = project("flytesnacks", { description: "Examples", labels: { team: "ml", "cost-center": "42" } });
      assert.equal(await store.createProject(snacks), true);
      assert.equal(await store.createProject(project("flytesnacks", { name: "another" })), false);
      assert.deepEqual(await store.getProject("flytesnacks"), snacks);
      assert.equal(await store.getProject("nothing"), undefined);
      await store.createProject(project("Zeta", { state: "ARCHIVED" }));
      await store.createProject(project("alpha"));
      assert.deepEqual((await store.listProjects()).map((p) => p.id), ["Zeta", "alpha", "flytesnacks"]);
      assert.deepEqual((await store.listProjects())[2], snacks);
    });
  });
}
