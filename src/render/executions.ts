// Renders `get execution` results: the list, one execution, and the details tree, as table, JSON or YAML.
// Pure: the same view always gives the same text; colors only when asked for.
import { stringify } from "yaml";
import type {
  AttemptView,
  ExecutionDetailsView,
  ExecutionView,
  NodeView,
} from "../lib/engine/history.js";
import { splitErrorText } from "../lib/engine/error-text.js";
import { attemptOfNode } from "./error-trace.js";
import { tableLines, type Column } from "./table.js";

export type ExecutionFormat = "table" | "json" | "yaml";

export interface RenderOptions {
  /** ANSI colors for phases; default off. */
  color?: boolean;
}

function serialize(value: unknown, format: "json" | "yaml"): string {
  return format === "json" ? JSON.stringify(value, null, 2) : stringify(value, { lineWidth: 0 }).trimEnd();
}

// ---------------------------------------------------------------------------------------------------------
// Shared text helpers

/** ISO 8601 to the second: `2024-05-01T12:00:03Z`. */
export function formatStarted(iso: string | undefined): string | undefined {
  return iso === undefined ? undefined : iso.replace(/\.\d+Z$/, "Z");
}

/** A proto3-style duration ("1.212s") for people: "1.21s" under a minute, then "2m5s", "1h2m3s". */
export function formatElapsed(duration: string | undefined): string | undefined {
  if (duration === undefined) return undefined;
  const ms = Number.parseFloat(duration) * 1000;
  if (!Number.isFinite(ms)) return duration;
  if (ms < 59_995) return `${(ms / 1000).toFixed(2)}s`;
  let s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

const phaseColors: Record<string, number> = {
  SUCCEEDED: 32,
  RECOVERED: 32,
  FAILED: 31,
  TIMED_OUT: 31,
  ABORTED: 31,
  FAILING: 31,
  ABORTING: 31,
  RETRYABLE_FAILED: 33,
  RUNNING: 33,
  QUEUED: 33,
  SUCCEEDING: 33,
  DYNAMIC_RUNNING: 33,
  INITIALIZING: 33,
  WAITING_FOR_RESOURCES: 33,
  SKIPPED: 90,
};

function paint(text: string, phase: string, color: boolean | undefined): string {
  const code = phaseColors[phase];
  return color && code ? `\u001b[${code}m${text}\u001b[0m` : text;
}

function firstLine(text: string): string {
  const [head, ...rest] = text.split("\n");
  return rest.some((l) => l.trim()) ? `${head} …` : head;
}

function plainText(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

// ---------------------------------------------------------------------------------------------------------
// List and one execution

function listColumns(options: RenderOptions): Column<ExecutionView>[] {
  return [
    { header: "NAME", value: (v) => v.name, keep: true },
    { header: "LAUNCHED", value: (v) => v.launched.name },
    { header: "PHASE", value: (v) => v.phase, style: (cell, v) => paint(cell, v.phase, options.color) },
    { header: "STARTED", value: (v) => formatStarted(v.startedAt) },
    { header: "DURATION", value: (v) => formatElapsed(v.duration), align: "right" },
    { header: "MODE", value: (v) => (v.mode === "MANUAL" ? undefined : v.mode) },
  ];
}

/** `get execution`: executions newest first (the order given). JSON and YAML print FlyteAdmin's Execution list. */
export function renderExecutionList(views: readonly ExecutionView[], format: ExecutionFormat, options: RenderOptions = {}): string {
  if (format !== "table") return serialize(views.map((v) => v.execution), format);
  if (views.length === 0) return "No executions found.";
  return tableLines(listColumns(options), views).join("\n");
}

/** `get execution NAME`: one row in table mode; FlyteAdmin's Execution in JSON and YAML. */
export function renderExecution(view: ExecutionView, format: ExecutionFormat, options: RenderOptions = {}): string {
  if (format !== "table") return serialize(view.execution, format);
  const lines = tableLines(listColumns(options), [view]);
  if (view.pending) lines.push("", view.pending);
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------------
// Details

/** The fields of FlyteAdmin's Execution JSON the details header reads. */
interface ExecutionJsonFields {
  id?: { project?: string; domain?: string; name?: string };
  spec?: {
    launchPlan?: { resourceType?: string; name?: string; version?: string };
    metadata?: { mode?: string; referenceExecution?: { name?: string } };
  };
  closure?: {
    phase?: string;
    startedAt?: string;
    duration?: string;
    error?: { kind?: string; code?: string; message?: string };
    workflowId?: { name?: string };
  };
}

function headerRows(view: ExecutionDetailsView): [string, string[]][] {
  const ex = view.execution as unknown as ExecutionJsonFields;
  const lp = ex.spec?.launchPlan;
  const kind = lp?.resourceType === "TASK" ? "task" : ex.closure?.workflowId ? "workflow" : "launch plan";
  const rows: [string, string[]][] = [
    ["Execution", [`${ex.id?.name ?? ""}  (${ex.id?.project ?? ""}/${ex.id?.domain ?? ""})`]],
    ["Launched", [`${lp?.name ?? ""}  (${kind}, version ${lp?.version ?? ""})`]],
  ];
  const mode = ex.spec?.metadata?.mode;
  if (mode && mode !== "MANUAL") {
    const ref = ex.spec?.metadata?.referenceExecution?.name;
    rows.push(["Mode", [ref ? `${mode} from ${ref}` : mode]]);
  }
  rows.push(["Phase", [ex.closure?.phase ?? "UNDEFINED"]]);
  const started = formatStarted(ex.closure?.startedAt);
  if (started) rows.push(["Started", [started]]);
  const duration = formatElapsed(ex.closure?.duration);
  if (duration) rows.push(["Duration", [duration]]);
  rows.push(["Inputs", valueLines(view.inputs)]);
  if (view.outputs) rows.push(["Outputs", valueLines(view.outputs)]);
  const error = ex.closure?.error;
  // The message alone: its stack, which FlyteAdmin's message carries, is in the error trace and the attempts' JSON.
  if (error) rows.push(["Error", `${error.kind ?? "UNKNOWN"}: ${splitErrorText(error.message ?? "", error.code ?? "").message}`.split("\n")]);
  return rows;
}

function valueLines(values: Record<string, unknown>): string[] {
  const names = Object.keys(values);
  return names.length ? names.map((n) => `${n}: ${plainText(values[n])}`) : ["(none)"];
}

interface TreeRow {
  prefix: string;
  node: NodeView;
}

type TreeItem = { kind: "node"; row: TreeRow } | { kind: "text"; text: string };

function attemptText(a: AttemptView, node: NodeView): string {
  const error = a.error ? ` ${a.error.kind}: ${firstLine(a.error.message)}` : "";
  return `${attemptOfNode(a, node)} ${a.phase}${error}`;
}

/** Attempts show under failed nodes and under nodes that needed more than one. */
function shownAttempts(node: NodeView): AttemptView[] {
  const failed = node.phase === "FAILED" || node.phase === "TIMED_OUT" || node.phase === "ABORTED";
  return failed || node.attempts.length > 1 ? node.attempts : [];
}

function flattenTree(nodes: readonly NodeView[], indent: string, items: TreeItem[]): void {
  nodes.forEach((node, i) => {
    const last = i === nodes.length - 1;
    items.push({ kind: "node", row: { prefix: `${indent}${last ? "└─ " : "├─ "}`, node } });
    const inner = `${indent}${last ? "   " : "│  "}`;
    const children = node.children ?? [];
    const notes: string[] = shownAttempts(node).map((a) => attemptText(a, node));
    if (node.error && node.attempts.length === 0 && children.length === 0) {
      notes.push(`error ${node.error.kind}: ${firstLine(node.error.message)}`);
    }
    notes.forEach((text, k) => {
      const lastNote = k === notes.length - 1 && children.length === 0;
      items.push({ kind: "text", text: `${inner}${lastNote ? "└─ " : "├─ "}${text}` });
    });
    flattenTree(children, inner, items);
  });
}

/** What a node runs; a conditional, a map, a gate and a dynamic workflow (a task with children) say so. */
function entityText(node: NodeView): string {
  const { kind, name } = node.entity;
  if (kind === "branch") return `${name} [conditional]`;
  if (kind === "array") return `${name} [map]`;
  if (kind === "gate") return `${name} [gate]`;
  if (kind === "task" && node.children?.length) return `${name} [dynamic]`;
  return name;
}

function nodeColumns(options: RenderOptions): Column<TreeRow>[] {
  return [
    { header: "NODE", value: (r) => `${r.prefix}${r.node.nodeId}` },
    { header: "ENTITY", value: (r) => entityText(r.node) },
    { header: "PHASE", value: (r) => r.node.phase, style: (cell, r) => paint(cell, r.node.phase, options.color) },
    { header: "DURATION", value: (r) => formatElapsed(r.node.duration), align: "right" },
    {
      header: "NOTE",
      // CACHE_DISABLED is every uncached task's status; showing it would bury the hits and misses.
      value: (r) =>
        [r.node.cacheStatus === "CACHE_DISABLED" ? undefined : r.node.cacheStatus, r.node.recoveredFrom ? `recovered from ${r.node.recoveredFrom}` : undefined]
          .filter(Boolean)
          .join("  "),
    },
  ];
}

/** The node tree alone: one aligned line per node, attempt lines under failed nodes. */
export function renderNodeTree(nodes: readonly NodeView[], options: RenderOptions = {}): string[] {
  const items: TreeItem[] = [];
  flattenTree(nodes, "", items);
  const rows = items.flatMap((item) => (item.kind === "node" ? [item.row] : []));
  const lines = tableLines(nodeColumns(options), rows, { header: false });
  let next = 0;
  return items.map((item) => (item.kind === "node" ? lines[next++] : item.text));
}

/** `get execution NAME --details`: a header and the node tree; JSON and YAML print the view itself. */
export function renderExecutionDetails(view: ExecutionDetailsView, format: ExecutionFormat, options: RenderOptions = {}): string {
  if (format !== "table") return serialize(view, format);
  const rows = headerRows(view);
  const width = Math.max(...rows.map(([label]) => label.length), "Nodes".length);
  const lines: string[] = [];
  for (const [label, values] of rows) {
    values.forEach((value, i) => {
      const text = `${(i === 0 ? label : "").padEnd(width)}  ${value}`.trimEnd();
      lines.push(label === "Phase" ? text.replace(value, paint(value, value, options.color)) : text);
    });
  }
  if (view.nodes.length === 0) lines.push(`${"Nodes".padEnd(width)}  (none)`);
  else lines.push("Nodes", ...renderNodeTree(view.nodes, options));
  return lines.join("\n");
}
