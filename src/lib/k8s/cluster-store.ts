// The Kubernetes target's metadata store and registry, kept in the cluster itself so every user of a namespace sees
// the same history: per execution its ConfigMap (its row, and its first node and attempt rows) plus record shards
// (further rows) under a size budget well below the 1 MiB a ConfigMap holds; one ConfigMap per registered entity version
// and per cache entry. Never keeps state only in this process: each write lands in the API server (optimistic
// concurrency on every ConfigMap it replaces) before it resolves.
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { UserError } from "../errors.js";
import {
  terminalExecutionPhases,
  type CacheEntryRecord,
  type ControlPlaneStore,
  type EntityKey,
  type EntityRecord,
  type EntityResource,
  type ExecutionFilter,
  type ExecutionKey,
  type ExecutionRecord,
  type ListEntitiesQuery,
  type ListExecutionsQuery,
  type NodeExecutionRecord,
  type Page,
  type ProjectRecord,
  type RegisterOutcome,
  type SetSignalOutcome,
  type SignalKey,
  type SignalRecord,
  type StoreWrite,
  type TaskExecutionRecord,
} from "../store/records.js";
import { apiFailure, clusterError, isApiStatus, type Cluster } from "./cluster.js";
import { decodeRecordJson, encodeRecordJson } from "./record-json.js";
import { labels, labelValue } from "./task-pod.js";

/** The fixed domains, as FlyteAdmin's default configuration has them. */
const domains = ["development", "staging", "production"];

export interface ClusterStoreOptions {
  /** The namespace of a project and domain (kubernetes.namespace with its placeholders filled). */
  namespaceFor(project: string, domain: string): string;
  /** Where cache entries are looked up: the driver's own namespace. Unset: no cache lookups (the CLI never makes any). */
  cacheNamespace?: string;
}

/**
 * Where an execution's node and attempt rows live: shard 0 is the execution's own ConfigMap, shard i > 0 the ConfigMap
 * `<name>.<i>` (execution names cannot hold a dot, so no execution's name is ever a shard's).
 */
interface Shard {
  index: number;
  resourceVersion?: string;
  nodes: Map<string, NodeExecutionRecord>;
  tasks: Map<string, TaskExecutionRecord>;
  /** The JSON size of its rows, as written (approximately: the rows' own text). */
  bytes: number;
}

/** One execution's record, parsed from its ConfigMap and shards. */
interface ExecutionDoc {
  namespace: string;
  /** The execution ConfigMap's uid: its shards are owned by it, so deleting it deletes them. */
  uid?: string;
  execution: ExecutionRecord;
  /** By index; shards[0] is the execution's ConfigMap. */
  shards: Shard[];
  /** Row key (`n/<nodeId>`, `t/<nodeId>/<attempt>`) → the shard holding it. */
  rowShard: Map<string, number>;
  /** The rows in list order, made by the first list of this version. */
  sortedNodes?: NodeExecutionRecord[];
  sortedTasks?: TaskExecutionRecord[];
}

const executionKeys = { execution: "execution", nodes: "nodes", tasks: "tasks" } as const;
const unfinishedPhases = ["UNDEFINED", "QUEUED", "RUNNING", "SUCCEEDING", "FAILING", "ABORTING"];
const writeRetries = 8;
/** A shard takes new rows while its rows' JSON is below this (and one row above it gets a shard of its own). */
export const shardBudgetBytes = 128 * 1024;
/** A shard whose rows grew past this moves the rows that grew to a new shard: the API server refuses 1 MiB. */
const shardLimitBytes = 768 * 1024;
const shardRole = "record-shard";
const shardLabel = "tsflyte.io/shard";

const hash = (text: string, length = 32) => createHash("sha256").update(text).digest("hex").slice(0, length);

/** The ConfigMap holding an execution's record: named as the execution, so `kubectl get cm NAME` finds it. */
export function executionObjectName(name: string): string {
  return name;
}

function shardObjectName(execution: string, index: number): string {
  return index === 0 ? executionObjectName(execution) : `${execution}.${index}`;
}

/** Rows to write, or a function that makes them from the current record (called again after a conflict). */
type Writes = readonly StoreWrite[] | ((doc: ExecutionDoc) => readonly StoreWrite[]);

const nodeRowKey = (r: NodeExecutionRecord) => `n/${r.nodeId}`;
const taskRowKey = (r: TaskExecutionRecord) => `t/${r.nodeId}/${r.attempt}`;

export class ClusterStore implements ControlPlaneStore {
  readonly location: string;
  /** The latest version of each execution this process read or wrote: writes start from it instead of a read. */
  private readonly docs = new Map<string, ExecutionDoc>();
  /** Writes of one execution from this process go one at a time: each starts from the version the last one left. */
  private readonly writeQueues = new Map<string, Promise<void>>();
  /** The rows of each record ConfigMap last parsed, by namespace/name, kept while its resourceVersion stays the same. */
  private readonly parsedShards: ParsedShards = new Map();
  /** Reads in flight, shared by callers that came after they started (see `coalesced`). */
  private readonly reads = new Map<string, { current?: Promise<unknown>; next?: Promise<unknown> }>();

  constructor(
    private readonly cluster: Cluster,
    private readonly options: ClusterStoreOptions,
  ) {
    this.location = `${cluster.server} (context ${cluster.context})`;
  }

  namespaceOf(key: { project: string; domain: string }): string {
    return this.options.namespaceFor(key.project, key.domain);
  }

  // ── Executions ──

  async write(batch: readonly StoreWrite[]): Promise<void> {
    const byExecution = new Map<string, { key: ExecutionKey; writes: StoreWrite[] }>();
    for (const w of batch) {
      if (w.table === "cache") {
        await this.writeCacheEntry(w.row);
        continue;
      }
      const row = w.row as { project: string; domain: string; name?: string; executionName?: string };
      const key = { project: row.project, domain: row.domain, name: w.table === "execution" ? row.name! : row.executionName! };
      const id = this.docId(key);
      const group = byExecution.get(id);
      if (group) group.writes.push(w);
      else byExecution.set(id, { key, writes: [w] });
    }
    await Promise.all([...byExecution.values()].map(({ key, writes }) => this.queueWrites(key, writes)));
  }

