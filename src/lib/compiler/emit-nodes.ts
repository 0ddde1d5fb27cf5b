// A traced workflow's nodes as Flyte IR Nodes: calls (task, subworkflow, launch plan), maps (ArrayNode), conditionals
// (BranchNode) and the failure node, with node overrides. Shared by the compiler and local runs; never runs anything.
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import {
  BooleanExpressionSchema,
  ComparisonExpression_Operator,
  ConjunctionExpression_LogicalOperator,
  type BooleanExpression,
  type Operand,
} from "../idl/gen/flyteidl/core/condition_pb.js";
import type { Identifier } from "../idl/gen/flyteidl/core/identifier_pb.js";
import type { Binding, BindingData, Literal } from "../idl/gen/flyteidl/core/literals_pb.js";
import { SimpleType, type LiteralType } from "../idl/gen/flyteidl/core/types_pb.js";
import { NodeMetadataSchema, NodeSchema, type Node, type NodeMetadata } from "../idl/gen/flyteidl/core/workflow_pb.js";
import { ResourcesSchema, type Resources } from "../idl/gen/flyteidl/core/tasks_pb.js";
import type { Entity, Definition } from "../sdk/entity.js";
import {
  describeTracedNode,
  isOutputRef,
  outputsOfNode,
  startNodeId,
  type Condition,
  type NodeOverrides,
  type OutputRef,
  type TracedBranch,
  type TracedCall,
  type TracedGate,
  type TracedMap,
  type TracedNode,
  type TracedWorkflow,
} from "../sdk/trace.js";
import { acceptsNone, t, type AnyType } from "../types/types.js";
import { describeLiteralType, isCastable } from "../types/compat.js";
import { parseDuration } from "../types/duration.js";
import { UserError, describeValue } from "../errors.js";
import { BindingProblem, bindValue, type BindingScope } from "./bindings.js";
import { resourceEntries } from "./emit-task.js";
import { checkSignalTypes, emitGate } from "./emit-gate.js";

export interface NodeEmitContext {
  /** The registered id of a called entity; undefined when it cannot be registered (reported by the caller). */
  idOf(entity: Entity, definition: Definition, site: Error, where: string): Identifier | undefined;
  /** A readable name for an entity in messages. */
  label(entity: Entity): string;
  /** The node's name in the graph (NodeMetadata.name) when the call does not give one. */
  nodeName(entity: Entity, definition: Definition): string;
  problem(message: string, site?: Error): void;
  traced: TracedWorkflow;
}

/** The id flytekit gives a workflow's failure node. */
export const failureNodeId = "fn0";
/** The input on which a failure node receives the workflow's error. */
export const failureErrorInput = "err";

/** Every top-level node of the trace as IR; problems go to `ctx.problem` and leave their node out. */
export function emitNodes(ctx: NodeEmitContext): Node[] {
  const nodes: Node[] = [];
  const labels = new Map<string, string>();
  const gates: TracedGate[] = [];
  const visit = (node: TracedNode | undefined): void => {
    if (!node) return;
    labels.set(node.id, describeTracedNode(node, ctx.label));
    if (node.kind === "gate") gates.push(node);
    if (node.kind === "branch") {
      for (const c of node.cases) visit(c.node);
      visit(node.otherwise);
    }
  };
  for (const node of ctx.traced.nodes) visit(node);
  checkSignalTypes(gates, (m, site) => ctx.problem(m, site));
  const emitter = new NodeEmitter(ctx, labels);
  for (const node of ctx.traced.nodes) {
    const emitted = emitter.node(node);
    if (emitted) nodes.push(emitted);
  }
  return nodes;
}

