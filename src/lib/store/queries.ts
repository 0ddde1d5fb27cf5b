// The queries both SQL stores run — listings with their filters, sort orders and page tokens, the registry, the
// orphan sweep — written once, so SQLite and PostgreSQL answer alike. Never puts a caller's string into SQL text.
import { UserError } from "../errors.js";
import type {
  EntityKey,
  EntityResource,
  ExecutionErrorRecord,
  ExecutionFilter,
  ExecutionFilterField,
  ExecutionKey,
  ExecutionPhase,
  ExecutionSortKey,
  ListEntitiesQuery,
  ListExecutionsQuery,
  NodePhase,
  Page,
  TaskPhase,
} from "./records.js";
import { errorToColumns } from "./rows.js";
import type { EntityRow, ExecutionRow, SqlDialect, TableShape } from "./schema.js";
import { joinSql, raw, sql, type SqlFragment } from "./sql.js";

const defaultPageSize = 100;

/** Phases in which an execution still needs its process; an orphan in one of these is failed. */
export const unfinishedExecutionPhases: readonly ExecutionPhase[] = ["QUEUED", "RUNNING", "SUCCEEDING", "FAILING", "ABORTING"];
const terminalNodePhases: readonly NodePhase[] = ["SUCCEEDED", "FAILED", "ABORTED", "SKIPPED", "TIMED_OUT", "RECOVERED"];
const unfinishedTaskPhases: readonly TaskPhase[] = ["QUEUED", "RUNNING", "INITIALIZING", "WAITING_FOR_RESOURCES"];

// Spelled exactly as migration 2's executions_unfinished predicate: SQLite uses a partial index only for a query
// that repeats its condition.
const unfinishedExecution = raw(`phase IN (${sqlList(unfinishedExecutionPhases)})`);

function sqlList(values: readonly string[]): string {
  return values.map((v) => `'${v}'`).join(", ");
}

/** `INSERT … ON CONFLICT (key) DO NOTHING`: a row whose key is taken is left as it is. */
export function insertIfAbsent<Row>(table: TableShape<Row>, row: Row): SqlFragment {
  const values = joinSql(table.columns.map((column) => sql`${row[column]}`), ", ");
  return sql`INSERT INTO ${raw(table.name)} (${raw(table.columns.join(", "))}) VALUES (${values}) ON CONFLICT (${raw(table.key.join(", "))}) DO NOTHING`;
}

// ── Executions ──

export function getExecution(key: ExecutionKey): SqlFragment {
  return sql`SELECT * FROM executions WHERE project = ${key.project} AND domain = ${key.domain} AND name = ${key.name}`;
}

export function listNodeExecutions(key: ExecutionKey): SqlFragment {
  return sql`SELECT * FROM node_executions WHERE project = ${key.project} AND domain = ${key.domain} AND execution_name = ${key.name}
    ORDER BY created_at, node_id`;
}

export function listTaskExecutions(key: ExecutionKey): SqlFragment {
  return sql`SELECT * FROM task_executions WHERE project = ${key.project} AND domain = ${key.domain} AND execution_name = ${key.name}
    ORDER BY node_id, attempt`;
}

export function getCacheEntry(key: string): SqlFragment {
  return sql`SELECT * FROM cache_entries WHERE key = ${key}`;
}

/** Oldest first; the key breaks ties so that the order is the same every time. */
export function listUnfinishedExecutions(): SqlFragment {
  return sql`SELECT * FROM executions WHERE ${unfinishedExecution} ORDER BY created_at, project, domain, name`;
}

export function countExecutionsByPhase(project: string, domain: string): SqlFragment {
  return sql`SELECT phase, COUNT(*) AS n FROM executions WHERE project = ${project} AND domain = ${domain} GROUP BY phase`;
}

const executionFieldKinds: Record<ExecutionFilterField, ValueKind> = {
  name: "text",
  phase: "text",
  mode: "text",
  launch_kind: "text",
  launch_name: "text",
  launch_version: "text",
  source_execution: "text",
  created_at: "time",
  updated_at: "time",
  started_at: "time",
  ended_at: "time",
};

const executionSortKinds: Record<ExecutionSortKey, ValueKind> = {
  created_at: "time",
  updated_at: "time",
  started_at: "time",
  ended_at: "time",
  name: "text",
  phase: "text",
};

const newestExecutionsFirst: Ordering<ExecutionRow> = {
  noun: "executions",
  columns: [sortColumn("created_at", "time"), sortColumn("name", "text")],
  direction: "DESC",
};

