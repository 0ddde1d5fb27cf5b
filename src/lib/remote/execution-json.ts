// `get execution [NAME]` on a control plane without the protobuf runtime: FlyteAdmin's snake_case JSON renamed to
// proto3 JSON names from a generated table, and the list/one views read from it. Never loads the IDL codecs.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { jsonShapes } from "../idl/gen/json-names.js";
import { NotFoundError } from "../errors.js";
import { parseFieldSelector } from "./field-selector.js";
import { splitErrorText } from "../engine/error-text.js";
import type { ExecutionView } from "../engine/history.js";
import type { ExecutionKey, ExecutionPhase, LaunchKind } from "../store/records.js";
import type { AdminClient } from "../admin/client.js";

/**
 * A message in FlyteAdmin's JSON (either casing) in proto3 JSON names, as the protobuf runtime's toJson writes it.
 * Map keys and Struct contents are data and stay as they are; unset (null) fields are left out; unknown fields
 * pass through unchanged.
 */
export function toProtoJsonNames(value: JsonValue, typeName: string): JsonValue {
  if (Array.isArray(value)) return value.map((v) => toProtoJsonNames(v, typeName));
  if (value === null || typeof value !== "object") return value;
  const shape = jsonShapes[typeName];
  if (!shape) return value;
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(value)) {
    const field = shape[key];
    if (!field) {
      out[key] = v;
      continue;
    }
    // FlyteAdmin writes unset messages as null; proto3 JSON leaves them out, as the local history does.
    if (v === null) continue;
    const [name, kind, child] = field;
    if (kind === 1 && child) out[name] = toProtoJsonNames(v, child);
    else if (kind === 2 && child && v !== null && typeof v === "object" && !Array.isArray(v)) {
      out[name] = Object.fromEntries(Object.entries(v).map(([k, item]) => [k, toProtoJsonNames(item, child)]));
    } else out[name] = v;
  }
  return out;
}

const path = (...parts: string[]) => parts.map(encodeURIComponent).join("/");

type Json = Record<string, any>;

/** The list and one-execution view, from an Execution in proto3 JSON names. */
export function executionViewFromJson(execution: JsonObject): ExecutionView {
  const e = execution as Json;
  const lp = e.spec?.launchPlan ?? {};
  const closure = e.closure ?? {};
  const kind: LaunchKind = lp.resourceType === "TASK" ? "task" : closure.workflowId?.name && closure.workflowId.name === lp.name ? "workflow" : "launchPlan";
  const view: ExecutionView = {
    name: e.id?.name ?? "",
    project: e.id?.project ?? "",
    domain: e.id?.domain ?? "",
    launched: { kind, name: lp.name ?? "", version: lp.version ?? "" },
    phase: (closure.phase ?? "UNDEFINED") as ExecutionPhase,
    mode: (e.spec?.metadata?.mode ?? "MANUAL") as ExecutionView["mode"],
    createdAt: closure.createdAt ?? "",
    execution,
  };
  const source = e.spec?.metadata?.referenceExecution?.name;
  if (source) view.sourceExecution = source;
  if (closure.startedAt && !closure.startedAt.startsWith("1970-")) {
    view.startedAt = closure.startedAt;
    if (closure.duration) view.duration = closure.duration;
  }
  if (closure.error) {
    const code = closure.error.code ?? "";
    view.error = { kind: closure.error.kind ?? "UNKNOWN", code, message: splitErrorText(closure.error.message ?? "", code).message };
  }
  return view;
}

/** One execution as `get execution NAME` shows it. */
export async function getExecutionView(client: AdminClient, key: ExecutionKey): Promise<ExecutionView> {
  // Asked first: a target that finds the execution can never start ends it, and the answer below says so.
  const pending = await client.connection.pendingReason?.(key);
  let json: JsonValue;
  try {
    json = await client.get<JsonValue>(`/api/v1/executions/${path(key.project, key.domain, key.name)}`);
  } catch (e) {
    if (e instanceof NotFoundError) throw new NotFoundError(`execution ${key.name} not found in project ${key.project}, domain ${key.domain}`, "tsflyte get execution lists them");
    throw e;
  }
  const view = executionViewFromJson(toProtoJsonNames(json, "flyteidl.admin.Execution") as JsonObject);
  if (pending && view.phase === "QUEUED") view.pending = pending;
  return view;
}

export interface ListExecutionViews {
  project: string;
  domain: string;
  limit: number;
  /** FlyteAdmin's filter expression, e.g. `eq(phase,FAILED)`. */
  filters?: string;
}

/** The newest executions first. */
export async function listExecutionViewsRemote(client: AdminClient, request: ListExecutionViews): Promise<ExecutionView[]> {
  const json = await client.get<JsonValue>(`/api/v1/executions/${path(request.project, request.domain)}`, {
    limit: request.limit,
    "sort_by.key": "created_at",
    "sort_by.direction": "DESCENDING",
    filters: request.filters,
  });
  const list = toProtoJsonNames(json, "flyteidl.admin.ExecutionList") as Json;
  return ((list.executions ?? []) as JsonObject[]).map(executionViewFromJson);
}

/**
 * flytectl's field selector (`k=v,k2!=v2`) as FlyteAdmin's filter expression (`eq(k,v)+ne(k2,v2)`). An
 * `execution.` prefix on a key is dropped, as FlyteAdmin takes the bare column there.
 */
export function fieldSelectorFilters(selector: string | undefined): string | undefined {
  const terms = parseFieldSelector(selector, undefined, /^execution\./);
  return terms.length ? terms.map((t) => `${t.equal ? "eq" : "ne"}(${t.key},${t.value})`).join("+") : undefined;
}
