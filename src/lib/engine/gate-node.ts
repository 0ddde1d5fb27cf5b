// Runs a gate node (Flyte's GateNode): sleeps until its start plus its duration, or waits for its signal to be set in
// the store (FlyteAdmin's GetOrCreateSignal), asking a terminal first where there is one. Never keeps a signal only in memory.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema, LiteralSchema, type Literal, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import { LiteralTypeSchema, SimpleType, type LiteralType } from "../idl/gen/flyteidl/core/types_pb.js";
import type { ExecutionErrorRecord, ExecutionKey, MetadataStore, NodeExecutionRecord, SignalKey } from "../store/records.js";
import type { PlannedGate } from "./executable.js";

/** A gate that waits for a signal, as someone who may answer it sees it. */
export interface GateQuestion {
  execution: ExecutionKey;
  nodeId: string;
  kind: "approve" | "signal";
  signalId: string;
  /** The signal's type: boolean for an approval. */
  type: LiteralType;
  /** approve: the value to be approved. */
  value?: LiteralMap;
}

/** Where nobody can answer (no terminal, no value given in advance): why, and how to give the value. */
export interface GateUnanswerable {
  unanswerable: string;
}

/** Answers gates where the execution runs (a local run's terminal, or values given with `run --signal`). */
export interface GateAnswerer {
  answer(question: GateQuestion, signal: AbortSignal): Promise<Literal | GateUnanswerable>;
}

/** What the engine lends a gate: its history, how the execution stops, and how to end the node. */
export interface GateRun {
  env: { store?: MetadataStore; gates?: GateAnswerer };
  key: ExecutionKey;
  /** Aborts when the execution stops (terminated, or its server stopping). */
  signal: AbortSignal;
  /** Records the node's failure (TIMED_OUT for code Timeout) and throws. */
  fail(error: ExecutionErrorRecord): never;
  /** What to throw when the execution stopped while the gate waited. */
  aborted(): Error;
}

/** How often a waiting gate reads its signal: quickly at first, then every second at most. */
const firstPollMs = 50;
const maxPollMs = 1000;

const booleanType = create(LiteralTypeSchema, { type: { case: "simple", value: SimpleType.BOOLEAN } });

function describeGate(node: PlannedGate): string {
  const c = node.condition;
  return c.kind === "sleep" ? `sleep ${node.id} (${formatMs(c.durationMs)})` : c.kind === "approve" ? `approve "${c.signalId}"` : `waitForInput "${c.signalId}"`;
}

/**
 * Runs the gate to its outputs: an approval passes its inputs on, a signal gives its value as its output, a sleep gives
 * none. Times count from the node's recorded start, so a gate picked up again after a restart waits only what is left.
 */
export async function runGate(run: GateRun, node: PlannedGate, record: NodeExecutionRecord, inputs: LiteralMap): Promise<LiteralMap> {
  const started = record.startedAt ?? Date.now();
  const deadline = node.timeoutMs !== undefined ? started + node.timeoutMs : undefined;
  const c = node.condition;
  const timedOut = (): never =>
    run.fail({
      kind: "USER",
      code: "Timeout",
      recoverable: false,
      message: `${describeGate(node)} did not ${c.kind === "sleep" ? "end" : c.kind === "approve" ? "get an approval" : "get its value"} within its timeout of ${formatMs(node.timeoutMs!)}`,
    });
  if (c.kind === "sleep") {
    const until = started + c.durationMs;
    if (deadline !== undefined && deadline < until) {
      await waitUntil(run, deadline);
      return timedOut();
    }
    await waitUntil(run, until);
    return create(LiteralMapSchema, { literals: {} });
  }
  const type = c.kind === "approve" ? booleanType : c.type;
  const value = await signalValue(run, node, record, type, inputs, deadline);
  if (value === "timeout") return timedOut();
  if (c.kind === "signal") return create(LiteralMapSchema, { literals: { [c.outputName]: value } });
  const approved = value.value.case === "scalar" && value.value.value.value.case === "primitive" && value.value.value.value.value.value.case === "boolean" ? value.value.value.value.value.value.value : undefined;
  if (approved === undefined) return run.fail({ kind: "SYSTEM", code: "RuntimeExecutionError", recoverable: false, message: `approve "${c.signalId}" received a value that is not a boolean` });
  if (!approved) return run.fail({ kind: "USER", code: "ReceivedRejectSignal", recoverable: false, message: `approve "${c.signalId}" was rejected, so the values it guards were not passed on` });
  return inputs;
}

