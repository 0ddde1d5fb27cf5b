// The workflow-graph renderer: goldens from really compiled fixtures, every node kind by hand, and byte-stable output
// whatever order the template lists things in. Never rewrites a golden file unless UPDATE_GOLDEN=1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { compileProject, type CompiledProject } from "../../src/lib/compiler/compile.js";
import { dotUrl, workflowToDot, type WorkflowGraphInput } from "../../src/render/workflow-graph.js";
import { NodeSchema, WorkflowTemplateSchema, type WorkflowTemplate } from "../../src/lib/idl/gen/flyteidl/core/workflow_pb.js";
import { TaskTemplateSchema } from "../../src/lib/idl/gen/flyteidl/core/tasks_pb.js";
import { BindingSchema } from "../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { ResourceType } from "../../src/lib/idl/gen/flyteidl/core/identifier_pb.js";
import { ComparisonExpression_Operator, ConjunctionExpression_LogicalOperator } from "../../src/lib/idl/gen/flyteidl/core/condition_pb.js";

const fixtures = fileURLToPath(new URL("../fixtures/golden/", import.meta.url));
const goldenDir = fileURLToPath(new URL("./golden/", import.meta.url));
const update = process.env.UPDATE_GOLDEN === "1";

let compiled: Promise<CompiledProject> | undefined;
function compileFixtures(): Promise<CompiledProject> {
  compiled ??= compileProject({ paths: [fixtures], version: "v1", image: "golden:1" });
  return compiled;
}

async function compiledInput(workflowName: string): Promise<WorkflowGraphInput> {
  const project = await compileFixtures();
  const workflow = project.workflows.find((w) => w.name === workflowName);
  assert.ok(workflow?.spec.template, `no compiled workflow named ${workflowName}`);
  return { workflow: workflow.spec.template, subWorkflows: workflow.spec.subWorkflows, tasks: project.tasks.map((t) => t.spec.template!) };
}

async function checkGolden(file: string, workflowName: string): Promise<string> {
  const dot = workflowToDot(await compiledInput(workflowName));
  const path = join(goldenDir, file);
  if (update || !existsSync(path)) {
    assert.ok(update, `golden file ${file} is missing; run UPDATE_GOLDEN=1 and review it`);
    mkdirSync(goldenDir, { recursive: true });
    writeFileSync(path, dot);
  }
  assert.equal(dot, readFileSync(path, "utf8"), `DOT differs from test/render/golden/${file}`);
  return dot;
}