  async createExecution(record: ExecutionRecord): Promise<boolean> {
    const namespace = this.namespaceOf(record);
    const doc: ExecutionDoc = { namespace, execution: record, shards: [emptyShard(0)], rowShard: new Map() };
    try {
      const created = await this.cluster.core.createNamespacedConfigMap({ namespace, body: this.shardConfigMap(doc, doc.shards[0]) });
      doc.shards[0].resourceVersion = created.metadata?.resourceVersion;
      doc.uid = created.metadata?.uid;
      this.docs.set(this.docId(record), doc);
      return true;
    } catch (e) {
      if (isApiStatus(e, 409)) return false;
      throw this.failure(`creating execution ${record.name} in namespace ${namespace}`, e, namespace);
    }
  }

  /**
   * Replaces the execution's row with what `change` makes of its current state, atomically (a conflict reads it again
   * and asks again); `change` answering undefined writes nothing. True when written.
   */
  async updateExecution(key: ExecutionKey, change: (current: ExecutionRecord) => ExecutionRecord | undefined): Promise<boolean> {
    let written = false;
    await this.queueWrites(key, (doc) => {
      const row = change(doc.execution);
      written = row !== undefined;
      return row ? [{ table: "execution", row }] : [];
    });
    return written;
  }

  /** The execution's row alone: one read of its ConfigMap, whatever the number of its shards. */
  async getExecution(key: ExecutionKey): Promise<ExecutionRecord | undefined> {
    return this.coalesced(`get ${this.docId(key)}`, async () => {
      const namespace = this.namespaceOf(key);
      let map: V1ConfigMap;
      try {
        map = await this.cluster.core.readNamespacedConfigMap({ name: executionObjectName(key.name), namespace });
      } catch (e) {
        if (isApiStatus(e, 404)) return undefined;
        throw this.failure(`reading execution ${key.name}`, e, namespace);
      }
      if (map.metadata?.labels?.[labels.role] !== "execution") return undefined;
      const record = parseJson<ExecutionRecord>(map.data?.[executionKeys.execution], map);
      return record.project === key.project && record.domain === key.domain ? record : undefined;
    });
  }

  async listNodeExecutions(key: ExecutionKey): Promise<NodeExecutionRecord[]> {
    const doc = await this.readDoc(key);
    if (!doc) return [];
    // Sorted once per read: the requests that share a read (a details view asks once per node) share the order too.
    doc.sortedNodes ??= rowsOf(doc, "nodes").sort((a, b) => a.createdAt - b.createdAt || compareText(a.nodeId, b.nodeId));
    return doc.sortedNodes.slice();
  }

  async listTaskExecutions(key: ExecutionKey): Promise<TaskExecutionRecord[]> {
    const doc = await this.readDoc(key);
    if (!doc) return [];
    doc.sortedTasks ??= rowsOf(doc, "tasks").sort((a, b) => compareText(a.nodeId, b.nodeId) || a.attempt - b.attempt);
    return doc.sortedTasks.slice();
  }

  async listExecutions(query: ListExecutionsQuery): Promise<Page<ExecutionRecord>> {
    const namespace = this.namespaceOf(query);
    const maps = await this.listConfigMaps(namespace, `${labels.role}=execution,${labels.project}=${labelValue(query.project)},${labels.domain}=${labelValue(query.domain)}`);
    let records = maps.map((m) => parseJson<ExecutionRecord>(m.data?.[executionKeys.execution], m)).filter((r) => r.project === query.project && r.domain === query.domain);
    if (query.phase) records = records.filter((r) => r.phase === query.phase);
    for (const filter of query.filters ?? []) records = records.filter((r) => matchesFilter(r, filter));
    records.sort(executionOrder(query.sortBy));
    return paginate(records, query.limit ?? 100, query.token);
  }

  async getCacheEntry(key: string): Promise<CacheEntryRecord | undefined> {
    const namespace = this.options.cacheNamespace;
    if (!namespace) return undefined;
    try {
      const map = await this.cluster.core.readNamespacedConfigMap({ name: cacheObjectName(key), namespace });
      const entry = parseJson<CacheEntryRecord>(map.data?.entry, map);
      return entry.key === key ? entry : undefined;
    } catch (e) {
      if (isApiStatus(e, 404)) return undefined;
      throw this.failure(`reading cache entry ${key}`, e, namespace);
    }
  }

  /**
   * Nothing here is owned by a process on a host: a driver that dies is replaced by its Job, which resumes the
   * execution. So no execution is ever an orphan of this store.
   */
  async failOrphanedExecutions(): Promise<ExecutionKey[]> {
    return [];
  }

  async listUnfinishedExecutions(): Promise<ExecutionRecord[]> {
    let list;
    try {
      list = await this.cluster.core.listConfigMapForAllNamespaces({ labelSelector: `${labels.role}=execution,tsflyte.io/phase in (${unfinishedPhases.join(",")})` });
    } catch (e) {
      throw this.failure("listing unfinished executions in every namespace", e);
    }
    return list.items.map((m) => parseJson<ExecutionRecord>(m.data?.[executionKeys.execution], m)).sort((a, b) => a.createdAt - b.createdAt);
  }

  async countExecutions(project: string, domain: string): Promise<Record<string, number>> {
    const maps = await this.listConfigMaps(this.options.namespaceFor(project, domain), `${labels.role}=execution,${labels.project}=${labelValue(project)},${labels.domain}=${labelValue(domain)}`);
    const counts: Record<string, number> = {};
    for (const m of maps) {
      const phase = m.metadata?.labels?.["tsflyte.io/phase"] ?? "UNDEFINED";
      counts[phase] = (counts[phase] ?? 0) + 1;
    }
    return counts;
  }

