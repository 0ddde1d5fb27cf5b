// The metadata store in one SQLite file (better-sqlite3): local runs record executions, nodes and attempts here,
// and a single-machine control plane its registry. Never deletes, rewrites or migrates down a file it does not
// understand; it stops with a UserError instead.
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { UserError } from "../errors.js";
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
  statementFor,
  taskExecutionsTable,
  upsertSql,
  type CacheEntryRow,
  type EntityRow,
  type ExecutionRow,
  type NodeExecutionRow,
  type ProjectRow,
  type SignalRow,
  type TaskExecutionRow,
} from "./schema.js";
import * as signals from "./signals.js";
import { renderSql, type SqlFragment } from "./sql.js";

/** More distinct query texts than this (filters make many) and the statement cache starts over. */
const maxCachedStatements = 200;

/** Opens (creating it and its folder if needed) and migrates the store at `path`. */
export function openSqliteStore(path: string): SqliteStore {
  const location = resolve(path);
  try {
    mkdirSync(dirname(location), { recursive: true });
  } catch (err) {
    throw new UserError(
      `Cannot create the folder for the tsflyte metadata database ${location}: ${(err as Error).message}.`,
      "Set TSFLYTE_HOME to a folder you can write to.",
    );
  }
  let db: Database.Database;
  try {
    db = new Database(location);
  } catch (err) {
    throw openError(location, err);
  }
  try {
    // Before anything reads, so that a second process migrating at the same moment is waited for.
    db.pragma("busy_timeout = 5000");
    // Checked before the journal mode is set, because switching to WAL would already rewrite a foreign file.
    const version = readSchemaVersion(db, location);
    checkSchemaVersion(location, version);
    db.pragma("journal_mode = WAL");
    // With WAL, NORMAL loses at most the last commits on power loss, never consistency; FULL costs an fsync each.
    db.pragma("synchronous = NORMAL");
    migrate(db, location, version);
    return new SqliteStore(db, location);
  } catch (err) {
    db.close();
    throw openError(location, err);
  }
}

export class SqliteStore implements ControlPlaneStore {
  readonly #db: Database.Database;
  readonly #upsertExecution: Database.Statement<[ExecutionRow]>;
  readonly #upsertNode: Database.Statement<[NodeExecutionRow]>;
  readonly #upsertTask: Database.Statement<[TaskExecutionRow]>;
  readonly #upsertCache: Database.Statement<[CacheEntryRow]>;
  /** Asked once per cached task node: prepared up front rather than rendered and looked up by text each time. */
  readonly #getCacheEntry: Database.Statement<[string], CacheEntryRow>;
  readonly #writeBatch: Database.Transaction<(batch: readonly StoreWrite[]) => void>;
  readonly #failOrphans: Database.Transaction<(host: string, isAlive: OwnerCheck, now: number) => ExecutionKey[]>;
  readonly #registerEntity: Database.Transaction<(record: EntityRecord) => RegisterOutcome>;
  readonly #setLaunchPlanState: Database.Transaction<(key: EntityKey, state: "ACTIVE" | "INACTIVE", now: number) => boolean>;
  /** Statements for queries.ts's SQL, by text: prepared when first run, so opening prepares only the upserts. */
  readonly #statements = new Map<string, Database.Statement<unknown[]>>();