/** The failure node of `workflow({ onFailure })`: its inputs bound to the workflow's inputs by name, `err` left to the engine. */
export function emitFailureNode(ctx: NodeEmitContext, entity: Entity, definition: Definition, workflowInputs: Record<string, AnyType>, site: Error): Node | undefined {
  const id = ctx.idOf(entity, definition, site, `onFailure (${ctx.label(entity)})`);
  if (!id) return undefined;
  if (definition.kind === "launchPlan") {
    ctx.problem(`onFailure runs a task or a workflow, not a launch plan; pass the launch plan's workflow`, site);
    return undefined;
  }
  const inputs: Binding[] = [];
  let ok = true;
  for (const [name, type] of Object.entries(definition.inputs)) {
    const lt = type.literalType();
    if (name === failureErrorInput && lt.type.case === "simple" && lt.type.value === SimpleType.ERROR) continue;
    const own = workflowInputs[name];
    if (own) {
      inputs.push(promiseBinding(name, startNodeId, name));
      if (!isCastable(own.literalType(), lt)) {
        ctx.problem(`onFailure ${ctx.label(entity)} takes "${name}" as ${type.name}, but the workflow's input "${name}" is ${own.name}`, site);
        ok = false;
      }
    } else if (!type.hasDefault && !acceptsNone(type)) {
      ctx.problem(
        `onFailure ${ctx.label(entity)} needs input "${name}" (${type.name}), which the workflow does not have; a failure node gets the workflow's inputs by name, and the error as ${failureErrorInput}: t.error()`,
        site,
      );
      ok = false;
    }
  }
  if (!ok) return undefined;
  return create(NodeSchema, {
    id: failureNodeId,
    metadata: { name: ctx.nodeName(entity, definition) },
    inputs,
    target: targetOf(definition, id),
  });
}

function promiseBinding(name: string, nodeId: string, variable: string): Binding {
  return { $typeName: "flyteidl.core.Binding", var: name, binding: { $typeName: "flyteidl.core.BindingData", value: { case: "promise", value: { $typeName: "flyteidl.core.OutputReference", nodeId, var: variable, attrPath: [] } } } };
}

function targetOf(definition: Definition, id: Identifier): Node["target"] {
  if (definition.kind === "task") return { case: "taskNode", value: { $typeName: "flyteidl.core.TaskNode", reference: { case: "referenceId", value: id } } };
  if (definition.kind === "workflow") return { case: "workflowNode", value: { $typeName: "flyteidl.core.WorkflowNode", reference: { case: "subWorkflowRef", value: id } } };
  return { case: "workflowNode", value: { $typeName: "flyteidl.core.WorkflowNode", reference: { case: "launchplanRef", value: id } } };
}

const comparisonOperators = {
  eq: ComparisonExpression_Operator.EQ,
  ne: ComparisonExpression_Operator.NEQ,
  gt: ComparisonExpression_Operator.GT,
  gte: ComparisonExpression_Operator.GTE,
  lt: ComparisonExpression_Operator.LT,
  lte: ComparisonExpression_Operator.LTE,
} as const;

const comparableSimple = new Set([SimpleType.INTEGER, SimpleType.FLOAT, SimpleType.STRING, SimpleType.BOOLEAN, SimpleType.DATETIME, SimpleType.DURATION]);

class NodeEmitter {
  constructor(
    private readonly ctx: NodeEmitContext,
    private readonly labels: Map<string, string>,
  ) {}

  private scope(upstream: Set<string>): BindingScope {
    const { traced } = this.ctx;
    return {
      describeRef: (ref) => (ref.nodeId === startNodeId ? `workflow input "${ref.varName}"` : `output "${ref.varName}" of node ${this.describeNode(ref.nodeId)}`),
      describeNode: (id) => this.describeNode(id),
      ownsRef: (ref) => traced.refs.has(ref),
      notOwned: (ref) =>
        traced.caseRefs.has(ref)
          ? `is bound to output "${ref.varName}" of node ${this.describeNode(ref.nodeId)}, which runs inside a conditional; read the conditional's result instead`
          : undefined,
      upstream,
    };
  }

  private describeNode(id: string): string {
    const label = this.labels.get(id);
    return label ? `${id} (${label})` : id;
  }

  node(node: TracedNode): Node | undefined {
    if (node.kind === "branch") return this.branch(node);
    if (node.kind === "gate") {
      const upstream = new Set<string>();
      const gate = emitGate(node, this.scope(upstream), (m, site) => this.ctx.problem(m, site), this.labels.get(node.id) ?? node.name);
      return gate && this.made(node, gate.metadata, gate.inputs, upstream, gate.target);
    }
    if (node.overrides && node.kind === "call" && node.definition.kind !== "task") {
      this.ctx.problem(`node ${this.describeNode(node.id)}: .with(...) overrides apply to task calls and maps of tasks, not to a ${node.definition.kind === "launchPlan" ? "launch plan" : node.definition.kind}`, node.overrideSite ?? node.site);
      return undefined;
    }
    return node.kind === "map" ? this.map(node) : this.call(node);
  }

