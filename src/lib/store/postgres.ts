// The control plane's store in PostgreSQL (pg): the same tables, migrations, rows and queries as the SQLite store,
// shared by every server that points at it. Never shows the password from the database URL: not in an error, a log or `location`.
import type { Pool, PoolClient } from "pg";
import { UserError } from "../errors.js";
import { LeaseLostError, type ClaimedExecution, type ExecutionLeases, type HeldExecution } from "./leases.js";
import * as queries from "./queries.js";
import type {
  CacheEntryRecord,
  ControlPlaneStore,
  EntityKey,
  EntityRecord,
  EntityResource,
  ExecutionKey,
  ExecutionRecord,
  ListEntitiesQuery,
  ListExecutionsQuery,
  NodeExecutionRecord,
  Page,
  ProjectRecord,
  RegisterOutcome,
  SetSignalOutcome,
  SignalKey,
  SignalRecord,
  StoreWrite,
  TaskExecutionRecord,
} from "./records.js";
import {
  cacheEntryFromRow,
  cacheEntryToRow,
  entityFromRow,
  entityToRow,
  executionFromRow,
  executionToRow,
  nodeExecutionFromRow,
  nodeExecutionToRow,
  projectFromRow,
  projectToRow,
  taskExecutionFromRow,
  taskExecutionToRow,
} from "./rows.js";
import {
  cacheEntriesTable,
  entitiesTable,
  executionsTable,
  latestSchemaVersion,
  migrations,
  nodeExecutionsTable,
  projectsTable,
  signalsTable,
  statementFor,
  taskExecutionsTable,
  upsertSql,
  type CacheEntryRow,
  type EntityRow,
  type ExecutionRow,
  type NodeExecutionRow,
  type ProjectRow,
  type SignalRow,
  type TableShape,
  type TaskExecutionRow,
} from "./schema.js";
import * as signals from "./signals.js";
import { raw, renderSql, sql, type SqlFragment } from "./sql.js";
import { isUnavailablePostgresCode, StoreUnavailableError, unreachableSocketCodes } from "./unavailable.js";

/** Connections per server: the API and the scheduler rarely hold more than a few at once. */
const poolSize = 10;
const connectTimeoutSeconds = 10;
/** PostgreSQL's type id for BIGINT (int8), which pg would otherwise return as a string. */
const int8TypeId = 20;
/** A multi-row upsert binds columns × rows parameters; PostgreSQL allows 65,535 in one statement. */
const maxParametersPerStatement = 60_000;

/**
 * Connects to the database at `url` (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`), and creates or migrates its
 * tables. A server that cannot be reached, or that refuses the user, is a UserError.
 */
export async function openPostgresStore(url: string): Promise<PostgresStore> {
  const target = describeTarget(url);
  // Loaded here, not at the top: commands that never use PostgreSQL should not pay for loading pg.
  const { Pool, types } = await import("pg");
  const getTypeParser = ((typeId: number, format?: "text" | "binary") =>
    // Times are milliseconds since the epoch, well inside a double's exact range; counts are BIGINT too.
    typeId === int8TypeId ? (text: string) => Number(text) : types.getTypeParser(typeId, format)) as typeof types.getTypeParser;
  const pool = new Pool({
    connectionString: url,
    max: poolSize,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: connectTimeoutSeconds * 1000,
    application_name: "tsflyte",
    types: { getTypeParser },
  });
  // An idle connection that breaks (the server restarted) is dropped by the pool, and the next query connects
  // anew and reports any failure itself; without a listener the pool's "error" event would end the process.
  pool.on("error", () => undefined);
  try {
    await migrate(pool, target);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw describeFailure(err, target);
  }
  return new PostgresStore(pool, target);
}

/** The lease a fenced view's writes are conditional on. */
interface Fence {
  key: ExecutionKey;
  owner: string;
  epoch: number;
}

