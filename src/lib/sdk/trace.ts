// Tracing a workflow body: calls inside it record nodes and return references instead of running anything.
// Never touches data: a body runs once per compile, on references only.
import { UserError, describeValue } from "../errors.js";
import type { AnyType } from "../types/types.js";
import { captureCallSite, definitionOf, type Definition, type Entity, type TaskDefinition, type WorkflowDefinition } from "./entity.js";
import type { Resources } from "./options.js";

const outputRefBrand = Symbol.for("tsflyte.OutputRef");
const nodeHandleBrand = Symbol.for("tsflyte.NodeHandle");
const tracerKey = Symbol.for("tsflyte.tracer");

/** The id Flyte gives the workflow's inputs. */
export const startNodeId = "start-node";

/** A reference to a workflow input (node `start-node`) or an output of a node in the trace. */
export class OutputRef {
  readonly [outputRefBrand] = true;
  constructor(
    readonly nodeId: string,
    readonly varName: string,
    readonly type: AnyType,
  ) {}

  /** Conditions for `conditional(...)`: compare this value with a constant or another reference. */
  eq(other: unknown): Condition {
    return comparison("eq", this, other);
  }
  ne(other: unknown): Condition {
    return comparison("ne", this, other);
  }
  gt(other: unknown): Condition {
    return comparison("gt", this, other);
  }
  gte(other: unknown): Condition {
    return comparison("gte", this, other);
  }
  lt(other: unknown): Condition {
    return comparison("lt", this, other);
  }
  lte(other: unknown): Condition {
    return comparison("lte", this, other);
  }
  isTrue(): Condition {
    return comparison("eq", this, true);
  }
  isFalse(): Condition {
    return comparison("eq", this, false);
  }
  isNone(): Condition {
    return comparison("eq", this, null);
  }

  /** Node overrides (flytekit's with_overrides) on the call that made this reference. */
  with(overrides: NodeOverrides): this {
    overrideNode(this.nodeId, overrides);
    return this;
  }
}

export type ComparisonOperator = "eq" | "ne" | "gt" | "gte" | "lt" | "lte";

const conditionBrand = Symbol.for("tsflyte.Condition");

/** A condition of a branch: a comparison, or two conditions joined with and/or. */
export class Condition {
  readonly [conditionBrand] = true;
  constructor(
    readonly expression:
      | { kind: "comparison"; operator: ComparisonOperator; left: unknown; right: unknown }
      | { kind: "conjunction"; operator: "and" | "or"; left: Condition; right: Condition },
    readonly site: Error,
  ) {}
  and(other: Condition): Condition {
    return new Condition({ kind: "conjunction", operator: "and", left: this, right: checkedCondition(other, "and") }, captureCallSite());
  }
  or(other: Condition): Condition {
    return new Condition({ kind: "conjunction", operator: "or", left: this, right: checkedCondition(other, "or") }, captureCallSite());
  }
}

export function isCondition(value: unknown): value is Condition {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[conditionBrand] === true;
}

function checkedCondition(value: unknown, where: string): Condition {
  if (!isCondition(value)) throw new UserError(`${where}(...) takes a condition such as x.gt(5), got ${describeValue(value)}`);
  return value;
}

function comparison(operator: ComparisonOperator, left: OutputRef, right: unknown): Condition {
  return new Condition({ kind: "comparison", operator, left, right }, captureCallSite());
}

export function isOutputRef(value: unknown): value is OutputRef {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[outputRefBrand] === true;
}

/** What a call of an entity without outputs gives back: the node, for ordering only. */
export interface NodeHandleRuntime {
  readonly nodeId: string;
}

export function nodeHandleOf(value: unknown): NodeHandleRuntime | undefined {
  const nodeId = typeof value === "object" && value !== null ? (value as Record<symbol, unknown>)[nodeHandleBrand] : undefined;
  return typeof nodeId === "string" ? { nodeId } : undefined;
}

/** The node behind a call's result: a reference to one of its outputs, or its handle. */
export function nodeIdOf(value: unknown): string | undefined {
  if (isOutputRef(value)) return value.nodeId === startNodeId ? undefined : value.nodeId;
  return nodeHandleOf(value)?.nodeId;
}

