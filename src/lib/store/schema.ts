// The metadata tables as numbered migrations, in DDL that SQLite and PostgreSQL both accept, and their columns.
// Never edit a migration that has shipped: databases in users' homes already ran it, so add a new one instead.

/** One step of the schema; `statements` run in order inside the same transaction as the version row. */
export interface Migration {
  version: number;
  description: string;
  statements: readonly string[];
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
];

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
}

/** A table as the upsert sees it: every column of the latest schema, and the primary key. */
export interface TableShape<Row> {
  name: string;
  columns: readonly (keyof Row & string)[];
  key: readonly (keyof Row & string)[];
}

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
  }),
  key: ["project", "domain", "name"],
};

export const nodeExecutionsTable: TableShape<NodeExecutionRow> = {
  name: "node_executions",
  columns: columnsOf<NodeExecutionRow>({
    project: true, domain: true, execution_name: true, node_id: true, spec_node_id: true, parent_node_id: true,
    entity_kind: true, entity_name: true, is_parent: true, phase: true, cache_status: true, cache_key: true,
    inputs_uri: true, outputs_uri: true, ...errorColumnSet, recovered_from: true,
    created_at: true, started_at: true, updated_at: true, ended_at: true,
  }),
  key: ["project", "domain", "execution_name", "node_id"],
};

export const taskExecutionsTable: TableShape<TaskExecutionRow> = {
  name: "task_executions",
  columns: columnsOf<TaskExecutionRow>({
    project: true, domain: true, execution_name: true, node_id: true, attempt: true, task_name: true, runner: true,
    phase: true, ...errorColumnSet, outputs_uri: true, logs_uri: true, started_at: true, updated_at: true, ended_at: true,
  }),
  key: ["project", "domain", "execution_name", "node_id", "attempt"],
};

export const cacheEntriesTable: TableShape<CacheEntryRow> = {
  name: "cache_entries",
  columns: columnsOf<CacheEntryRow>({
    key: true, task_name: true, cache_version: true, outputs_uri: true, project: true, domain: true,
    execution_name: true, node_id: true, created_at: true,
  }),
  key: ["key"],
};

function columnsOf<Row>(set: Record<keyof Row, true>): (keyof Row & string)[] {
  return Object.keys(set) as (keyof Row & string)[];
}

/**
 * `INSERT … ON CONFLICT (key) DO UPDATE SET every other column`, the upsert both databases run; `placeholder`
 * spells a bound parameter in the driver's syntax (`@name` for better-sqlite3, `$1` for pg).
 */
export function upsertSql<Row>(table: TableShape<Row>, placeholder: (column: string, index: number) => string): string {
  const updates = table.columns.filter((c) => !table.key.includes(c)).map((c) => `${c} = excluded.${c}`);
  return (
    `INSERT INTO ${table.name} (${table.columns.join(", ")}) VALUES (${table.columns.map(placeholder).join(", ")}) ` +
    `ON CONFLICT (${table.key.join(", ")}) DO UPDATE SET ${updates.join(", ")}`
  );
}
