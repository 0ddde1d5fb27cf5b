// The compile checks on control-flow IR, on templates built here: every problem a branch, array, gate or failure node
// can have is reported once, naming the node, and the hand-written fixture passes clean.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { checkWorkflowTemplate, type CalleeInterface, type InterfaceLookup } from "../../../src/lib/compiler/checks.js";
import { WorkflowTemplateSchema, type WorkflowTemplate } from "../../../src/lib/idl/gen/flyteidl/core/workflow_pb.js";
import { SimpleType, type LiteralType } from "../../../src/lib/idl/gen/flyteidl/core/types_pb.js";
import { LiteralTypeSchema } from "../../../src/lib/idl/gen/flyteidl/core/types_pb.js";
import { create } from "@bufbuild/protobuf";

const INT = { simple: "INTEGER" };
const simple = (s: SimpleType): LiteralType => create(LiteralTypeSchema, { type: { case: "simple", value: s } });
const int = simple(SimpleType.INTEGER);
const str = simple(SimpleType.STRING);
const list = (t: LiteralType): LiteralType => create(LiteralTypeSchema, { type: { case: "collectionType", value: t } });
const optError = create(LiteralTypeSchema, { type: { case: "unionType", value: { variants: [simple(SimpleType.ERROR), simple(SimpleType.NONE)] } } });

const callees: Record<string, CalleeInterface> = {
  "task:square": { inputs: { n: { type: int, required: true } }, outputs: { o0: int } },
  "task:name": { inputs: { n: { type: int, required: true } }, outputs: { o0: str } },
  "task:scale": { inputs: { x: { type: int, required: true }, k: { type: int, required: true } }, outputs: { o0: int } },
  "task:clean": { inputs: { name: { type: str, required: true }, err: { type: optError, required: false } }, outputs: {} },
  "task:sum": { inputs: { xs: { type: list(int), required: true } }, outputs: { o0: int } },
  "launchPlan:square_lp": { inputs: { n: { type: int, required: true } }, outputs: { o0: int } },
};
const lookup: InterfaceLookup = (kind, id) => callees[`${kind}:${id.name}`];

const ref = (name: string, rt = "TASK") => ({ resourceType: rt, project: "p", domain: "d", name, version: "v1" });
const promise = (nodeId: string, v: string): JsonValue => ({ promise: nodeId ? { nodeId, var: v } : { var: v } });
const bind = (v: string, data: JsonValue) => ({ var: v, binding: data });
const taskNode = (id: string, task: string, inputs: JsonValue[], up: string[] = []) => ({ id, inputs, upstreamNodeIds: up, taskNode: { referenceId: ref(task) } });
const cmp = (op: string, l: JsonValue, r: JsonValue) => ({ comparison: { operator: op, leftValue: l, rightValue: r } });

function template(nodes: JsonValue[], extra: Record<string, JsonValue> = {}, inputs: Record<string, JsonValue> = { x: { type: INT } }, outputs: Record<string, JsonValue> = {}): WorkflowTemplate {
  return fromJson(WorkflowTemplateSchema, { id: ref("wf", "WORKFLOW"), interface: { inputs: { variables: inputs }, outputs: { variables: outputs } }, nodes, ...extra } as JsonValue);
}

function branch(ifElse: JsonValue, inputs: JsonValue[] = [bind("x", promise("", "x"))]) {
  return { id: "n0", inputs, branchNode: { ifElse } };
}
const ifX = (then: JsonValue) => ({ condition: cmp("GT", { var: "x" }, { primitive: { integer: "5" } }), thenNode: then });

test("the hand-written fixture's workflows pass every check", () => {
  const fixture = JSON.parse(readFileSync(new URL("../../fixtures/control-flow-ir/control-flow.json", import.meta.url), "utf8"));
  const all: Record<string, CalleeInterface> = {};
  const typeOf = (v: any) => fromJson(LiteralTypeSchema, v.type);
  for (const e of fixture.entities) {
    if (e.task) {
      const iface = e.task.spec.template.interface;
      all[`task:${e.task.id.name}`] = {
        inputs: Object.fromEntries(Object.entries(iface.inputs.variables).map(([k, v]: [string, any]) => [k, { type: typeOf(v), required: !v.type.unionType }])),
        outputs: Object.fromEntries(Object.entries(iface.outputs.variables).map(([k, v]: [string, any]) => [k, typeOf(v)])),
      };
    }
  }
  all["launchPlan:cf.square_lp"] = { inputs: { n: { type: int, required: true } }, outputs: { o0: int } };
  all["workflow:cf.square_wf"] = { inputs: { n: { type: int, required: true } }, outputs: { o0: int } };
  let count = 0;
  for (const e of fixture.entities) {
    if (!e.workflow) continue;
    const problems = checkWorkflowTemplate(fromJson(WorkflowTemplateSchema, e.workflow.spec.template), (kind, id) => all[`${kind}:${id.name}`]);
    assert.deepEqual(problems, [], e.workflow.id.name);
    count++;
  }
  assert.equal(count, 8);
});

