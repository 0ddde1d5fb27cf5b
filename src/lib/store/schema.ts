// The metadata and registry tables as numbered migrations, in DDL that SQLite and PostgreSQL both accept, and their columns.
// Never edit a migration that has shipped: databases in users' homes already ran it, so add a new one instead.

/** One step of the schema; `statements` run in order inside the same transaction as the version row. */
export interface Migration {
  version: number;
  description: string;
  statements: readonly MigrationStatement[];
}

export type SqlDialect = "sqlite" | "postgres";

/**
 * A statement both databases run, or one spelled per database where their DDL cannot agree (a database without a
 * spelling skips it). Kept for the few places that need it, so that the schema stays one text.
 */
export type MigrationStatement = string | { readonly sqlite?: string; readonly postgres?: string };

/** The text `dialect` runs for a statement, or undefined when that database skips it. */
export function statementFor(statement: MigrationStatement, dialect: SqlDialect): string | undefined {
  return typeof statement === "string" ? statement : statement[dialect];
}

// Timestamps are BIGINT milliseconds and flags are INTEGER 0/1 so both databases store the same values; nested
// parts of a record (its error, source and owner) are plain columns so that they can be filtered and indexed.
const errorColumns = `
  error_kind TEXT,
  error_code TEXT,
  error_message TEXT,
  error_recoverable INTEGER CHECK (error_recoverable IN (0, 1)),
  error_stack TEXT,
  error_uri TEXT`;

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: "executions, node executions, task attempts and cache entries",
    statements: [
      `CREATE TABLE schema_info (
  version INTEGER NOT NULL,
  description TEXT NOT NULL,
  applied_at BIGINT NOT NULL,
  PRIMARY KEY (version)
)`,
      `CREATE TABLE executions (
  project TEXT NOT NULL,
  domain TEXT NOT NULL,
  name TEXT NOT NULL,
  launch_kind TEXT NOT NULL,
  launch_name TEXT NOT NULL,
  launch_version TEXT NOT NULL,
  source_file TEXT,
  source_export_name TEXT,
  mode TEXT NOT NULL,
  source_execution TEXT,
  phase TEXT NOT NULL,${errorColumns},
  inputs_uri TEXT NOT NULL,
  outputs_uri TEXT,
  overwrite_cache INTEGER NOT NULL CHECK (overwrite_cache IN (0, 1)),
  max_parallelism INTEGER NOT NULL,
  owner_host TEXT,
  owner_pid INTEGER,
  owner_started_at BIGINT,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  updated_at BIGINT NOT NULL,
  ended_at BIGINT,
  PRIMARY KEY (project, domain, name)
)`,
      // Keyset pages walk these from the newest; the phase one serves `--filter phase`.
      "CREATE INDEX executions_newest ON executions (project, domain, created_at DESC, name DESC)",
      "CREATE INDEX executions_phase_newest ON executions (project, domain, phase, created_at DESC, name DESC)",
      // Every start looks for unfinished executions of this host whose process is gone.
      "CREATE INDEX executions_owner_phase ON executions (owner_host, phase)",
      // No index beyond the key: listing an execution's nodes reads its key range and sorts it, which is cheaper
      // overall than maintaining a second tree on every node write.
      `CREATE TABLE node_executions (
  project TEXT NOT NULL,
  domain TEXT NOT NULL,
  execution_name TEXT NOT NULL,
  node_id TEXT NOT NULL,
  spec_node_id TEXT NOT NULL,
  parent_node_id TEXT,
  entity_kind TEXT NOT NULL,
  entity_name TEXT NOT NULL,
  is_parent INTEGER NOT NULL CHECK (is_parent IN (0, 1)),
  phase TEXT NOT NULL,
  cache_status TEXT,
  cache_key TEXT,
  inputs_uri TEXT,
  outputs_uri TEXT,${errorColumns},
  recovered_from TEXT,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  updated_at BIGINT NOT NULL,
  ended_at BIGINT,
  PRIMARY KEY (project, domain, execution_name, node_id)
)`,
      `CREATE TABLE task_executions (
  project TEXT NOT NULL,
  domain TEXT NOT NULL,
  execution_name TEXT NOT NULL,
  node_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  task_name TEXT NOT NULL,
  runner TEXT NOT NULL,
  phase TEXT NOT NULL,${errorColumns},
  outputs_uri TEXT,
  logs_uri TEXT,
  started_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  ended_at BIGINT,
  PRIMARY KEY (project, domain, execution_name, node_id, attempt)
)`,
      `CREATE TABLE cache_entries (
  key TEXT NOT NULL,
  task_name TEXT NOT NULL,
  cache_version TEXT NOT NULL,
  outputs_uri TEXT NOT NULL,
  project TEXT NOT NULL,
  domain TEXT NOT NULL,
  execution_name TEXT NOT NULL,
  node_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (key)
)`,
    ],
  },
  {
    version: 2,
    description: "the control plane: registered entities, projects, and who aborted an execution",
    statements: [
      "ALTER TABLE executions ADD COLUMN abort_cause TEXT",
      "ALTER TABLE executions ADD COLUMN abort_principal TEXT",
      "ALTER TABLE executions ADD COLUMN launch_project TEXT",
      "ALTER TABLE executions ADD COLUMN launch_domain TEXT",
      // The scheduler looks for these at every start; the index holds only unfinished rows, so it stays small.
      // Queries must repeat this exact predicate for SQLite to see that the partial index applies.
      "CREATE INDEX executions_unfinished ON executions (created_at) WHERE phase IN ('QUEUED', 'RUNNING', 'SUCCEEDING', 'FAILING', 'ABORTING')",
      // The one difference in types: PostgreSQL has no BLOB, and BYTEA in SQLite would get NUMERIC affinity.
      { sqlite: entitiesTableDdl("BLOB"), postgres: entitiesTableDdl("BYTEA") },
      // Listing walks these from the newest: across names, and the versions of one name.
      "CREATE INDEX entities_newest ON entities (resource, project, domain, created_at DESC, name DESC, version DESC)",
      "CREATE INDEX entities_name_newest ON entities (resource, project, domain, name, created_at DESC, version DESC)",
      // Serves the active-version lookup, and makes "at most one active version per name" a fact of the database.
      "CREATE UNIQUE INDEX entities_one_active ON entities (project, domain, name) WHERE resource = 'launchPlan' AND state = 'ACTIVE'",
      `CREATE TABLE projects (
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  labels TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('ACTIVE', 'ARCHIVED')),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (id)
)`,
      // SQLite compares TEXT byte by byte; PostgreSQL would use the database's locale, so pages, sorts and range
      // filters would differ between the two. Columns that are compared or sorted on get byte order ("C") there.
      // A later migration that adds such a column to PostgreSQL must give it COLLATE "C" too.
      {
        postgres: bytewiseColumns("executions", [
          "project", "domain", "name", "launch_kind", "launch_name", "launch_version", "mode", "source_execution", "phase",
          "owner_host", "launch_project", "launch_domain",
        ]),
      },
      { postgres: bytewiseColumns("node_executions", ["project", "domain", "execution_name", "node_id"]) },
      { postgres: bytewiseColumns("task_executions", ["project", "domain", "execution_name", "node_id"]) },
      { postgres: bytewiseColumns("cache_entries", ["key"]) },
      { postgres: bytewiseColumns("entities", ["resource", "project", "domain", "name", "version", "state"]) },
      { postgres: bytewiseColumns("projects", ["id"]) },
    ],
  },
  {
    version: 3,
    description: "who started an execution, and what it was launched with (labels, envs, service account, raw output prefix, …)",
    statements: [
      { sqlite: "ALTER TABLE executions ADD COLUMN principal TEXT", postgres: 'ALTER TABLE executions ADD COLUMN principal TEXT COLLATE "C"' },
      // JSON text of ExecutionSettings: read whole with its execution, never filtered on.
      "ALTER TABLE executions ADD COLUMN settings TEXT",
    ],
  },
  {
    version: 4,
    description: "the retries a task node allows, so its attempts read `attempt 2 of 3`",
    statements: ["ALTER TABLE node_executions ADD COLUMN retries INTEGER"],
  },
  {
    version: 5,
    description: "inputs, outputs and logs inline in their rows: the metadata store is the durable record, files only where something reads them",
    statements: [
      // Migration 1 made these URIs NOT NULL; an empty one now means "inline, no file" (rows.ts maps it to absent).
      ...["executions ADD COLUMN inputs", "executions ADD COLUMN outputs", "node_executions ADD COLUMN inputs", "node_executions ADD COLUMN outputs", "task_executions ADD COLUMN outputs", "cache_entries ADD COLUMN outputs"].map(
        (column) => ({ sqlite: `ALTER TABLE ${column} BLOB`, postgres: `ALTER TABLE ${column} BYTEA` }),
      ),
      "ALTER TABLE task_executions ADD COLUMN logs TEXT",
    ],
  },
  {
    version: 6,
    description: "who runs an execution when several servers share the database (leases), and which server holds a SQLite file",
    statements: [
      // Written only by the lease queries (queries.ts), never by the row upserts, which leave these columns alone.
      { sqlite: "ALTER TABLE executions ADD COLUMN lease_owner TEXT", postgres: 'ALTER TABLE executions ADD COLUMN lease_owner TEXT COLLATE "C"' },
      // Milliseconds on the database's clock, so that servers whose clocks differ agree on when a lease ran out.
      "ALTER TABLE executions ADD COLUMN lease_expires_at BIGINT",
      // Counts the changes of owner: a write is fenced by owner and epoch, so a server that lost a lease and later
      // claimed it again cannot write through a run of the execution it had before.
      "ALTER TABLE executions ADD COLUMN lease_epoch BIGINT",
      // One row: the `tsflyte serve` that holds the file (the lock itself is an OS lock on a file beside it).
      {
        sqlite: `CREATE TABLE server_lock (
  id INTEGER NOT NULL CHECK (id = 1),
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  since BIGINT NOT NULL,
  endpoint TEXT,
  PRIMARY KEY (id)
)`,
      },
    ],
  },
  {
    version: 7,
    description: "signals of executions: what their gates wait for, and the values given",
    statements: [{ sqlite: signalsTableDdl("BLOB", ""), postgres: signalsTableDdl("BYTEA", ' COLLATE "C"') }],
  },
];

