// What `tsflyte demo start|status|teardown` print for people: the address, where things live, the counts, and
// the one line to paste. Pure; the `export` line is always the last line of `start`, so `| tail -1` finds it.
import type { DemoStartResult, DemoStatus, DemoTeardownResult } from "../lib/server/demo.js";

const executionPhaseOrder = ["QUEUED", "RUNNING", "SUCCEEDING", "SUCCEEDED", "FAILING", "FAILED", "ABORTING", "ABORTED", "TIMED_OUT"];

export function renderDemoStart(result: DemoStartResult): string {
  const lines = [
    result.started
      ? `tsflyte demo started at ${result.url} (pid ${result.pid})`
      : `tsflyte demo is already running at ${result.url} (pid ${result.pid}, since ${result.startedAt})`,
    ...(result.staleRecordRemoved ? ["  (a record of an earlier demo that is no longer running was removed)"] : []),
    `  data:   ${result.dataDir}`,
    `  log:    ${result.logFile}`,
    `  config: ${result.configFile}`,
    "",
    "To use it from this shell:",
    result.exportLine,
  ];
  return lines.join("\n");
}

export function renderDemoStatus(status: DemoStatus): string {
  if (!status.running) {
    return [
      "tsflyte demo is not running",
      ...(status.problem ? [`  ${status.problem}`] : []),
      `  data:   ${status.dataDir}`,
      "Start it with: tsflyte demo start",
    ].join("\n");
  }
  const lines = [
    `tsflyte demo is running at ${status.url} (pid ${status.pid}, since ${status.startedAt})`,
    `  health: ${status.healthy ? "ok" : "not answering"}`,
    `  data:   ${status.dataDir}`,
    `  log:    ${status.logFile}`,
    ...(status.configFile ? [`  config: ${status.configFile}`] : []),
  ];
  if (status.entities) {
    const e = status.entities;
    lines.push(`  registered in ${status.project}/${status.domain}: ${e.tasks} ${plural(e.tasks, "task")}, ${e.workflows} ${plural(e.workflows, "workflow")}, ${e.launchPlans} ${plural(e.launchPlans, "launch plan")}`);
  }
  if (status.executions) {
    const total = Object.values(status.executions).reduce((sum, n) => sum + n, 0);
    const phases = Object.entries(status.executions)
      .filter(([, n]) => n > 0)
      .sort(([a], [b]) => phaseRank(a) - phaseRank(b) || (a < b ? -1 : a > b ? 1 : 0))
      .map(([phase, n]) => `${phase} ${n}`);
    lines.push(`  executions in ${status.project}/${status.domain}: ${total}${phases.length ? ` (${phases.join(", ")})` : ""}`);
  }
  if (status.problem) lines.push(`  ${status.problem}`);
  return lines.join("\n");
}

export function renderDemoTeardown(result: DemoTeardownResult): string {
  const lines: string[] = [];
  if (result.stopped) {
    lines.push(`stopped the tsflyte demo at ${result.url} (pid ${result.pid})${result.killed ? " with SIGKILL: it did not exit after SIGTERM" : ""}`);
  } else if (result.staleRecordRemoved) {
    lines.push(`no tsflyte demo is running; removed the record of one that stopped (pid ${result.pid})`);
  } else {
    lines.push("no tsflyte demo is running");
  }
  if (result.dataDeleted) lines.push(`deleted ${result.dataDir}`);
  else if (result.stopped) lines.push(`kept its data in ${result.dataDir} (remove it with: tsflyte demo teardown --delete-data)`);
  return lines.join("\n");
}

function phaseRank(phase: string): number {
  const i = executionPhaseOrder.indexOf(phase);
  return i < 0 ? executionPhaseOrder.length : i;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
