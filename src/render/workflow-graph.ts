// Draws a workflow as Graphviz DOT (`get workflow -o dot|doturl`): flytectl's picture, in a stable order so
// golden files and viewer URLs do not change between runs. Pure: never reads, writes, spawns or opens anything.
import { comparisonOperatorText } from "../lib/idl/comparison-text.js";
import { create } from "@bufbuild/protobuf";
import { formatProtoDuration, literalToPlain } from "../lib/types/plain.js";
import { LiteralSchema, type Binding, type BindingData } from "../lib/idl/gen/flyteidl/core/literals_pb.js";
import type { Identifier } from "../lib/idl/gen/flyteidl/core/identifier_pb.js";
import type { TaskTemplate } from "../lib/idl/gen/flyteidl/core/tasks_pb.js";
import type { BooleanExpression, Operand } from "../lib/idl/gen/flyteidl/core/condition_pb.js";
import { ConjunctionExpression_LogicalOperator } from "../lib/idl/gen/flyteidl/core/condition_pb.js";
import type { GateNode, Node, WorkflowTemplate } from "../lib/idl/gen/flyteidl/core/workflow_pb.js";

export interface WorkflowGraphInput {
  /** The workflow to draw. */
  workflow: WorkflowTemplate;
  /** Templates of subworkflows it references (by subWorkflowRef id), drawn as clusters. */
  subWorkflows: WorkflowTemplate[];
  /** Templates of the tasks its nodes reference (for the "[<task type>]" label); missing ones are labelled by name only. */
  tasks: TaskTemplate[];
}

const defaultViewerBase = "http://graph.flyte.org/#";

/** The viewer URL: base (default "http://graph.flyte.org/#") + percent-encoded DOT (encodeURIComponent). Opens nothing. */
export function dotUrl(dot: string, viewerBase: string = defaultViewerBase): string {
  return viewerBase + encodeURIComponent(dot);
}

/*
 * Labels name what a node runs (the referenced entity's short name and kind), not the node itself: tsflyte and
 * flytekit both set a node's metadata.name to that same entity name, so printing it as well would only repeat
 * it, and node ids (n0, n1, …) mean nothing to a reader. Only nodes that reference no entity (branches, unknown
 * kinds) fall back to metadata.name or the id.
 *
 * Edges carry the variables that flow along them, "out → in" (just "x" when both ends use the same name), so
 * the two arms of a diamond stay distinguishable; pure ordering edges (upstreamNodeIds) carry no label.
 */
export function workflowToDot(input: WorkflowGraphInput): string {
  const graph = new GraphBuilder(input);
  const root: Container = { lines: [], depth: 1 };
  graph.drawWorkflow(input.workflow, "", root, [identifierKey(input.workflow.id)]);
  const name = input.workflow.id?.name || "workflow";
  const out = [`strict digraph ${quote(name)} {`, `  label=${quote(name)};`, "  labelloc=t;", ...root.lines];
  for (const edge of graph.sortedEdges()) {
    const labels = [...edge.labels].sort(naturalCompare);
    const list = [...(labels.length > 0 ? [`label=${quote(labels.join("\n"))}`] : []), ...(edge.style ? [`style=${edge.style}`, "color=red"] : [])];
    const attrs = list.length > 0 ? ` [${list.join(", ")}]` : "";
    out.push(`  ${quote(edge.from)} -> ${quote(edge.to)}${attrs};`);
  }
  out.push("}");
  return `${out.join("\n")}\n`;
}

// The ids Flyte reserves for a workflow's inputs and outputs; admin's compiled templates also list them as nodes.
const startNodeId = "start-node";
const endNodeId = "end-node";
const fromStart = Symbol("start");

interface Container {
  lines: string[];
  depth: number;
}

/** Where edges attach to a drawn node: clusters are entered at their start and left from their end(s). */
interface Attachment {
  entries: string[];
  exits: string[];
}

interface Edge {
  from: string;
  to: string;
  labels: Set<string>;
  /** Set for the failure node's edge only: drawn dashed and red. */
  style?: "dashed";
}

class GraphBuilder {
  private readonly usedIds = new Set<string>();
  private readonly edges = new Map<string, Edge>();
  private readonly tasks: EntityIndex<TaskTemplate>;
  private readonly subWorkflows: EntityIndex<WorkflowTemplate>;

  constructor(input: WorkflowGraphInput) {
    this.tasks = new EntityIndex(input.tasks);
    this.subWorkflows = new EntityIndex(input.subWorkflows);
  }