  /** Use openSqliteStore, which migrates the database first. */
  constructor(
    db: Database.Database,
    readonly location: string,
  ) {
    this.#db = db;
    const named = (column: string) => `@${column}`;
    this.#upsertExecution = db.prepare(upsertSql(executionsTable, named));
    this.#upsertNode = db.prepare(upsertSql(nodeExecutionsTable, named));
    this.#upsertTask = db.prepare(upsertSql(taskExecutionsTable, named));
    this.#upsertCache = db.prepare(upsertSql(cacheEntriesTable, named));
    const cacheLookup = renderSql(queries.getCacheEntry(""), "sqlite");
    this.#getCacheEntry = db.prepare<[string], CacheEntryRow>(cacheLookup.text);

    this.#writeBatch = db.transaction((batch: readonly StoreWrite[]) => {
      for (const w of batch) {
        switch (w.table) {
          case "execution":
            this.#upsertExecution.run(executionToRow(w.row));
            break;
          case "node":
            this.#upsertNode.run(nodeExecutionToRow(w.row));
            break;
          case "task":
            this.#upsertTask.run(taskExecutionToRow(w.row));
            break;
          case "cache":
            this.#upsertCache.run(cacheEntryToRow(w.row));
            break;
          default:
            throw new Error(`unknown store table ${(w as { table: unknown }).table}`);
        }
      }
    });
    this.#failOrphans = db.transaction((host: string, isAlive: OwnerCheck, now: number) => {
      const failedKeys: ExecutionKey[] = [];
      for (const row of this.#all<OwnedExecutionRow>(queries.unfinishedExecutionsOwnedBy(host))) {
        if (row.owner_pid === null) continue;
        if (isAlive({ pid: row.owner_pid, startedAt: row.owner_started_at ?? 0 })) continue;
        const key = { project: row.project, domain: row.domain, name: row.name };
        for (const update of queries.failOrphan(key, row.owner_pid, now)) this.#run(update);
        failedKeys.push(key);
      }
      return failedKeys;
    });
    this.#registerEntity = db.transaction((record: EntityRecord): RegisterOutcome => {
      const activate = record.resource === "launchPlan" && record.state === "ACTIVE";
      // Inserted inactive and then activated, so that the one-active index never sees two active versions.
      const row = entityToRow(activate ? { ...record, state: "INACTIVE" } : record);
      if (this.#run(queries.insertIfAbsent(entitiesTable, row)) === 0) {
        const existing = this.#get<EntityRow>(queries.getEntity(record.resource, record));
        if (!existing) throw new Error(`entity ${record.resource} ${record.name}@${record.version} conflicted but cannot be read`);
        return { created: false, existing: entityFromRow(existing) };
      }
      if (activate) {
        this.#run(queries.deactivateOtherLaunchPlanVersions(record, record.createdAt));
        this.#run(queries.setLaunchPlanState(record, "ACTIVE", record.updatedAt ?? null));
      }
      return { created: true };
    });
    this.#setLaunchPlanState = db.transaction((key: EntityKey, state: "ACTIVE" | "INACTIVE", now: number) => {
      if (this.#get(queries.launchPlanExists(key)) === undefined) return false;
      if (state === "ACTIVE") this.#run(queries.deactivateOtherLaunchPlanVersions(key, now));
      this.#run(queries.setLaunchPlanState(key, state, now));
      return true;
    });
  }

  /** Each reading statement's maker of row objects from raw arrays, made once. */
  readonly #rowMakers = new WeakMap<Database.Statement<unknown[]>, (values: unknown[]) => Record<string, unknown>>();

  #statement(fragment: SqlFragment): { statement: Database.Statement<unknown[]>; values: unknown[] } {
    const { text, values } = renderSql(fragment, "sqlite");
    let statement = this.#statements.get(text);
    if (!statement) {
      if (this.#statements.size >= maxCachedStatements) this.#statements.clear();
      statement = this.#db.prepare<unknown[]>(text);
      this.#statements.set(text, statement);
    }
    return { statement, values };
  }

  #all<Row>(fragment: SqlFragment): Row[] {
    const { statement, values } = this.#statement(fragment);
    // better-sqlite3 makes each row object a property at a time through V8's API, slowly for wide rows (node and task
    // executions have about 30 columns): raw arrays made into objects by a function of the statement's own columns
    // take half the time, which is most of what reading 10,000 nodes costs.
    let toRow = this.#rowMakers.get(statement);
    if (!toRow) {
      toRow = rowMaker(statement.columns().map((c) => c.name));
      this.#rowMakers.set(statement, toRow);
    }
    const arrays = statement.raw(true).all(...values) as unknown[][];
    statement.raw(false);
    return arrays.map(toRow) as Row[];
  }

  #get<Row>(fragment: SqlFragment): Row | undefined {
    const { statement, values } = this.#statement(fragment);
    return statement.get(...values) as Row | undefined;
  }

  /** Runs a statement that changes rows; returns how many it changed. */
  #run(fragment: SqlFragment): number {
    const { statement, values } = this.#statement(fragment);
    return statement.run(...values).changes;
  }

  async write(batch: readonly StoreWrite[]): Promise<void> {
    if (batch.length === 0) return;
    // IMMEDIATE takes the write lock up front, where busy_timeout can wait for it, instead of failing mid-way.
    this.#writeBatch.immediate(batch);
  }

  async getExecution(key: ExecutionKey): Promise<ExecutionRecord | undefined> {
    const row = this.#get<ExecutionRow>(queries.getExecution(key));
    return row && executionFromRow(row);
  }

  async listExecutions(query: ListExecutionsQuery): Promise<Page<ExecutionRecord>> {
    const page = queries.listExecutions(query, "sqlite");
    return queries.pageOf(page, this.#all<ExecutionRow>(page.sql), executionFromRow);
  }

  async listNodeExecutions(key: ExecutionKey): Promise<NodeExecutionRecord[]> {
    return this.#all<NodeExecutionRow>(queries.listNodeExecutions(key)).map(nodeExecutionFromRow);
  }

  async listTaskExecutions(key: ExecutionKey): Promise<TaskExecutionRecord[]> {
    return this.#all<TaskExecutionRow>(queries.listTaskExecutions(key)).map(taskExecutionFromRow);
  }

  async getCacheEntry(key: string): Promise<CacheEntryRecord | undefined> {
    const row = this.#getCacheEntry.get(key);
    return row && cacheEntryFromRow(row);
  }

  async failOrphanedExecutions(host: string, isAlive: OwnerCheck, now: number): Promise<ExecutionKey[]> {
    // IMMEDIATE: the phases read here must still hold when they are overwritten.
    return this.#failOrphans.immediate(host, isAlive, now);
  }

  async registerEntity(record: EntityRecord): Promise<RegisterOutcome> {
    return this.#registerEntity.immediate(record);
  }

  async getEntity(resource: EntityResource, key: EntityKey): Promise<EntityRecord | undefined> {
    const row = this.#get<EntityRow>(queries.getEntity(resource, key));
    return row && entityFromRow(row);
  }

  async listEntities(query: ListEntitiesQuery): Promise<Page<EntityRecord>> {
    const page = queries.listEntities(query);
    return queries.pageOf(page, this.#all<EntityRow>(page.sql), entityFromRow);
  }

  async listEntityNames(resource: EntityResource, project: string, domain: string, limit?: number, token?: string): Promise<Page<string>> {
    const page = queries.listEntityNames(resource, project, domain, limit, token);
    return queries.pageOf(page, this.#all<queries.NameRow>(page.sql), (row) => row.name);
  }

  async setLaunchPlanState(key: EntityKey, state: "ACTIVE" | "INACTIVE", now: number): Promise<boolean> {
    return this.#setLaunchPlanState.immediate(key, state, now);
  }

  async getActiveLaunchPlan(project: string, domain: string, name: string): Promise<EntityRecord | undefined> {
    const row = this.#get<EntityRow>(queries.getActiveLaunchPlan(project, domain, name));
    return row && entityFromRow(row);
  }

  async createProject(project: ProjectRecord): Promise<boolean> {
    return this.#run(queries.insertIfAbsent(projectsTable, projectToRow(project))) === 1;
  }

  async getProject(id: string): Promise<ProjectRecord | undefined> {
    const row = this.#get<ProjectRow>(queries.getProject(id));
    return row && projectFromRow(row);
  }

  async listProjects(): Promise<ProjectRecord[]> {
    return this.#all<ProjectRow>(queries.listProjects()).map(projectFromRow);
  }

  async createExecution(record: ExecutionRecord): Promise<boolean> {
    return this.#run(queries.insertIfAbsent(executionsTable, executionToRow(record))) === 1;
  }

  async listUnfinishedExecutions(): Promise<ExecutionRecord[]> {
    return this.#all<ExecutionRow>(queries.listUnfinishedExecutions()).map(executionFromRow);
  }

  async countExecutions(project: string, domain: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const row of this.#all<{ phase: string; n: number }>(queries.countExecutionsByPhase(project, domain))) counts[row.phase] = row.n;
    return counts;
  }

  // ── Signals (signals.ts) ──

  async getOrCreateSignal(record: SignalRecord): Promise<SignalRecord> {
    this.#run(signals.insertSignalIfAbsent(record));
    return signals.signalFromRow(this.#get<SignalRow>(signals.getSignal(record))!);
  }

  async getSignal(key: SignalKey): Promise<SignalRecord | undefined> {
    const row = this.#get<SignalRow>(signals.getSignal(key));
    return row && signals.signalFromRow(row);
  }

  async listSignals(key: ExecutionKey, limit?: number, token?: string): Promise<Page<SignalRecord>> {
    const page = signals.listSignals(key, limit, token);
    return signals.signalPageOf(page, this.#all<SignalRow>(page.sql));
  }

  async setSignal(key: SignalKey, value: Uint8Array, now: number): Promise<SetSignalOutcome> {
    // One statement sets it only while unset, so two setters racing cannot both win.
    const changed = this.#run(signals.setSignalIfUnset(key, value, now));
    const current = await this.getSignal(key);
    if (changed === 1) return { outcome: "set", signal: current! };
    return signals.unchangedSetOutcome(current, value);
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}

type OwnedExecutionRow = Pick<ExecutionRow, "project" | "domain" | "name" | "owner_pid" | "owner_started_at">;
type OwnerCheck = (owner: { pid: number; startedAt: number }) => boolean;

/** The applied schema version: 0 for a new, empty database. */
function readSchemaVersion(db: Database.Database, location: string): number {
  const schemaInfo = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_info'").get();
  if (schemaInfo === undefined) {
    const objects = db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").get() as { n: number };
    if (objects.n > 0) {
      throw new UserError(
        `${location} is a SQLite database, but not one of tsflyte's metadata databases (it has no schema_info table). ` +
          "Nothing was changed or deleted.",
        "Move it aside, or set TSFLYTE_HOME to another folder.",
      );
    }
    return 0;
  }
  const row = db.prepare("SELECT MAX(version) AS version FROM schema_info").get() as { version: number | null };
  return row.version ?? 0;
}

function checkSchemaVersion(location: string, version: number): void {
  if (version > latestSchemaVersion) {
    throw new UserError(
      `${location} was written by a newer tsflyte (schema ${version}; this tsflyte knows up to ${latestSchemaVersion}). Nothing was changed.`,
      "Upgrade tsflyte, or set TSFLYTE_HOME to another folder to keep a separate history.",
    );
  }
}

function migrate(db: Database.Database, location: string, versionSeen: number): void {
  if (versionSeen === latestSchemaVersion) return;
  db.transaction(() => {
    // Read again under the write lock: another process may have migrated since.
    const version = readSchemaVersion(db, location);
    checkSchemaVersion(location, version);
    for (const migration of migrations) {
      if (migration.version <= version) continue;
      for (const statement of migration.statements) {
        const text = statementFor(statement, "sqlite");
        if (text !== undefined) db.exec(text);
      }
      // Prepared here, not before the loop: the first migration is the one that creates schema_info.
      db.prepare("INSERT INTO schema_info (version, description, applied_at) VALUES (?, ?, ?)")
        .run(migration.version, migration.description, Date.now());
    }
  }).immediate();
}

/** A clear UserError for the ways a file can fail to open; anything else is rethrown as it is. */
function openError(location: string, err: unknown): unknown {
  if (err instanceof UserError || !(err instanceof Database.SqliteError)) return err;
  const code = err.code;
  if (code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT")) {
    return new UserError(
      `${location} is not a usable tsflyte metadata database (SQLite says: ${err.message}). Nothing was changed or deleted.`,
      "Move the file aside (keep it if its history matters to you), or set TSFLYTE_HOME to another folder.",
    );
  }
  if (["SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH"].some((prefix) => code.startsWith(prefix))) {
    return new UserError(
      `Cannot open the tsflyte metadata database ${location} for reading and writing (SQLite says: ${err.message}).`,
      "Check that it is a file, not a folder, and that you may write to it and to its folder; or set TSFLYTE_HOME to another folder.",
    );
  }
  if (code.startsWith("SQLITE_BUSY")) {
    return new UserError(
      `The tsflyte metadata database ${location} stayed locked by another process for more than 5 seconds.`,
      "Wait for the other tsflyte command to finish and try again.",
    );
  }
  return err;
}

/**
 * A function making a row object from a raw row of these columns: one object literal of a fixed shape, which V8 makes
 * fast. The names are the statement's columns (from tsflyte's own schema and queries), quoted as JSON.
 */
function rowMaker(columns: string[]): (values: unknown[]) => Record<string, unknown> {
  const fields = columns.map((name, i) => `${JSON.stringify(name)}: values[${i}]`).join(", ");
  return new Function("values", `return { ${fields} };`) as (values: unknown[]) => Record<string, unknown>;
}
