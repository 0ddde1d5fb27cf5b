// Gates inside a workflow body (Flyte's GateNode): `approve` a value, `waitForInput` of a typed value, `sleep`. Like
// calls, they only record nodes on the trace; they never wait, ask or read a signal themselves.
import { UserError, describeValue } from "../errors.js";
import { isFlyteType, type AnyType } from "../types/types.js";
import { captureCallSite } from "./entity.js";
import type { NodeHandle, Ref, RefOf } from "./interface.js";
import { activeTracer, isOutputRef, startNodeId, type TracedGate, type Tracer } from "./trace.js";

/** How long a gate waits before its node fails TIMED_OUT: "30m", "1h", ISO 8601 or milliseconds. Unset: until answered. */
export interface GateOptions {
  timeout?: string | number;
}

export interface WaitForInputOptions<X extends AnyType> extends GateOptions {
  /** The type of the value, e.g. t.int(); a value of another type is refused when it is given. */
  type: X;
}

/** The node name flytekit gives every sleep gate. */
export const sleepGateName = "sleep-gate";
/** The output a signal gate gives its value on (flytekit's `o0`). */
export const signalOutputName = "o0";

const signalIdRe = /^[A-Za-z0-9_.-]+$/;

function tracerFor(what: string): Tracer {
  const tracer = activeTracer();
  if (!tracer) throw new UserError(`${what} can only be used inside a workflow body, where it builds the graph`);
  return tracer;
}

function checkedName(name: unknown, what: string): string {
  if (typeof name !== "string" || !signalIdRe.test(name)) {
    throw new UserError(`${what}: the signal name must be letters, digits, "_", "." or "-", e.g. "deploy-ok", got ${describeValue(name)}`);
  }
  return name;
}

function checkedOptions(options: unknown, what: string): GateOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new UserError(`${what}: options must be an object such as { timeout: "1h" }, got ${describeValue(options)}`);
  }
  return options as GateOptions;
}

function place(tracer: Tracer, gate: Omit<TracedGate, "id" | "site" | "after" | "kind">, label: string): unknown {
  const node: TracedGate = { kind: "gate", id: "", site: captureCallSite(), after: new Set(), ...gate };
  tracer.place(node);
  return tracer.result(node.id, node.outputs, node.singleOutput, label);
}

/**
 * Waits until someone approves (Flyte's ApproveCondition), then passes `value` on unchanged: `deploy({ model:
 * approve(model, "deploy-ok", { timeout: "1h" }) })`. A rejection fails the node. Approve with `tsflyte approve EXEC NAME`.
 */
export function approve<T, K extends string>(value: Ref<T, K>, name: string, options?: GateOptions): Ref<T, K> {
  const what = `approve(value, "${String(name)}")`;
  const tracer = tracerFor("approve(...)");
  if (!isOutputRef(value)) {
    throw new UserError(`${what}: value must be a workflow input or an output of a call in this workflow, got ${describeValue(value)}; a call without outputs cannot be approved`);
  }
  const opts = checkedOptions(options, what);
  const gateName = checkedName(name, what);
  const outputs = { [value.varName]: value.type };
  const label = `approve "${gateName}"`;
  const source = value.nodeId === startNodeId ? `workflow input "${value.varName}"` : `node ${value.nodeId}`;
  if (value.nodeId !== startNodeId && !tracer.byId.has(value.nodeId)) throw new UserError(`${what}: the value comes from ${source}, which is not a call in this workflow`);
  return place(tracer, { gate: "approve", name: gateName, value, timeout: opts.timeout, outputs, singleOutput: true }, label) as Ref<T, K>;
}

/**
 * Waits for a value of `type` given from outside (Flyte's SignalCondition), and gives it as a reference:
 * `const n = waitForInput("batch-size", { type: t.int(), timeout: "1h" })`. Give it with `tsflyte signal EXEC NAME VALUE`.
 */
export function waitForInput<X extends AnyType>(name: string, options: WaitForInputOptions<X>): RefOf<X> {
  const what = `waitForInput("${String(name)}")`;
  const tracer = tracerFor("waitForInput(...)");
  const opts = checkedOptions(options, what) as Partial<WaitForInputOptions<X>>;
  if (!isFlyteType(opts.type)) throw new UserError(`${what}: options.type must be a type such as t.int(), got ${describeValue(opts.type)}`);
  const gateName = checkedName(name, what);
  const outputs = { [signalOutputName]: opts.type };
  return place(tracer, { gate: "signal", name: gateName, type: opts.type, timeout: opts.timeout, outputs, singleOutput: true }, `waitForInput "${gateName}"`) as RefOf<X>;
}

/** Waits this long (Flyte's SleepCondition): "10m", "1h30m", ISO 8601 or milliseconds. Order other nodes with `after(next, sleep("10m"))`. */
export function sleep(duration: string | number): NodeHandle {
  const tracer = tracerFor("sleep(...)");
  if (typeof duration !== "string" && typeof duration !== "number") {
    throw new UserError(`sleep(duration): duration must be a string such as "10m" or milliseconds, got ${describeValue(duration)}`);
  }
  return place(tracer, { gate: "sleep", name: sleepGateName, duration, outputs: {}, singleOutput: false }, "sleep") as NodeHandle;
}