/** One row per execution and signal id; `value` stays NULL until the signal is set, and is set once. */
function signalsTableDdl(bytesType: "BLOB" | "BYTEA", collate: string): string {
  return `CREATE TABLE signals (
  project TEXT${collate} NOT NULL,
  domain TEXT${collate} NOT NULL,
  execution_name TEXT${collate} NOT NULL,
  signal_id TEXT${collate} NOT NULL,
  type ${bytesType} NOT NULL,
  value ${bytesType},
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (project, domain, execution_name, signal_id)
)`;
}

function entitiesTableDdl(bytesType: "BLOB" | "BYTEA"): string {
  return `CREATE TABLE entities (
  resource TEXT NOT NULL CHECK (resource IN ('task', 'workflow', 'launchPlan')),
  project TEXT NOT NULL,
  domain TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  spec ${bytesType} NOT NULL,
  digest TEXT NOT NULL,
  state TEXT CHECK (state IN ('ACTIVE', 'INACTIVE')),
  created_at BIGINT NOT NULL,
  updated_at BIGINT,
  PRIMARY KEY (resource, project, domain, name, version)
)`;
}

function bytewiseColumns(table: string, columns: readonly string[]): string {
  return `ALTER TABLE ${table} ${columns.map((c) => `ALTER COLUMN ${c} TYPE TEXT COLLATE "C"`).join(", ")}`;
}