export class PostgresStore implements ControlPlaneStore, ExecutionLeases {
  readonly #pool: Pool;
  readonly #target: Target;
  readonly #fence: Fence | undefined;
  #closed: Promise<void> | undefined;
  /** The URL without its password. */
  readonly location: string;

  /** Use openPostgresStore, which migrates the database first. */
  constructor(pool: Pool, target: Target, fence?: Fence) {
    this.#pool = pool;
    this.#target = target;
    this.#fence = fence;
    this.location = target.location;
  }

  async write(batch: readonly StoreWrite[]): Promise<void> {
    if (batch.length === 0) return;
    // Each row upserts its whole record, so only the last write of a key counts; keeping only that one lets a
    // table's rows go in a few multi-row statements (one statement may not touch a row twice) instead of one each.
    const executions = new Map<string, ExecutionRow>();
    const nodes = new Map<string, NodeExecutionRow>();
    const tasks = new Map<string, TaskExecutionRow>();
    const cache = new Map<string, CacheEntryRow>();
    for (const w of batch) {
      switch (w.table) {
        case "execution":
          keepLast(executions, executionsTable, executionToRow(w.row));
          break;
        case "node":
          keepLast(nodes, nodeExecutionsTable, nodeExecutionToRow(w.row));
          break;
        case "task":
          keepLast(tasks, taskExecutionsTable, taskExecutionToRow(w.row));
          break;
        case "cache":
          keepLast(cache, cacheEntriesTable, cacheEntryToRow(w.row));
          break;
        default:
          throw new Error(`unknown store table ${(w as { table: unknown }).table}`);
      }
    }
    const fence = this.#fence;
    await this.#transaction(async (client) => {
      if (fence) await checkFence(client, fence, executions);
      await upsertRows(client, executionsTable, [...executions.values()]);
      await upsertRows(client, nodeExecutionsTable, [...nodes.values()]);
      await upsertRows(client, taskExecutionsTable, [...tasks.values()]);
      await upsertRows(client, cacheEntriesTable, [...cache.values()]);
    });
  }

  async getExecution(key: ExecutionKey): Promise<ExecutionRecord | undefined> {
    const [row] = await this.#rows<ExecutionRow>(queries.getExecution(key));
    return row && executionFromRow(row);
  }

  async listExecutions(query: ListExecutionsQuery): Promise<Page<ExecutionRecord>> {
    const page = queries.listExecutions(query, "postgres");
    return queries.pageOf(page, await this.#rows<ExecutionRow>(page.sql), executionFromRow);
  }

  async listNodeExecutions(key: ExecutionKey): Promise<NodeExecutionRecord[]> {
    return (await this.#rows<NodeExecutionRow>(queries.listNodeExecutions(key))).map(nodeExecutionFromRow);
  }

  async listTaskExecutions(key: ExecutionKey): Promise<TaskExecutionRecord[]> {
    return (await this.#rows<TaskExecutionRow>(queries.listTaskExecutions(key))).map(taskExecutionFromRow);
  }

  async getCacheEntry(key: string): Promise<CacheEntryRecord | undefined> {
    const [row] = await this.#rows<CacheEntryRow>(queries.getCacheEntry(key));
    return row && cacheEntryFromRow(row);
  }

  async failOrphanedExecutions(host: string, isAlive: OwnerCheck, now: number): Promise<ExecutionKey[]> {
    return this.#transaction(async (client) => {
      // FOR UPDATE: the phases read here must still hold when they are overwritten.
      const owned = await query<OwnedExecutionRow>(client, sql`${queries.unfinishedExecutionsOwnedBy(host)} FOR UPDATE`);
      const failedKeys: ExecutionKey[] = [];
      for (const row of owned.rows) {
        if (row.owner_pid === null) continue;
        if (isAlive({ pid: row.owner_pid, startedAt: row.owner_started_at ?? 0 })) continue;
        const key = { project: row.project, domain: row.domain, name: row.name };
        for (const update of queries.failOrphan(key, row.owner_pid, now)) await query(client, update);
        failedKeys.push(key);
      }
      return failedKeys;
    });
  }

  async registerEntity(record: EntityRecord): Promise<RegisterOutcome> {
    return this.#transaction(async (client): Promise<RegisterOutcome> => {
      const activate = record.resource === "launchPlan" && record.state === "ACTIVE";
      // Inserted inactive and then activated, so that the one-active index never sees two active versions.
      const row = entityToRow(activate ? { ...record, state: "INACTIVE" } : record);
      // A concurrent insert of the same key makes this one wait for it, and then do nothing.
      const inserted = await query(client, queries.insertIfAbsent(entitiesTable, row));
      if (inserted.rowCount === 0) {
        const [existing] = (await query<EntityRow>(client, queries.getEntity(record.resource, record))).rows;
        if (!existing) throw new Error(`entity ${record.resource} ${record.name}@${record.version} conflicted but cannot be read`);
        return { created: false, existing: entityFromRow(existing) };
      }
      if (activate) {
        await lockLaunchPlanName(client, record);
        await query(client, queries.deactivateOtherLaunchPlanVersions(record, record.createdAt));
        await query(client, queries.setLaunchPlanState(record, "ACTIVE", record.updatedAt ?? null));
      }
      return { created: true };
    });
  }

  async getEntity(resource: EntityResource, key: EntityKey): Promise<EntityRecord | undefined> {
    const [row] = await this.#rows<EntityRow>(queries.getEntity(resource, key));
    return row && entityFromRow(row);
  }

  async listEntities(listing: ListEntitiesQuery): Promise<Page<EntityRecord>> {
    const page = queries.listEntities(listing);
    return queries.pageOf(page, await this.#rows<EntityRow>(page.sql), entityFromRow);
  }

  async listEntityNames(resource: EntityResource, project: string, domain: string, limit?: number, token?: string): Promise<Page<string>> {
    const page = queries.listEntityNames(resource, project, domain, limit, token);
    return queries.pageOf(page, await this.#rows<queries.NameRow>(page.sql), (row) => row.name);
  }

  async setLaunchPlanState(key: EntityKey, state: "ACTIVE" | "INACTIVE", now: number): Promise<boolean> {
    return this.#transaction(async (client) => {
      await lockLaunchPlanName(client, key);
      if ((await query(client, queries.launchPlanExists(key))).rowCount === 0) return false;
      if (state === "ACTIVE") await query(client, queries.deactivateOtherLaunchPlanVersions(key, now));
      await query(client, queries.setLaunchPlanState(key, state, now));
      return true;
    });
  }

  async getActiveLaunchPlan(project: string, domain: string, name: string): Promise<EntityRecord | undefined> {
    const [row] = await this.#rows<EntityRow>(queries.getActiveLaunchPlan(project, domain, name));
    return row && entityFromRow(row);
  }

  async createProject(project: ProjectRecord): Promise<boolean> {
    return (await this.#run(queries.insertIfAbsent(projectsTable, projectToRow(project)))) === 1;
  }

  async getProject(id: string): Promise<ProjectRecord | undefined> {
    const [row] = await this.#rows<ProjectRow>(queries.getProject(id));
    return row && projectFromRow(row);
  }

  async listProjects(): Promise<ProjectRecord[]> {
    return (await this.#rows<ProjectRow>(queries.listProjects())).map(projectFromRow);
  }

  async createExecution(record: ExecutionRecord): Promise<boolean> {
    return (await this.#run(queries.insertIfAbsent(executionsTable, executionToRow(record)))) === 1;
  }

  async listUnfinishedExecutions(): Promise<ExecutionRecord[]> {
    return (await this.#rows<ExecutionRow>(queries.listUnfinishedExecutions())).map(executionFromRow);
  }

  async countExecutions(project: string, domain: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const row of await this.#rows<{ phase: string; n: number }>(queries.countExecutionsByPhase(project, domain))) counts[row.phase] = row.n;
    return counts;
  }

  // ── Signals (signals.ts) ──

  async getOrCreateSignal(record: SignalRecord): Promise<SignalRecord> {
    await this.#run(signals.insertSignalIfAbsent(record));
    const [row] = await this.#rows<SignalRow>(signals.getSignal(record));
    return signals.signalFromRow(row);
  }

  async getSignal(key: SignalKey): Promise<SignalRecord | undefined> {
    const [row] = await this.#rows<SignalRow>(signals.getSignal(key));
    return row && signals.signalFromRow(row);
  }

  async listSignals(key: ExecutionKey, limit?: number, token?: string): Promise<Page<SignalRecord>> {
    const page = signals.listSignals(key, limit, token);
    return signals.signalPageOf(page, await this.#rows<SignalRow>(page.sql));
  }

  async setSignal(key: SignalKey, value: Uint8Array, now: number): Promise<SetSignalOutcome> {
    // One statement sets it only while unset, so two setters racing cannot both win.
    const changed = await this.#run(signals.setSignalIfUnset(key, value, now));
    const current = await this.getSignal(key);
    if (changed === 1) return { outcome: "set", signal: current! };
    return signals.unchangedSetOutcome(current, value);
  }

  // ── Leases: see leases.ts for what each promises. ──

  async claimExecution(key: ExecutionKey, owner: string, leaseMs: number): Promise<ClaimedExecution | undefined> {
    const candidates = sql`SELECT project, domain, name, lease_owner, lease_expires_at, lease_epoch FROM executions
      WHERE project = ${key.project} AND domain = ${key.domain} AND name = ${key.name} AND ${unfinished} FOR UPDATE`;
    const claimable = sql`(before.lease_owner IS NULL OR before.lease_owner = ${owner} OR before.lease_expires_at < ${databaseNow})`;
    const [row] = await this.#rows<ClaimRow>(claimSql(candidates, claimable, owner, leaseMs));
    return row && claimedFromRow(row, owner);
  }

  async claimAvailableExecutions(owner: string, leaseMs: number, limit: number): Promise<ClaimedExecution[]> {
    if (limit <= 0) return [];
    // SKIP LOCKED: rows another server is claiming right now are left to it rather than waited for.
    const candidates = sql`SELECT project, domain, name, lease_owner, lease_expires_at, lease_epoch FROM executions
      WHERE ${unfinished} AND (lease_owner IS NULL OR lease_expires_at < ${databaseNow})
      ORDER BY created_at, project, domain, name LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
    return (await this.#rows<ClaimRow>(claimSql(candidates, raw("TRUE"), owner, leaseMs))).map((row) => claimedFromRow(row, owner));
  }

  async renewLeases(owner: string, leaseMs: number): Promise<HeldExecution[]> {
    const rows = await this.#rows<Pick<ExecutionRow, "project" | "domain" | "name" | "phase" | "abort_cause" | "abort_principal">>(
      sql`UPDATE executions SET lease_expires_at = ${databaseNow} + ${leaseMs} WHERE lease_owner = ${owner} AND ${unfinished}
        RETURNING project, domain, name, phase, abort_cause, abort_principal`,
    );
    return rows.map((row) => ({
      project: row.project,
      domain: row.domain,
      name: row.name,
      aborting: row.phase === "ABORTING",
      ...(row.abort_cause !== null ? { abortCause: row.abort_cause } : {}),
      ...(row.abort_principal !== null ? { abortPrincipal: row.abort_principal } : {}),
    }));
  }

  async releaseLeases(owner: string): Promise<void> {
    // The owner stays named (for the next holder's log); an expiry in the past makes each claimable at once.
    await this.#run(sql`UPDATE executions SET lease_expires_at = 0 WHERE lease_owner = ${owner} AND ${unfinished}`);
  }

  async requestTermination(key: ExecutionKey, cause: string, principal: string): Promise<boolean> {
    const changed = await this.#run(
      sql`UPDATE executions SET phase = 'ABORTING', abort_cause = ${cause}, abort_principal = ${principal}, updated_at = ${Date.now()}
        WHERE project = ${key.project} AND domain = ${key.domain} AND name = ${key.name} AND ${unfinished}`,
    );
    return changed === 1;
  }

  fencedBy(key: ExecutionKey, owner: string, epoch: number): PostgresStore {
    return new PostgresStore(this.#pool, this.#target, { key, owner, epoch });
  }

  async close(): Promise<void> {
    // A fenced view shares its store's connections: the store closes them.
    if (this.#fence) return;
    // pg refuses to end a pool twice; closing a closed store is harmless everywhere else.
    this.#closed ??= this.#pool.end();
    await this.#closed;
  }

  async #rows<Row>(fragment: SqlFragment): Promise<Row[]> {
    try {
      return (await query<Row>(this.#pool, fragment)).rows;
    } catch (err) {
      throw describeFailure(err, this.#target);
    }
  }

  /** Runs a statement that changes rows; returns how many it changed. */
  async #run(fragment: SqlFragment): Promise<number> {
    try {
      return (await query(this.#pool, fragment)).rowCount;
    } catch (err) {
      throw describeFailure(err, this.#target);
    }
  }

  /** Runs `work` in one transaction on one connection: committed if it returns, rolled back if it throws. */
  async #transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw describeFailure(err, this.#target);
    }
    let broken = false;
    // The pool listens for errors of idle connections only: one that breaks while checked out here (the server
    // shuts down between two statements) would otherwise raise an uncaught error and end the process.
    const onError = () => {
      broken = true;
    };
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      // A connection that cannot even roll back is closed rather than handed to the next request.
      if (!broken) {
        await client.query("ROLLBACK").catch(() => {
          broken = true;
        });
      }
      throw describeFailure(err, this.#target);
    } finally {
      client.removeListener("error", onError);
      client.release(broken);
    }
  }
}

type OwnedExecutionRow = Pick<ExecutionRow, "project" | "domain" | "name" | "owner_pid" | "owner_started_at">;
type OwnerCheck = (owner: { pid: number; startedAt: number }) => boolean;

// ── Leases ──

/** Now, in milliseconds, on the database's clock: the one clock every server sharing it agrees on. */
const databaseNow = raw("CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)");
const unfinished = raw(`phase IN (${queries.unfinishedExecutionPhases.map((p) => `'${p}'`).join(", ")})`);

interface ClaimRow {
  project: string;
  domain: string;
  name: string;
  lease_epoch: number;
  previous_owner: string | null;
  previous_expiry: number | null;
}

/**
 * One UPDATE that takes the lease of the rows `candidates` selects (and locks) when `claimable` holds for their
 * state before it: a second server claiming the same row waits for the first, then sees its lease and takes nothing.
 */
function claimSql(candidates: SqlFragment, claimable: SqlFragment, owner: string, leaseMs: number): SqlFragment {
  return sql`UPDATE executions AS e SET lease_owner = ${owner}, lease_expires_at = ${databaseNow} + ${leaseMs},
      lease_epoch = CASE WHEN before.lease_owner IS NOT DISTINCT FROM ${owner} THEN before.lease_epoch ELSE COALESCE(before.lease_epoch, 0) + 1 END
    FROM (${candidates}) AS before
    WHERE e.project = before.project AND e.domain = before.domain AND e.name = before.name AND ${claimable}
    RETURNING e.project, e.domain, e.name, e.lease_epoch, before.lease_owner AS previous_owner, before.lease_expires_at AS previous_expiry`;
}

function claimedFromRow(row: ClaimRow, owner: string): ClaimedExecution {
  const claimed: ClaimedExecution = { project: row.project, domain: row.domain, name: row.name, epoch: row.lease_epoch };
  if (row.previous_owner !== null && row.previous_owner !== owner) {
    claimed.previousOwner = row.previous_owner;
    if (row.previous_expiry !== null) claimed.previousExpiry = row.previous_expiry;
  }
  return claimed;
}

/**
 * Inside a write's transaction: the fence's lease is still its owner's (the row stays locked until the commit, so a
 * claim cannot slip in between), else LeaseLostError and nothing is written. A termination another server asked
 * for (ABORTING) is kept in the execution row the owner writes, until the owner records how it ended.
 */
async function checkFence(client: PoolClient, fence: Fence, executions: Map<string, ExecutionRow>): Promise<void> {
  const { key, owner } = fence;
  const [current] = (
    await query<Pick<ExecutionRow, "phase" | "abort_cause" | "abort_principal"> & { lease_owner: string | null; lease_epoch: number | null }>(
      client,
      sql`SELECT lease_owner, lease_epoch, phase, abort_cause, abort_principal FROM executions
        WHERE project = ${key.project} AND domain = ${key.domain} AND name = ${key.name} FOR UPDATE`,
    )
  ).rows;
  if (!current || current.lease_owner !== owner || current.lease_epoch !== fence.epoch) throw new LeaseLostError(key, owner);
  if (current.phase !== "ABORTING") return;
  for (const row of executions.values()) {
    if (row.name !== key.name || row.project !== key.project || row.domain !== key.domain) continue;
    if (queries.unfinishedExecutionPhases.includes(row.phase as ExecutionRecord["phase"])) {
      Object.assign(row, { phase: "ABORTING", abort_cause: current.abort_cause, abort_principal: current.abort_principal });
    }
  }
}

async function query<Row>(client: Pool | PoolClient, fragment: SqlFragment): Promise<{ rows: Row[]; rowCount: number }> {
  const { text, values } = renderSql(fragment, "postgres");
  const result = await client.query(text, values);
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
}

/**
 * Serializes changes to one launch plan name's active version until the transaction ends: without it, two
 * activations of different versions would each miss the other's uncommitted row and then collide on the index.
 */
async function lockLaunchPlanName(client: PoolClient, key: EntityKey): Promise<void> {
  const lockName = JSON.stringify(["launchPlan", key.project, key.domain, key.name]);
  await query(client, sql`SELECT pg_advisory_xact_lock(hashtextextended(CAST(${lockName} AS TEXT), 0))`);
}

function keepLast<Row>(rows: Map<string, Row>, table: TableShape<Row>, row: Row): void {
  rows.set(JSON.stringify(table.key.map((column) => row[column])), row);
}

async function upsertRows<Row>(client: PoolClient, table: TableShape<Row>, rows: readonly Row[]): Promise<void> {
  const rowsPerStatement = Math.floor(maxParametersPerStatement / table.columns.length);
  for (let start = 0; start < rows.length; start += rowsPerStatement) {
    const chunk = rows.slice(start, start + rowsPerStatement);
    const text = upsertSql(table, (_column, index) => `$${index + 1}`, chunk.length);
    await client.query(text, chunk.flatMap((row) => table.columns.map((column) => row[column])));
  }
}

// ── Migrations ──

const migrationLockName = "tsflyte schema migration";

/** Brings the schema up to date: in one transaction, under a lock that makes a second server starting at once wait. */
async function migrate(pool: Pool, target: Target): Promise<void> {
  const client = await pool.connect();
  let broken = false;
  try {
    // Most starts find the schema current, and need neither a transaction nor the lock.
    if ((await readSchemaVersion(client, target)) === latestSchemaVersion) return;
    // A session lock taken before the transaction, not a transaction lock inside it: a backend refreshes its
    // cached view of the catalog when a transaction starts, so only a transaction begun after the wait sees the
    // tables that the server holding the lock has just created (to_regclass would still miss them).
    await client.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [migrationLockName]);
    try {
      await client.query("BEGIN");
      try {
        // Read again under the lock: another server may have migrated meanwhile.
        const version = await readSchemaVersion(client, target);
        if (version === 0) await refuseLookAlikeTables(client, target);
        for (const migration of migrations) {
          if (migration.version <= version) continue;
          for (const statement of migration.statements) {
            const text = statementFor(statement, "postgres");
            if (text !== undefined) await client.query(text);
          }
          await client.query("INSERT INTO schema_info (version, description, applied_at) VALUES ($1, $2, $3)", [
            migration.version,
            migration.description,
            Date.now(),
          ]);
        }
        await client.query("COMMIT");
      } catch (err) {
        // DDL is transactional in PostgreSQL: a failed migration leaves the database as it found it.
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [migrationLockName]).catch(() => undefined);
    }
  } catch (err) {
    // A connection left in an unknown state (mid-transaction, or still holding the lock) is closed, not pooled;
    // closing it also releases the lock.
    broken = true;
    throw err;
  } finally {
    client.release(broken);
  }
}

const tsflyteTables = [executionsTable, nodeExecutionsTable, taskExecutionsTable, cacheEntriesTable, entitiesTable, projectsTable, signalsTable].map((t) => t.name);

/** The applied schema version in the connection's current schema: 0 when tsflyte has no tables there yet. */
async function readSchemaVersion(client: PoolClient, target: Target): Promise<number> {
  const { rows } = await client.query<{ present: boolean }>("SELECT to_regclass('schema_info') IS NOT NULL AS present");
  if (!rows[0].present) return 0;
  const version = (await client.query<{ version: number | null }>("SELECT MAX(version) AS version FROM schema_info")).rows[0].version ?? 0;
  if (version > latestSchemaVersion) {
    throw new UserError(
      `${target.location} was written by a newer tsflyte (schema ${version}; this tsflyte knows up to ${latestSchemaVersion}). Nothing was changed.`,
      "Upgrade tsflyte on this server to the version the other servers run.",
    );
  }
  return version;
}

/** Other applications' tables are no concern, but tables with tsflyte's names and no schema_info are not ours. */
async function refuseLookAlikeTables(client: PoolClient, target: Target): Promise<void> {
  const clash = await client.query<{ tablename: string }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY($1) ORDER BY tablename",
    [tsflyteTables],
  );
  if (clash.rows.length > 0) {
    throw new UserError(
      `${target.location} already has tables named ${clash.rows.map((r) => r.tablename).join(", ")}, but no schema_info table, ` +
        "so they are not tsflyte's. Nothing was changed.",
      "Give tsflyte a database of its own, or a schema of its own (CREATE SCHEMA tsflyte, then add ?options=-c%20search_path%3Dtsflyte to the URL).",
    );
  }
}

// ── The URL, and errors that never show its password ──

/** What errors may say about the database URL, and what they must not. */
interface Target {
  /** The URL with its password replaced by ***. */
  location: string;
  /** `host:port`, for "cannot reach" messages. */
  address: string;
  user: string;
  database: string;
  /** Every spelling of the password that the URL holds: removed from any message that leaves this module. */
  secrets: string[];
}

function describeTarget(url: string): Target {
  const secrets = new Set<string>();
  // The password as typed, whether or not the URL parses: from the first ':' of the user info to its last '@'.
  const typed = /^[a-z][a-z0-9+.-]*:\/\/[^:@/]*:(.*)@/is.exec(url)?.[1];
  if (typed) addSecret(secrets, typed);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(
      `The database URL ${redactUnparsed(url)} is not a valid URL.`,
      "Write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE, percent-encoding special characters in the password (@ as %40, / as %2F, : as %3A).",
    );
  }
  if (parsed.password) addSecret(secrets, parsed.password);
  for (const name of ["password", "sslpassword"]) {
    const value = parsed.searchParams.get(name);
    if (value) {
      addSecret(secrets, value);
      parsed.searchParams.set(name, "***");
    }
  }
  if (parsed.password) parsed.password = "***";
  const host = parsed.hostname || parsed.searchParams.get("host") || "localhost";
  return {
    location: parsed.toString(),
    address: `${host}:${parsed.port || parsed.searchParams.get("port") || "5432"}`,
    user: safeDecode(parsed.username) || "(the default user)",
    database: safeDecode(parsed.pathname.slice(1)) || "(the default database)",
    secrets: [...secrets].sort((a, b) => b.length - a.length),
  };
}

function addSecret(secrets: Set<string>, value: string): void {
  secrets.add(value);
  secrets.add(safeDecode(value));
  secrets.add(encodeURIComponent(value));
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A URL that does not parse, with everything between `//` and the last `@` hidden. */
function redactUnparsed(url: string): string {
  return url.replace(/\/\/.*@/s, "//***@");
}

function scrub(text: string, secrets: readonly string[]): string {
  return secrets.reduce((t, secret) => (secret ? t.split(secret).join("***") : t), text);
}

/**
 * A UserError for what a user can fix (the server is unreachable, refuses the user, lacks the database), and any
 * other error as it is, with the password taken out of its text.
 */
function describeFailure(err: unknown, target: Target): unknown {
  if (err instanceof UserError || !(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  const message = scrub(err.message, target.secrets);
  const server = `the PostgreSQL server at ${target.address}`;
  if (typeof code === "string" && unreachableSocketCodes.has(code)) {
    return new StoreUnavailableError(
      `Cannot reach ${server} (${code}) for ${target.location}.`,
      "Check that PostgreSQL is running there and accepts TCP connections, and that the host and port in the database URL are right.",
    );
  }
  if (/timeout/i.test(message) && /connect/i.test(message)) {
    return new StoreUnavailableError(
      `${capitalize(server)} did not answer within ${connectTimeoutSeconds} seconds (${target.location}).`,
      "Check that the host and port in the database URL are right and that no firewall drops the connection.",
    );
  }
  if (code === "28P01" || code === "28000") {
    return new UserError(
      `${capitalize(server)} refused user "${target.user}": ${message}.`,
      "Check the user name and password in the database URL (percent-encode special characters), and that the server's pg_hba.conf admits this user from this host.",
    );
  }
  if (/client password must be a string/i.test(message)) {
    return new UserError(
      `${capitalize(server)} asks user "${target.user}" for a password, and the database URL gives none.`,
      "Put it in the URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE) or in the PGPASSWORD environment variable.",
    );
  }
  if (code === "3D000") {
    return new UserError(
      `${capitalize(server)} has no database ${target.database}.`,
      `Create it (createdb ${target.database}), or name an existing database in the URL.`,
    );
  }
  if (code === "42501") {
    return new UserError(
      `User "${target.user}" may not create or use tsflyte's tables in ${target.location}: ${message}.`,
      "Grant the user CREATE on the schema, or give tsflyte a database the user owns.",
    );
  }
  if (typeof code === "string" && isUnavailablePostgresCode(code)) {
    return new StoreUnavailableError(`${capitalize(server)} does not accept connections now: ${message}.`, "Try again shortly, or ask its administrator.");
  }
  // pg's words when the server closes a connection under a query (it is stopping or restarting); they carry no code.
  if (/Connection terminated|server closed the connection|Client has encountered a connection error/i.test(message)) {
    return new StoreUnavailableError(`${capitalize(server)} closed the connection: ${message}.`, "Try again shortly; check that PostgreSQL is running.");
  }
  if (/SSL/.test(message)) {
    return new UserError(
      `Cannot agree on SSL with ${server}: ${message}.`,
      "Set sslmode in the URL to what the server supports (?sslmode=disable for a server without SSL, ?sslmode=require for one that needs it).",
    );
  }
  // Not the user's to fix; kept as it is for its stack, but without the password anywhere in it.
  err.message = message;
  if (err.stack) err.stack = scrub(err.stack, target.secrets);
  for (const [property, value] of Object.entries(err)) {
    if (typeof value === "string") (err as unknown as Record<string, unknown>)[property] = scrub(value, target.secrets);
  }
  return err;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