  /** Draws a workflow's start, end and nodes into `into`, and the edges between them; `stack` stops self-reference. */
  drawWorkflow(template: WorkflowTemplate, prefix: string, into: Container, stack: string[]): Attachment {
    const start = this.claim(scoped(prefix, startNodeId));
    const end = this.claim(scoped(prefix, endNodeId));
    this.emitNode(into, start, [["label", "start"], ["shape", "doublecircle"], ["color", "green"]]);
    this.emitNode(into, end, [["label", "end"], ["shape", "doublecircle"], ["color", "red"]]);

    const outputs: Binding[] = [...template.outputs];
    const endUpstream: string[] = [];
    const drawn = new Map<string, { node: Node; at: Attachment }>();
    for (const node of [...template.nodes].sort((a, b) => naturalCompare(a.id, b.id))) {
      if (node.id === startNodeId) continue;
      if (node.id === endNodeId) {
        outputs.push(...node.inputs);
        endUpstream.push(...node.upstreamNodeIds);
        continue;
      }
      const at = this.drawNode(node, prefix, into, stack);
      if (!drawn.has(node.id)) drawn.set(node.id, { node, at });
    }

    type Sources = Map<string | typeof fromStart, Set<string>>;
    const source = (id: string): string | typeof fromStart | undefined =>
      id === "" || id === startNodeId ? fromStart : drawn.has(id) ? id : undefined;
    const dependencies = (inputs: Binding[], upstream: string[], self?: string): Sources => {
      const sources: Sources = new Map();
      const add = (id: string, label?: string): void => {
        const from = source(id);
        if (from === undefined || from === self) return;
        const labels = sources.get(from) ?? new Set<string>();
        if (label !== undefined) labels.add(label);
        sources.set(from, labels);
      };
      for (const id of upstream) add(id);
      for (const binding of inputs) {
        for (const promise of promisesIn(binding.binding)) add(promise.nodeId, flowLabel(promise.carried, binding.var));
      }
      return sources;
    };

    const fed = new Set<string>();
    const incoming = new Map<string, Sources>();
    for (const [id, { node }] of drawn) {
      const sources = dependencies(node.inputs, node.upstreamNodeIds, id);
      if (sources.size === 0) sources.set(fromStart, new Set());
      incoming.set(id, sources);
      for (const from of sources.keys()) if (from !== fromStart) fed.add(from);
    }
    const intoEnd = dependencies(outputs, endUpstream);
    for (const from of intoEnd.keys()) if (from !== fromStart) fed.add(from);
    for (const id of drawn.keys()) if (!fed.has(id)) intoEnd.set(id, new Set());
    if (intoEnd.size === 0) intoEnd.set(fromStart, new Set());
    incoming.set(endNodeId, intoEnd);

    const exitsOf = (from: string | typeof fromStart): string[] => (from === fromStart ? [start] : drawn.get(from)!.at.exits);
    for (const [to, sources] of incoming) {
      const entries = to === endNodeId ? [end] : drawn.get(to)!.at.entries;
      for (const [from, labels] of sources) {
        for (const exit of exitsOf(from)) for (const entry of entries) this.addEdge(exit, entry, labels);
      }
    }
    if (template.failureNode) this.drawFailureNode(template.failureNode, prefix, start, into, stack);
    return { entries: [start], exits: [end] };
  }