  private where(node: TracedCall | TracedMap): string {
    return `node ${this.describeNode(node.id)}`;
  }

  /** The bindings of a call's inputs, with the upstream nodes they read. */
  private callInputs(node: TracedCall, upstream: Set<string>): Binding[] | undefined {
    const { definition } = node;
    const where = this.where(node);
    const inputs: Binding[] = [];
    let ok = true;
    const calleeInputs = definition.inputs;
    for (const name of Object.keys(node.args)) {
      if (name in calleeInputs) continue;
      ok = false;
      if (definition.kind === "launchPlan" && name in definition.fixedInputs) {
        this.ctx.problem(`${where} is given input "${name}", which the launch plan fixes; leave it out or call the workflow instead`, node.site);
      } else {
        this.ctx.problem(`${where} has no input "${name}"; its inputs are ${Object.keys(calleeInputs).join(", ") || "none"}`, node.site);
      }
    }
    const scope = this.scope(upstream);
    for (const [name, type] of Object.entries(calleeInputs)) {
      let value = node.args[name];
      if (value === undefined) {
        if (definition.kind === "launchPlan" && type.hasDefault) continue; // the launch plan applies its default
        if (type.hasDefault) value = type.defaultValue;
        else if (!acceptsNone(type)) {
          this.ctx.problem(`${where} is missing input "${name}" (${type.name})`, node.site);
          ok = false;
          continue;
        }
      }
      try {
        inputs.push({ $typeName: "flyteidl.core.Binding", var: name, binding: bindValue(value ?? null, type, `input "${name}" of ${where}`, scope, name) });
      } catch (e) {
        if (!(e instanceof BindingProblem)) throw e;
        this.ctx.problem(e.message, node.site);
        ok = false;
      }
    }
    return ok ? inputs : undefined;
  }

  private call(node: TracedCall): Node | undefined {
    const upstream = new Set<string>();
    const inputs = this.callInputs(node, upstream);
    const id = this.ctx.idOf(node.entity, node.definition, node.site, this.where(node));
    const metadata = this.metadata(node);
    if (!inputs || !id || !metadata) return undefined;
    const target = targetOf(node.definition, id);
    const resources = this.resourceOverrides(node);
    if (resources === false) return undefined;
    if (resources && target.case === "taskNode") target.value.overrides = { $typeName: "flyteidl.core.TaskNodeOverrides", resources, containerImage: "" };
    return this.made(node, metadata, inputs, upstream, target);
  }