  // ── Registry ──

  async registerEntity(record: EntityRecord): Promise<RegisterOutcome> {
    const namespace = this.namespaceOf(record);
    const body = entityConfigMap(record);
    try {
      await this.cluster.core.createNamespacedConfigMap({ namespace, body });
    } catch (e) {
      if (!isApiStatus(e, 409)) throw this.failure(`registering ${record.resource} ${record.name} version ${record.version}`, e, namespace);
      const existing = await this.getEntity(record.resource, record);
      if (existing) return { created: false, existing };
      throw this.failure(`registering ${record.resource} ${record.name} version ${record.version}`, e, namespace);
    }
    if (record.resource === "launchPlan" && record.state === "ACTIVE") await this.deactivateOthers(record, record.createdAt);
    return { created: true };
  }

  async getEntity(resource: EntityResource, key: EntityKey): Promise<EntityRecord | undefined> {
    const namespace = this.namespaceOf(key);
    try {
      const map = await this.cluster.core.readNamespacedConfigMap({ name: entityObjectName(resource, key), namespace });
      const record = entityFromConfigMap(map);
      return record.resource === resource && record.name === key.name && record.version === key.version ? record : undefined;
    } catch (e) {
      if (isApiStatus(e, 404)) return undefined;
      throw this.failure(`reading ${resource} ${key.name} version ${key.version}`, e, namespace);
    }
  }

  async listEntities(query: ListEntitiesQuery): Promise<Page<EntityRecord>> {
    const records = await this.entities(query.resource, query.project, query.domain, query.name, query.state);
    const direction = query.sortBy?.direction === "ASC" ? 1 : -1;
    const key = query.sortBy?.key ?? "created_at";
    records.sort((a, b) => {
      let order = 0;
      if (key === "created_at") order = a.createdAt - b.createdAt || compareText(a.name, b.name) || compareText(a.version, b.version);
      else if (key === "name") order = compareText(a.name, b.name) || compareText(a.version, b.version);
      else order = compareText(a.version, b.version) || compareText(a.name, b.name);
      return order * direction;
    });
    return paginate(records, query.limit ?? 100, query.token);
  }

  async listEntityNames(resource: EntityResource, project: string, domain: string, limit = 100, token?: string): Promise<Page<string>> {
    const names = [...new Set((await this.entities(resource, project, domain)).map((r) => r.name))].sort(compareText);
    return paginate(names, limit, token);
  }

  async setLaunchPlanState(key: EntityKey, state: "ACTIVE" | "INACTIVE", now: number): Promise<boolean> {
    const existing = await this.getEntity("launchPlan", key);
    if (!existing) return false;
    await this.patchState(existing, state, now);
    if (state === "ACTIVE") await this.deactivateOthers(existing, now);
    return true;
  }

  async getActiveLaunchPlan(project: string, domain: string, name: string): Promise<EntityRecord | undefined> {
    const active = await this.entities("launchPlan", project, domain, name, "ACTIVE");
    return active.sort((a, b) => (b.updatedAt ?? b.createdAt) - (a.updatedAt ?? a.createdAt))[0];
  }

  // ── Projects: a project is the namespaces its domains map to, labelled with it. ──

  async createProject(project: ProjectRecord): Promise<boolean> {
    let created = false;
    for (const domain of domains) {
      const name = this.options.namespaceFor(project.id, domain);
      try {
        await this.cluster.core.createNamespace({
          body: {
            metadata: {
              name,
              labels: { [labels.managedBy]: "tsflyte", [labels.project]: labelValue(project.id), [labels.domain]: domain, ...project.labels },
              annotations: { "tsflyte.io/project-name": project.name, "tsflyte.io/project-description": project.description },
            },
          },
        });
        created = true;
      } catch (e) {
        if (!isApiStatus(e, 409)) throw this.failure(`creating namespace ${name} for project ${project.id}`, e);
      }
    }
    return created;
  }

  /**
   * Every valid project id names a project here: its namespaces may have been made by a cluster admin, without our
   * labels, and the API server is what says whether a namespace exists when something is written to it.
   */
  async getProject(id: string): Promise<ProjectRecord | undefined> {
    const known = (await this.listProjects()).find((p) => p.id === id);
    return known ?? { id, name: id, description: "", labels: {}, state: "ACTIVE", createdAt: 0 };
  }

  async listProjects(): Promise<ProjectRecord[]> {
    let list;
    try {
      list = await this.cluster.core.listNamespace({ labelSelector: labels.project });
    } catch (e) {
      // Listing namespaces is a cluster-wide permission many users lack; their projects are still usable.
      if (isApiStatus(e, 403)) return [];
      throw this.failure("listing namespaces", e);
    }
    const projects = new Map<string, ProjectRecord>();
    for (const ns of list.items) {
      const id = ns.metadata?.labels?.[labels.project];
      if (!id || projects.has(id)) continue;
      const annotations = ns.metadata?.annotations ?? {};
      projects.set(id, {
        id,
        name: annotations["tsflyte.io/project-name"] ?? id,
        description: annotations["tsflyte.io/project-description"] ?? "",
        labels: {},
        state: "ACTIVE",
        createdAt: ns.metadata?.creationTimestamp ? new Date(ns.metadata.creationTimestamp).getTime() : 0,
      });
    }
    return [...projects.values()].sort((a, b) => compareText(a.id, b.id));
  }

  // ── Signals: one ConfigMap each, beside its execution's, set once under optimistic concurrency. ──