function executionOrdering(sortBy: ListExecutionsQuery["sortBy"]): Ordering<ExecutionRow> {
  if (sortBy === undefined) return newestExecutionsFirst;
  const { key, direction } = sortBy;
  if (!Object.hasOwn(executionSortKinds, key)) {
    throw new UserError(`Executions cannot be sorted by "${String(key)}".`, `Sort by one of ${Object.keys(executionSortKinds).join(", ")}.`);
  }
  checkDirection(direction);
  if (key === "created_at" && direction === "DESC") return newestExecutionsFirst;
  // The name is unique within a project and domain, so with it last every order is total and a keyset can resume it.
  const byName = sortColumn<ExecutionRow>("name", "text");
  const columns = key === "name" ? [byName] : [sortColumn<ExecutionRow>(key, executionSortKinds[key]), byName];
  return { noun: "executions", tag: `${key} ${direction}`, columns, direction };
}

/** One page of executions, and how to read the page off the rows the query returns. */
export function listExecutions(query: ListExecutionsQuery, dialect: SqlDialect): PageQuery<ExecutionRow> {
  const limit = checkPageSize(query.limit);
  const ordering = executionOrdering(query.sortBy);
  // Only the predicates a query has, rather than `(? IS NULL OR phase = ?)`, so that each spelling walks its index.
  const conditions = [sql`project = ${query.project}`, sql`domain = ${query.domain}`];
  if (query.phase !== undefined) conditions.push(sql`phase = ${query.phase}`);
  for (const filter of query.filters ?? []) conditions.push(executionFilter(filter, dialect));
  if (query.token !== undefined) conditions.push(after(ordering, query.token));
  // One row more than asked says whether another page exists.
  return {
    ordering,
    limit,
    sql: sql`SELECT * FROM executions WHERE ${joinSql(conditions, " AND ")} ORDER BY ${orderBy(ordering)} LIMIT ${limit + 1}`,
  };
}

function executionFilter(filter: ExecutionFilter, dialect: SqlDialect): SqlFragment {
  const { field, op, value } = filter;
  const shown = `${op}(${String(field)}, ${JSON.stringify(value)})`;
  if (!Object.hasOwn(executionFieldKinds, field)) {
    throw new UserError(`Cannot filter executions by "${String(field)}" (in ${shown}).`, `Filter by one of ${Object.keys(executionFieldKinds).join(", ")}.`);
  }
  const kind = executionFieldKinds[field];
  const column = raw(field);
  const single = (): string | number => {
    if (Array.isArray(value)) throw new UserError(`The filter ${shown} takes one value; only value_in takes a list.`);
    return checkValue(value, kind, shown);
  };
  switch (op) {
    case "eq":
    case "ne":
    case "gt":
    case "gte":
    case "lt":
    case "lte":
      return sql`${column} ${raw(comparisons[op])} ${single()}`;
    case "contains": {
      if (kind !== "text") throw new UserError(`The filter ${shown} looks for text, but ${field} is a time.`, "Use gt, gte, lt or lte on times.");
      const needle = single();
      // Case-sensitive in both databases, and free of LIKE's wildcards: SQLite's LIKE ignores ASCII case.
      return dialect === "sqlite" ? sql`instr(${column}, ${needle}) > 0` : sql`strpos(${column}, ${needle}) > 0`;
    }
    case "value_in": {
      if (!Array.isArray(value)) throw new UserError(`The filter ${shown} takes a list of values.`);
      const values = (value as readonly unknown[]).map((v) => checkValue(v, kind, shown));
      // An empty list matches nothing, as `IN ()` would if PostgreSQL accepted it.
      if (values.length === 0) return raw("1 = 0");
      return sql`${column} IN (${joinSql(values.map((v) => sql`${v}`), ", ")})`;
    }
    default:
      throw new UserError(`Unknown filter operation "${String(op)}" (in ${shown}).`, "Use eq, ne, gt, gte, lt, lte, contains or value_in.");
  }
}

const comparisons = { eq: "=", ne: "<>", gt: ">", gte: ">=", lt: "<", lte: "<=" } as const;

function checkValue(value: unknown, kind: ValueKind, shown: string): string | number {
  if (kind === "time" ? Number.isSafeInteger(value) : typeof value === "string") return value as string | number;
  throw new UserError(
    `The filter ${shown} needs ${kind === "time" ? "a time in whole milliseconds since the epoch" : "text"}, not ${JSON.stringify(value)}.`,
  );
}

// ── The orphan sweep ──

export function unfinishedExecutionsOwnedBy(host: string): SqlFragment {
  return sql`SELECT project, domain, name, owner_pid, owner_started_at FROM executions WHERE owner_host = ${host} AND ${unfinishedExecution}`;
}