/** Settings one call in a workflow gives its node, over the task's own (flytekit's `with_overrides`). */
export interface NodeOverrides {
  /** The node's name in the graph and the console (NodeMetadata.name). */
  name?: string;
  retries?: number;
  /** "10m", "1h30m", ISO 8601 or milliseconds. */
  timeout?: string | number;
  requests?: Resources;
  limits?: Resources;
  /** Cache this node's results under this version, or `false` to not cache them. */
  cache?: { version: string; serialize?: boolean } | false;
  interruptible?: boolean;
}

/** How a map runs its items. */
export interface MapOptions {
  /** Items running at once; 0 is unbounded. Default: as many as the execution's parallelism allows. */
  concurrency?: number;
  /** The share of items that must succeed (0–1); below 1, a failed item's outputs are absent (none). */
  minSuccessRatio?: number;
  /** The number of items that must succeed; below the item count, a failed item's outputs are absent. */
  minSuccesses?: number;
}

interface TracedBase {
  id: string;
  /** Where the user's code made the node. */
  site: Error;
  /** Nodes this one must follow without reading their outputs (`after`). */
  after: Set<string>;
  overrides?: NodeOverrides;
  overrideSite?: Error;
}

/** A call of a task, subworkflow or launch plan. */
export interface TracedCall extends TracedBase {
  kind: "call";
  entity: Entity;
  definition: Definition;
  /** The inputs exactly as the body passed them: references, constants, or lists and maps of both. */
  args: Record<string, unknown>;
}

/** A map of a task, subworkflow or launch plan over list inputs (Flyte's ArrayNode). */
export interface TracedMap extends TracedBase {
  kind: "map";
  entity: Entity;
  definition: Definition;
  args: Record<string, unknown>;
  options: MapOptions;
  /** The map's outputs: lists of the entity's outputs (of optional elements when items may fail). */
  outputs: Record<string, AnyType>;
}

export interface TracedCase {
  condition: Condition;
  node?: TracedNode;
  site: Error;
}

/** A conditional (Flyte's BranchNode): cases in order, then an else node or an else failure. */
export interface TracedBranch extends TracedBase {
  kind: "branch";
  name: string;
  cases: TracedCase[];
  otherwise?: TracedNode;
  /** `.else().fail(message)`. */
  error?: string;
  /** Set once `.else()` is given its node or its failure: a branch without an else is a compile error. */
  complete: boolean;
  outputs: Record<string, AnyType>;
  singleOutput: boolean;
}

/** A gate (Flyte's GateNode): waits for an approval, a typed input or a length of time (see gates.ts). */
export interface TracedGate extends TracedBase {
  kind: "gate";
  gate: "approve" | "signal" | "sleep";
  /** The signal id (approve, signal), or "sleep-gate"; also the node's name. */
  name: string;
  /** approve: the reference whose value it passes on once approved. */
  value?: OutputRef;
  /** signal: the type of the value it waits for. */
  type?: AnyType;
  /** sleep: how long. */
  duration?: string | number;
  timeout?: string | number;
  outputs: Record<string, AnyType>;
  singleOutput: boolean;
}

export type TracedNode = TracedCall | TracedMap | TracedBranch | TracedGate;

export interface TracedWorkflow {
  inputs: Record<string, OutputRef>;
  /** The top-level nodes in call order; a branch holds its cases' nodes. */
  nodes: TracedNode[];
  /** What the body returned. */
  result: unknown;
  /** Every reference this trace handed out that this workflow's nodes may read. */
  refs: Set<OutputRef>;
  /** References to outputs of a branch's case nodes: only the branch's own outputs may be read outside it. */
  caseRefs: Set<OutputRef>;
}

/** Names entities in messages, e.g. the compiler's resolved names. */
export type EntityLabel = (entity: Entity) => string;

// Properties that JS machinery probes on any object; they must not count as a missing output.
const probedProperties = new Set(["then", "toJSON", "constructor", "inspect", "nodeType", "$$typeof", "asymmetricMatch"]);