/** The newest schema this code reads and writes. */
export const latestSchemaVersion = migrations[migrations.length - 1].version;

/** Columns shared by every table that records an ExecutionErrorRecord. */
export interface ErrorColumns {
  error_kind: string | null;
  error_code: string | null;
  error_message: string | null;
  error_recoverable: number | null;
  error_stack: string | null;
  error_uri: string | null;
}

export interface ExecutionRow extends ErrorColumns {
  project: string;
  domain: string;
  name: string;
  launch_kind: string;
  launch_name: string;
  launch_version: string;
  source_file: string | null;
  source_export_name: string | null;
  mode: string;
  source_execution: string | null;
  phase: string;
  inputs_uri: string;
  outputs_uri: string | null;
  overwrite_cache: number;
  max_parallelism: number;
  owner_host: string | null;
  owner_pid: number | null;
  owner_started_at: number | null;
  created_at: number;
  started_at: number | null;
  updated_at: number;
  ended_at: number | null;
  abort_cause: string | null;
  abort_principal: string | null;
  launch_project: string | null;
  launch_domain: string | null;
  principal: string | null;
  /** JSON text of ExecutionSettings. */
  settings: string | null;
  /** Binary LiteralMaps, inline when small (migration 5). */
  inputs: Uint8Array | null;
  outputs: Uint8Array | null;
}

