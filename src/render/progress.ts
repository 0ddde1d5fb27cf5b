// Live progress of a remote execution for `run --remote --wait`: on a terminal one line redrawn in place (phase, a
// bar of nodes done, what runs and what failed); elsewhere one line per change. Pure: snapshots in, text out.
import type { ProgressSnapshot } from "../lib/remote/executions.js";

const done = new Set(["SUCCEEDED", "FAILED", "ABORTED", "SKIPPED", "TIMED_OUT", "RECOVERED"]);
const failed = new Set(["FAILED", "ABORTED", "TIMED_OUT"]);
const itemDone = new Set(["SUCCEEDED", "FAILED", "ABORTED"]);

/** The one status line a terminal shows, e.g. `RUNNING  [██████░░░░░░] 3/6 nodes  running n3  failed n4`. */
export function progressLine(snapshot: ProgressSnapshot, width = 20): string {
  const nodes = snapshot.nodes;
  const finished = nodes.filter((n) => done.has(n.phase)).length;
  const filled = nodes.length ? Math.round((finished / nodes.length) * width) : 0;
  const bar = `[${"█".repeat(filled)}${"░".repeat(width - filled)}]`;
  const running = nodes.filter((n) => n.phase === "RUNNING" || n.phase === "QUEUED" || n.phase === "DYNAMIC_RUNNING").map((n) => n.nodeId);
  const bad = nodes.filter((n) => failed.has(n.phase)).map((n) => n.nodeId);
  const parts = [snapshot.execution.phase.padEnd(9), bar, `${finished}/${nodes.length} nodes`];
  const items = snapshot.items ?? [];
  if (items.length) {
    const itemsDone = items.filter((i) => itemDone.has(i.phase)).length;
    const itemsFailed = items.filter((i) => i.phase === "FAILED" || i.phase === "ABORTED").length;
    parts.push(`${itemsDone}/${items.length} items${itemsFailed ? ` (${itemsFailed} failed)` : ""}`);
  }
  if (running.length) parts.push(`running ${running.join(", ")}`);
  if (bad.length) parts.push(`failed ${bad.join(", ")}`);
  if (snapshot.execution.pending) parts.push(snapshot.execution.pending);
  return parts.join("  ");
}

/** Lines for what changed since the last snapshot, for logs and pipes: `n1 SUCCEEDED`, `execution FAILED`. */
export function progressChanges(previous: ProgressSnapshot | undefined, next: ProgressSnapshot): string[] {
  const lines: string[] = [];
  const finished = next.execution.phase === "SUCCEEDED" || next.execution.phase === "FAILED" || next.execution.phase === "ABORTED" || next.execution.phase === "TIMED_OUT";
  const executionLine = previous?.execution.phase !== next.execution.phase ? `execution ${next.execution.phase}` : undefined;
  // The execution's start comes before its nodes', its end after them.
  if (executionLine && !finished) lines.push(executionLine);
  const pending = next.execution.pending;
  if (pending && pending !== previous?.execution.pending) lines.push(pending);
  const before = new Map((previous?.nodes ?? []).map((n) => [n.nodeId, n.phase] as const));
  const changed = next.nodes.filter((n) => before.get(n.nodeId) !== n.phase);
  // Nodes that start, then map items (`n1[3] RETRYABLE_FAILED`: the map's node id and the item's index), then nodes
  // that end: a map's items move between its start and its end.
  for (const n of changed) if (!done.has(n.phase)) lines.push(`${n.nodeId} ${n.phase}`);
  const itemsBefore = new Map<string, string>((previous?.items ?? []).map((i) => [`${i.nodeId}[${i.index}]`, i.phase]));
  for (const i of next.items ?? []) {
    const id = `${i.nodeId}[${i.index}]`;
    if (itemsBefore.get(id) !== i.phase) lines.push(`${id} ${i.phase}`);
  }
  for (const n of changed) if (done.has(n.phase)) lines.push(`${n.nodeId} ${n.phase}`);
  if (executionLine && finished) lines.push(executionLine);
  return lines;
}
