// Renders an execution's signals (`get signal`) as table, JSON or YAML, and the line `signal`/`approve` print. Pure:
// views in, text out; a signal no one has set yet reads "waiting".
import type { SetSignalResult, SignalView } from "../lib/remote/signals.js";
import { renderTable, type Column } from "./table.js";

export type SignalFormat = "table" | "json" | "yaml";

/** A value in a table cell: JSON, so that strings, lists and structs read as they would be typed. */
function cell(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

const columns: Column<SignalView>[] = [
  { header: "SIGNAL", value: (s) => s.signalId, keep: true },
  { header: "TYPE", value: (s) => s.type, keep: true },
  { header: "VALUE", value: (s) => (s.state === "waiting" ? "waiting" : cell(s.value)), keep: true },
];

export async function renderSignals(signals: SignalView[], format: SignalFormat, execution: string): Promise<string> {
  if (format === "json") return JSON.stringify(signals, null, 2);
  if (format === "yaml") {
    const { stringify } = await import("yaml");
    return stringify(signals, { lineWidth: 0 }).trimEnd();
  }
  if (signals.length === 0) return `Execution ${execution} has no signals yet: none of its gates has started waiting.`;
  return renderTable(columns, signals);
}

export function renderSetSignal(result: SetSignalResult, verb: "set" | "approved"): string {
  const s = result.signal;
  return verb === "approved" ? `Approved "${s.signalId}" of execution ${s.execution}` : `Set signal "${s.signalId}" of execution ${s.execution} to ${cell(s.value)} (${s.type})`;
}