  async getOrCreateSignal(record: SignalRecord): Promise<SignalRecord> {
    const namespace = this.namespaceOf(record);
    try {
      await this.cluster.core.createNamespacedConfigMap({ namespace, body: signalConfigMap(record) });
      return record;
    } catch (e) {
      if (!isApiStatus(e, 409)) throw this.failure(`recording signal ${record.signalId} of execution ${record.executionName}`, e, namespace);
    }
    const existing = await this.readSignal(record);
    if (!existing) throw this.failure(`reading signal ${record.signalId} of execution ${record.executionName}`, new Error("it was deleted as it was made"), namespace);
    return existing.record;
  }

  async getSignal(key: SignalKey): Promise<SignalRecord | undefined> {
    return (await this.readSignal(key))?.record;
  }

  async listSignals(key: ExecutionKey, limit = 100, token?: string): Promise<Page<SignalRecord>> {
    const maps = await this.listConfigMaps(this.namespaceOf(key), `${labels.role}=signal,${labels.execution}=${labelValue(key.name)}`);
    const records = maps
      .map((m) => parseJson<SignalRecord>(m.data?.signal, m))
      .filter((r) => r.project === key.project && r.domain === key.domain && r.executionName === key.name && (token === undefined || compareText(r.signalId, token) > 0))
      .sort((a, b) => compareText(a.signalId, b.signalId));
    const items = records.slice(0, limit);
    return records.length > limit ? { items, token: items[items.length - 1].signalId } : { items };
  }

  async setSignal(key: SignalKey, value: Uint8Array, now: number): Promise<SetSignalOutcome> {
    const namespace = this.namespaceOf(key);
    for (let attempt = 0; ; attempt++) {
      const current = await this.readSignal(key);
      if (!current) return { outcome: "missing" };
      if (current.record.value) {
        const same = Buffer.compare(Buffer.from(current.record.value), Buffer.from(value)) === 0;
        return same ? { outcome: "same", signal: current.record } : { outcome: "conflict", signal: current.record };
      }
      const updated: SignalRecord = { ...current.record, value, updatedAt: now };
      const body = signalConfigMap(updated);
      body.metadata!.resourceVersion = current.resourceVersion;
      try {
        await this.cluster.core.replaceNamespacedConfigMap({ name: signalObjectName(key), namespace, body });
        return { outcome: "set", signal: updated };
      } catch (e) {
        // Another setter got there first: read again, and answer as its value says.
        if (!isApiStatus(e, 409) || attempt >= writeRetries) throw this.failure(`setting signal ${key.signalId} of execution ${key.executionName}`, e, namespace);
      }
    }
  }

  private async readSignal(key: SignalKey): Promise<{ record: SignalRecord; resourceVersion?: string } | undefined> {
    const namespace = this.namespaceOf(key);
    let map: V1ConfigMap;
    try {
      map = await this.cluster.core.readNamespacedConfigMap({ name: signalObjectName(key), namespace });
    } catch (e) {
      if (isApiStatus(e, 404)) return undefined;
      throw this.failure(`reading signal ${key.signalId} of execution ${key.executionName}`, e, namespace);
    }
    const record = parseJson<SignalRecord>(map.data?.signal, map);
    const same = record.project === key.project && record.domain === key.domain && record.executionName === key.executionName && record.signalId === key.signalId;
    return same ? { record, resourceVersion: map.metadata?.resourceVersion } : undefined;
  }

  async close(): Promise<void> {
    this.docs.clear();
  }

  // ── Internals ──

  private docId(key: ExecutionKey): string {
    return `${key.project}/${key.domain}/${key.name}`;
  }

  /**
   * Runs `read` for `id`, or shares a read of the same id with others: one that is already running started before this
   * caller asked, so it may miss a write the caller saw land; the caller joins the read that starts after it instead.
   * So a thousand requests for one execution cost a few reads of it, and none answers older than when it was asked.
   */
  private coalesced<T>(id: string, read: () => Promise<T>): Promise<T> {
    let slot = this.reads.get(id);
    if (!slot) this.reads.set(id, (slot = {}));
    const s = slot;
    if (!s.current) {
      const current = read().finally(() => {
        if (s.current === current) s.current = undefined;
        if (!s.current && !s.next) this.reads.delete(id);
      });
      s.current = current;
      return current;
    }
    s.next ??= s.current
      .catch(() => undefined)
      .then(() => {
        s.next = undefined;
        return this.coalesced(id, read);
      });
    return s.next as Promise<T>;
  }

  /** The whole record: the execution's ConfigMap and its shards, in one labelled list. */
  private readDoc(key: ExecutionKey): Promise<ExecutionDoc | undefined> {
    return this.coalesced(`doc ${this.docId(key)}`, async () => {
      const namespace = this.namespaceOf(key);
      const maps = await this.listConfigMaps(namespace, `${labels.execution}=${labelValue(key.name)},${labels.role} in (execution,${shardRole})`);
      const doc = parseExecutionDoc(namespace, key, maps, this.parsedShards);
      if (doc) this.docs.set(this.docId(key), doc);
      return doc;
    });
  }

  private queueWrites(key: ExecutionKey, writes: Writes): Promise<void> {
    const id = this.docId(key);
    const previous = this.writeQueues.get(id) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(() => this.applyWrites(key, writes));
    const tail = mine.catch(() => undefined);
    this.writeQueues.set(id, tail);
    void tail.then(() => {
      if (this.writeQueues.get(id) === tail) this.writeQueues.delete(id);
    });
    return mine;
  }

