// Covers the SQLite metadata store on real files: exact round-trips, atomic batches, keyset pages, orphans, opening.
// Must never touch a user's TSFLYTE_HOME: every test works in its own temp folder, removed at the end.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import { UserError } from "../../../src/lib/errors.js";
import { cacheEntry, execution, fullExecution, fullNode, fullTask, key, node, task } from "./record-fixtures.js";
import { currentOwner, isOwnerAlive } from "../../../src/lib/store/owner.js";
import type {
  ExecutionKey,
  ExecutionRecord,
  NodePhase,
  StoreWrite,
} from "../../../src/lib/store/records.js";
import {
  cacheEntriesTable,
  entitiesTable,
  executionsTable,
  latestSchemaVersion,
  migrations,
  nodeExecutionsTable,
  projectsTable,
  statementFor,
  taskExecutionsTable,
} from "../../../src/lib/store/schema.js";
import { openSqliteStore, type SqliteStore } from "../../../src/lib/store/sqlite.js";

const tempDirs: string[] = [];
const openStores: SqliteStore[] = [];
after(async () => {
  for (const store of openStores) await store.close();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsflyte-store-"));
  tempDirs.push(dir);
  return dir;
}

function open(file = path.join(tempDir(), "home", "metadata.db")): SqliteStore {
  const store = openSqliteStore(file);
  openStores.push(store);
  return store;
}


describe("SqliteStore round-trips", () => {
  test("an execution with every field, and one with only the required ones", async () => {
    const store = open();
    const minimal = execution({ name: "min" });
    await store.write([{ table: "execution", row: fullExecution }, { table: "execution", row: minimal }]);
    assert.deepEqual(await store.getExecution(key), fullExecution);
    const back = await store.getExecution({ ...key, name: "min" });
    assert.deepEqual(back, minimal);
    assert.equal(back?.overwriteCache, false);
    assert.equal(await store.getExecution({ ...key, name: "missing" }), undefined);
  });

  test("node executions and task attempts, full and minimal; booleans stay booleans", async () => {
    const store = open();
    const minimalNode = node({ nodeId: "n9", createdAt: 1_700_000_000_009 });
    const minimalTask = task({ nodeId: "n9" });
    const minimalError = task({ nodeId: "n9", attempt: 1, error: { kind: "USER", code: "E", message: "m" } });
    await store.write([
      { table: "node", row: fullNode },
      { table: "node", row: minimalNode },
      { table: "task", row: fullTask },
      { table: "task", row: minimalTask },
      { table: "task", row: minimalError },
    ]);
    assert.deepEqual(await store.listNodeExecutions(key), [fullNode, minimalNode]);
    assert.deepEqual(await store.listTaskExecutions(key), [fullTask, minimalTask, minimalError]);
    const [parent] = await store.listNodeExecutions(key);
    assert.equal(parent.isParent, true);
    assert.equal(parent.error?.recoverable, true);
  });

  test("cache entries: get, replace, miss", async () => {
    const store = open();
    await store.write([{ table: "cache", row: cacheEntry }]);
    assert.deepEqual(await store.getCacheEntry(cacheEntry.key), cacheEntry);
    const replaced = { ...cacheEntry, outputsUri: "file:///newer.pb", executionName: "def456", createdAt: 1_800_000_000_000 };
    await store.write([{ table: "cache", row: replaced }]);
    assert.deepEqual(await store.getCacheEntry(cacheEntry.key), replaced);
    assert.equal(await store.getCacheEntry("no-such-key"), undefined);
  });

  test("an upsert replaces the whole row, clearing fields the new record leaves out", async () => {
    const store = open();
    await store.write([{ table: "execution", row: fullExecution }]);
    const rerun = execution({ phase: "QUEUED", updatedAt: 1_700_000_001_000 });
    await store.write([{ table: "execution", row: rerun }]);
    assert.deepEqual(await store.getExecution(key), rerun);
    await store.write([{ table: "node", row: fullNode }, { table: "node", row: { ...fullNode, phase: "SUCCEEDED", error: undefined } }]);
    const { error: _error, ...withoutError } = fullNode;
    assert.deepEqual(await store.listNodeExecutions(key), [{ ...withoutError, phase: "SUCCEEDED" }]);
  });
});

describe("SqliteStore.write", () => {
  test("a batch with one bad row writes nothing", async () => {
    const store = open();
    const bad = node({ nodeId: "n1", phase: null as unknown as NodePhase });
    await assert.rejects(
      store.write([{ table: "execution", row: execution() }, { table: "node", row: node() }, { table: "node", row: bad }]),
      /NOT NULL/,
    );
    assert.equal(await store.getExecution(key), undefined);
    assert.deepEqual(await store.listNodeExecutions(key), []);
    // The store is still usable after the rollback.
    await store.write([{ table: "execution", row: execution() }]);
    assert.deepEqual(await store.getExecution(key), execution());
  });

  test("an empty batch is fine", async () => {
    await open().write([]);
  });

  test("a batch of 2,000 upserts lands whole, and a second batch updates every row", async () => {
    const store = open();
    const batchOf = (execution: string, phase: NodePhase): StoreWrite[] =>
      Array.from({ length: 1000 }, (_, i): StoreWrite[] => [
        { table: "node", row: node({ executionName: execution, nodeId: `n${i}`, specNodeId: `n${i}`, phase, inputsUri: `file:///tmp/metadata/${execution}/n${i}/data/inputs.pb` }) },
        { table: "task", row: task({ executionName: execution, nodeId: `n${i}`, phase: phase === "RUNNING" ? "RUNNING" : "SUCCEEDED" }) },
      ]).flat();
    await store.write(batchOf("e1", "RUNNING"));
    await store.write(batchOf("e1", "SUCCEEDED"));
    const nodes = await store.listNodeExecutions({ ...key, name: "e1" });
    assert.equal(nodes.length, 1000);
    assert.ok(nodes.every((n) => n.phase === "SUCCEEDED"));
    const tasks = await store.listTaskExecutions({ ...key, name: "e1" });
    assert.equal(tasks.length, 1000);
    assert.ok(tasks.every((a) => a.phase === "SUCCEEDED"));
  });
});

describe("SqliteStore.listExecutions", () => {
  async function seeded(): Promise<SqliteStore> {
    const store = open();
    const writes: StoreWrite[] = [];
    // 25 executions, several sharing a createdAt so that the name breaks ties.
    for (let i = 0; i < 25; i++) {
      writes.push({
        table: "execution",
        row: execution({ name: `e${String(i).padStart(2, "0")}`, createdAt: 1000 + Math.floor(i / 3), phase: i % 4 === 0 ? "FAILED" : "SUCCEEDED" }),
      });
    }
    writes.push({ table: "execution", row: execution({ name: "other-domain", domain: "production", createdAt: 5000 }) });
    writes.push({ table: "execution", row: execution({ name: "other-project", project: "elsewhere", createdAt: 5000 }) });
    await store.write(writes);
    return store;
  }
  const expectedOrder = Array.from({ length: 25 }, (_, i) => ({ name: `e${String(i).padStart(2, "0")}`, createdAt: 1000 + Math.floor(i / 3) }))
    .sort((a, b) => b.createdAt - a.createdAt || (a.name < b.name ? 1 : -1))
    .map((e) => e.name);

  test("newest first, then by name; default limit; project and domain kept apart", async () => {
    const store = await seeded();
    const page = await store.listExecutions({ project: key.project, domain: key.domain });
    assert.deepEqual(page.items.map((e) => e.name), expectedOrder);
    assert.equal(page.token, undefined);
    assert.deepEqual((await store.listExecutions({ project: key.project, domain: "production" })).items.map((e) => e.name), ["other-domain"]);
    assert.deepEqual((await store.listExecutions({ project: "elsewhere", domain: key.domain })).items.map((e) => e.name), ["other-project"]);
    assert.deepEqual(await store.listExecutions({ project: "nobody", domain: key.domain }), { items: [] });
  });

  test("keyset pages cover every execution once, across ties in createdAt", async () => {
    const store = await seeded();
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await store.listExecutions({ project: key.project, domain: key.domain, limit: 4, token });
      assert.ok(page.items.length <= 4);
      names.push(...page.items.map((e) => e.name));
      token = page.token;
      pages++;
    } while (token);
    assert.deepEqual(names, expectedOrder);
    assert.equal(pages, 7);
    // An exact multiple of the page size ends without an empty extra page.
    const first = await store.listExecutions({ project: key.project, domain: key.domain, limit: 5 });
    const rest = await store.listExecutions({ project: key.project, domain: key.domain, limit: 20, token: first.token });
    assert.equal(rest.items.length, 20);
    assert.equal(rest.token, undefined);
  });

  test("a page of new executions does not shift a cursor taken before", async () => {
    const store = await seeded();
    const first = await store.listExecutions({ project: key.project, domain: key.domain, limit: 10 });
    await store.write([{ table: "execution", row: execution({ name: "newest", createdAt: 9999 }) }]);
    const second = await store.listExecutions({ project: key.project, domain: key.domain, limit: 10, token: first.token });
    assert.deepEqual(second.items.map((e) => e.name), expectedOrder.slice(10, 20));
  });

  test("phase filter, with pages", async () => {
    const store = await seeded();
    const failed = expectedOrder.filter((name) => Number(name.slice(1)) % 4 === 0);
    const first = await store.listExecutions({ project: key.project, domain: key.domain, phase: "FAILED", limit: 4 });
    const second = await store.listExecutions({ project: key.project, domain: key.domain, phase: "FAILED", limit: 4, token: first.token });
    assert.deepEqual([...first.items, ...second.items].map((e) => e.name), failed);
    assert.ok(first.items.every((e) => e.phase === "FAILED"));
    assert.equal(second.token, undefined);
    assert.deepEqual((await store.listExecutions({ project: key.project, domain: key.domain, phase: "ABORTED" })).items, []);
  });

  test("a token that no page returned, and a bad limit, are UserErrors", async () => {
    const store = open();
    await assert.rejects(store.listExecutions({ project: "p", domain: "d", token: "not-a-token" }), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, /not one that a previous page/);
      return true;
    });
    await assert.rejects(store.listExecutions({ project: "p", domain: "d", limit: 0 }), UserError);
  });
});