test("branch: no else, no condition, no thenNode", () => {
  assert.deepEqual(checkWorkflowTemplate(template([branch({ case: ifX(taskNode("n0", "square", [bind("n", promise("", "x"))])) })]), lookup), [
    "branch node n0 has no else; Flyte refuses a branch without one: add an elseNode, or an error to fail when no case holds",
  ]);
  assert.deepEqual(checkWorkflowTemplate(template([branch({ case: { thenNode: taskNode("n0", "square", [bind("n", promise("", "x"))]) }, error: { message: "no" } })]), lookup), [
    "branch node n0: the if case has no condition; give it one over the branch node's inputs",
  ]);
  assert.deepEqual(checkWorkflowTemplate(template([branch({ case: { condition: cmp("EQ", { var: "x" }, { primitive: { integer: "1" } }) }, error: { message: "no" } })]), lookup), [
    "branch node n0: the if case has no thenNode; give it the node to run when its condition holds",
  ]);
  assert.deepEqual(checkWorkflowTemplate(template([branch({ error: { message: "no" } })]), lookup), [
    "branch node n0 has no if case; give ifElse.case a condition and a thenNode",
  ]);
});

test("branch conditions: a var that is not a branch input, unlike types, booleans ordered, non-primitives", () => {
  const then = taskNode("n0", "square", [bind("n", promise("", "x"))]);
  const withCondition = (condition: JsonValue, inputs?: JsonValue[], wfInputs?: Record<string, JsonValue>) =>
    checkWorkflowTemplate(template([branch({ case: { condition, thenNode: then }, error: { message: "no" } }, inputs)], {}, wfInputs ?? { x: { type: INT } }), lookup);
  assert.deepEqual(withCondition(cmp("GT", { var: "y" }, { primitive: { integer: "5" } })), [
    `branch node n0: the if case's condition reads "y", which is not one of the branch node's inputs (it binds x); bind "y" on the branch node`,
  ]);
  assert.deepEqual(withCondition(cmp("GT", { var: "x" }, { primitive: { floatValue: 0.5 } })), [
    `branch node n0: the if case compares "x" (integer) > 0.5 (float); both sides must have the same primitive type (Flyte does not convert between them), so compare with a integer or bind a float`,
  ]);
  const flag = { x: { type: INT }, b: { type: { simple: "BOOLEAN" } } };
  assert.deepEqual(withCondition(cmp("LT", { var: "b" }, { primitive: { boolean: true } }), [bind("b", promise("", "b"))], flag), [
    "branch node n0: the if case compares booleans with <; booleans compare only with == or !=",
  ]);
  const xs = { x: { type: INT }, xs: { type: { collectionType: INT } } };
  assert.deepEqual(withCondition(cmp("EQ", { var: "xs" }, { primitive: { integer: "1" } }), [bind("xs", promise("", "xs"))], xs), [
    `branch node n0: the if case compares "xs", which is list<int>; conditions compare only integers, floats, strings, booleans, datetimes or durations`,
  ]);
  // An and/or checks both sides.
  assert.deepEqual(withCondition({ conjunction: { operator: "AND", leftExpression: cmp("GT", { var: "x" }, { primitive: { integer: "1" } }), rightExpression: cmp("LT", { var: "z" }, { primitive: { integer: "9" } }) } }).length, 1);
});