  /**
   * Applies rows to the latest version and replaces the ConfigMaps they touched (new shards are created first, so a
   * row that moves is never missing); on a conflict, reads the record again and reapplies. Rows are upserts, so a
   * shard that landed before another conflicted is rewritten the same.
   */
  private async applyWrites(key: ExecutionKey, writes: Writes): Promise<void> {
    const namespace = this.namespaceOf(key);
    const id = this.docId(key);
    for (let tries = 0; ; tries++) {
      let doc = tries === 0 ? this.docs.get(id) : undefined;
      doc ??= await this.readDoc(key);
      // Never made again here: its ConfigMap was deleted, and with it (by its owner reference) the execution's Job.
      if (!doc) throw new UserError(`execution ${key.name} has no record in namespace ${namespace}: its ConfigMap was deleted while it ran`);
      // Applied in place: a write that fails drops this version, and the next starts from a fresh read.
      this.docs.delete(id);
      const rows = typeof writes === "function" ? writes(doc) : writes;
      if (rows.length === 0) {
        this.docs.set(id, doc);
        return;
      }
      doc.sortedNodes = doc.sortedTasks = undefined;
      const touched = applyRows(doc, rows);
      try {
        const created = [...touched].filter((s) => s.resourceVersion === undefined);
        const replaced = [...touched].filter((s) => s.resourceVersion !== undefined);
        await Promise.all(created.map((s) => this.writeShard(doc, s)));
        await Promise.all(replaced.map((s) => this.writeShard(doc, s)));
        this.docs.set(id, doc);
        return;
      } catch (e) {
        if ((isApiStatus(e, 409) || isApiStatus(e, 404)) && tries < writeRetries) continue;
        const f = apiFailure(e);
        if (f.code === 413 || (f.code === 422 && /too long|too large/i.test(f.message))) {
          throw new UserError(
            `a row of execution ${key.name} is too large for a ConfigMap, whose limit is 1 MiB: ${f.message}`,
            "large values belong in the blob store; report this as a bug in tsflyte",
          );
        }
        throw this.failure(`recording execution ${key.name}`, e, namespace);
      }
    }
  }

  /** Creates or replaces one ConfigMap of the record (with its resourceVersion: a conflict is a 409). */
  private async writeShard(doc: ExecutionDoc, shard: Shard): Promise<void> {
    const name = shardObjectName(doc.execution.name, shard.index);
    const body = shard.index === 0 ? this.shardConfigMap(doc, shard) : this.extraShardConfigMap(doc, shard);
    const written =
      shard.resourceVersion === undefined
        ? await this.cluster.core.createNamespacedConfigMap({ namespace: doc.namespace, body })
        : await this.cluster.core.replaceNamespacedConfigMap({ name, namespace: doc.namespace, body });
    shard.resourceVersion = written.metadata?.resourceVersion;
  }

  /** The execution's own ConfigMap: its row, and the rows of shard 0. */
  private shardConfigMap(doc: ExecutionDoc, shard: Shard): V1ConfigMap {
    const e = doc.execution;
    return {
      metadata: {
        name: executionObjectName(e.name),
        namespace: doc.namespace,
        resourceVersion: shard.resourceVersion,
        // The execution's own labels and annotations too, as Flyte puts them on its FlyteWorkflow object; ours win
        // (the API refuses theirs under tsflyte.io/).
        labels: {
          ...e.settings?.labels,
          [labels.managedBy]: "tsflyte",
          [labels.role]: "execution",
          [labels.execution]: labelValue(e.name),
          [labels.project]: labelValue(e.project),
          [labels.domain]: labelValue(e.domain),
          "tsflyte.io/phase": e.phase,
        },
        annotations: { ...e.settings?.annotations, "tsflyte.io/launched": e.launchName },
      },
      data: { [executionKeys.execution]: encodeRecordJson(e), ...shardData(shard) },
    };
  }

  /** A further shard: labelled with its execution (one list reads them all) and owned by the execution's ConfigMap. */
  private extraShardConfigMap(doc: ExecutionDoc, shard: Shard): V1ConfigMap {
    const e = doc.execution;
    return {
      metadata: {
        name: shardObjectName(e.name, shard.index),
        namespace: doc.namespace,
        resourceVersion: shard.resourceVersion,
        labels: {
          [labels.managedBy]: "tsflyte",
          [labels.role]: shardRole,
          [labels.execution]: labelValue(e.name),
          [labels.project]: labelValue(e.project),
          [labels.domain]: labelValue(e.domain),
          [shardLabel]: String(shard.index),
        },
        ...(doc.uid ? { ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: executionObjectName(e.name), uid: doc.uid }] } : {}),
      },
      data: shardData(shard),
    };
  }

  private async writeCacheEntry(entry: CacheEntryRecord): Promise<void> {
    const namespace = this.options.namespaceFor(entry.project, entry.domain);
    const body: V1ConfigMap = {
      metadata: {
        name: cacheObjectName(entry.key),
        labels: { [labels.managedBy]: "tsflyte", [labels.role]: "cache", [labels.task]: labelValue(entry.taskName) },
      },
      data: { entry: encodeRecordJson(entry) },
    };
    try {
      await this.cluster.core.createNamespacedConfigMap({ namespace, body });
    } catch (e) {
      if (!isApiStatus(e, 409)) throw this.failure(`recording the cache entry of ${entry.taskName}`, e, namespace);
      await this.cluster.core.replaceNamespacedConfigMap({ name: cacheObjectName(entry.key), namespace, body });
    }
  }

  private async entities(resource: EntityResource, project: string, domain: string, name?: string, state?: "ACTIVE" | "INACTIVE"): Promise<EntityRecord[]> {
    let selector = `${labels.role}=entity,tsflyte.io/resource=${resource},${labels.project}=${labelValue(project)},${labels.domain}=${labelValue(domain)}`;
    if (name !== undefined) selector += `,tsflyte.io/name-hash=${hash(name)}`;
    if (state) selector += `,tsflyte.io/state=${state}`;
    const maps = await this.listConfigMaps(this.options.namespaceFor(project, domain), selector);
    return maps.map(entityFromConfigMap).filter((r) => r.project === project && r.domain === domain && (name === undefined || r.name === name));
  }

  private async patchState(record: EntityRecord, state: "ACTIVE" | "INACTIVE", now: number): Promise<void> {
    const namespace = this.namespaceOf(record);
    try {
      await this.cluster.core.patchNamespacedConfigMap(
        {
          name: entityObjectName("launchPlan", record),
          namespace,
          body: { metadata: { labels: { "tsflyte.io/state": state }, annotations: { "tsflyte.io/updated-at": String(now) } } },
        },
        this.cluster.mergePatch,
      );
    } catch (e) {
      throw this.failure(`setting launch plan ${record.name} version ${record.version} ${state}`, e, namespace);
    }
  }

  private async deactivateOthers(active: EntityKey, now: number): Promise<void> {
    for (const other of await this.entities("launchPlan", active.project, active.domain, active.name, "ACTIVE")) {
      if (other.version !== active.version) await this.patchState(other, "INACTIVE", now);
    }
  }

  private async listConfigMaps(namespace: string, labelSelector: string): Promise<V1ConfigMap[]> {
    const items: V1ConfigMap[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.cluster.core.listNamespacedConfigMap({ namespace, labelSelector, limit: 500, _continue: token });
      } catch (e) {
        throw this.failure(`listing ConfigMaps (${labelSelector})`, e, namespace);
      }
      items.push(...page.items);
      token = page.metadata?._continue || undefined;
    } while (token);
    return items;
  }

  private failure(doing: string, e: unknown, namespace?: string): Error {
    const f = apiFailure(e);
    if (namespace && f.code === 404 && /namespaces? "?[^"]*"? not found/.test(f.message)) {
      return new UserError(
        `namespace ${namespace} does not exist in ${this.location} (while ${doing})`,
        `create it (kubectl create namespace ${namespace}), or run \`tsflyte register\` once with permission to create namespaces; kubernetes.namespace maps projects and domains to namespaces`,
      );
    }
    return clusterError(this.cluster, `${doing}${namespace ? ` in namespace ${namespace}` : ""}`, e);
  }
}