/** The signal's value: already in the store, answered here (and then stored), or set by someone else while polling. */
async function signalValue(run: GateRun, node: PlannedGate, record: NodeExecutionRecord, type: LiteralType, inputs: LiteralMap, deadline: number | undefined): Promise<Literal | "timeout"> {
  const c = node.condition as Exclude<PlannedGate["condition"], { kind: "sleep" }>;
  const { store, gates } = run.env;
  const key: SignalKey = { project: run.key.project, domain: run.key.domain, executionName: run.key.name, signalId: c.signalId };
  if (store) {
    const now = Date.now();
    const existing = await store.getOrCreateSignal({ ...key, type: toBinary(LiteralTypeSchema, type), createdAt: now, updatedAt: now });
    if (existing.value) return fromBinary(LiteralSchema, existing.value);
  }
  if (gates) {
    const question: GateQuestion = { execution: run.key, nodeId: record.nodeId, kind: c.kind, signalId: c.signalId, type, ...(c.kind === "approve" ? { value: inputs } : {}) };
    const asking = new AbortController();
    const stop = () => asking.abort();
    run.signal.addEventListener("abort", stop, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      const answered = gates.answer(question, asking.signal);
      const outcome = await Promise.race([
        answered,
        new Promise<"timeout">((resolve) => {
          if (deadline !== undefined) timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
        }),
        new Promise<"aborted">((resolve) => asking.signal.addEventListener("abort", () => resolve("aborted"), { once: true })),
      ]);
      if (outcome === "aborted" || run.signal.aborted) throw run.aborted();
      if (outcome === "timeout") return "timeout";
      if ("unanswerable" in outcome) {
        return run.fail({ kind: "USER", code: "SignalNotGiven", recoverable: false, message: outcome.unanswerable });
      }
      if (!store) return outcome;
      const set = await store.setSignal(key, toBinary(LiteralSchema, outcome), Date.now());
      // Someone else set it first: their value is the signal's.
      return set.outcome === "conflict" ? fromBinary(LiteralSchema, set.signal.value!) : outcome;
    } finally {
      if (timer) clearTimeout(timer);
      asking.abort();
      run.signal.removeEventListener("abort", stop);
    }
  }
  if (!store) {
    return run.fail({
      kind: "USER",
      code: "SignalNotGiven",
      recoverable: false,
      message: `${describeGate(node)} waits for a signal, which a workflow called directly cannot receive; run it with tsflyte run (which asks on the terminal or takes --signal ${c.signalId}=VALUE) or on a control plane`,
    });
  }
  for (let wait = firstPollMs; ; wait = Math.min(maxPollMs, wait * 2)) {
    const until = deadline === undefined ? Date.now() + wait : Math.min(deadline, Date.now() + wait);
    await waitUntil(run, until);
    const current = await store.getSignal(key);
    if (current?.value) return fromBinary(LiteralSchema, current.value);
    if (deadline !== undefined && Date.now() >= deadline) return "timeout";
  }
}

/** Resolves at `until` (ms since the epoch); throws the run's abort when the execution stops first. */
function waitUntil(run: GateRun, until: number): Promise<void> {
  if (run.signal.aborted) return Promise.reject(run.aborted());
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(run.aborted());
    };
    // setTimeout takes at most about 24.8 days; a longer wait wakes and waits again.
    const timer = setTimeout(() => {
      run.signal.removeEventListener("abort", onAbort);
      if (Date.now() < until) waitUntil(run, until).then(resolve, reject);
      else resolve();
    }, Math.min(Math.max(0, until - Date.now()), 2 ** 31 - 1));
    run.signal.addEventListener("abort", onAbort, { once: true });
  });
}

function formatMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join("");
}
