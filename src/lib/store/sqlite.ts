// The metadata store in one SQLite file (better-sqlite3): local runs record executions, nodes and attempts here.
// Never deletes, rewrites or migrates down a file it does not understand; it stops with a UserError instead.
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { UserError } from "../errors.js";
import type {
  CacheEntryRecord,
  ExecutionErrorRecord,
  ExecutionKey,
  ExecutionPhase,
  ExecutionRecord,
  ListExecutionsQuery,
  MetadataStore,
  NodeExecutionRecord,
  NodePhase,
  Page,
  StoreWrite,
  TaskExecutionRecord,
  TaskPhase,
} from "./records.js";
import {
  cacheEntryFromRow,
  cacheEntryToRow,
  errorToColumns,
  executionFromRow,
  executionToRow,
  nodeExecutionFromRow,
  nodeExecutionToRow,
  taskExecutionFromRow,
  taskExecutionToRow,
} from "./rows.js";
import {
  cacheEntriesTable,
  executionsTable,
  latestSchemaVersion,
  migrations,
  nodeExecutionsTable,
  taskExecutionsTable,
  upsertSql,
  type CacheEntryRow,
  type ErrorColumns,
  type ExecutionRow,
  type NodeExecutionRow,
  type TaskExecutionRow,
} from "./schema.js";

const defaultPageSize = 100;

/** Phases in which an execution still needs its process; an orphan in one of these is failed. */
const unfinishedExecutionPhases: readonly ExecutionPhase[] = ["QUEUED", "RUNNING", "SUCCEEDING", "FAILING", "ABORTING"];
const terminalNodePhases: readonly NodePhase[] = ["SUCCEEDED", "FAILED", "ABORTED", "SKIPPED", "TIMED_OUT", "RECOVERED"];
const unfinishedTaskPhases: readonly TaskPhase[] = ["QUEUED", "RUNNING", "INITIALIZING", "WAITING_FOR_RESOURCES"];

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

export class SqliteStore implements MetadataStore {
  readonly #db: Database.Database;
  readonly #upsertExecution: Database.Statement<[ExecutionRow]>;
  readonly #upsertNode: Database.Statement<[NodeExecutionRow]>;
  readonly #upsertTask: Database.Statement<[TaskExecutionRow]>;
  readonly #upsertCache: Database.Statement<[CacheEntryRow]>;
  readonly #getExecution: Database.Statement<[string, string, string], ExecutionRow>;
  readonly #listExecutions: Database.Statement<[string, string, number], ExecutionRow>;
  readonly #listExecutionsAfter: Database.Statement<[string, string, number, string, number], ExecutionRow>;
  readonly #listExecutionsInPhase: Database.Statement<[string, string, string, number], ExecutionRow>;
  readonly #listExecutionsInPhaseAfter: Database.Statement<[string, string, string, number, string, number], ExecutionRow>;
  readonly #listNodes: Database.Statement<[string, string, string], NodeExecutionRow>;
  readonly #listTasks: Database.Statement<[string, string, string], TaskExecutionRow>;
  readonly #getCacheEntry: Database.Statement<[string], CacheEntryRow>;
  readonly #unfinishedOwnedBy: Database.Statement<[string], OwnedExecutionRow>;
  readonly #failExecution: Database.Statement<[FailureParameters]>;
  readonly #failNodes: Database.Statement<[FailureParameters]>;
  readonly #failTasks: Database.Statement<[FailureParameters]>;
  readonly #writeBatch: Database.Transaction<(batch: readonly StoreWrite[]) => void>;
  readonly #failOrphans: Database.Transaction<(host: string, isAlive: OwnerCheck, now: number) => ExecutionKey[]>;

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