function emptyShard(index: number): Shard {
  return { index, nodes: new Map(), tasks: new Map(), bytes: 0 };
}

function shardData(shard: Shard): Record<string, string> {
  return { [executionKeys.nodes]: encodeRecordJson(Object.fromEntries(shard.nodes)), [executionKeys.tasks]: encodeRecordJson(Object.fromEntries(shard.tasks)) };
}

/** Every row of one table, each once (a row that moved is read from its newest shard). */
function rowsOf<K extends "nodes" | "tasks">(doc: ExecutionDoc, table: K): Array<Shard[K] extends Map<string, infer R> ? R : never> {
  const rows: unknown[] = [];
  for (const shard of doc.shards) for (const row of shard[table].values()) rows.push(row);
  return rows as Array<Shard[K] extends Map<string, infer R> ? R : never>;
}

/**
 * Applies rows to the record in place and returns the shards they changed. A row stays in the shard that holds it; a
 * new row goes to the last shard while it is under the budget, else to a new one; rows that grew a shard past its
 * limit move to a new one.
 */
function applyRows(doc: ExecutionDoc, writes: readonly StoreWrite[]): Set<Shard> {
  const touched = new Set<Shard>();
  const placed = new Map<Shard, string[]>();
  for (const w of writes) {
    if (w.table === "execution") {
      // Once an execution has ended (e.g. terminated from the CLI), a driver still finishing cannot bring it back.
      if (terminalExecutionPhases.has(doc.execution.phase) && !terminalExecutionPhases.has(w.row.phase)) continue;
      if (doc.execution.abort && terminalExecutionPhases.has(doc.execution.phase)) continue;
      doc.execution = w.row;
      touched.add(doc.shards[0]);
      continue;
    }
    if (w.table !== "node" && w.table !== "task") continue;
    const rowKey = w.table === "node" ? nodeRowKey(w.row) : taskRowKey(w.row);
    const size = encodeRecordJson(w.row).length;
    let index = doc.rowShard.get(rowKey);
    if (index === undefined) {
      const last = doc.shards[doc.shards.length - 1];
      index = last.bytes === 0 || last.bytes + size <= shardBudgetBytes ? last.index : addShard(doc).index;
      doc.rowShard.set(rowKey, index);
    }
    const shard = doc.shards[index];
    const rows = (w.table === "node" ? shard.nodes : shard.tasks) as Map<string, NodeExecutionRecord | TaskExecutionRecord>;
    const rowId = rowKey.slice(2);
    const old = rows.get(rowId);
    shard.bytes += size - (old ? encodeRecordJson(old).length : 0);
    rows.set(rowId, w.row);
    touched.add(shard);
    const list = placed.get(shard) ?? [];
    list.push(rowKey);
    placed.set(shard, list);
  }
  for (const [shard, rowKeys] of placed) {
    if (shard.bytes <= shardLimitBytes) continue;
    // Rows that grew (larger errors, inline values) move on, newest first written, until the shard fits again.
    let target = addShard(doc);
    touched.add(target);
    for (const rowKey of rowKeys) {
      if (shard.bytes <= shardBudgetBytes) break;
      const table = rowKey.startsWith("n/") ? "nodes" : "tasks";
      const rowId = rowKey.slice(2);
      const row = (shard[table] as Map<string, NodeExecutionRecord | TaskExecutionRecord>).get(rowId);
      if (!row) continue;
      const size = encodeRecordJson(row).length;
      if (target.bytes > 0 && target.bytes + size > shardBudgetBytes) touched.add((target = addShard(doc)));
      shard[table].delete(rowId);
      shard.bytes -= size;
      (target[table] as Map<string, NodeExecutionRecord | TaskExecutionRecord>).set(rowId, row);
      target.bytes += size;
      doc.rowShard.set(rowKey, target.index);
    }
  }
  return touched;
}

function addShard(doc: ExecutionDoc): Shard {
  const shard = emptyShard(doc.shards.length);
  doc.shards.push(shard);
  return shard;
}