/** The updates that fail an orphaned execution, its unfinished nodes and its running attempts. */
export function failOrphan(key: ExecutionKey, pid: number, now: number): SqlFragment[] {
  const e = errorToColumns(ownerGoneError(key, pid));
  const failed = sql`phase = 'FAILED', error_kind = ${e.error_kind}, error_code = ${e.error_code}, error_message = ${e.error_message},
    error_recoverable = ${e.error_recoverable}, error_stack = ${e.error_stack}, error_uri = ${e.error_uri}, ended_at = ${now}, updated_at = ${now}`;
  const ofExecution = sql`project = ${key.project} AND domain = ${key.domain} AND execution_name = ${key.name}`;
  return [
    sql`UPDATE executions SET ${failed} WHERE project = ${key.project} AND domain = ${key.domain} AND name = ${key.name}`,
    sql`UPDATE node_executions SET ${failed} WHERE ${ofExecution} AND phase NOT IN (${raw(sqlList(terminalNodePhases))})`,
    sql`UPDATE task_executions SET ${failed} WHERE ${ofExecution} AND phase IN (${raw(sqlList(unfinishedTaskPhases))})`,
  ];
}

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

// ── The registry ──

export function getEntity(resource: EntityResource, key: EntityKey): SqlFragment {
  return sql`SELECT * FROM entities WHERE resource = ${resource} AND ${ofVersion(key)}`;
}

export function getActiveLaunchPlan(project: string, domain: string, name: string): SqlFragment {
  // The literal resource and state let both databases see that the partial index entities_one_active applies.
  return sql`SELECT * FROM entities WHERE resource = 'launchPlan' AND state = 'ACTIVE' AND project = ${project} AND domain = ${domain} AND name = ${name}`;
}

export function launchPlanExists(key: EntityKey): SqlFragment {
  return sql`SELECT 1 AS found FROM entities WHERE resource = 'launchPlan' AND ${ofVersion(key)}`;
}

/** Deactivates every active version of the key's launch plan name except the key's own. */
export function deactivateOtherLaunchPlanVersions(key: EntityKey, now: number): SqlFragment {
  return sql`UPDATE entities SET state = 'INACTIVE', updated_at = ${now} WHERE resource = 'launchPlan' AND project = ${key.project}
    AND domain = ${key.domain} AND name = ${key.name} AND state = 'ACTIVE' AND version <> ${key.version}`;
}

export function setLaunchPlanState(key: EntityKey, state: "ACTIVE" | "INACTIVE", now: number | null): SqlFragment {
  return sql`UPDATE entities SET state = ${state}, updated_at = ${now} WHERE resource = 'launchPlan' AND ${ofVersion(key)}`;
}

function ofVersion(key: EntityKey): SqlFragment {
  return sql`project = ${key.project} AND domain = ${key.domain} AND name = ${key.name} AND version = ${key.version}`;
}

const newestEntitiesFirst: Ordering<EntityRow> = {
  noun: "entities",
  columns: [sortColumn("created_at", "time"), sortColumn("name", "text"), sortColumn("version", "text")],
  direction: "DESC",
};

function entityOrdering(sortBy: ListEntitiesQuery["sortBy"]): Ordering<EntityRow> {
  if (sortBy === undefined) return newestEntitiesFirst;
  const { key, direction } = sortBy;
  checkDirection(direction);
  const tag = `${key} ${direction}`;
  switch (key) {
    case "created_at":
      return direction === "DESC" ? newestEntitiesFirst : { ...newestEntitiesFirst, tag, direction };
    case "name":
      return { noun: "entities", tag, direction, columns: [sortColumn("name", "text"), sortColumn("version", "text")] };
    case "version":
      return { noun: "entities", tag, direction, columns: [sortColumn("version", "text"), sortColumn("name", "text")] };
    default:
      throw new UserError(`Registered entities cannot be sorted by "${String(key)}".`, "Sort by created_at, name or version.");
  }
}

export function listEntities(query: ListEntitiesQuery): PageQuery<EntityRow> {
  const limit = checkPageSize(query.limit);
  const ordering = entityOrdering(query.sortBy);
  const conditions = [sql`resource = ${query.resource}`, sql`project = ${query.project}`, sql`domain = ${query.domain}`];
  if (query.name !== undefined) conditions.push(sql`name = ${query.name}`);
  if (query.state !== undefined) conditions.push(sql`state = ${query.state}`);
  if (query.token !== undefined) conditions.push(after(ordering, query.token));
  return {
    ordering,
    limit,
    sql: sql`SELECT * FROM entities WHERE ${joinSql(conditions, " AND ")} ORDER BY ${orderBy(ordering)} LIMIT ${limit + 1}`,
  };
}

export interface NameRow {
  name: string;
}

const byName: Ordering<NameRow> = { noun: "entity names", columns: [sortColumn("name", "text")], direction: "ASC" };