export interface NodeExecutionRow extends ErrorColumns {
  project: string;
  domain: string;
  execution_name: string;
  node_id: string;
  spec_node_id: string;
  parent_node_id: string | null;
  entity_kind: string;
  entity_name: string;
  is_parent: number;
  phase: string;
  cache_status: string | null;
  cache_key: string | null;
  inputs_uri: string | null;
  outputs_uri: string | null;
  recovered_from: string | null;
  created_at: number;
  started_at: number | null;
  updated_at: number;
  ended_at: number | null;
  retries: number | null;
  inputs: Uint8Array | null;
  outputs: Uint8Array | null;
}

export interface TaskExecutionRow extends ErrorColumns {
  project: string;
  domain: string;
  execution_name: string;
  node_id: string;
  attempt: number;
  task_name: string;
  runner: string;
  phase: string;
  outputs_uri: string | null;
  logs_uri: string | null;
  started_at: number;
  updated_at: number;
  ended_at: number | null;
  outputs: Uint8Array | null;
  logs: string | null;
}

export interface CacheEntryRow {
  key: string;
  task_name: string;
  cache_version: string;
  outputs_uri: string;
  project: string;
  domain: string;
  execution_name: string;
  node_id: string;
  created_at: number;
  outputs: Uint8Array | null;
}

export interface EntityRow {
  resource: string;
  project: string;
  domain: string;
  name: string;
  version: string;
  spec: Uint8Array;
  digest: string;
  state: string | null;
  created_at: number;
  updated_at: number | null;
}

export interface ProjectRow {
  id: string;
  name: string;
  description: string;
  /** JSON text of a string-to-string object. */
  labels: string;
  state: string;
  created_at: number;
}

export interface SignalRow {
  project: string;
  domain: string;
  execution_name: string;
  signal_id: string;
  type: Uint8Array;
  value: Uint8Array | null;
  created_at: number;
  updated_at: number;
}

/** A table as the upsert sees it: every column of the latest schema, and the primary key. */
export interface TableShape<Row> {
  name: string;
  columns: readonly (keyof Row & string)[];
  key: readonly (keyof Row & string)[];
  /** Columns the upserts leave alone, each written only by queries of its own (after `columns` in the table). */
  untouched?: readonly string[];
}

/** The executions' lease (migration 6): only the lease queries of the PostgreSQL store write it. */
export const leaseColumns = ["lease_owner", "lease_expires_at", "lease_epoch"] as const;

// Written as `Record<keyof Row, true>` literals so that tsc rejects a column list that misses or invents a column.
const errorColumnSet = {
  error_kind: true, error_code: true, error_message: true, error_recoverable: true, error_stack: true, error_uri: true,
} satisfies Record<keyof ErrorColumns, true>;

export const executionsTable: TableShape<ExecutionRow> = {
  name: "executions",
  columns: columnsOf<ExecutionRow>({
    project: true, domain: true, name: true, launch_kind: true, launch_name: true, launch_version: true,
    source_file: true, source_export_name: true, mode: true, source_execution: true, phase: true, ...errorColumnSet,
    inputs_uri: true, outputs_uri: true, overwrite_cache: true, max_parallelism: true,
    owner_host: true, owner_pid: true, owner_started_at: true,
    created_at: true, started_at: true, updated_at: true, ended_at: true,
    // Last, in the order migrations 2 and 3 added them, so that the list matches the table.
    abort_cause: true, abort_principal: true, launch_project: true, launch_domain: true, principal: true, settings: true,
    inputs: true, outputs: true,
  }),
  key: ["project", "domain", "name"],
  untouched: leaseColumns,
};