  /**
   * The failure node is outside the graph (it runs once, only when the workflow fails), so flytectl leaves it out;
   * here it is a red box (or cluster) reached from the start node by a dashed red edge labelled "on failure".
   */
  private drawFailureNode(node: Node, prefix: string, start: string, into: Container, stack: string[]): void {
    const before = into.lines.length;
    const at = this.drawNode(node, prefix, into, stack);
    const drawn = into.lines[before];
    // A plain box gets a red border; a subworkflow cluster keeps its own drawing and gets the dashed edge only.
    if (drawn !== undefined && !drawn.trimStart().startsWith("subgraph")) into.lines[before] = drawn.replace(/\];$/, ", color=red];");
    for (const entry of at.entries) {
      const key = `${start}\u0000${entry}`;
      this.edges.set(key, { from: start, to: entry, labels: new Set(["on failure"]), style: "dashed" });
    }
  }

  private drawNode(node: Node, prefix: string, into: Container, stack: string[]): Attachment {
    const id = this.claim(scoped(prefix, node.id || "node"));
    const box = (label: string, shape = "box"): Attachment => {
      this.emitNode(into, id, [["label", label], ["shape", shape]]);
      return { entries: [id], exits: [id] };
    };
    const target = node.target;
    switch (target.case) {
      case "taskNode":
        return box(this.referenceLabel(node) ?? node.id);
      case "workflowNode": {
        const reference = target.value.reference;
        const sub = reference.case === "subWorkflowRef" ? this.subWorkflows.find(reference.value) : undefined;
        if (reference.case === "subWorkflowRef" && sub && !stack.includes(identifierKey(reference.value))) {
          const cluster = this.openCluster(into, id, shortName(reference.value.name));
          const at = this.drawWorkflow(sub, id, cluster, [...stack, identifierKey(reference.value)]);
          this.closeCluster(into, cluster);
          return at;
        }
        return box(this.referenceLabel(node) ?? node.id);
      }
      case "branchNode":
        return this.drawBranch(node, id, prefix, into, stack);
      case "gateNode":
        return box(`${gateText(target.value) ?? node.id} [gate]`, "hexagon");
      case "arrayNode": {
        const inner = target.value.node;
        const innerLabel = inner ? (this.referenceLabel(inner) ?? inner.id) : node.id;
        return box(`${innerLabel} [map]`, "box3d");
      }
      default:
        return box(node.id || "(node without an id)");
    }
  }

  /** A branch is a cluster: a diamond for the decision and an edge, labelled with its condition, into each case. */
  private drawBranch(node: Node, id: string, prefix: string, into: Container, stack: string[]): Attachment {
    const cluster = this.openCluster(into, id, node.metadata?.name || node.id);
    this.emitNode(cluster, id, [["label", "branch"], ["shape", "diamond"]]);
    const exits: string[] = [];
    const ifElse = node.target.case === "branchNode" ? node.target.value.ifElse : undefined;
    const arms: { label: string; node: Node }[] = [];
    for (const block of ifElse ? [ifElse.case, ...ifElse.other] : []) {
      if (block?.thenNode) arms.push({ label: block.condition ? conditionText(block.condition) : "?", node: block.thenNode });
    }
    if (ifElse?.default.case === "elseNode") arms.push({ label: "else", node: ifElse.default.value });
    for (const arm of arms) {
      // Flyte names a case's node `<branch>-<node>`; flytekit writes it so, other IR repeats ids (n0 inside n0), which
      // are then scoped under the branch so that nested cases never take a top-level node's name. The only edge drawn
      // into a case is the decision's.
      const casePrefix = arm.node.id.startsWith(`${node.id}-`) ? prefix : id;
      const at = this.drawNode(arm.node, casePrefix, cluster, stack);
      for (const entry of at.entries) this.addEdge(id, entry, new Set([arm.label]));
      exits.push(...at.exits);
    }
    if (ifElse?.default.case === "error") {
      const failure = this.claim(`${id}-error`);
      const message = ifElse.default.value.message;
      this.emitNode(cluster, failure, [["label", message ? `fail: ${message}` : "fail"], ["shape", "octagon"], ["color", "red"]]);
      this.addEdge(id, failure, new Set(["else"]));
    }
    this.closeCluster(into, cluster);
    return { entries: [id], exits: exits.length > 0 ? exits : [id] };
  }

  /** "<short name> [<kind>]" for a node that references a task, launch plan or subworkflow. */
  private referenceLabel(node: Node): string | undefined {
    const target = node.target;
    if (target.case === "taskNode" && target.value.reference.case === "referenceId") {
      const ref = target.value.reference.value;
      const type = this.tasks.find(ref)?.type;
      return type ? `${shortName(ref.name)} [${type}]` : shortName(ref.name);
    }
    if (target.case === "workflowNode") {
      const reference = target.value.reference;
      if (reference.case === "launchplanRef") return `${shortName(reference.value.name)} [launch plan]`;
      if (reference.case === "subWorkflowRef") return `${shortName(reference.value.name)} [subworkflow]`;
    }
    return undefined;
  }

  private openCluster(into: Container, id: string, label: string): Container {
    into.lines.push(`${indent(into.depth)}subgraph ${quote(`cluster_${id}`)} {`, `${indent(into.depth + 1)}label=${quote(label)};`);
    return { lines: [], depth: into.depth + 1 };
  }

  private closeCluster(into: Container, cluster: Container): void {
    into.lines.push(...cluster.lines, `${indent(into.depth)}}`);
  }

  private emitNode(into: Container, id: string, attrs: [string, string][]): void {
    const list = attrs.map(([k, v]) => `${k}=${k === "label" ? quote(v) : v}`).join(", ");
    into.lines.push(`${indent(into.depth)}${quote(id)} [${list}];`);
  }

  private addEdge(from: string, to: string, labels: Set<string>): void {
    if (from === to) return;
    const key = `${from}\u0000${to}`;
    const edge = this.edges.get(key);
    if (edge) for (const l of labels) edge.labels.add(l);
    else this.edges.set(key, { from, to, labels: new Set(labels) });
  }

  /** A DOT id no other node has taken; a clash (duplicate or colliding node ids) gets a numbered suffix. */
  private claim(wanted: string): string {
    let id = wanted;
    for (let n = 2; this.usedIds.has(id); n++) id = `${wanted}~${n}`;
    this.usedIds.add(id);
    return id;
  }

  sortedEdges(): Edge[] {
    return [...this.edges.values()].sort((a, b) => naturalCompare(a.from, b.from) || naturalCompare(a.to, b.to));
  }
}

