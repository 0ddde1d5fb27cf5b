// Control flow inside a workflow body: `conditional` (Flyte's BranchNode), `map` (ArrayNode) and `after` (order without
// data). Like calls, they only record nodes on the trace; they never evaluate a condition or touch data.
import { UserError, describeValue } from "../errors.js";
import { t, type AnyType, type ListType, type OptionalType } from "../types/types.js";
import { captureCallSite, definitionOf, type Entity } from "./entity.js";
import { task, type Task, type Workflow, type LaunchPlan } from "./declare.js";
import type { Bindable, CallResult, InputsDecl, InputValues, IsOptionalInput, OutputsDecl, WorkflowReturn } from "./interface.js";
import type { TaskOptions } from "./options.js";
import type { TaskDefinition } from "./entity.js";
import {
  activeTracer,
  isCondition,
  nodeIdOf,
  outputsOfNode,
  type Condition,
  type MapOptions,
  type TracedBranch,
  type Tracer,
} from "./trace.js";

function tracerFor(what: string): Tracer {
  const tracer = activeTracer();
  if (!tracer) throw new UserError(`${what} can only be used inside a workflow body, where it builds the graph`);
  return tracer;
}

/** What `.then(...)` of a case takes: the result of the one call (or map, or conditional) that case runs. */
export type CaseResult = object;

export interface Conditional {
  /** The first case: runs when `condition` holds. */
  if(condition: Condition): { then<R extends CaseResult>(result: R): Cases<R> };
}

export interface Cases<R> {
  /** Another case, tried when the ones before it did not hold. It must give the same outputs as the first. */
  elif(condition: Condition): { then(result: R): Cases<R> };
  /** What runs when no case held; a conditional must end with one. */
  else(): {
    /** Runs this node; the conditional's result is the chosen case's outputs. */
    then(result: R): R;
    /** Fails the workflow with this message. */
    fail(message: string): R;
  };
}

/**
 * A conditional (Flyte's BranchNode): cases tried in order, the first whose condition holds runs, the others are
 * skipped. Conditions compare primitive references with constants or other references:
 * `conditional("size").if(n.gt(5).and(n.lte(10))).then(big({ n })).else().then(small({ n }))`.
 */
export function conditional(name: string): Conditional {
  const tracer = tracerFor("conditional(...)");
  if (typeof name !== "string" || !/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw new UserError(`conditional(name): name must be letters, digits, "_", "." or "-", e.g. conditional("size"), got ${describeValue(name)}`);
  }
  const branch: TracedBranch = {
    kind: "branch",
    id: "",
    name,
    cases: [],
    complete: false,
    outputs: {},
    singleOutput: false,
    site: captureCallSite(),
    after: new Set(),
  };
  tracer.place(branch);
  const openCase = (condition: unknown, what: string) => {
    if (!isCondition(condition)) {
      throw new UserError(`conditional "${name}": ${what}(...) takes a condition such as x.gt(5) or flag.isTrue(), got ${describeValue(condition)}`);
    }
    branch.cases.push({ condition, site: captureCallSite() });
    tracer.open.push({ branch, index: branch.cases.length - 1 });
  };
  const close = (result: unknown, what: string) => {
    const open = tracer.open.at(-1);
    if (!open || open.branch !== branch) throw new UserError(`conditional "${name}": .${what}(...) is called for a case that is not open`);
    tracer.open.pop();
    const node = open.index < branch.cases.length ? branch.cases[open.index].node : branch.otherwise;
    if (!node || nodeIdOf(result) !== node.id) {
      throw new UserError(
        `conditional "${name}": .then(...) takes the result of the one call made for its case, e.g. .then(square({ n })); got ${node ? "something else" : "no call"}`,
      );
    }
  };
  const finish = (): unknown => {
    branch.complete = true;
    const first = branch.cases[0]?.node;
    const { outputs, single } = first ? outputsOfNode(first) : { outputs: {}, single: false };
    branch.outputs = outputs;
    branch.singleOutput = single;
    return tracer.result(branch.id, outputs, single, `conditional "${name}"`);
  };
  const cases: Cases<unknown> = {
    elif(condition) {
      openCase(condition, "elif");
      return {
        then(result) {
          close(result, "then");
          return cases;
        },
      };
    },
    else() {
      tracer.open.push({ branch, index: branch.cases.length });
      return {
        then(result) {
          close(result, "then");
          return finish();
        },
        fail(message) {
          const open = tracer.open.at(-1);
          if (open?.branch === branch) tracer.open.pop();
          if (branch.otherwise) throw new UserError(`conditional "${name}": .else() made a call; use .then(...) with it, or .fail(...) without one`);
          if (typeof message !== "string" || message === "") throw new UserError(`conditional "${name}": .fail(message) needs a message saying why`);
          branch.error = message;
          return finish();
        },
      };
    },
  };
  return {
    if(condition) {
      if (branch.cases.length) throw new UserError(`conditional "${name}": .if(...) comes once, first; add cases with .elif(...)`);
      openCase(condition, "if");
      return {
        then(result) {
          close(result, "then");
          return cases as Cases<never>;
        },
      };
    },
  };
}