export function listEntityNames(resource: EntityResource, project: string, domain: string, limit?: number, token?: string): PageQuery<NameRow> {
  const pageSize = checkPageSize(limit);
  const conditions = [sql`resource = ${resource}`, sql`project = ${project}`, sql`domain = ${domain}`];
  if (token !== undefined) conditions.push(after(byName, token));
  return {
    ordering: byName,
    limit: pageSize,
    sql: sql`SELECT DISTINCT name FROM entities WHERE ${joinSql(conditions, " AND ")} ORDER BY ${orderBy(byName)} LIMIT ${pageSize + 1}`,
  };
}

export function getProject(id: string): SqlFragment {
  return sql`SELECT * FROM projects WHERE id = ${id}`;
}

export function listProjects(): SqlFragment {
  return sql`SELECT * FROM projects ORDER BY id`;
}

// ── Orders and page tokens ──

type ValueKind = "text" | "time";

interface SortColumn<Row> {
  /** The expression sorted on. */
  sql: string;
  kind: ValueKind;
  /** The expression's value for a row, as a token records it. */
  valueOf(row: Row): string | number;
}

/** A total order over a listing's rows, in one direction, that a page token can resume after any row. */
interface Ordering<Row> {
  /** What token errors call the rows. */
  noun: string;
  /** Recorded in the tokens of every order but the default, so that a token resumes only the order that made it. */
  tag?: string;
  columns: readonly SortColumn<Row>[];
  direction: "ASC" | "DESC";
}

function sortColumn<Row>(column: keyof Row & string, kind: ValueKind): SortColumn<Row> {
  // A missing time sorts as -1, before every real one: a keyset needs a value to compare with, and SQLite's
  // NULLs-first order (which PostgreSQL reverses) is kept for both.
  const nullableTime = kind === "time" && (column === "started_at" || column === "ended_at");
  return {
    sql: nullableTime ? `COALESCE(${column}, -1)` : column,
    kind,
    valueOf: (row) => (row[column] ?? -1) as string | number,
  };
}

/** A page's query, its order, and the page size asked for (the query reads one row more). */
export interface PageQuery<Row> {
  sql: SqlFragment;
  ordering: Ordering<Row>;
  limit: number;
}

/** The page the rows of a PageQuery make: at most `limit` items, and a token when there is more. */
export function pageOf<Row, Item>(query: PageQuery<Row>, rows: readonly Row[], toItem: (row: Row) => Item): Page<Item> {
  const items = rows.slice(0, query.limit).map(toItem);
  if (rows.length <= query.limit) return { items };
  return { items, token: encodeToken(query.ordering, rows[query.limit - 1]) };
}

function orderBy<Row>(ordering: Ordering<Row>): SqlFragment {
  return raw(ordering.columns.map((c) => `${c.sql} ${ordering.direction}`).join(", "));
}

/** The rows after the token's position in `ordering`: one row-value comparison, which walks an index in order. */
function after<Row>(ordering: Ordering<Row>, token: string): SqlFragment {
  const position = decodeToken(ordering, token);
  const columns = raw(ordering.columns.map((c) => c.sql).join(", "));
  const values = joinSql(position.map((v) => sql`${v}`), ", ");
  return sql`(${columns}) ${raw(ordering.direction === "DESC" ? "<" : ">")} (${values})`;
}

/** The position of `last` in `ordering`, opaque to callers, so its shape can change with the ordering. */
function encodeToken<Row>(ordering: Ordering<Row>, last: Row): string {
  const position = ordering.columns.map((c) => c.valueOf(last));
  return Buffer.from(JSON.stringify(ordering.tag === undefined ? position : [ordering.tag, ...position])).toString("base64url");
}

function decodeToken<Row>(ordering: Ordering<Row>, token: string): (string | number)[] {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    decoded = undefined;
  }
  const tagged = ordering.tag !== undefined;
  const valid =
    Array.isArray(decoded) &&
    decoded.length === ordering.columns.length + (tagged ? 1 : 0) &&
    (!tagged || decoded[0] === ordering.tag) &&
    ordering.columns.every((c, i) => {
      const v: unknown = decoded[i + (tagged ? 1 : 0)];
      return c.kind === "time" ? Number.isSafeInteger(v) : typeof v === "string";
    });
  if (!valid) {
    throw new UserError(
      `The page token "${token}" is not one that a previous page of ${ordering.noun} returned for this sort order.`,
      "Leave out the token to start from the first page; a token only continues the listing, with the same sort order, that returned it.",
    );
  }
  return (decoded as (string | number)[]).slice(tagged ? 1 : 0);
}

function checkPageSize(limit: number | undefined): number {
  const size = limit ?? defaultPageSize;
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new UserError(`A page size must be a whole number of at least 1, not ${size}.`);
  }
  return size;
}

function checkDirection(direction: unknown): void {
  if (direction !== "ASC" && direction !== "DESC") {
    throw new UserError(`A sort direction is ASC or DESC, not ${JSON.stringify(direction)}.`);
  }
}
