// Covers what is SQLite's own on real files: opening, migrating, refusing foreign or newer files, index use. The store's
// behaviour (round-trips, batches, pages, orphans) is the shared suite's, run on SQLite in sqlite-contract.test.ts.
// Must never touch a user's TSFLYTE_HOME: every test works in its own temp folder, removed at the end.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import { UserError } from "../../../src/lib/errors.js";
import { cacheEntry, execution, fullExecution, key, node } from "./record-fixtures.js";
import type { ExecutionRecord } from "../../../src/lib/store/records.js";
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
        assert.deepEqual(columns, [...table.columns, ...(table.untouched ?? [])], table.name);
        const key = (db.prepare("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk").all(table.name) as { name: string }[]).map((c) => c.name);
        assert.deepEqual(key, [...table.key], table.name);
      }
    } finally {
      db.close();
    }
  });

  test("a database at schema 1 (as tsflyte 0.1 left it) is migrated, and its executions read as before", async () => {
    // What schema 1 could hold: no abort metadata, no launch project or domain of their own, no principal or settings.
    const { abort: _abort, launchProject: _project, launchDomain: _domain, principal: _principal, settings: _settings, ...schemaOne } = fullExecution;
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
    const migrated = execution({ name: "new", abort: { cause: "c", principal: "p" }, principal: "sdk", settings: { envs: { A: "1" }, clusterPool: "gpu" } });
    assert.equal(await store.createExecution(migrated), true);
    assert.deepEqual(await store.getExecution({ ...key, name: "new" }), migrated);
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
