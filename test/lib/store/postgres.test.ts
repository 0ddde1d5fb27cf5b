// Runs the shared ControlPlaneStore suite against PostgresStore on a real, throwaway PostgreSQL, and covers what only
// PostgreSQL has: migrations racing, concurrent activations, byte-order text, and errors that never show the password.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { inspect } from "node:util";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { UserError } from "../../../src/lib/errors.js";
import { openControlPlaneStore } from "../../../src/lib/store/open.js";
import { openPostgresStore, type PostgresStore } from "../../../src/lib/store/postgres.js";
import type { EntityRecord } from "../../../src/lib/store/records.js";
import {
  cacheEntriesTable,
  entitiesTable,
  executionsTable,
  latestSchemaVersion,
  migrations,
  nodeExecutionsTable,
  projectsTable,
  signalsTable,
  taskExecutionsTable,
} from "../../../src/lib/store/schema.js";
import { startPostgres, type TestPostgres } from "../../support/postgres.js";
import { describeControlPlaneStore } from "./control-plane-suite.js";
import { describeSignalStore } from "./signals-suite.js";
import { execution, key } from "./record-fixtures.js";

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
const stores: PostgresStore[] = [];
after(async () => {
  for (const store of stores) await store.close();
  await server?.stop();
});

async function freshStore(url?: string): Promise<PostgresStore> {
  const store = await openPostgresStore(url ?? (await server.createDatabase()));
  stores.push(store);
  return store;
}

/** Runs `work` with a plain pg client on `url`, to look at the database behind the store's back. */
async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

let schemas = 0;
/**
 * A new, empty schema in one database, named by search_path in the URL: much quicker than a database per test,
 * and the way a shared database gives tsflyte a place of its own.
 */
