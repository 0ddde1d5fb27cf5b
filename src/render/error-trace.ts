// What `tsflyte run` prints when an execution fails: which node failed, on which attempt, why, and the user's
// own stack frames. Never shows tsflyte's or Node's internal frames unless asked (-v); pure apart from defaults.
import { fileURLToPath } from "node:url";
import { splitErrorText } from "../lib/engine/error-text.js";
import { packageRoot } from "../lib/package-root.js";
import type { AttemptView, ExecutionDetailsView, NodeView } from "../lib/engine/history.js";

export interface ErrorTraceOptions {
  verbose: boolean;
  /** Paths under it show relative; default process.cwd(). */
  cwd?: string;
  /** The tsflyte package root whose src/lib, dist and bin frames are hidden; default this package. */
  packageRoot?: string;
}

const defaultPackageRoot = packageRoot;

interface ExecutionJsonFields {
  id?: { name?: string };
  closure?: { phase?: string; error?: { kind?: string; code?: string; message?: string } };
}

// ABORTED nodes are left out: they were stopped because something else failed first, and that is what to report.
const failedPhases = new Set(["FAILED", "TIMED_OUT"]);
const phaseVerb: Record<string, string> = { FAILED: "failed", TIMED_OUT: "timed out" };

interface Failure {
  node: NodeView;
  depth: number;
  order: number;
}

/**
 * Failed nodes that explain themselves: a failed node under which nothing else failed. A subworkflow node whose
 * error only says that a child failed is skipped, because the child is reported.
 */
function collectFailures(nodes: readonly NodeView[], depth: number, out: Failure[]): boolean {
  let anyFailed = false;
  for (const node of nodes) {
    const childFailed = collectFailures(node.children ?? [], depth + 1, out);
    const failed = failedPhases.has(node.phase);
    if (failed && !childFailed) out.push({ node, depth, order: out.length });
    anyFailed ||= failed || childFailed;
  }
  return anyFailed;
}

export function renderErrorTrace(details: ExecutionDetailsView, options: ErrorTraceOptions): string {
  const ex = details.execution as unknown as ExecutionJsonFields;
  const name = ex.id?.name ?? "";
  const lines: string[] = [`Execution ${name} ${ex.closure?.phase ?? "FAILED"}`];

  const failures: Failure[] = [];
  collectFailures(details.nodes, 0, failures);
  failures.sort((a, b) => b.depth - a.depth || a.order - b.order);
  for (const { node } of failures) lines.push("", ...nodeFailure(node, options));

  const wfError = ex.closure?.error;
  if (failures.length === 0 && wfError) {
    const { message, stack } = splitErrorText(wfError.message ?? "", wfError.code ?? "");
    lines.push("", `${wfError.kind ?? "UNKNOWN"}${options.verbose && wfError.code ? ` (${wfError.code})` : ""}:`, ...indent(message, "  "));
    if (stack) lines.push(...stackLines(stack, options));
  }
  return lines.join("\n");
}

function nodeFailure(node: NodeView, options: ErrorTraceOptions): string[] {
  const attempt = lastFailedAttempt(node.attempts);
  const error = attempt?.error ?? node.error;
  const kind = error?.kind ?? "UNKNOWN";
  const code = options.verbose && error?.code ? ` (${error.code})` : "";
  const verb = phaseVerb[node.phase] ?? "failed";
  const where = attempt ? ` on ${attemptOfNode(attempt, node)}` : "";
  const lines = [`node ${node.nodeId} (${node.entity.name}) ${verb}${where}: ${kind}${code}`];
  lines.push(...indent(error?.message ?? "(no message was recorded)", "  "));
  const stack = attempt?.error?.stack;
  if (stack) lines.push(...stackLines(stack, options));
  return lines;
}

/**
 * `attempt 2 of 3`: out of the attempts the node's retries allow (`retries: 2` is 3 attempts). System failures have
 * a budget of their own, so a node can make more; then the count is of the attempts made. Without a known budget
 * (an execution recorded before it was kept), it is the attempts made.
 */
export function attemptOfNode(attempt: Pick<AttemptView, "attempt">, node: Pick<NodeView, "retries" | "attempts">): string {
  const allowed = node.retries === undefined ? 0 : node.retries + 1;
  return `attempt ${attempt.attempt} of ${Math.max(allowed, node.attempts.length)}`;
}

function lastFailedAttempt(attempts: readonly AttemptView[]): AttemptView | undefined {
  for (let i = attempts.length - 1; i >= 0; i--) if (attempts[i].error) return attempts[i];
  return undefined;
}

function indent(text: string, pad: string): string[] {
  return text.split("\n").map((l) => (l ? `${pad}${l}` : l));
}

const frameRe = /^\s*at\s/;
/** Node's own modules: `node:internal/…`, and `node:async_hooks` and the like that tsflyte calls through. */
const nodeRuntimeFrame = /(?:\(|at )node:/;
const fileUrlRe = /file:\/\/[^\s)]+/g;

/**
 * The frames of a V8 stack, without its leading "Name: message" lines (the message is printed already).
 * tsflyte's frames and Node's (`node:…`) are hidden unless verbose; paths under cwd show relative.
 */
export function stackLines(stack: string, options: ErrorTraceOptions): string[] {
  const cwd = (options.cwd ?? process.cwd()).replace(/\/+$/, "");
  const root = (options.packageRoot ?? defaultPackageRoot).replace(/\/+$/, "");
  const internalPrefixes = [`${root}/src/lib/`, `${root}/dist/`, `${root}/bin/`];
  const all = stack.split("\n");
  const first = all.findIndex((l) => frameRe.test(l));
  if (first < 0) return [];
  const out: string[] = [];
  let hidden = 0;
  for (const raw of all.slice(first)) {
    if (!raw.trim()) continue;
    const line = raw.replace(fileUrlRe, (url) => filePath(url));
    if (frameRe.test(line)) {
      const internal =
        nodeRuntimeFrame.test(line) || line.includes("/node_modules/tsflyte/") || internalPrefixes.some((p) => line.includes(p));
      if (internal && !options.verbose) {
        hidden++;
        continue;
      }
    }
    out.push(`    ${relativize(line.trim(), cwd)}`);
  }
  if (hidden) out.push(`    (${hidden} tsflyte frame${hidden === 1 ? "" : "s"} hidden; -v shows them)`);
  return out;
}

function filePath(url: string): string {
  // A frame's location ends in :line:col, which a URL parser keeps in the path; split it off first.
  const m = /^(.*?)((?::\d+){0,2})$/.exec(url)!;
  try {
    return fileURLToPath(m[1]) + m[2];
  } catch {
    return url;
  }
}

function relativize(line: string, cwd: string): string {
  if (!cwd) return line;
  const escaped = cwd.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return line.replace(new RegExp(`(^|[\\s(])${escaped}/`, "g"), "$1");
}