type ParsedRows = { nodes: Map<string, NodeExecutionRecord>; tasks: Map<string, TaskExecutionRecord> };
type ParsedShards = Map<string, { resourceVersion: string; rows: ParsedRows }>;

/** A shard's rows as parsed, from `parsed` when its resourceVersion has not changed since (a details view reads often). */
function shardRows(map: V1ConfigMap, parsed: ParsedShards): ParsedRows {
  const id = `${map.metadata?.namespace}/${map.metadata?.name}`;
  const version = map.metadata?.resourceVersion;
  const known = parsed.get(id);
  if (known && version !== undefined && known.resourceVersion === version) return known.rows;
  const rows: ParsedRows = {
    nodes: new Map(Object.entries(parseJson<Record<string, NodeExecutionRecord>>(map.data?.[executionKeys.nodes] ?? "{}", map))),
    tasks: new Map(Object.entries(parseJson<Record<string, TaskExecutionRecord>>(map.data?.[executionKeys.tasks] ?? "{}", map))),
  };
  if (version !== undefined) parsed.set(id, { resourceVersion: version, rows });
  return rows;
}

/** The record from the execution's ConfigMap and its shards; undefined when the execution's ConfigMap is not there. */
function parseExecutionDoc(namespace: string, key: ExecutionKey, maps: readonly V1ConfigMap[], parsed: ParsedShards): ExecutionDoc | undefined {
  const main = maps.find((m) => m.metadata?.labels?.[labels.role] === "execution" && m.metadata?.name === executionObjectName(key.name));
  if (!main) return undefined;
  const execution = parseJson<ExecutionRecord>(main.data?.[executionKeys.execution], main);
  if (execution.project !== key.project || execution.domain !== key.domain) return undefined;
  const byIndex = new Map<number, V1ConfigMap>([[0, main]]);
  for (const m of maps) {
    const index = Number(m.metadata?.labels?.[shardLabel]);
    if (m.metadata?.labels?.[labels.role] === shardRole && Number.isInteger(index) && index > 0 && m.metadata?.name === shardObjectName(key.name, index)) byIndex.set(index, m);
  }
  const doc: ExecutionDoc = { namespace, uid: main.metadata?.uid, execution, shards: [], rowShard: new Map() };
  const count = Math.max(...byIndex.keys()) + 1;
  for (let index = 0; index < count; index++) {
    const map = byIndex.get(index);
    const shard = emptyShard(index);
    doc.shards.push(shard);
    // A shard index no ConfigMap has (one that was never created) stays empty, and is created when used.
    if (!map) continue;
    shard.resourceVersion = map.metadata?.resourceVersion;
    shard.bytes = (map.data?.[executionKeys.nodes]?.length ?? 2) + (map.data?.[executionKeys.tasks]?.length ?? 2);
    const known = shardRows(map, parsed);
    for (const [table, prefix] of [["nodes", "n/"], ["tasks", "t/"]] as const) {
      const rows = shard[table] as Map<string, NodeExecutionRecord | TaskExecutionRecord>;
      // Copied: a write applies its rows to the doc in place, and the parsed rows are kept for the next read.
      for (const [rowId, row] of known[table] as Map<string, NodeExecutionRecord | TaskExecutionRecord>) {
        const rowKey = prefix + rowId;
        // A row that moved to a later shard while this one still held it: the later one is its current state.
        const earlier = doc.rowShard.get(rowKey);
        if (earlier !== undefined) (doc.shards[earlier][table] as Map<string, unknown>).delete(rowId);
        rows.set(rowId, row);
        doc.rowShard.set(rowKey, index);
      }
    }
  }
  return doc;
}

function parseJson<T>(text: string | undefined, map: V1ConfigMap): T {
  try {
    if (text === undefined) throw new Error("a key is missing");
    return decodeRecordJson<T>(text);
  } catch (e) {
    throw new UserError(`ConfigMap ${map.metadata?.namespace}/${map.metadata?.name} is not a tsflyte record: ${(e as Error).message}`, "it was changed by hand; restore it or delete it");
  }
}

function entityObjectName(resource: EntityResource, key: Pick<EntityKey, "name" | "version">): string {
  const prefix = resource === "task" ? "task" : resource === "workflow" ? "wf" : "lp";
  return `tsflyte-${prefix}-${hash(`${key.name}\0${key.version}`)}`;
}

function signalObjectName(key: SignalKey): string {
  return `tsflyte-signal-${hash(`${key.project}\0${key.domain}\0${key.executionName}\0${key.signalId}`, 40)}`;
}

function signalConfigMap(record: SignalRecord): V1ConfigMap {
  return {
    metadata: {
      name: signalObjectName(record),
      labels: { [labels.managedBy]: "tsflyte", [labels.role]: "signal", [labels.execution]: labelValue(record.executionName), ...(record.value ? { "tsflyte.io/signal-set": "true" } : {}) },
      annotations: { "tsflyte.io/signal-id": record.signalId },
    },
    data: { signal: encodeRecordJson(record) },
  };
}

function cacheObjectName(key: string): string {
  return `tsflyte-cache-${hash(key, 40)}`;
}

function entityConfigMap(record: EntityRecord): V1ConfigMap {
  const entityLabels: Record<string, string> = {
    [labels.managedBy]: "tsflyte",
    [labels.role]: "entity",
    "tsflyte.io/resource": record.resource,
    [labels.project]: labelValue(record.project),
    [labels.domain]: labelValue(record.domain),
    "tsflyte.io/name-hash": hash(record.name),
  };
  if (record.state) entityLabels["tsflyte.io/state"] = record.state;
  return {
    metadata: {
      name: entityObjectName(record.resource, record),
      labels: entityLabels,
      annotations: {
        "tsflyte.io/name": record.name,
        "tsflyte.io/version": record.version,
        "tsflyte.io/project": record.project,
        "tsflyte.io/domain": record.domain,
        "tsflyte.io/digest": record.digest,
        "tsflyte.io/created-at": String(record.createdAt),
      },
    },
    // Gzipped: a workflow's nodes repeat themselves, and a 10,000-node workflow's spec (about 1.5 MB) would not fit.
    binaryData: { [compressedSpecKey]: specData(record) },
  };
}