/** The entity, definition and outputs of what a node runs, for every node kind. */
export function outputsOfNode(node: TracedNode): { outputs: Record<string, AnyType>; single: boolean } {
  if (node.kind === "call") return { outputs: node.definition.outputs, single: node.definition.singleOutput };
  if (node.kind === "map") return { outputs: node.outputs, single: node.definition.singleOutput };
  return { outputs: node.outputs, single: node.singleOutput };
}

/** A node in messages: its entity, or what kind of control-flow node it is. */
export function describeTracedNode(node: TracedNode, label: EntityLabel): string {
  if (node.kind === "branch") return `conditional "${node.name}"`;
  if (node.kind === "gate") return node.gate === "sleep" ? "sleep" : `${node.gate === "approve" ? "approve" : "waitForInput"} "${node.name}"`;
  return node.kind === "map" ? `map of ${label(node.entity)}` : label(node.entity);
}

/** Every entity a traced workflow calls, in branches and maps too, in call order (repeats included). */
export function calledEntities(nodes: readonly TracedNode[]): Entity[] {
  const found: Entity[] = [];
  const visit = (node: TracedNode | undefined): void => {
    if (!node) return;
    if (node.kind === "branch") {
      for (const c of node.cases) visit(c.node);
      visit(node.otherwise);
    } else if (node.kind !== "gate") found.push(node.entity);
  };
  for (const node of nodes) visit(node);
  return found;
}

/** The definitions of what a traced workflow calls (see calledEntities). */
export function calledDefinitions(nodes: readonly TracedNode[]): Definition[] {
  return calledEntities(nodes).map((entity) => definitionOf(entity)!);
}

interface OpenCase {
  branch: TracedBranch;
  /** The case's index; `cases.length` for the else. */
  index: number;
}

class Tracer {
  readonly nodes: TracedNode[] = [];
  readonly refs = new Set<OutputRef>();
  readonly caseRefs = new Set<OutputRef>();
  readonly byId = new Map<string, TracedNode>();
  /** Cases whose node is being made: a call made now is that case's node. */
  readonly open: OpenCase[] = [];
  constructor(readonly label: EntityLabel) {}

  call(entity: Entity, args: unknown): unknown {
    const definition = definitionOf(entity)!;
    const site = captureCallSite();
    const node: TracedCall = { kind: "call", id: "", entity, definition, args: this.argsObject(entity, args), site, after: new Set() };
    this.place(node);
    return this.result(node.id, definition.outputs, definition.singleOutput, this.label(entity));
  }

  map(entity: Entity, options: MapOptions, args: unknown, outputs: Record<string, AnyType>): unknown {
    const definition = definitionOf(entity)!;
    const site = captureCallSite();
    const node: TracedMap = { kind: "map", id: "", entity, definition, args: this.argsObject(entity, args), options, outputs, site, after: new Set() };
    this.place(node);
    return this.result(node.id, outputs, definition.singleOutput, `map of ${this.label(entity)}`);
  }

  /** Gives a node its id and puts it where it belongs: the open case, or the workflow's top level. */
  place(node: TracedNode): void {
    const open = this.open.at(-1);
    if (open) {
      const { branch, index } = open;
      const taken = index < branch.cases.length ? branch.cases[index].node : branch.otherwise;
      if (taken) {
        throw new UserError(
          `a case of conditional "${branch.name}" runs one node; ${taken.id} is already this case's node. Call several tasks in a workflow and call that workflow in the case`,
        );
      }
      node.id = `${branch.id}-n${index}`;
      if (index < branch.cases.length) branch.cases[index].node = node;
      else branch.otherwise = node;
    } else {
      node.id = `n${this.nodes.length}`;
      this.nodes.push(node);
    }
    this.byId.set(node.id, node);
  }