    this.#getExecution = db.prepare("SELECT * FROM executions WHERE project = ? AND domain = ? AND name = ?");
    // Four spellings rather than optional predicates, so that each one walks its index without a filter.
    const newestFirst = "ORDER BY created_at DESC, name DESC LIMIT ?";
    this.#listExecutions = db.prepare(`SELECT * FROM executions WHERE project = ? AND domain = ? ${newestFirst}`);
    this.#listExecutionsAfter = db.prepare(
      `SELECT * FROM executions WHERE project = ? AND domain = ? AND (created_at, name) < (?, ?) ${newestFirst}`,
    );
    this.#listExecutionsInPhase = db.prepare(`SELECT * FROM executions WHERE project = ? AND domain = ? AND phase = ? ${newestFirst}`);
    this.#listExecutionsInPhaseAfter = db.prepare(
      `SELECT * FROM executions WHERE project = ? AND domain = ? AND phase = ? AND (created_at, name) < (?, ?) ${newestFirst}`,
    );
    this.#listNodes = db.prepare(
      "SELECT * FROM node_executions WHERE project = ? AND domain = ? AND execution_name = ? ORDER BY created_at, node_id",
    );
    this.#listTasks = db.prepare(
      "SELECT * FROM task_executions WHERE project = ? AND domain = ? AND execution_name = ? ORDER BY node_id, attempt",
    );
    this.#getCacheEntry = db.prepare("SELECT * FROM cache_entries WHERE key = ?");

    this.#unfinishedOwnedBy = db.prepare(
      "SELECT project, domain, name, owner_pid, owner_started_at FROM executions " +
        `WHERE owner_host = ? AND phase IN (${sqlList(unfinishedExecutionPhases)})`,
    );
    const failed = `phase = 'FAILED', error_kind = @error_kind, error_code = @error_code, error_message = @error_message,
      error_recoverable = @error_recoverable, error_stack = @error_stack, error_uri = @error_uri, ended_at = @now, updated_at = @now`;
    const ofExecution = "project = @project AND domain = @domain AND execution_name = @name";
    this.#failExecution = db.prepare(
      `UPDATE executions SET ${failed} WHERE project = @project AND domain = @domain AND name = @name`,
    );
    this.#failNodes = db.prepare(
      `UPDATE node_executions SET ${failed} WHERE ${ofExecution} AND phase NOT IN (${sqlList(terminalNodePhases)})`,
    );
    this.#failTasks = db.prepare(
      `UPDATE task_executions SET ${failed} WHERE ${ofExecution} AND phase IN (${sqlList(unfinishedTaskPhases)})`,
    );

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
      for (const row of this.#unfinishedOwnedBy.all(host)) {
        if (row.owner_pid === null) continue;
        if (isAlive({ pid: row.owner_pid, startedAt: row.owner_started_at ?? 0 })) continue;
        const key = { project: row.project, domain: row.domain, name: row.name };
        const parameters: FailureParameters = { ...key, ...errorToColumns(ownerGoneError(key, row.owner_pid)), now };
        this.#failExecution.run(parameters);
        this.#failNodes.run(parameters);
        this.#failTasks.run(parameters);
        failedKeys.push(key);
      }
      return failedKeys;
    });
  }

  async write(batch: readonly StoreWrite[]): Promise<void> {
    if (batch.length === 0) return;
    // IMMEDIATE takes the write lock up front, where busy_timeout can wait for it, instead of failing mid-way.
    this.#writeBatch.immediate(batch);
  }

  async getExecution(key: ExecutionKey): Promise<ExecutionRecord | undefined> {
    const row = this.#getExecution.get(key.project, key.domain, key.name);
    return row && executionFromRow(row);
  }

  async listExecutions(query: ListExecutionsQuery): Promise<Page<ExecutionRecord>> {
    const limit = query.limit ?? defaultPageSize;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new UserError(`A page size must be a whole number of at least 1, not ${limit}.`);
    }
    const after = query.token === undefined ? undefined : decodePageToken(query.token);
    const { project, domain, phase } = query;
    // One row more than asked says whether another page exists.
    const rows =
      phase === undefined
        ? after
          ? this.#listExecutionsAfter.all(project, domain, after.createdAt, after.name, limit + 1)
          : this.#listExecutions.all(project, domain, limit + 1)
        : after
          ? this.#listExecutionsInPhaseAfter.all(project, domain, phase, after.createdAt, after.name, limit + 1)
          : this.#listExecutionsInPhase.all(project, domain, phase, limit + 1);
    const items = rows.slice(0, limit).map(executionFromRow);
    const last = items[items.length - 1];
    return rows.length > limit ? { items, token: encodePageToken(last) } : { items };
  }

  async listNodeExecutions(key: ExecutionKey): Promise<NodeExecutionRecord[]> {
    return this.#listNodes.all(key.project, key.domain, key.name).map(nodeExecutionFromRow);
  }

  async listTaskExecutions(key: ExecutionKey): Promise<TaskExecutionRecord[]> {
    return this.#listTasks.all(key.project, key.domain, key.name).map(taskExecutionFromRow);
  }

  async getCacheEntry(key: string): Promise<CacheEntryRecord | undefined> {
    const row = this.#getCacheEntry.get(key);
    return row && cacheEntryFromRow(row);
  }

  async failOrphanedExecutions(host: string, isAlive: OwnerCheck, now: number): Promise<ExecutionKey[]> {
    // IMMEDIATE: the phases read here must still hold when they are overwritten.
    return this.#failOrphans.immediate(host, isAlive, now);
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}

type OwnedExecutionRow = Pick<ExecutionRow, "project" | "domain" | "name" | "owner_pid" | "owner_started_at">;
type OwnerCheck = (owner: { pid: number; startedAt: number }) => boolean;
type FailureParameters = ExecutionKey & ErrorColumns & { now: number };

/** The error an execution, its unfinished nodes and its running attempts get when their process is gone. */
function ownerGoneError(key: ExecutionKey, pid: number): ExecutionErrorRecord {
  return {
    kind: "SYSTEM",
    code: "OwnerProcessGone",
    message:
      `The tsflyte process (pid ${pid}) that ran execution ${key.name} ended before the execution finished. ` +
      `\`tsflyte create execution --recover ${key.name} --project ${key.project} --domain ${key.domain}\` resumes it, ` +
      "reusing the outputs of the nodes that succeeded.",
    recoverable: true,
  };
}

function sqlList(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(", ");
}

/** The keyset position after `last`: opaque to callers, so its shape can change with the ordering. */
function encodePageToken(last: ExecutionRecord): string {
  return Buffer.from(JSON.stringify([last.createdAt, last.name])).toString("base64url");
}

function decodePageToken(token: string): { createdAt: number; name: string } {
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    position = undefined;
  }
  if (!Array.isArray(position) || position.length !== 2 || !Number.isSafeInteger(position[0]) || typeof position[1] !== "string") {
    throw new UserError(
      `The page token "${token}" is not one that a previous page of executions returned.`,
      "Leave out the token to start from the newest execution.",
    );
  }
  return { createdAt: position[0] as number, name: position[1] };
}

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
      for (const statement of migration.statements) db.exec(statement);
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