describe("SqliteStore node and attempt listings", () => {
  test("nodes by createdAt then nodeId, attempts by nodeId then attempt, only of the asked execution", async () => {
    const store = open();
    await store.write([
      { table: "node", row: node({ nodeId: "n2", createdAt: 30 }) },
      { table: "node", row: node({ nodeId: "n10", createdAt: 20 }) },
      { table: "node", row: node({ nodeId: "n1", createdAt: 20 }) },
      { table: "node", row: node({ nodeId: "n0", createdAt: 10 }) },
      { table: "node", row: node({ executionName: "other", nodeId: "n0", createdAt: 5 }) },
      { table: "task", row: task({ nodeId: "n1", attempt: 1 }) },
      { table: "task", row: task({ nodeId: "n0", attempt: 2 }) },
      { table: "task", row: task({ nodeId: "n1", attempt: 0 }) },
      { table: "task", row: task({ nodeId: "n0", attempt: 0 }) },
      { table: "task", row: task({ nodeId: "n0", attempt: 1 }) },
      { table: "task", row: task({ executionName: "other", nodeId: "a" }) },
    ]);
    assert.deepEqual((await store.listNodeExecutions(key)).map((n) => n.nodeId), ["n0", "n1", "n10", "n2"]);
    assert.deepEqual(
      (await store.listTaskExecutions(key)).map((t) => `${t.nodeId}/${t.attempt}`),
      ["n0/0", "n0/1", "n0/2", "n1/0", "n1/1"],
    );
    assert.deepEqual(await store.listTaskExecutions({ ...key, name: "nothing" }), []);
  });
});

