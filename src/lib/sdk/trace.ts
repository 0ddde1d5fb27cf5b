// Tracing a workflow body: calls inside it record nodes and return references instead of running anything.
// Never touches data: a body runs once per compile, on references only.
import { UserError } from "../errors.js";
import type { AnyType } from "../types/types.js";
import { captureCallSite, definitionOf, type Definition, type Entity, type WorkflowDefinition } from "./entity.js";

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

export interface TracedNode {
  id: string;
  entity: Entity;
  definition: Definition;
  /** The inputs exactly as the body passed them: references, constants, or lists and maps of both. */
  args: Record<string, unknown>;
  site: Error;
}

export interface TracedWorkflow {
  inputs: Record<string, OutputRef>;
  nodes: TracedNode[];
  /** What the body returned. */
  result: unknown;
  /** Every reference this trace handed out; a reference from elsewhere cannot be bound here. */
  refs: Set<OutputRef>;
}

/** Names entities in messages, e.g. the compiler's resolved names. */
export type EntityLabel = (entity: Entity) => string;

// Properties that JS machinery probes on any object; they must not count as a missing output.
const probedProperties = new Set(["then", "toJSON", "constructor", "inspect", "nodeType", "$$typeof", "asymmetricMatch"]);

class Tracer {
  readonly nodes: TracedNode[] = [];
  readonly refs = new Set<OutputRef>();
  constructor(private readonly label: EntityLabel) {}

  call(entity: Entity, args: unknown): unknown {
    const definition = definitionOf(entity)!;
    const site = captureCallSite();
    const id = `n${this.nodes.length}`;
    if (args !== undefined && (typeof args !== "object" || args === null || Array.isArray(args) || isOutputRef(args))) {
      throw new UserError(`${this.label(entity)} takes its inputs as one object, e.g. ${this.label(entity)}({ x: 1 }); got ${typeof args}`);
    }
    this.nodes.push({ id, entity, definition, args: (args ?? {}) as Record<string, unknown>, site });
    const names = Object.keys(definition.outputs);
    const ref = (name: string) => {
      const made = new OutputRef(id, name, definition.outputs[name]);
      this.refs.add(made);
      return made;
    };
    if (definition.singleOutput) return ref(names[0]);
    // The node id hides behind a symbol so that the handle's own keys are exactly the output names.
    const handle: Record<string | symbol, unknown> = { [nodeHandleBrand]: id };
    for (const name of names) handle[name] = ref(name);
    const label = this.label(entity);
    return new Proxy(Object.freeze(handle), {
      get(target, prop, receiver) {
        if (typeof prop === "string" && !(prop in target) && !probedProperties.has(prop)) {
          throw new UserError(
            `node ${id} (${label}) has no output "${prop}"; ${names.length ? `its outputs are ${names.join(", ")}` : "it has no outputs"}`,
          );
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
  }
}

/** The tracer of the workflow body running now, if any; kept on globalThis so two copies of tsflyte share it. */
export function activeTracer(): Tracer | undefined {
  return (globalThis as Record<symbol, Tracer | undefined>)[tracerKey];
}

/** Runs a workflow body on references and returns the nodes it called, in call order. */
export function traceWorkflow(definition: WorkflowDefinition, label: EntityLabel): TracedWorkflow {
  const tracer = new Tracer(label);
  const inputs: Record<string, OutputRef> = {};
  for (const [name, type] of Object.entries(definition.inputs)) {
    inputs[name] = new OutputRef(startNodeId, name, type);
    tracer.refs.add(inputs[name]);
  }
  const scope = globalThis as Record<symbol, Tracer | undefined>;
  const outer = scope[tracerKey];
  scope[tracerKey] = tracer;
  try {
    const result = definition.body(Object.freeze({ ...inputs }));
    if (result instanceof Promise) {
      throw new UserError("a workflow body must not be async: it runs once, on references, to build the graph");
    }
    return { inputs, nodes: tracer.nodes, result, refs: tracer.refs };
  } finally {
    scope[tracerKey] = outer;
  }
}