  /**
   * A map: each input is either a list of the mapped entity's input type (mapped, element by element) or exactly its
   * type (passed whole to every item: the ArrayNode's bound inputs). Bindings sit on the ArrayNode's node and, as
   * flytekit writes them, on its inner node too.
   */
  private map(node: TracedMap): Node | undefined {
    const { definition } = node;
    const where = this.where(node);
    const upstream = new Set<string>();
    const scope = this.scope(upstream);
    const inputs: Binding[] = [];
    const bound: string[] = [];
    let ok = true;
    for (const name of Object.keys(node.args)) {
      if (!(name in definition.inputs)) {
        this.ctx.problem(`${where} has no input "${name}"; its inputs are ${Object.keys(definition.inputs).join(", ") || "none"}`, node.site);
        ok = false;
      }
    }
    for (const [name, type] of Object.entries(definition.inputs)) {
      const value = node.args[name];
      if (value === undefined) {
        if (type.hasDefault || acceptsNone(type)) continue;
        this.ctx.problem(`${where} is missing input "${name}" (a list of ${type.name} to map over, or one ${type.name} for every item)`, node.site);
        ok = false;
        continue;
      }
      const at = `input "${name}" of ${where}`;
      // Tried as a whole value first; what it reads counts only if that is how it is bound.
      const wholeReads = new Set<string>();
      const asWhole = tryBind(() => bindValue(value, type, at, { ...scope, upstream: wholeReads }, name));
      if (asWhole.binding && !looksMapped(value, type)) {
        for (const read of wholeReads) upstream.add(read);
        inputs.push({ $typeName: "flyteidl.core.Binding", var: name, binding: asWhole.binding });
        bound.push(name);
        continue;
      }
      const asList = tryBind(() => bindValue(value, t.list(type), at, scope, name));
      if (asList.binding) {
        inputs.push({ $typeName: "flyteidl.core.Binding", var: name, binding: asList.binding });
        continue;
      }
      this.ctx.problem(`${asList.error} (a map takes a list of ${type.name} to map over, or one ${type.name} for every item)`, node.site);
      ok = false;
    }
    if (ok && bound.length === inputs.length) {
      this.ctx.problem(`${where} maps over nothing: give at least one input as a list of its type`, node.site);
      ok = false;
    }
    const { concurrency, minSuccessRatio, minSuccesses } = node.options;
    if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 0)) {
      this.ctx.problem(`${where}: concurrency must be a whole number ≥ 0 (0 runs every item at once), got ${describeValue(concurrency)}`, node.site);
      ok = false;
    }
    if (minSuccessRatio !== undefined && (typeof minSuccessRatio !== "number" || !(minSuccessRatio >= 0 && minSuccessRatio <= 1))) {
      this.ctx.problem(`${where}: minSuccessRatio must be a number from 0 to 1, got ${describeValue(minSuccessRatio)}`, node.site);
      ok = false;
    }
    if (minSuccesses !== undefined && (!Number.isInteger(minSuccesses) || minSuccesses < 0)) {
      this.ctx.problem(`${where}: minSuccesses must be a whole number ≥ 0, got ${describeValue(minSuccesses)}`, node.site);
      ok = false;
    }
    if (minSuccessRatio !== undefined && minSuccesses !== undefined) {
      this.ctx.problem(`${where}: give minSuccessRatio or minSuccesses, not both`, node.site);
      ok = false;
    }
    const id = this.ctx.idOf(node.entity, definition, node.site, this.where(node));
    const metadata = this.metadata(node);
    const resources = this.resourceOverrides(node);
    if (!ok || !id || !metadata || resources === false) return undefined;
    const innerTarget = targetOf(definition, id);
    if (resources && innerTarget.case === "taskNode") innerTarget.value.overrides = { $typeName: "flyteidl.core.TaskNodeOverrides", resources, containerImage: "" };
    const inner = create(NodeSchema, { id: `${node.id}-n0`, metadata, inputs, target: innerTarget });
    return this.made(node, create(NodeMetadataSchema, { name: metadata.name }), inputs, upstream, {
      case: "arrayNode",
      value: {
        $typeName: "flyteidl.core.ArrayNode",
        node: inner,
        parallelismOption: concurrency !== undefined ? { case: "parallelism", value: concurrency } : { case: undefined },
        successCriteria:
          minSuccesses !== undefined
            ? { case: "minSuccesses", value: minSuccesses }
            : minSuccessRatio !== undefined
              ? { case: "minSuccessRatio", value: minSuccessRatio }
              : { case: undefined },
        executionMode: 0,
        isOriginalSubNodeInterface: true,
        dataMode: 0,
        boundInputs: bound,
        runAllSubNodes: false,
      },
    });
  }

  private branch(node: TracedBranch): Node | undefined {
    const label = `conditional "${node.name}"`;
    if (!node.complete) {
      this.ctx.problem(`${label} has no else; end it with .else().then(...) or .else().fail("why")`, node.site);
      return undefined;
    }
    let ok = true;
    const upstream = new Set<string>();
    const inputs = new Map<string, Binding>();
    const blocks: { condition: BooleanExpression; thenNode: Node }[] = [];
    const first = node.cases[0]?.node ? outputsOfNode(node.cases[0].node).outputs : {};
    const caseNodes = [...node.cases.map((c, i) => ({ traced: c.node, what: i === 0 ? "its first case" : `case ${i + 1}`, site: c.site })), ...(node.otherwise ? [{ traced: node.otherwise, what: "its else", site: node.site }] : [])];
    for (const [i, c] of caseNodes.entries()) {
      if (!c.traced) {
        this.ctx.problem(`${label}: ${c.what} has no node; give .then(...) the call that case runs`, c.site);
        ok = false;
        continue;
      }
      if (i > 0) {
        const problem = sameOutputs(first, outputsOfNode(c.traced).outputs);
        if (problem) {
          this.ctx.problem(`${label}: ${c.what} ${problem}; every case must give the same outputs as the first`, c.traced.site);
          ok = false;
        }
      }
    }
    const conditions = node.cases.map((c) => this.condition(c.condition, label, inputs, upstream));
    if (!ok || conditions.some((c) => !c)) return undefined;
    for (const [i, c] of node.cases.entries()) {
      const thenNode = this.node(c.node!);
      if (!thenNode) return undefined;
      for (const u of thenNode.upstreamNodeIds) upstream.add(u);
      blocks.push({ condition: conditions[i]!, thenNode });
    }
    let otherwise: Node | undefined;
    if (node.otherwise) {
      otherwise = this.node(node.otherwise);
      if (!otherwise) return undefined;
      for (const u of otherwise.upstreamNodeIds) upstream.add(u);
    }
    const [head, ...rest] = blocks;
    return this.made(node, create(NodeMetadataSchema, { name: node.name }), [...inputs.values()], upstream, {
      case: "branchNode",
      value: {
        $typeName: "flyteidl.core.BranchNode",
        ifElse: {
          $typeName: "flyteidl.core.IfElseBlock",
          case: { $typeName: "flyteidl.core.IfBlock", ...head },
          other: rest.map((b) => ({ $typeName: "flyteidl.core.IfBlock" as const, ...b })),
          default: otherwise
            ? { case: "elseNode", value: otherwise }
            : { case: "error", value: { $typeName: "flyteidl.core.Error", failedNodeId: node.id, message: node.error ?? "" } },
        },
      },
    });
  }

  /** A condition as a BooleanExpression; the references it reads become the branch node's inputs (`n0.o0`). */
  private condition(condition: Condition, label: string, inputs: Map<string, Binding>, upstream: Set<string>): BooleanExpression | undefined {
    const e = condition.expression;
    if (e.kind === "conjunction") {
      const left = this.condition(e.left, label, inputs, upstream);
      const right = this.condition(e.right, label, inputs, upstream);
      if (!left || !right) return undefined;
      return create(BooleanExpressionSchema, {
        expr: {
          case: "conjunction",
          value: { operator: e.operator === "and" ? ConjunctionExpression_LogicalOperator.AND : ConjunctionExpression_LogicalOperator.OR, leftExpression: left, rightExpression: right },
        },
      });
    }
    const problem = (message: string) => {
      this.ctx.problem(`${label}: ${message}`, condition.site);
      return undefined;
    };
    const leftRef = e.left as OutputRef;
    const leftType = comparableType(leftRef.type);
    if (!leftType) return problem(`conditions compare int, float, string, boolean, datetime or duration values (or none), but ${this.describeRef(leftRef)} is ${leftRef.type.name}`);
    const left = this.operandRef(leftRef, inputs, upstream);
    if (!left) return problem(this.refProblem(leftRef));
    let right: Operand | undefined;
    if (isOutputRef(e.right)) {
      const rightType = comparableType(e.right.type);
      if (!rightType || describeLiteralType(rightType) !== describeLiteralType(leftType)) {
        return problem(`cannot compare ${this.describeRef(leftRef)} (${describeLiteralType(leftType)}) with ${this.describeRef(e.right)} (${e.right.type.name}); Flyte compares values of one type`);
      }
      right = this.operandRef(e.right, inputs, upstream);
      if (!right) return problem(this.refProblem(e.right));
    } else if (e.right === null || e.right === undefined) {
      if (e.operator !== "eq" && e.operator !== "ne") return problem(`none can only be compared with eq or ne`);
      right = { $typeName: "flyteidl.core.Operand", val: { case: "scalar", value: { $typeName: "flyteidl.core.Scalar", value: { case: "noneType", value: { $typeName: "flyteidl.core.Void" } } } } };
    } else {
      let literal: Literal;
      try {
        literal = leftRef.type.toLiteral(e.right, "the value compared with");
      } catch (err) {
        return problem(`${this.describeRef(leftRef)} is ${leftRef.type.name}, so it cannot be compared with ${describeValue(e.right)}: ${(err as Error).message}`);
      }
      const scalar = unwrapUnion(literal);
      if (!scalar) return problem(`${describeValue(e.right)} is not a primitive value to compare with`);
      right = { $typeName: "flyteidl.core.Operand", val: { case: "scalar", value: scalar } };
    }
    if (leftType.type.case === "simple" && leftType.type.value === SimpleType.BOOLEAN && e.operator !== "eq" && e.operator !== "ne") {
      return problem(`booleans compare only with eq or ne (or isTrue/isFalse), not ${e.operator}`);
    }
    return create(BooleanExpressionSchema, { expr: { case: "comparison", value: { operator: comparisonOperators[e.operator], leftValue: left, rightValue: right } } });
  }

  private describeRef(ref: OutputRef): string {
    return ref.nodeId === startNodeId ? `workflow input "${ref.varName}"` : `output "${ref.varName}" of node ${this.describeNode(ref.nodeId)}`;
  }

  private refProblem(ref: OutputRef): string {
    return this.ctx.traced.caseRefs.has(ref)
      ? `the condition reads ${this.describeRef(ref)}, which runs inside a conditional; conditions read workflow inputs and outputs of nodes outside it`
      : `the condition reads a reference from another workflow; pass values into this workflow through its inputs`;
  }

  private operandRef(ref: OutputRef, inputs: Map<string, Binding>, upstream: Set<string>): Operand | undefined {
    if (!this.ctx.traced.refs.has(ref)) return undefined;
    const variable = `${ref.nodeId}.${ref.varName}`;
    if (!inputs.has(variable)) inputs.set(variable, promiseBinding(variable, ref.nodeId, ref.varName));
    if (ref.nodeId !== startNodeId) upstream.add(ref.nodeId);
    return { $typeName: "flyteidl.core.Operand", val: { case: "var", value: variable } };
  }

  private metadata(node: TracedCall | TracedMap): NodeMetadata | undefined {
    const o: NodeOverrides = node.overrides ?? {};
    const where = `${this.where(node)}: .with(...)`;
    const site = node.overrideSite ?? node.site;
    let ok = true;
    const metadata = create(NodeMetadataSchema, { name: o.name ?? this.ctx.nodeName(node.entity, node.definition) });
    if (o.name !== undefined && (typeof o.name !== "string" || o.name === "")) {
      this.ctx.problem(`${where} name must be a non-empty string, got ${describeValue(o.name)}`, site);
      ok = false;
    }
    if (o.retries !== undefined) {
      if (!Number.isInteger(o.retries) || o.retries < 0) {
        this.ctx.problem(`${where} retries must be a whole number ≥ 0, got ${describeValue(o.retries)}`, site);
        ok = false;
      } else metadata.retries = { $typeName: "flyteidl.core.RetryStrategy", retries: o.retries };
    }
    if (o.timeout !== undefined) {
      try {
        metadata.timeout = durationFromMs(parseDuration(o.timeout, "timeout"));
      } catch (e) {
        this.ctx.problem(`${where} ${(e as Error).message}`, site);
        ok = false;
      }
    }
    if (o.interruptible !== undefined) {
      if (typeof o.interruptible !== "boolean") {
        this.ctx.problem(`${where} interruptible must be true or false, got ${describeValue(o.interruptible)}`, site);
        ok = false;
      } else metadata.interruptibleValue = { case: "interruptible", value: o.interruptible };
    }
    if (o.cache !== undefined) {
      if (o.cache === false) metadata.cacheableValue = { case: "cacheable", value: false };
      else if (typeof o.cache === "object" && o.cache !== null && typeof o.cache.version === "string" && o.cache.version !== "") {
        metadata.cacheableValue = { case: "cacheable", value: true };
        metadata.cacheVersionValue = { case: "cacheVersion", value: o.cache.version };
        if (o.cache.serialize !== undefined) metadata.cacheSerializableValue = { case: "cacheSerializable", value: o.cache.serialize === true };
      } else {
        this.ctx.problem(`${where} cache must be false or { version: "1.0" }, got ${describeValue(o.cache)}`, site);
        ok = false;
      }
    }
    const unknown = Object.keys(o).filter((k) => !["name", "retries", "timeout", "requests", "limits", "cache", "interruptible"].includes(k));
    if (unknown.length) {
      this.ctx.problem(`${where} has no setting ${unknown.map((k) => `"${k}"`).join(", ")}; it takes name, retries, timeout, requests, limits, cache and interruptible`, site);
      ok = false;
    }
    return ok ? metadata : undefined;
  }

  /** TaskNodeOverrides.resources from `.with({ requests, limits })`; false after a problem. */
  private resourceOverrides(node: TracedCall | TracedMap): Resources | undefined | false {
    const o = node.overrides;
    if (!o?.requests && !o?.limits) return undefined;
    const problems: string[] = [];
    const requests = resourceEntries(o.requests, "requests", problems);
    const limits = resourceEntries(o.limits, "limits", problems);
    for (const p of problems) this.ctx.problem(`${this.where(node)}: .with(...) ${p}`, node.overrideSite ?? node.site);
    return problems.length ? false : create(ResourcesSchema, { requests, limits });
  }

  private made(node: TracedNode, metadata: NodeMetadata, inputs: Binding[], upstream: Set<string>, target: Node["target"]): Node {
    for (const a of node.after) upstream.add(a);
    return create(NodeSchema, { id: node.id, metadata, inputs, upstreamNodeIds: [...upstream], target });
  }
}