describe("SqliteStore.failOrphanedExecutions", () => {
  async function deadPid(): Promise<number> {
    const child = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
    await new Promise((resolve) => child.on("exit", resolve));
    assert.ok(child.pid);
    return child.pid;
  }

  test("fails executions of gone owners with their unfinished nodes and attempts; leaves the rest", async () => {
    const store = open();
    const me = currentOwner();
    const gonePid = await deadPid();
    const now = 1_800_000_000_000;
    const ownedBy = (name: string, owner: ExecutionRecord["owner"], phase: ExecutionRecord["phase"] = "RUNNING") =>
      execution({ name, owner, phase });
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
    // Only Linux can tell a reused pid from the original process, by its start time.
    const reusedPidIsGone = process.platform === "linux";
    assert.deepEqual(failed.map((e) => e.name).sort(), reusedPidIsGone ? ["dead", "reused-pid"] : ["dead"]);
    assert.deepEqual(failed.find((e) => e.name === "dead"), k("dead"));

    const dead = await store.getExecution(k("dead"));
    assert.equal(dead?.phase, "FAILED");
    assert.equal(dead?.endedAt, now);
    assert.equal(dead?.updatedAt, now);
    assert.equal(dead?.error?.kind, "SYSTEM");
    assert.equal(dead?.error?.code, "OwnerProcessGone");
    assert.match(dead?.error?.message ?? "", new RegExp(`pid ${gonePid}\\b.*ended before the execution finished`));
    assert.match(dead?.error?.message ?? "", /tsflyte create execution --recover dead/);
    assert.equal((await store.getExecution(k("reused-pid")))?.phase, reusedPidIsGone ? "FAILED" : "QUEUED");

    const nodes = await store.listNodeExecutions(k("dead"));
    assert.deepEqual(nodes.map((n) => n.phase), ["SUCCEEDED", "FAILED", "FAILED", "SKIPPED", "FAILED"]);
    assert.equal(nodes[0].error, undefined);
    assert.equal(nodes[1].error?.code, "OwnerProcessGone");
    assert.equal(nodes[1].endedAt, now);
    const tasks = await store.listTaskExecutions(k("dead"));
    assert.deepEqual(tasks.map((t) => t.phase), ["SUCCEEDED", "FAILED", "FAILED", "RETRYABLE_FAILED"]);
    assert.equal(tasks[1].error?.kind, "SYSTEM");

    for (const [name, phase] of [["alive", "RUNNING"], ["dead-but-done", "SUCCEEDED"], ["other-host", "RUNNING"], ["no-owner", "RUNNING"]]) {
      const e = await store.getExecution(k(name));
      assert.equal(e?.phase, phase, name);
      assert.equal(e?.error, undefined, name);
    }
    assert.equal((await store.listNodeExecutions(k("alive")))[0].phase, "RUNNING");
    // Nothing left to fail the second time.
    assert.deepEqual(await store.failOrphanedExecutions(me.host, isOwnerAlive, now + 1), []);
  });
});