/** Looks templates up by full identifier, falling back to the name alone (ids fetched from admin may differ in version). */
class EntityIndex<T extends { id?: Identifier }> {
  private readonly byKey = new Map<string, T>();
  private readonly byName = new Map<string, T>();
  constructor(templates: T[]) {
    for (const t of templates) {
      if (!t.id) continue;
      if (!this.byKey.has(identifierKey(t.id))) this.byKey.set(identifierKey(t.id), t);
      if (!this.byName.has(t.id.name)) this.byName.set(t.id.name, t);
    }
  }
  find(id: Identifier): T | undefined {
    return this.byKey.get(identifierKey(id)) ?? this.byName.get(id.name);
  }
}

function identifierKey(id: Identifier | undefined): string {
  return id ? `${id.project}/${id.domain}/${id.name}/${id.version}` : "";
}

function scoped(prefix: string, id: string): string {
  return prefix ? `${prefix}-${id}` : id;
}

/** `examples.spend.calculate` → `calculate`. */
function shortName(name: string): string {
  return name.slice(name.lastIndexOf(".") + 1) || name;
}

/** Every promise in a binding, including those nested in collections and maps, with the output it carries. */
function promisesIn(data: BindingData | undefined): { nodeId: string; carried: string }[] {
  if (!data) return [];
  const v = data.value;
  switch (v.case) {
    case "promise": {
      const path = v.value.attrPath
        .map((a) => (a.value.case === "intValue" ? `[${a.value.value}]` : a.value.case === "stringValue" ? `.${a.value.value}` : ""))
        .join("");
      return [{ nodeId: v.value.nodeId, carried: v.value.var + path }];
    }
    case "collection":
      return v.value.bindings.flatMap(promisesIn);
    case "map":
      return Object.values(v.value.bindings).flatMap(promisesIn);
    default:
      return [];
  }
}

function flowLabel(out: string, into: string): string {
  return out === into || into === "" ? out : `${out} → ${into}`;
}

function gateText(gate: GateNode): string | undefined {
  const c = gate.condition;
  switch (c.case) {
    case "approve":
      return `approve ${c.value.signalId}`.trimEnd();
    case "signal":
      return `signal ${c.value.signalId}`.trimEnd();
    case "sleep":
      return c.value.duration ? `sleep ${formatProtoDuration(c.value.duration)}` : "sleep";
    default:
      return undefined;
  }
}


/** A branch condition as a reader would write it: `x > 5 and (y == "a" or z)`. */
function conditionText(expr: BooleanExpression): string {
  const e = expr.expr;
  if (e.case === "comparison") {
    const op = comparisonOperatorText[e.value.operator] ?? "?";
    return `${operandText(e.value.leftValue)} ${op} ${operandText(e.value.rightValue)}`;
  }
  if (e.case === "conjunction") {
    const op = e.value.operator === ConjunctionExpression_LogicalOperator.OR ? "or" : "and";
    const side = (s: BooleanExpression | undefined): string =>
      !s ? "?" : s.expr.case === "conjunction" ? `(${conditionText(s)})` : conditionText(s);
    return `${side(e.value.leftExpression)} ${op} ${side(e.value.rightExpression)}`;
  }
  return "?";
}

function operandText(operand: Operand | undefined): string {
  const v = operand?.val;
  switch (v?.case) {
    case "var":
      return v.value;
    case "primitive":
      return JSON.stringify(literalToPlain(create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "primitive", value: v.value } } } })));
    case "scalar":
      return JSON.stringify(literalToPlain(create(LiteralSchema, { value: { case: "scalar", value: v.value } })));
    default:
      return "?";
  }
}

function indent(depth: number): string {
  return "  ".repeat(depth);
}

/** A DOT quoted string: backslashes and quotes escaped, line breaks as DOT's centred `\n`. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r\n|\r|\n/g, "\\n")}"`;
}

/** n2 before n10: digit runs compare as numbers, the rest by code unit, so the order never depends on locale. */
function naturalCompare(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) {
      const xs = x.replace(/^0+(?=\d)/, "");
      const ys = y.replace(/^0+(?=\d)/, "");
      if (xs.length !== ys.length) return xs.length - ys.length;
      if (xs !== ys) return xs < ys ? -1 : 1;
    }
    return x < y ? -1 : 1;
  }
  if (pa.length !== pb.length) return pa.length - pb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