function tryBind<T>(bind: () => T): { binding?: T; error?: string } {
  try {
    return { binding: bind() };
  } catch (e) {
    if (!(e instanceof BindingProblem)) throw e;
    return { error: e.message };
  }
}

/** A constant array given for an input whose type is not itself a list is meant to be mapped. */
function looksMapped(value: unknown, type: AnyType): boolean {
  return Array.isArray(value) && type.literalType().type.case !== "collectionType";
}

/** The primitive type a condition may compare (an optional one compares as its value or none), else undefined. */
function comparableType(type: AnyType): LiteralType | undefined {
  const lt = type.literalType();
  if (lt.type.case === "simple" && comparableSimple.has(lt.type.value)) return lt;
  if (lt.type.case === "unionType") {
    const variants = lt.type.value.variants.filter((v) => !(v.type.case === "simple" && v.type.value === SimpleType.NONE));
    if (variants.length === 1 && variants[0].type.case === "simple" && comparableSimple.has(variants[0].type.value)) return variants[0];
  }
  return undefined;
}

function unwrapUnion(literal: Literal): Extract<Operand["val"], { case: "scalar" }>["value"] | undefined {
  if (literal.value.case !== "scalar") return undefined;
  const scalar = literal.value.value;
  if (scalar.value.case === "union" && scalar.value.value.value) return unwrapUnion(scalar.value.value.value);
  return scalar.value.case === "primitive" || scalar.value.case === "noneType" ? scalar : undefined;
}