describe("openSqliteStore", () => {
  test("creates missing folders, and reopening keeps data without migrating again", async () => {
    const file = path.join(tempDir(), "a", "b", "metadata.db");
    const first = openSqliteStore(file);
    await first.write([{ table: "execution", row: fullExecution }, { table: "cache", row: cacheEntry }]);
    await first.close();
    const second = open(file);
    assert.equal(second.location, file);
    assert.deepEqual(await second.getExecution(key), fullExecution);
    assert.deepEqual(await second.getCacheEntry(cacheEntry.key), cacheEntry);
    const db = new Database(file, { readonly: true });
    try {
      assert.deepEqual(db.prepare("SELECT version FROM schema_info ORDER BY version").all(), migrations.map((m) => ({ version: m.version })));
      assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    } finally {
      db.close();
    }
  });

  test("the column lists the upserts use are exactly the migrated tables' columns", () => {
    const file = path.join(tempDir(), "metadata.db");
    open(file);
    const db = new Database(file, { readonly: true });
    try {
      for (const table of [executionsTable, nodeExecutionsTable, taskExecutionsTable, cacheEntriesTable, entitiesTable, projectsTable]) {
        const columns = (db.prepare("SELECT name FROM pragma_table_info(?)").all(table.name) as { name: string }[]).map((c) => c.name);
        assert.deepEqual(columns, [...table.columns], table.name);
        const key = (db.prepare("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk").all(table.name) as { name: string }[]).map((c) => c.name);
        assert.deepEqual(key, [...table.key], table.name);
      }
    } finally {
      db.close();
    }
  });

  test("a database at schema 1 (as tsflyte 0.1 left it) is migrated, and its executions read as before", async () => {
    // What schema 1 could hold: no abort metadata, no launch project or domain of their own.
    const { abort: _abort, launchProject: _project, launchDomain: _domain, ...schemaOne } = fullExecution;
    const v1Execution: ExecutionRecord = { ...schemaOne, phase: "FAILED" };
    const file = path.join(tempDir(), "metadata.db");
    const old = new Database(file);
    const [first] = migrations;
    for (const statement of first.statements) old.exec(statementFor(statement, "sqlite") ?? "");
    old.prepare("INSERT INTO schema_info VALUES (1, ?, 0)").run(first.description);
    const v1Columns = (old.prepare("SELECT name FROM pragma_table_info('executions')").all() as { name: string }[]).map((c) => c.name);
    const v1Row = Object.fromEntries(v1Columns.map((c) => [c, (v1Execution as unknown as Record<string, unknown>)[c] ?? null]));
    Object.assign(v1Row, {
      launch_kind: v1Execution.launchKind, launch_name: v1Execution.launchName, launch_version: v1Execution.launchVersion,
      source_file: v1Execution.source?.file, source_export_name: v1Execution.source?.exportName, source_execution: v1Execution.sourceExecution,
      error_kind: v1Execution.error?.kind, error_code: v1Execution.error?.code, error_message: v1Execution.error?.message,
      error_recoverable: 0, error_stack: v1Execution.error?.stack, error_uri: v1Execution.error?.errorUri,
      inputs_uri: v1Execution.inputsUri, outputs_uri: v1Execution.outputsUri, overwrite_cache: 1, max_parallelism: v1Execution.maxParallelism,
      owner_host: v1Execution.owner?.host, owner_pid: v1Execution.owner?.pid, owner_started_at: v1Execution.owner?.startedAt,
      created_at: v1Execution.createdAt, started_at: v1Execution.startedAt, updated_at: v1Execution.updatedAt, ended_at: v1Execution.endedAt,
    });
    old.prepare(`INSERT INTO executions (${v1Columns.join(", ")}) VALUES (${v1Columns.map((c) => `@${c}`).join(", ")})`).run(v1Row);
    old.close();

    const store = open(file);
    assert.deepEqual(await store.getExecution(key), v1Execution);
    assert.equal(await store.createExecution(execution({ name: "new", abort: { cause: "c", principal: "p" } })), true);
    assert.deepEqual((await store.getExecution({ ...key, name: "new" }))?.abort, { cause: "c", principal: "p" });
    const db = new Database(file, { readonly: true });
    try {
      assert.deepEqual(db.prepare("SELECT version FROM schema_info ORDER BY version").all(), migrations.map((m) => ({ version: m.version })));
    } finally {
      db.close();
    }
  });

  test("the listings walk their indexes: no full scans, no sorting in a temporary tree", async () => {
    const file = path.join(tempDir(), "metadata.db");
    const store = open(file);
    await store.write([{ table: "execution", row: execution() }]);
    const db = new Database(file, { readonly: true });
    const plan = (sql: string, ...values: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...values) as { detail: string }[]).map((row) => row.detail).join("; ");
    try {
      const newest = plan("SELECT * FROM executions WHERE project = ? AND domain = ? ORDER BY created_at DESC, name DESC LIMIT ?", "p", "d", 10);
      assert.match(newest, /USING INDEX executions_newest/);
      assert.doesNotMatch(newest, /TEMP B-TREE/);
      const unfinished = plan(
        "SELECT * FROM executions WHERE phase IN ('QUEUED', 'RUNNING', 'SUCCEEDING', 'FAILING', 'ABORTING') ORDER BY created_at, project, domain, name",
      );
      assert.match(unfinished, /USING INDEX executions_unfinished/);
      const active = plan(
        "SELECT * FROM entities WHERE resource = 'launchPlan' AND state = 'ACTIVE' AND project = ? AND domain = ? AND name = ?", "p", "d", "n",
      );
      // Either index narrows the search to the versions of one name; without statistics SQLite may take either.
      assert.match(active, /^SEARCH entities USING INDEX entities_(one_active|name_newest) \(.*name=\?\)$/);
      const entities = plan(
        "SELECT * FROM entities WHERE resource = ? AND project = ? AND domain = ? ORDER BY created_at DESC, name DESC, version DESC LIMIT ?", "workflow", "p", "d", 10,
      );
      assert.match(entities, /USING INDEX entities_newest/);
      assert.doesNotMatch(entities, /TEMP B-TREE/);
    } finally {
      db.close();
    }
  });

  test("a file that is not a database is refused, named, and left byte-identical", () => {
    const dir = tempDir();
    const file = path.join(dir, "metadata.db");
    const content = Buffer.from("these are my notes, not a database\n".repeat(200));
    fs.writeFileSync(file, content);
    assert.throws(
      () => openSqliteStore(file),
      (err: unknown) => {
        assert.ok(err instanceof UserError);
        assert.ok(err.message.includes(file));
        assert.match(err.message, /Nothing was changed or deleted/);
        assert.match(err.hint ?? "", /Move the file aside.*TSFLYTE_HOME/);
        return true;
      },
    );
    assert.deepEqual(fs.readFileSync(file), content);
    assert.deepEqual(fs.readdirSync(dir), ["metadata.db"]);
  });

  test("a corrupt database is refused with the same clear error and left byte-identical", async () => {
    const dir = tempDir();
    const file = path.join(dir, "metadata.db");
    const store = openSqliteStore(file);
    await store.write([{ table: "execution", row: fullExecution }]);
    await store.close();
    const bytes = fs.readFileSync(file);
    // Keep SQLite's 100-byte header valid and scribble over the schema page that follows it.
    bytes.fill(0xa5, 100, 4096);
    fs.writeFileSync(file, bytes);
    assert.throws(() => openSqliteStore(file), (err: unknown) => err instanceof UserError && err.message.includes(file) && /Nothing was changed/.test(err.message));
    assert.deepEqual(fs.readFileSync(file), bytes);
  });

  test("a database from a newer tsflyte is refused and left unchanged", async () => {
    const dir = tempDir();
    const file = path.join(dir, "metadata.db");
    await openSqliteStore(file).close();
    const newer = latestSchemaVersion + 3;
    const db = new Database(file);
    db.prepare("INSERT INTO schema_info (version, description, applied_at) VALUES (?, 'from the future', 0)").run(newer);
    db.close();
    const before = fs.readFileSync(file);
    assert.throws(
      () => openSqliteStore(file),
      (err: unknown) => {
        assert.ok(err instanceof UserError);
        assert.ok(err.message.includes(file));
        assert.ok(err.message.includes(`written by a newer tsflyte (schema ${newer}; this tsflyte knows up to ${latestSchemaVersion})`));
        assert.match(err.hint ?? "", /Upgrade tsflyte.*TSFLYTE_HOME/);
        return true;
      },
    );
    assert.deepEqual(fs.readFileSync(file), before);
    const check = new Database(file, { readonly: true });
    try {
      assert.deepEqual(check.prepare("SELECT MAX(version) AS v FROM schema_info").get(), { v: newer });
    } finally {
      check.close();
    }
  });

  test("someone else's SQLite database is refused rather than given our tables", () => {
    const file = path.join(tempDir(), "metadata.db");
    const db = new Database(file);
    db.exec("CREATE TABLE recipes (name TEXT)");
    db.close();
    const before = fs.readFileSync(file);
    assert.throws(() => openSqliteStore(file), (err: unknown) => err instanceof UserError && /not one of tsflyte's metadata databases/.test(err.message));
    assert.deepEqual(fs.readFileSync(file), before);
  });

  test("two connections to one file both see committed writes", async () => {
    const file = path.join(tempDir(), "metadata.db");
    const a = open(file);
    const b = open(file);
    await a.write([{ table: "execution", row: execution() }]);
    assert.deepEqual(await b.getExecution(key), execution());
    await b.write([{ table: "node", row: node() }, { table: "execution", row: execution({ phase: "SUCCEEDED" }) }]);
    assert.deepEqual(await a.listNodeExecutions(key), [node()]);
    assert.equal((await a.getExecution(key))?.phase, "SUCCEEDED");
  });
});