test("branch cases are checked like any node, read only what runs before the branch, and must agree on output types", () => {
  const problems = checkWorkflowTemplate(
    template(
      [
        taskNode("n1", "square", [bind("n", promise("", "x"))]),
        branch({
          case: ifX(taskNode("n0", "square", [bind("n", promise("n2", "o0"))])),
          other: [{ condition: cmp("LT", { var: "x" }, { primitive: { integer: "0" } }), thenNode: taskNode("n1", "name", [bind("n", promise("", "x"))]) }],
          elseNode: taskNode("n2", "nope", []),
        }),
        taskNode("n2", "square", [bind("n", promise("n0", "o0"))], ["n0"]),
      ],
      {},
    ),
    lookup,
  );
  assert.deepEqual(problems, [
    "node n0-n0 (the if case of branch node n0) input \"n\" reads node n2, which waits for branch node n0; a case cannot read what runs after its branch (that is a cycle)",
    "node n0-n2 (the else case of branch node n0) refers to task nope@v1, which does not exist",
  ]);
  const mismatch = checkWorkflowTemplate(
    template([
      branch({ case: ifX(taskNode("n0", "square", [bind("n", promise("", "x"))])), elseNode: taskNode("n1", "name", [bind("n", promise("", "x"))]) }),
      taskNode("n1", "square", [bind("n", promise("n0", "o0"))], ["n0"]),
    ]),
    lookup,
  );
  assert.deepEqual(mismatch, ['branch node n0: the else case produces "o0" as string, but the if case produces it as int; every case must produce the same type', 'node n1 input "n" reads "o0" of node n0, which has no such output']);
  const lacking = checkWorkflowTemplate(
    template([
      branch({ case: ifX(taskNode("n0", "square", [bind("n", promise("", "x"))])), elseNode: taskNode("n1", "clean", [bind("name", { scalar: { primitive: { stringValue: "a" } } })]) }),
      taskNode("n1", "square", [bind("n", promise("n0", "o0"))], ["n0"]),
    ]),
    lookup,
  );
  assert.deepEqual(lacking, ['node n1 input "n" reads "o0" of branch node n0, which the else case does not produce; a branch has only the outputs every case produces, so add it to that case or read something else']);
  // A case may read a node its branch does not list (FlytePropeller adds the edge), as long as it runs before.
  const unlisted = checkWorkflowTemplate(
    template([taskNode("n1", "square", [bind("n", promise("", "x"))]), branch({ case: ifX(taskNode("n0", "square", [bind("n", promise("n1", "o0"))])), error: { message: "no" } })]),
    lookup,
  );
  assert.deepEqual(unlisted, []);
  // An else that fails produces nothing and does not count against the cases.
  const erroring = checkWorkflowTemplate(
    template([branch({ case: ifX(taskNode("n0", "square", [bind("n", promise("", "x"))])), error: { message: "no" } }), taskNode("n1", "square", [bind("n", promise("n0", "o0"))], ["n0"])]),
    lookup,
  );
  assert.deepEqual(erroring, []);
});

test("array node: what it maps, list inputs, fixed inputs, at least one mapped input, success ratio, parallelism", () => {
  const arr = (array: Record<string, JsonValue>, inputs: JsonValue[]) => ({ id: "n0", inputs, arrayNode: { node: taskNode("n0", "scale", inputs), isOriginalSubNodeInterface: true, ...array } });
  const wfIn = { xs: { type: { collectionType: INT } }, k: { type: INT } };
  const good = [bind("x", promise("", "xs")), bind("k", promise("", "k"))];
  assert.deepEqual(checkWorkflowTemplate(template([arr({ boundInputs: ["k"] }, good), taskNode("n1", "sum", [bind("xs", promise("n0", "o0"))], ["n0"])], {}, wfIn), lookup), []);
  assert.deepEqual(checkWorkflowTemplate(template([arr({}, good)], {}, wfIn), lookup), ['array node n0 input "k" expects list<int>, but start-node.k is int']);
  assert.deepEqual(checkWorkflowTemplate(template([arr({ boundInputs: ["x", "k"] }, [bind("x", promise("", "k")), bind("k", promise("", "k"))])], {}, wfIn), lookup), [
    "array node n0 maps over no list: every input it binds is fixed (boundInputs); bind at least one input of task scale@v1 to a list to map over",
  ]);
  assert.deepEqual(checkWorkflowTemplate(template([arr({ boundInputs: ["k"], minSuccessRatio: 1.5 }, good)], {}, wfIn), lookup), ["array node n0 has minSuccessRatio 1.5; give a ratio between 0 and 1"]);
  const negative = template([arr({ boundInputs: ["k"], parallelism: 1 }, good)], {}, wfIn);
  (negative.nodes[0].target.value as any).parallelismOption.value = -1;
  assert.deepEqual(checkWorkflowTemplate(negative, lookup), ["array node n0 has parallelism -1; give 0 (no limit) or more"]);
  // A lossy map (ratio below 1) yields optionals, which a list<int> input does not take.
  assert.deepEqual(checkWorkflowTemplate(template([arr({ boundInputs: ["k"], minSuccessRatio: 0.5 }, good), taskNode("n1", "sum", [bind("xs", promise("n0", "o0"))], ["n0"])], {}, wfIn), lookup), [
    'node n1 input "xs" expects list<int>, but n0.o0 is list<int?>',
  ]);
  assert.deepEqual(checkWorkflowTemplate(template([{ id: "n0", inputs: good, arrayNode: {} }], {}, wfIn), lookup), ["array node n0 has no node to map; give it a task, subworkflow or launch plan node"]);
  // Bindings only on the sub-node (the other form flytekit writes) count too; a launch plan maps the same way.
  const lp = { id: "n0", arrayNode: { node: { id: "n0", inputs: [bind("n", promise("", "xs"))], workflowNode: { launchplanRef: ref("square_lp", "LAUNCH_PLAN") } } } };
  assert.deepEqual(checkWorkflowTemplate(template([lp, taskNode("n1", "sum", [bind("xs", promise("n0", "o0"))], ["n0"])], {}, wfIn), lookup), []);
});