async function freshSchemaUrl(): Promise<string> {
  const schema = `suite_${++schemas}`;
  await withClient(server.url, (client) => client.query(`CREATE SCHEMA ${schema}`));
  return `${server.url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

describeControlPlaneStore("PostgreSQL", async () => freshStore(await freshSchemaUrl()));
describeSignalStore("PostgreSQL", async () => freshStore(await freshSchemaUrl()));

describe("PostgreSQL: schema and migrations", () => {
  test("the upserts' column lists and keys are exactly the migrated tables'; sorted text compares bytewise", async () => {
    const url = await server.createDatabase();
    await freshStore(url);
    await withClient(url, async (client) => {
      for (const table of [executionsTable, nodeExecutionsTable, taskExecutionsTable, cacheEntriesTable, entitiesTable, projectsTable, signalsTable]) {
        const columns = await client.query<{ column_name: string }>(
          "SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
          [table.name],
        );
        assert.deepEqual(columns.rows.map((c) => c.column_name), [...table.columns, ...(table.untouched ?? [])], table.name);
        const primaryKey = await client.query<{ column_name: string }>(
          `SELECT a.attname AS column_name FROM pg_index i JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
           WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY k.n`,
          [table.name],
        );
        assert.deepEqual(primaryKey.rows.map((c) => c.column_name), [...table.key], table.name);
      }
      // The test server's own collation orders 'a' before 'B' (ICU): the store must not depend on it.
      assert.equal((await client.query("SELECT 'B' < 'a' AS bytewise")).rows[0].bytewise, false);
      const spec = await client.query("SELECT data_type FROM information_schema.columns WHERE table_name = 'entities' AND column_name = 'spec'");
      assert.equal(spec.rows[0].data_type, "bytea");
    });
  });

  test("servers starting at once on a new database migrate it once; reopening does not migrate again", async () => {
    const url = await server.createDatabase();
    const opened = await Promise.all(Array.from({ length: 4 }, () => freshStore(url)));
    await opened[0].write([{ table: "execution", row: execution() }]);
    assert.deepEqual(await opened[3].getExecution(key), execution());
    const versions = () => withClient(url, async (client) => (await client.query("SELECT version FROM schema_info ORDER BY version")).rows);
    assert.deepEqual(await versions(), migrations.map((m) => ({ version: m.version })));
    await freshStore(url);
    assert.deepEqual(await versions(), migrations.map((m) => ({ version: m.version })));
  });

  test("a database from a newer tsflyte, and one with look-alike tables, are refused and left unchanged", async () => {
    const newer = await server.createDatabase();
    await freshStore(newer);
    await withClient(newer, (client) => client.query("INSERT INTO schema_info VALUES ($1, 'from the future', 0)", [latestSchemaVersion + 1]));
    await assert.rejects(openPostgresStore(newer), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, new RegExp(`written by a newer tsflyte \\(schema ${latestSchemaVersion + 1}; this tsflyte knows up to ${latestSchemaVersion}\\)`));
      return true;
    });

    const foreign = await server.createDatabase();
    await withClient(foreign, (client) => client.query("CREATE TABLE executions (id INTEGER); CREATE TABLE recipes (name TEXT)"));
    await assert.rejects(openPostgresStore(foreign), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, /already has tables named executions, but no schema_info table/);
      return true;
    });
    const tables = await withClient(foreign, async (client) =>
      (await client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).rows.map((r) => r.tablename),
    );
    assert.deepEqual(tables, ["executions", "recipes"]);

    // Other applications' tables are no obstacle.
    const shared = await server.createDatabase();
    await withClient(shared, (client) => client.query("CREATE TABLE recipes (name TEXT)"));
    await freshStore(shared);
  });

  test("openControlPlaneStore takes postgres:// and postgresql:// URLs", async () => {
    const url = await server.createDatabase();
    for (const spelling of [url, url.replace(/^postgres:/, "postgresql:")]) {
      const store = await openControlPlaneStore(spelling);
      try {
        assert.equal(store.location, url.replace(/^postgres:/, spelling.split(":")[0] + ":").replace(server.password, "***"));
        assert.equal(await store.createExecution(execution()), spelling === url);
      } finally {
        await store.close();
      }
    }
  });
});

describe("PostgreSQL: concurrency", () => {
  const launchPlan = (version: string): EntityRecord => ({
    resource: "launchPlan",
    project: key.project,
    domain: key.domain,
    name: "examples.daily",
    version,
    spec: Uint8Array.of(1),
    digest: "d",
    state: "INACTIVE",
    createdAt: 1000,
  });

  test("activations of different versions from several servers at once leave exactly one active", async () => {
    const url = await server.createDatabase();
    const servers = await Promise.all([freshStore(url), freshStore(url), freshStore(url)]);
    const versions = Array.from({ length: 12 }, (_, i) => `v${i}`);
    for (const v of versions) await servers[0].registerEntity(launchPlan(v));
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(versions.map((v, i) => servers[i % 3].setLaunchPlanState({ ...launchPlan(v) }, "ACTIVE", 2000 + round)));
      assert.ok(results.every(Boolean));
      const active = await servers[1].listEntities({ resource: "launchPlan", project: key.project, domain: key.domain, state: "ACTIVE" });
      assert.equal(active.items.length, 1);
      assert.deepEqual(await servers[2].getActiveLaunchPlan(key.project, key.domain, "examples.daily"), active.items[0]);
    }
  });

  test("the same key registered from several servers at once is created once; the same name created once", async () => {
    const url = await server.createDatabase();
    const servers = await Promise.all([freshStore(url), freshStore(url), freshStore(url)]);
    const outcomes = await Promise.all(servers.flatMap((s) => [s.registerEntity({ ...launchPlan("v1"), state: "ACTIVE" }), s.registerEntity(launchPlan("v1"))]));
    assert.equal(outcomes.filter((o) => o.created).length, 1);
    const created = await Promise.all(servers.map((s) => s.createExecution(execution())));
    assert.deepEqual(created.filter(Boolean), [true]);
  });
});

describe("PostgreSQL: connection errors", () => {
  const secret = "s3cr3t-Passw0rd";

  /** Checks that the password shows nowhere an error could be printed, logged or serialized. */
  function assertNoSecret(err: unknown, ...secrets: string[]): void {
    const views = [String(err), inspect(err, { depth: 5 }), JSON.stringify(err), (err as Error).stack ?? ""];
    if (err instanceof UserError) views.push(err.hint ?? "");
    for (const view of views) for (const s of secrets) assert.ok(!view.includes(s), `the password shows in: ${view}`);
  }

  async function closedPort(): Promise<number> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    return port;
  }

  test("a wrong password is a UserError naming the server and user, never the password", async () => {
    const url = await server.createDatabase();
    const wrong = url.replace(server.password, secret);
    await assert.rejects(openPostgresStore(wrong), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, new RegExp(`PostgreSQL server at 127\\.0\\.0\\.1:${server.port} refused user "tsflyte"`));
      assert.match(err.hint ?? "", /password/);
      assertNoSecret(err, secret);
      return true;
    });
    // No password at all, where the server asks for one.
    await assert.rejects(openPostgresStore(url.replace(`:${server.password}@`, "@")), (err: unknown) => {
      assert.ok(err instanceof UserError, String(err));
      assert.match(err.message, /asks user "tsflyte" for a password, and the database URL gives none/);
      return true;
    });
    // The real password is not shown either when the database is missing.
    const missing = url.replace(/\/[^/]+$/, "/no_such_database");
    await assert.rejects(openPostgresStore(missing), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, /has no database no_such_database/);
      assert.match(err.hint ?? "", /createdb no_such_database/);
      assertNoSecret(err, server.password);
      return true;
    });
  });

  test("an unreachable server is a UserError, without the password, even one with special characters", async () => {
    const port = await closedPort();
    const password = "p@ss:w/rd%21!";
    const url = `postgres://tsflyte:${encodeURIComponent(password)}@127.0.0.1:${port}/tsflyte`;
    await assert.rejects(openControlPlaneStore(url), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, new RegExp(`Cannot reach the PostgreSQL server at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
      assert.ok(err.message.includes(`postgres://tsflyte:***@127.0.0.1:${port}/tsflyte`), err.message);
      assertNoSecret(err, password, encodeURIComponent(password), "w/rd");
      return true;
    });
    // Typed without percent-encoding, the URL does not parse; its password is not shown either.
    await assert.rejects(openControlPlaneStore(`postgres://tsflyte:${password}@127.0.0.1:${port}/tsflyte`), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assertNoSecret(err, password, "w/rd", "ss:w");
      return true;
    });
    // A password given as a query parameter is hidden too.
    await assert.rejects(openControlPlaneStore(`postgres://tsflyte@127.0.0.1:${port}/tsflyte?password=${secret}`), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assertNoSecret(err, secret);
      return true;
    });
  });

  test("location never holds the password", async () => {
    const store = await freshStore();
    assert.ok(!store.location.includes(server.password));
    assert.match(store.location, new RegExp(`^postgres://tsflyte:\\*\\*\\*@127\\.0\\.0\\.1:${server.port}/tsflyte_test_\\d+$`));
  });
});
