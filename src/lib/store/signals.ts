// The signals table's queries and rows, written once for both SQL stores: get-or-create when a gate starts waiting,
// set once (a second, different value is refused), list by signal id. Never overwrites a value that is set.
import type { ExecutionKey, Page, SetSignalOutcome, SignalKey, SignalRecord } from "./records.js";
import { insertIfAbsent } from "./queries.js";
import { signalsTable, type SignalRow } from "./schema.js";
import { sql, type SqlFragment } from "./sql.js";

const defaultSignalPage = 100;

export function signalToRow(r: SignalRecord): SignalRow {
  return {
    project: r.project,
    domain: r.domain,
    execution_name: r.executionName,
    signal_id: r.signalId,
    type: Buffer.from(r.type.buffer, r.type.byteOffset, r.type.byteLength),
    value: r.value ? Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength) : null,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

export function signalFromRow(row: SignalRow): SignalRecord {
  // Copies: the drivers' Buffers may be views into a shared pool.
  const record: SignalRecord = {
    project: row.project,
    domain: row.domain,
    executionName: row.execution_name,
    signalId: row.signal_id,
    type: new Uint8Array(row.type),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
  if (row.value !== null) record.value = new Uint8Array(row.value);
  return record;
}

export function insertSignalIfAbsent(record: SignalRecord): SqlFragment {
  return insertIfAbsent(signalsTable, signalToRow(record));
}

export function getSignal(key: SignalKey): SqlFragment {
  return sql`SELECT * FROM signals WHERE project = ${key.project} AND domain = ${key.domain} AND execution_name = ${key.executionName} AND signal_id = ${key.signalId}`;
}

/** Sets the value of a signal that has none; changes no row when it is set already (or missing). */
export function setSignalIfUnset(key: SignalKey, value: Uint8Array, now: number): SqlFragment {
  return sql`UPDATE signals SET value = ${Buffer.from(value.buffer, value.byteOffset, value.byteLength)}, updated_at = ${now}
    WHERE project = ${key.project} AND domain = ${key.domain} AND execution_name = ${key.executionName} AND signal_id = ${key.signalId} AND value IS NULL`;
}

export interface SignalPageQuery {
  sql: SqlFragment;
  limit: number;
}

/** One page by signal id (byte order in both databases), one row more than the page to know whether there is another. */
export function listSignals(key: ExecutionKey, limit = defaultSignalPage, token?: string): SignalPageQuery {
  const pageSize = Math.max(1, Math.min(Math.floor(limit), 10_000));
  const after = token ? sql` AND signal_id > ${token}` : sql``;
  return {
    sql: sql`SELECT * FROM signals WHERE project = ${key.project} AND domain = ${key.domain} AND execution_name = ${key.name}${after}
      ORDER BY signal_id LIMIT ${pageSize + 1}`,
    limit: pageSize,
  };
}

export function signalPageOf(query: SignalPageQuery, rows: readonly SignalRow[]): Page<SignalRecord> {
  const items = rows.slice(0, query.limit).map(signalFromRow);
  return rows.length > query.limit ? { items, token: items[items.length - 1].signalId } : { items };
}

/** What a set that changed no row found: no signal, the same value, or another one. */
export function unchangedSetOutcome(current: SignalRecord | undefined, value: Uint8Array): SetSignalOutcome {
  if (!current) return { outcome: "missing" };
  return current.value && sameBytes(current.value, value) ? { outcome: "same", signal: current } : { outcome: "conflict", signal: current };
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}