test("gate nodes: approve passes its input on, signal needs id, type and output name, sleep a positive duration", () => {
  const gate = (id: string, gateNode: JsonValue, inputs: JsonValue[] = [], up: string[] = []) => ({ id, inputs, upstreamNodeIds: up, gateNode });
  const ok = template([
    taskNode("n0", "square", [bind("n", promise("", "x"))]),
    gate("n1", { approve: { signalId: "ok" } }, [bind("o0", promise("n0", "o0"))], ["n0"]),
    taskNode("n2", "square", [bind("n", promise("n1", "o0"))], ["n1"]),
    gate("n3", { signal: { signalId: "more", type: INT, outputVariableName: "o0" } }),
    taskNode("n4", "square", [bind("n", promise("n3", "o0"))], ["n3"]),
    gate("n5", { sleep: { duration: "5s" } }),
  ]);
  assert.deepEqual(checkWorkflowTemplate(ok, lookup), []);
  const bad = template([
    gate("n1", { approve: { signalId: "" } }),
    gate("n3", { signal: { signalId: "more" } }),
    gate("n5", { sleep: { duration: "0s" } }),
    gate("n6", {}),
  ]);
  assert.deepEqual(checkWorkflowTemplate(bad, lookup), [
    "gate node n1 approves without a signalId; give it the name people approve it by",
    "gate node n1 approves nothing: it binds no input and has no upstream node; bind the output it should pass on once approved",
    'gate node n3 waits for signal "more" without a type; give the type of the value it waits for',
    'gate node n3 waits for signal "more" without an outputVariableName; name the output the value is passed on as (flytekit uses o0)',
    'gate node n5 sleeps for 0s; give it a duration above 0, e.g. "600s"',
    "gate node n6 has no condition; give it approve, signal or sleep",
  ]);
});

test("failure node: reference exists, reads only workflow inputs, err is fed, no edges, its own id", () => {
  const wfIn = { name: { type: { simple: "STRING" } } };
  const fn = (node: Record<string, JsonValue>) => ({ id: "fn0", inputs: [bind("name", promise("", "name"))], taskNode: { referenceId: ref("clean") }, ...node });
  const nodes = [taskNode("n0", "name", [bind("n", { scalar: { primitive: { integer: "1" } } })])];
  assert.deepEqual(checkWorkflowTemplate(template(nodes, { failureNode: fn({}) }, wfIn), lookup), []);
  assert.deepEqual(checkWorkflowTemplate(template(nodes, { failureNode: fn({ id: "n0" }) }, wfIn), lookup), ['failure node id "n0" is also the id of a node of the workflow; give it one of its own, e.g. fn0']);
  assert.deepEqual(checkWorkflowTemplate(template(nodes, { failureNode: fn({ upstreamNodeIds: ["n0"] }) }, wfIn), lookup), [
    "failure node fn0 lists upstream nodes n0, but it runs outside the graph, after a failure; remove them",
  ]);
  assert.deepEqual(checkWorkflowTemplate(template(nodes, { failureNode: fn({ inputs: [bind("name", promise("n0", "o0"))] }) }, wfIn), lookup), [
    'failure node fn0 input "name" reads node n0, but a failure node runs outside the graph and may read only the workflow\'s inputs; bind it to a workflow input',
  ]);
  assert.deepEqual(checkWorkflowTemplate(template(nodes, { failureNode: fn({ taskNode: { referenceId: ref("gone") } }) }, wfIn), lookup), ["failure node fn0 refers to task gone@v1, which does not exist"]);
  assert.deepEqual(checkWorkflowTemplate(template(nodes, { failureNode: fn({ inputs: [] }) }, wfIn), lookup), ['failure node fn0 does not bind its required input "name"']);
});

test("graph: nodes inside branches are not top-level, and a cycle through a branch is still reported", () => {
  const cyc = template([
    { ...branch({ case: ifX(taskNode("n0", "square", [bind("n", promise("", "x"))])), error: { message: "no" } }), upstreamNodeIds: ["n1"] },
    taskNode("n1", "square", [bind("n", promise("n0", "o0"))], ["n0"]),
  ]);
  assert.deepEqual(checkWorkflowTemplate(cyc, lookup), ["the nodes n0, n1 form a cycle"]);
});