export const nodeExecutionsTable: TableShape<NodeExecutionRow> = {
  name: "node_executions",
  columns: columnsOf<NodeExecutionRow>({
    project: true, domain: true, execution_name: true, node_id: true, spec_node_id: true, parent_node_id: true,
    entity_kind: true, entity_name: true, is_parent: true, phase: true, cache_status: true, cache_key: true,
    inputs_uri: true, outputs_uri: true, ...errorColumnSet, recovered_from: true,
    created_at: true, started_at: true, updated_at: true, ended_at: true,
    // Added by migrations 4 and 5.
    retries: true, inputs: true, outputs: true,
  }),
  key: ["project", "domain", "execution_name", "node_id"],
};

export const taskExecutionsTable: TableShape<TaskExecutionRow> = {
  name: "task_executions",
  columns: columnsOf<TaskExecutionRow>({
    project: true, domain: true, execution_name: true, node_id: true, attempt: true, task_name: true, runner: true,
    phase: true, ...errorColumnSet, outputs_uri: true, logs_uri: true, started_at: true, updated_at: true, ended_at: true,
    outputs: true, logs: true,
  }),
  key: ["project", "domain", "execution_name", "node_id", "attempt"],
};

export const cacheEntriesTable: TableShape<CacheEntryRow> = {
  name: "cache_entries",
  columns: columnsOf<CacheEntryRow>({
    key: true, task_name: true, cache_version: true, outputs_uri: true, project: true, domain: true,
    execution_name: true, node_id: true, created_at: true, outputs: true,
  }),
  key: ["key"],
};

export const entitiesTable: TableShape<EntityRow> = {
  name: "entities",
  columns: columnsOf<EntityRow>({
    resource: true, project: true, domain: true, name: true, version: true, spec: true, digest: true, state: true,
    created_at: true, updated_at: true,
  }),
  key: ["resource", "project", "domain", "name", "version"],
};

export const projectsTable: TableShape<ProjectRow> = {
  name: "projects",
  columns: columnsOf<ProjectRow>({ id: true, name: true, description: true, labels: true, state: true, created_at: true }),
  key: ["id"],
};

export const signalsTable: TableShape<SignalRow> = {
  name: "signals",
  columns: columnsOf<SignalRow>({ project: true, domain: true, execution_name: true, signal_id: true, type: true, value: true, created_at: true, updated_at: true }),
  key: ["project", "domain", "execution_name", "signal_id"],
};

function columnsOf<Row>(set: Record<keyof Row, true>): (keyof Row & string)[] {
  return Object.keys(set) as (keyof Row & string)[];
}

/**
 * `INSERT … ON CONFLICT (key) DO UPDATE SET every other column`, the upsert both databases run; `placeholder`
 * spells a bound parameter in the driver's syntax (`@name` for better-sqlite3, `$1` for pg). With `rows` above
 * one it inserts that many rows, numbering the parameters on across rows (`index` counts from 0).
 */
export function upsertSql<Row>(table: TableShape<Row>, placeholder: (column: string, index: number) => string, rows = 1): string {
  const updates = table.columns.filter((c) => !table.key.includes(c)).map((c) => `${c} = excluded.${c}`);
  return `${insertSql(table, placeholder, rows)} ON CONFLICT (${table.key.join(", ")}) DO UPDATE SET ${updates.join(", ")}`;
}

function insertSql<Row>(table: TableShape<Row>, placeholder: (column: string, index: number) => string, rows: number): string {
  const width = table.columns.length;
  const tuples = Array.from({ length: rows }, (_, r) => `(${table.columns.map((c, i) => placeholder(c, r * width + i)).join(", ")})`);
  return `INSERT INTO ${table.name} (${table.columns.join(", ")}) VALUES ${tuples.join(", ")}`;
}