type WithDefault<X> = X extends { readonly __hasDefault: true } ? true : false;
type MapRequired<I> = { [K in keyof I]-?: IsOptionalInput<I[K]> extends true ? never : WithDefault<I[K]> extends true ? never : K }[keyof I];

/** A map's inputs: each one a list to map over, or one value every item gets. */
export type MapInputs<I> = { [K in MapRequired<I>]: MapInput<I[K]> } & { [K in Exclude<keyof I, MapRequired<I>>]?: MapInput<I[K]> };
type MapInput<X> = X extends AnyType ? Bindable<ListType<X>> | Bindable<X> : never;

type Element<X, Partial> = Partial extends true ? OptionalType<X & AnyType> : X;
/** A map's outputs: lists of the entity's outputs, of optional elements when items may fail. */
export type MapOutputs<O, Partial> = O extends AnyType
  ? ListType<Element<O, Partial>>
  : O extends Record<string, AnyType>
    ? { [K in keyof O]: ListType<Element<O[K], Partial>> }
    : undefined;

type MayFail<Opt> = Opt extends { minSuccessRatio: number } ? true : Opt extends { minSuccesses: number } ? true : false;

type Mappable<I extends InputsDecl, O extends OutputsDecl> = Task<I, O> | Workflow<I, O> | LaunchPlan<I, O>;

/**
 * A map over lists (Flyte's ArrayNode): `map(square, { concurrency: 10 })({ n: numbers, scale: 2 })` runs `square` once
 * per element of `numbers`, each with `scale` 2, and gives a list of the results in order. Items run `concurrency` at a
 * time; with `minSuccessRatio` or `minSuccesses`, some may fail and their elements are none.
 */
export function map<I extends InputsDecl, O extends OutputsDecl, const Opt extends MapOptions = {}>(
  entity: Mappable<I, O>,
  options?: Opt,
): (inputs: MapInputs<I>) => CallResult<MapOutputs<O, MayFail<Opt>>> {
  const definition = definitionOf(entity);
  if (!definition) throw new UserError(`map(entity): entity must be a task, workflow or launch plan, got ${describeValue(entity)}`);
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw new UserError(`map(entity, options): options must be an object such as { concurrency: 10 }, got ${describeValue(options)}`);
  }
  const opts: MapOptions = { ...(options ?? {}) };
  const mayFail = opts.minSuccessRatio !== undefined || opts.minSuccesses !== undefined;
  const outputs: Record<string, AnyType> = {};
  for (const [name, type] of Object.entries(definition.outputs)) outputs[name] = t.list(mayFail ? t.optional(type) : type);
  return ((inputs: unknown) => tracerFor("map(...)(...)").map(entity as unknown as Entity, opts, inputs, outputs)) as never;
}

/**
 * Orders nodes without data: `after(load, migrate)` runs `load` once `migrate` is done (Flyte's upstream node ids).
 * Returns `node`, so it can wrap a call: `const b = after(store({ x }), cleanup)`.
 */
export function after<R extends object>(node: R, ...predecessors: object[]): R {
  const tracer = tracerFor("after(...)");
  const id = nodeIdOf(node);
  const traced = id === undefined ? undefined : tracer.byId.get(id);
  if (!traced) throw new UserError(`after(node, ...): node must be the result of a call in this workflow, got ${describeValue(node)}`);
  if (predecessors.length === 0) throw new UserError(`after(node, ...): name the nodes ${id} runs after, e.g. after(load, migrate)`);
  for (const p of predecessors) {
    const before = nodeIdOf(p);
    if (before === undefined || !tracer.byId.has(before)) throw new UserError(`after(${id}, ...): each node it runs after must be the result of a call in this workflow, got ${describeValue(p)}`);
    if (before === id) throw new UserError(`after(${id}, ...): a node cannot run after itself`);
    traced.after.add(before);
  }
  return node;
}

/**
 * A dynamic workflow (Flyte's @dynamic): a task whose body runs when the task runs, sees its inputs' values, and builds
 * a workflow from them by calling tasks, maps, conditionals and other dynamics — loops included. What it returns
 * (references or values) are its outputs. The workflow it builds runs as the node's children.
 */
export function dynamic<I extends InputsDecl = {}, O extends OutputsDecl = undefined>(
  options: TaskOptions<I, O>,
  body: (inputs: InputValues<I>) => WorkflowReturn<O>,
): Task<I, O> {
  if (typeof body !== "function") throw new UserError(`dynamic(options, body): body must be a function, got ${describeValue(body)}`);
  const declared = task(options, body as never);
  const definition = definitionOf(declared) as TaskDefinition;
  definition.dynamic = true;
  return declared;
}