test("golden: a chain of three tasks", async () => {
  const dot = await checkGolden("chain.dot", "chain.chain");
  assert.match(dot, /^strict digraph "chain\.chain" \{\n/);
  assert.match(dot, /"n0" \[label="double \[typescript-task\]", shape=box\];/);
});

test("golden: a diamond, one split, two arms, one join", async () => {
  const dot = await checkGolden("diamond.dot", "diamond.diamond");
  assert.match(dot, /"n0" -> "n1" \[label="left → x"\];/);
  assert.match(dot, /"n0" -> "n2" \[label="right → x"\];/);
  assert.match(dot, /"n3" -> "end-node"/);
});

test("golden: a subworkflow called twice, each call its own cluster", async () => {
  const dot = await checkGolden("subworkflow.dot", "subworkflow.outer");
  assert.match(dot, /subgraph "cluster_n0" \{\n {4}label="inner";/);
  assert.match(dot, /subgraph "cluster_n1" \{/);
  assert.match(dot, /"n0-n0" \[label="inc \[typescript-task\]", shape=box\];/);
  assert.match(dot, /"n0-end-node" -> "n1-start-node"/);
});

test("golden: a workflow calling a launch plan", async () => {
  const dot = await checkGolden("launch-plan.dot", "launch-plans.usesPlan");
  assert.match(dot, /"n0" \[label="hourly_report \[launch plan\]", shape=box\];/);
});

// Hand-built templates ---------------------------------------------------------------------------------------------

type NodeInit = MessageInitShape<typeof NodeSchema>;
type BindingInit = MessageInitShape<typeof BindingSchema>;

function id(name: string, resourceType = ResourceType.TASK) {
  return { resourceType, project: "p", domain: "d", name, version: "v1" };
}

function promise(varName: string, nodeId: string, fromVar = varName): BindingInit {
  return { var: varName, binding: { value: { case: "promise", value: { nodeId, var: fromVar } } } };
}

interface Wiring {
  inputs?: BindingInit[];
  upstreamNodeIds?: string[];
}

function taskNode(nodeId: string, taskName: string, wiring: Wiring = {}): NodeInit {
  return { id: nodeId, target: { case: "taskNode", value: { reference: { case: "referenceId", value: id(taskName) } } }, ...wiring };
}

function template(name: string, nodes: NodeInit[], outputs: BindingInit[] = []): WorkflowTemplate {
  return create(WorkflowTemplateSchema, { id: id(name, ResourceType.WORKFLOW), nodes, outputs });
}

function draw(workflow: WorkflowTemplate, extra: Partial<WorkflowGraphInput> = {}): string {
  return workflowToDot({ workflow, subWorkflows: [], tasks: [], ...extra });
}

function edges(dot: string): string[] {
  return dot.split("\n").filter((l) => l.includes(" -> ")).map((l) => l.trim());
}

test("task labels use the short name and the task type; a task with no template is labelled by name only", () => {
  const tasks = [create(TaskTemplateSchema, { id: id("examples.spend.calculate"), type: "typescript-task" })];
  const dot = draw(template("examples.spend.wf", [taskNode("n0", "examples.spend.calculate"), taskNode("n1", "examples.spend.report")]), { tasks });
  assert.match(dot, /"n0" \[label="calculate \[typescript-task\]", shape=box\];/);
  assert.match(dot, /"n1" \[label="report", shape=box\];/);
});

test("start and end are green and red double circles", () => {
  const dot = draw(template("wf", [taskNode("n0", "a.t")]));
  assert.match(dot, /"start-node" \[label="start", shape=doublecircle, color=green\];/);
  assert.match(dot, /"end-node" \[label="end", shape=doublecircle, color=red\];/);
});

test("a branch is a cluster with a diamond, an edge per case labelled with its condition, and else", () => {
  const comparison = (left: string, operator: ComparisonExpression_Operator, right: bigint) => ({
    expr: {
      case: "comparison" as const,
      value: {
        operator,
        leftValue: { val: { case: "var" as const, value: left } },
        rightValue: { val: { case: "primitive" as const, value: { value: { case: "integer" as const, value: right } } } },
      },
    },
  });
  const branch: NodeInit = {
    id: "n1",
    metadata: { name: "route" },
    inputs: [promise("x", "n0", "o0")],
    target: {
      case: "branchNode",
      value: {
        ifElse: {
          case: { condition: comparison("x", ComparisonExpression_Operator.GT, 5n), thenNode: taskNode("n1-n0", "a.big") },
          other: [
            {
              condition: {
                expr: {
                  case: "conjunction",
                  value: {
                    operator: ConjunctionExpression_LogicalOperator.AND,
                    leftExpression: comparison("x", ComparisonExpression_Operator.GTE, 0n),
                    rightExpression: comparison("x", ComparisonExpression_Operator.LTE, 5n),
                  },
                },
              },
              thenNode: taskNode("n1-n1", "a.small"),
            },
          ],
          default: { case: "elseNode", value: taskNode("n1-n2", "a.negative") },
        },
      },
    },
  };
  const dot = draw(template("wf", [taskNode("n0", "a.source"), branch, taskNode("n2", "a.after", { inputs: [promise("y", "n1", "o0")] })]));
  assert.match(dot, /subgraph "cluster_n1" \{\n {4}label="route";\n {4}"n1" \[label="branch", shape=diamond\];/);
  assert.match(dot, /"n1-n0" \[label="big", shape=box\];/);
  assert.ok(edges(dot).includes('"n1" -> "n1-n0" [label="x > 5"];'));
  assert.ok(edges(dot).includes('"n1" -> "n1-n1" [label="x >= 0 and x <= 5"];'));
  assert.ok(edges(dot).includes('"n1" -> "n1-n2" [label="else"];'));
  assert.ok(edges(dot).includes('"n0" -> "n1" [label="o0 → x"];'));
  // Whichever case ran feeds what comes after the branch.
  for (const arm of ["n1-n0", "n1-n1", "n1-n2"]) assert.ok(edges(dot).includes(`"${arm}" -> "n2" [label="o0 → y"];`), arm);
});

test("a branch whose default is an error draws a red failure node", () => {
  const branch: NodeInit = {
    id: "n0",
    target: {
      case: "branchNode",
      value: {
        ifElse: {
          case: {
            condition: { expr: { case: "comparison", value: { leftValue: { val: { case: "var", value: "ok" } }, rightValue: { val: { case: "primitive", value: { value: { case: "boolean", value: true } } } } } } },
            thenNode: taskNode("n0-n0", "a.go"),
          },
          default: { case: "error", value: { failedNodeId: "n0", message: 'not "ok"' } },
        },
      },
    },
  };
  const dot = draw(template("wf", [branch]));
  assert.match(dot, /"n0-error" \[label="fail: not \\"ok\\"", shape=octagon, color=red\];/);
  assert.ok(edges(dot).includes('"n0" -> "n0-error" [label="else"];'));
  assert.ok(edges(dot).includes('"n0" -> "n0-n0" [label="ok == true"];'));
  assert.ok(edges(dot).includes('"n0-n0" -> "end-node";'));
});

test("gate nodes are hexagons that say whether they wait for approval, a signal or time", () => {
  const dot = draw(
    template("wf", [
      { id: "n0", target: { case: "gateNode", value: { condition: { case: "approve", value: { signalId: "review" } } } } },
      { id: "n1", upstreamNodeIds: ["n0"], target: { case: "gateNode", value: { condition: { case: "signal", value: { signalId: "go" } } } } },
      { id: "n2", upstreamNodeIds: ["n1"], target: { case: "gateNode", value: { condition: { case: "sleep", value: { duration: { seconds: 90n } } } } } },
      { id: "n3", upstreamNodeIds: ["n2"], target: { case: "gateNode", value: {} } },
    ]),
  );
  assert.match(dot, /"n0" \[label="approve review \[gate\]", shape=hexagon\];/);
  assert.match(dot, /"n1" \[label="signal go \[gate\]", shape=hexagon\];/);
  assert.match(dot, /"n2" \[label="sleep 1m30s \[gate\]", shape=hexagon\];/);
  assert.match(dot, /"n3" \[label="n3 \[gate\]", shape=hexagon\];/);
  assert.deepEqual(edges(dot), ['"n0" -> "n1";', '"n1" -> "n2";', '"n2" -> "n3";', '"n3" -> "end-node";', '"start-node" -> "n0";']);
});

test("an array node (map task) is a 3-D box labelled with its inner node and [map]", () => {
  const tasks = [create(TaskTemplateSchema, { id: id("a.square"), type: "typescript-task" })];
  const dot = draw(
    template("wf", [
      { id: "n0", inputs: [promise("xs", "")], target: { case: "arrayNode", value: { node: taskNode("n0-inner", "a.square"), parallelismOption: { case: "parallelism", value: 4 } } } },
      { id: "n1", target: { case: "arrayNode", value: {} } },
    ]),
    { tasks },
  );
  assert.match(dot, /"n0" \[label="square \[typescript-task\] \[map\]", shape=box3d\];/);
  assert.match(dot, /"n1" \[label="n1 \[map\]", shape=box3d\];/);
  assert.ok(edges(dot).includes('"start-node" -> "n0" [label="xs"];'));
});

test("a node of no kind, or an unknown one, is a plain box labelled with its id, and nothing throws", () => {
  const dot = draw(template("wf", [{ id: "n0" }, { id: "n1", upstreamNodeIds: ["n0"] }, { id: "" }]));
  assert.match(dot, /"n0" \[label="n0", shape=box\];/);
  assert.match(dot, /"node" \[label="\(node without an id\)", shape=box\];/);
  assert.ok(edges(dot).includes('"n0" -> "n1";'));
  assert.doesNotThrow(() => draw(create(WorkflowTemplateSchema, {})));
  assert.match(draw(create(WorkflowTemplateSchema, {})), /^strict digraph "workflow" \{/);
});

test("an empty workflow still goes from start to end", () => {
  assert.deepEqual(edges(draw(template("wf", []))), ['"start-node" -> "end-node";']);
});

test("edges come from upstream ids and from promises inside collections and maps, once each", () => {
  const nested: BindingInit = {
    var: "all",
    binding: {
      value: {
        case: "collection",
        value: {
          bindings: [
            { value: { case: "promise", value: { nodeId: "n0", var: "o0" } } },
            { value: { case: "map", value: { bindings: { k: { value: { case: "promise", value: { nodeId: "n1", var: "o0", attrPath: [{ value: { case: "stringValue", value: "f" } }, { value: { case: "intValue", value: 2 } }] } } } } } } },
            { value: { case: "promise", value: { nodeId: "n0", var: "o0" } } },
          ],
        },
      },
    },
  };
  const dot = draw(
    template(
      "wf",
      [
        taskNode("n0", "a.t", { inputs: [promise("x", "start-node")] }),
        taskNode("n1", "a.t", { inputs: [promise("x", "")] }),
        taskNode("n2", "a.t", { inputs: [nested, promise("y", "n0", "o0")], upstreamNodeIds: ["n0", "n1", "n0", "missing", "n2"] }),
        taskNode("n3", "a.t", { upstreamNodeIds: ["n0"] }),
      ],
      [promise("out", "n2", "o0"), promise("echo", "start-node", "x")],
    ),
  );
  assert.deepEqual(edges(dot), [
    '"n0" -> "n2" [label="o0 → all\\no0 → y"];',
    '"n0" -> "n3";',
    '"n1" -> "n2" [label="o0.f[2] → all"];',
    '"n2" -> "end-node" [label="o0 → out"];',
    '"n3" -> "end-node";',
    '"start-node" -> "end-node" [label="x → echo"];',
    '"start-node" -> "n0" [label="x"];',
    '"start-node" -> "n1" [label="x"];',
  ]);
});

test("a compiled template from admin, with explicit start-node and end-node nodes, draws the same picture", () => {
  const nodes = [taskNode("n0", "a.t", { inputs: [promise("x", "start-node")] })];
  const plain = draw(template("wf", nodes, [promise("o", "n0", "o0")]));
  const fromAdmin = draw(
    template("wf", [{ id: "start-node" }, ...nodes, { id: "end-node", inputs: [promise("o", "n0", "o0")], upstreamNodeIds: ["n0"] }], [promise("o", "n0", "o0")]),
  );
  assert.equal(fromAdmin, plain);
});

test("a subworkflow missing from the input is a box; one that refers to itself does not recurse forever", () => {
  const subRef = (name: string): NodeInit => ({ id: "n0", target: { case: "workflowNode", value: { reference: { case: "subWorkflowRef", value: id(name, ResourceType.WORKFLOW) } } } });
  assert.match(draw(template("wf", [subRef("a.gone")])), /"n0" \[label="gone \[subworkflow\]", shape=box\];/);
  const loop = template("a.loop", [subRef("a.loop")]);
  const dot = draw(template("wf", [subRef("a.loop")]), { subWorkflows: [loop] });
  assert.match(dot, /subgraph "cluster_n0" \{/);
  assert.match(dot, /"n0-n0" \[label="loop \[subworkflow\]", shape=box\];/);
});

test("subworkflow clusters nest, with ids prefixed by the node path", () => {
  const ref = (nodeId: string, name: string): NodeInit => ({ id: nodeId, target: { case: "workflowNode", value: { reference: { case: "subWorkflowRef", value: id(name, ResourceType.WORKFLOW) } } } });
  const leaf = template("a.leaf", [taskNode("n0", "a.t")]);
  const middle = template("a.middle", [ref("n0", "a.leaf")]);
  const dot = draw(template("wf", [ref("n5", "a.middle")]), { subWorkflows: [middle, leaf] });
  assert.match(dot, /subgraph "cluster_n5" \{\n {4}label="middle";/);
  assert.match(dot, /\n {4}subgraph "cluster_n5-n0" \{\n {6}label="leaf";/);
  assert.match(dot, /"n5-n0-n0" \[label="t", shape=box\];/);
  assert.ok(edges(dot).includes('"n5-n0-end-node" -> "n5-end-node";'));
  assert.ok(edges(dot).includes('"n5-end-node" -> "end-node";'));
});

test("quotes, backslashes and line breaks in names are escaped", () => {
  const tasks = [create(TaskTemplateSchema, { id: id('a.say"hi"'), type: "odd\\type" })];
  const dot = draw(template('w"f\\\nx', [taskNode("n0", 'a.say"hi"')]), { tasks });
  assert.match(dot, /^strict digraph "w\\"f\\\\\\nx" \{/);
  assert.ok(dot.includes(String.raw`"n0" [label="say\"hi\" [odd\\type]", shape=box];`));
});

// Determinism ------------------------------------------------------------------------------------------------------

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

test("the same template with nodes, upstream lists and bindings shuffled renders byte-identical DOT", () => {
  const wired: { id: string; wiring: Required<Wiring> }[] = [];
  for (let i = 0; i < 12; i++) {
    const ups = i === 0 ? [] : [`n${i - 1}`, `n${Math.floor(i / 2)}`, `n${Math.floor(i / 3)}`].filter((u) => u !== `n${i}`);
    wired.push({ id: `n${i}`, wiring: { upstreamNodeIds: ups, inputs: ups.map((u, k) => promise(`in${k}`, u, "o0")) } });
  }
  const outputs = [promise("a", "n11", "o0"), promise("b", "n10", "o0"), promise("c", "n4", "o0")];
  const reference = draw(template("wf", wired.map((n) => taskNode(n.id, "a.t", n.wiring)), outputs));
  for (let seed = 1; seed <= 5; seed++) {
    const mixed = shuffled(wired, seed).map((n) =>
      taskNode(n.id, "a.t", { upstreamNodeIds: shuffled(n.wiring.upstreamNodeIds, seed + 7), inputs: shuffled(n.wiring.inputs, seed + 3) }),
    );
    assert.notDeepEqual(mixed.map((n) => n.id), wired.map((n) => n.id), `seed ${seed} shuffles the nodes`);
    assert.equal(draw(template("wf", mixed, shuffled(outputs, seed))), reference, `seed ${seed}`);
  }
  const order = reference.split("\n").filter((l) => /^ {2}"n\d+" \[/.test(l)).map((l) => l.trim().split('"')[1]);
  assert.deepEqual(order, Array.from({ length: 12 }, (_, i) => `n${i}`), "nodes in numeric order: n2 before n10");
  const sources = edges(reference).map((l) => l.split('"')[1]);
  assert.equal(sources.indexOf("n2") < sources.indexOf("n10"), true, "edges in numeric order too");
});

test("a compiled workflow renders the same on every call", async () => {
  const input = await compiledInput("subworkflow.outer");
  assert.equal(workflowToDot(input), workflowToDot({ ...input, tasks: [...input.tasks].reverse(), subWorkflows: [...input.subWorkflows].reverse() }));
});

// dotUrl -----------------------------------------------------------------------------------------------------------

test("dotUrl appends the percent-encoded DOT to graph.flyte.org by default", async () => {
  const dot = await checkGolden("diamond.dot", "diamond.diamond");
  const url = dotUrl(dot);
  assert.ok(url.startsWith("http://graph.flyte.org/#"));
  assert.equal(decodeURIComponent(url.slice("http://graph.flyte.org/#".length)), dot);
  assert.doesNotMatch(url.slice("http://graph.flyte.org/#".length), /[\s"#→]/);
});

test("dotUrl takes another viewer base", () => {
  const dot = 'strict digraph "a b" { "x" -> "y" [label="o0 → a&b"]; }\n';
  const url = dotUrl(dot, "https://viewer.example/?dot=");
  assert.equal(url, `https://viewer.example/?dot=${encodeURIComponent(dot)}`);
  assert.equal(decodeURIComponent(url.slice("https://viewer.example/?dot=".length)), dot);
});