const compressedSpecKey = "spec.gz";
/** A spec unpacked is never larger than this (a registered one is far smaller): a ConfigMap edited by hand cannot fill memory. */
const maxSpecOutputBytes = 256 * 1024 * 1024;
/** The API server refuses a ConfigMap over 1 MiB; this leaves room for its metadata. */
const maxSpecBytes = 1_000_000;

/** The entity's spec gzipped, in base64; a spec too large even so is refused before anything is created. */
function specData(record: EntityRecord): string {
  const packed = gzipSync(record.spec);
  if (packed.byteLength * 4 / 3 > maxSpecBytes) {
    throw new UserError(
      `${record.resource} ${record.name} version ${record.version} is too large to register on Kubernetes: its spec is ${record.spec.byteLength} bytes, ` +
        `${packed.byteLength} gzipped, and a ConfigMap holds at most 1 MiB`,
      "split it into subworkflows or launch plans, or register it on a control plane (tsflyte serve)",
    );
  }
  return packed.toString("base64");
}

function entityFromConfigMap(map: V1ConfigMap): EntityRecord {
  const a = map.metadata?.annotations ?? {};
  const l = map.metadata?.labels ?? {};
  // Entities registered before their specs were gzipped hold them as they are.
  const packed = map.binaryData?.[compressedSpecKey];
  const spec = packed !== undefined ? gunzipSync(Buffer.from(packed, "base64"), { maxOutputLength: maxSpecOutputBytes }) : map.binaryData?.spec !== undefined ? Buffer.from(map.binaryData.spec, "base64") : undefined;
  if (!a["tsflyte.io/name"] || !a["tsflyte.io/version"] || spec === undefined) {
    throw new UserError(`ConfigMap ${map.metadata?.namespace}/${map.metadata?.name} is not a tsflyte entity`, "it was changed by hand; delete it and register again");
  }
  const state = l["tsflyte.io/state"];
  const updated = a["tsflyte.io/updated-at"];
  return {
    resource: l["tsflyte.io/resource"] as EntityResource,
    project: a["tsflyte.io/project"],
    domain: a["tsflyte.io/domain"],
    name: a["tsflyte.io/name"],
    version: a["tsflyte.io/version"],
    spec: new Uint8Array(spec.buffer, spec.byteOffset, spec.byteLength),
    digest: a["tsflyte.io/digest"] ?? "",
    ...(state === "ACTIVE" || state === "INACTIVE" ? { state } : {}),
    createdAt: Number(a["tsflyte.io/created-at"] ?? 0),
    ...(updated ? { updatedAt: Number(updated) } : {}),
  };
}

/** Byte order (of UTF-8), as every store compares text; printable ASCII, the usual case, is compared without encoding. */
function compareText(a: string, b: string): number {
  if (!notPrintableAscii.test(a) && !notPrintableAscii.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

const notPrintableAscii = /[^ -~]/;

function paginate<T>(items: T[], limit: number, token: string | undefined): Page<T> {
  const offset = token ? Number.parseInt(token, 10) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw new UserError(`the page token ${JSON.stringify(token)} is not one this store gave out`);
  const page = items.slice(offset, offset + limit);
  return offset + limit < items.length ? { items: page, token: String(offset + limit) } : { items: page };
}

const filterFields: Record<ExecutionFilter["field"], (r: ExecutionRecord) => string | number | undefined> = {
  name: (r) => r.name,
  phase: (r) => r.phase,
  mode: (r) => r.mode,
  launch_kind: (r) => r.launchKind,
  launch_name: (r) => r.launchName,
  launch_version: (r) => r.launchVersion,
  source_execution: (r) => r.sourceExecution,
  created_at: (r) => r.createdAt,
  updated_at: (r) => r.updatedAt,
  started_at: (r) => r.startedAt,
  ended_at: (r) => r.endedAt,
};

function matchesFilter(record: ExecutionRecord, filter: ExecutionFilter): boolean {
  const actual = filterFields[filter.field](record);
  const values = Array.isArray(filter.value) ? (filter.value as readonly (string | number)[]) : [filter.value as string | number];
  const compare = (v: string | number) => (typeof actual === "number" ? actual - Number(v) : compareText(String(actual), String(v)));
  if (filter.op === "value_in") return actual !== undefined && values.some((v) => compare(v) === 0);
  if (actual === undefined) return filter.op === "ne";
  const v = values[0];
  switch (filter.op) {
    case "eq":
      return compare(v) === 0;
    case "ne":
      return compare(v) !== 0;
    case "gt":
      return compare(v) > 0;
    case "gte":
      return compare(v) >= 0;
    case "lt":
      return compare(v) < 0;
    case "lte":
      return compare(v) <= 0;
    case "contains":
      return String(actual).includes(String(v));
  }
}

function executionOrder(sortBy: ListExecutionsQuery["sortBy"]): (a: ExecutionRecord, b: ExecutionRecord) => number {
  const key = sortBy?.key ?? "created_at";
  const direction = sortBy?.direction === "ASC" ? 1 : -1;
  const field = filterFields[key as ExecutionFilter["field"]];
  return (a, b) => {
    const x = field(a);
    const y = field(b);
    let order: number;
    if (typeof x === "number" || typeof y === "number" || x === undefined || y === undefined) {
      // An unset time sorts before every time.
      order = (x === undefined ? -Infinity : Number(x)) - (y === undefined ? -Infinity : Number(y));
      if (Number.isNaN(order)) order = 0;
    } else {
      order = compareText(x, y);
    }
    return (order || compareText(a.name, b.name)) * direction;
  };
}