  /** The references a node's caller gets: one for a single output, else a handle with a reference per output. */
  result(id: string, outputs: Record<string, AnyType>, single: boolean, label: string): unknown {
    const names = Object.keys(outputs);
    const inCase = this.open.length > 0;
    const ref = (name: string) => {
      const made = new OutputRef(id, name, outputs[name]);
      (inCase ? this.caseRefs : this.refs).add(made);
      return made;
    };
    if (single) return ref(names[0]);
    // The node id hides behind a symbol so that the handle's own keys are exactly the output names.
    const handle: Record<string | symbol, unknown> = { [nodeHandleBrand]: id };
    for (const name of names) handle[name] = ref(name);
    const withOverrides = (overrides: NodeOverrides) => {
      overrideNode(id, overrides);
      return proxy;
    };
    const proxy: unknown = new Proxy(Object.freeze(handle), {
      get(target, prop, receiver) {
        if (prop === "with" && !("with" in target)) return withOverrides;
        if (typeof prop === "string" && !(prop in target) && !probedProperties.has(prop)) {
          throw new UserError(
            `node ${id} (${label}) has no output "${prop}"; ${names.length ? `its outputs are ${names.join(", ")}` : "it has no outputs"}`,
          );
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    return proxy;
  }

  private argsObject(entity: Entity, args: unknown): Record<string, unknown> {
    if (args !== undefined && (typeof args !== "object" || args === null || Array.isArray(args) || isOutputRef(args))) {
      throw new UserError(`${this.label(entity)} takes its inputs as one object, e.g. ${this.label(entity)}({ x: 1 }); got ${typeof args}`);
    }
    return (args ?? {}) as Record<string, unknown>;
  }
}

function overrideNode(nodeId: string, overrides: NodeOverrides): void {
  const tracer = activeTracer();
  const node = tracer?.byId.get(nodeId);
  if (!node) throw new UserError(".with(...) overrides a call made in the workflow body being built; call it right after the call, e.g. t({ x }).with({ retries: 3 })");
  if (typeof overrides !== "object" || overrides === null) throw new UserError(`.with(...) takes an object such as { retries: 3 }, got ${describeValue(overrides)}`);
  node.overrides = { ...node.overrides, ...overrides };
  node.overrideSite = captureCallSite();
}

/** The tracer of the workflow body running now, if any; kept on globalThis so two copies of tsflyte share it. */
export function activeTracer(): Tracer | undefined {
  return (globalThis as Record<symbol, Tracer | undefined>)[tracerKey];
}

export type { Tracer };

/** Runs a workflow body on references and returns the nodes it called, in call order. */
export function traceWorkflow(definition: WorkflowDefinition, label: EntityLabel): TracedWorkflow {
  const tracer = new Tracer(label);
  const inputs: Record<string, OutputRef> = {};
  for (const [name, type] of Object.entries(definition.inputs)) {
    inputs[name] = new OutputRef(startNodeId, name, type);
    tracer.refs.add(inputs[name]);
  }
  return traceWith(tracer, () => definition.body(Object.freeze({ ...inputs })), inputs, "a workflow body must not be async: it runs once, on references, to build the graph");
}

/**
 * Runs a dynamic workflow's body on its inputs' values (it runs when its task runs): the calls it makes are the nodes
 * of the workflow it builds. Its references are the nodes' outputs; its inputs are plain values.
 */
export function traceDynamic(definition: TaskDefinition, values: Record<string, unknown>, label: EntityLabel): TracedWorkflow {
  return traceWith(
    new Tracer(label),
    () => definition.fn(Object.freeze({ ...values }), undefined),
    {},
    "a dynamic workflow's body must not be async: it builds the workflow from its inputs, and the tasks it calls run afterwards",
  );
}

function traceWith(tracer: Tracer, body: () => unknown, inputs: Record<string, OutputRef>, asyncMessage: string): TracedWorkflow {
  const scope = globalThis as Record<symbol, Tracer | undefined>;
  const outer = scope[tracerKey];
  scope[tracerKey] = tracer;
  try {
    const result = body();
    if (result instanceof Promise) {
      result.catch(() => undefined);
      throw new UserError(asyncMessage);
    }
    return { inputs, nodes: tracer.nodes, result, refs: tracer.refs, caseRefs: tracer.caseRefs };
  } finally {
    scope[tracerKey] = outer;
  }
}