/** Why a case's outputs differ from the first case's, or undefined when they are the same. */
function sameOutputs(first: Record<string, AnyType>, other: Record<string, AnyType>): string | undefined {
  const a = Object.keys(first).sort();
  const b = Object.keys(other).sort();
  if (a.join(",") !== b.join(",")) return `gives ${b.length ? b.join(", ") : "no outputs"} where the first case gives ${a.length ? a.join(", ") : "no outputs"}`;
  for (const name of a) {
    const x = describeLiteralType(first[name].literalType());
    const y = describeLiteralType(other[name].literalType());
    if (x !== y) return `gives "${name}" as ${y} where the first case gives ${x}`;
  }
  return undefined;
}


/** How references of a trace are described and checked when they are bound (a workflow's outputs, a dynamic's). */
export function traceBindingScope(traced: TracedWorkflow, label: (entity: Entity) => string): BindingScope {
  const describeNode = (id: string) => {
    const node = traced.nodes.find((n) => n.id === id);
    return node ? `${id} (${node.kind === "branch" || node.kind === "gate" ? describeTracedNode(node, label) : label(node.entity)})` : id;
  };
  return {
    describeRef: (ref) => (ref.nodeId === startNodeId ? `workflow input "${ref.varName}"` : `output "${ref.varName}" of node ${describeNode(ref.nodeId)}`),
    describeNode,
    ownsRef: (ref) => traced.refs.has(ref),
    notOwned: (ref) =>
      traced.caseRefs.has(ref) ? `is bound to output "${ref.varName}" of node ${ref.nodeId}, which runs inside a conditional; return the conditional's result instead` : undefined,
    upstream: new Set(),
  };
}

/** What a body returned, bound to its declared outputs; each problem is pushed, naming the output. */
export function bindTracedOutputs(
  outputs: Record<string, AnyType>,
  single: boolean,
  traced: TracedWorkflow,
  scope: BindingScope,
  problems: string[],
): Record<string, BindingData> {
  const bindings: Record<string, BindingData> = {};
  const names = Object.keys(outputs);
  const returned = single ? { [names[0]]: traced.result } : ((traced.result ?? {}) as Record<string, unknown>);
  for (const name of names) {
    try {
      bindings[name] = bindValue(returned[name], outputs[name], `output ${name}`, scope);
    } catch (e) {
      problems.push(e instanceof BindingProblem || e instanceof UserError ? e.message : String(e));
    }
  }
  return bindings;
}
