// Hand-written Flyte control-flow IR (branches, array nodes, gates, a failure node) decodes with the strict codecs,
// registers into a real `tsflyte serve`, gets a compiled closure with every nested reference, and draws. Needs dist/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { TaskCreateRequestSchema } from "../../../src/lib/idl/gen/flyteidl/admin/task_pb.js";
import { WorkflowCreateRequestSchema } from "../../../src/lib/idl/gen/flyteidl/admin/workflow_pb.js";
import { LaunchPlanCreateRequestSchema } from "../../../src/lib/idl/gen/flyteidl/admin/launch_plan_pb.js";
import { Api, startServe, tempDir, type ServeProcess } from "../../fixtures/server/harness.js";
import { LocalCli } from "../../fixtures/local/cli.js";

type Entity = { task: JsonValue } | { workflow: JsonValue } | { launchPlan: JsonValue };
const fixture = JSON.parse(readFileSync(new URL("../../fixtures/control-flow-ir/control-flow.json", import.meta.url), "utf8")) as { entities: Entity[] };

const work = tempDir("tsflyte-control-flow-ir-");
let server: ServeProcess;
let api: Api;
let cli: LocalCli;

before(async () => {
  server = await startServe(["--workers", "1"], { TSFLYTE_HOME: work.path });
  api = new Api(server.url);
  cli = new LocalCli("control-flow-ir", { TSFLYTE_ADMIN_ENDPOINT: server.url });
});

after(async () => {
  await server?.stop();
  cli?.cleanup();
  work.remove();
});

test("the strict codecs accept every entity of the fixture", () => {
  for (const entity of fixture.entities) {
    if ("task" in entity) fromJson(TaskCreateRequestSchema, entity.task);
    else if ("workflow" in entity) fromJson(WorkflowCreateRequestSchema, entity.workflow);
    else fromJson(LaunchPlanCreateRequestSchema, entity.launchPlan);
  }
  assert.equal(fixture.entities.length, 15);
});

test("every entity registers, and each workflow's closure holds what its nested nodes call", async () => {
  for (const entity of fixture.entities) {
    const [path, body] = "task" in entity ? ["tasks", entity.task] : "workflow" in entity ? ["workflows", entity.workflow] : ["launch_plans", entity.launchPlan];
    await api.ok("POST", `/api/v1/${path}`, body);
  }
  const closureOf = async (name: string) => (await api.ok("GET", `/api/v1/workflows/flytesnacks/development/cf.${name}/v1`)).closure.compiled_workflow;
  const taskNames = (closure: any) => closure.tasks.map((t: any) => t.template.id.name).sort();

  assert.deepEqual(taskNames(await closureOf("branchy")), ["cf.double", "cf.square"]);
  assert.deepEqual(taskNames(await closureOf("nested")), ["cf.double", "cf.square"]);
  assert.deepEqual(taskNames(await closureOf("mapped")), ["cf.report", "cf.scale"]);
  const lpMap = await closureOf("lp_map");
  assert.deepEqual(lpMap.launch_plans.map((l: any) => l.template.id.name), ["cf.square_lp"]);
  const subMap = await closureOf("sub_map");
  assert.deepEqual(subMap.sub_workflows.map((w: any) => w.template.id.name), ["cf.square_wf"]);
  const cleanup = await closureOf("with_cleanup");
  assert.deepEqual(taskNames(cleanup), ["cf.clean_up", "cf.create_cluster"]);
  // The failure node is outside the graph: no edge reaches it.
  assert.equal(cleanup.primary.connections.upstream.fn0, undefined);
  assert.deepEqual(cleanup.primary.connections.downstream["start-node"].ids, ["n0"]);
});

test("a branch without an else is refused by the server with the node named and what to do", async () => {
  const branchy = structuredClone((fixture.entities.find((e) => "workflow" in e && (e.workflow as any).id.name === "cf.branchy") as { workflow: any }).workflow);
  branchy.id.version = branchy.spec.template.id.version = "no-else";
  delete branchy.spec.template.nodes[0].branchNode.ifElse.error;
  const r = await api.request("POST", "/api/v1/workflows", branchy);
  assert.equal(r.status, 400, r.text);
  assert.match(r.text, /branch node n0 has no else; Flyte refuses a branch without one: add an elseNode, or an error to fail when no case holds/);
});

test("get workflow draws each of them as dot, doturl and svg", async () => {
  for (const name of ["branchy", "nested", "mapped", "lp_map", "sub_map", "gates", "with_cleanup"]) {
    const dot = await cli.run(["get", "workflow", `cf.${name}`, "--version", "v1", "-o", "dot"]);
    assert.equal(dot.code, 0, dot.stderr);
    assert.match(dot.stdout, new RegExp(`^strict digraph "cf\\.${name}" \\{`));
    const url = await cli.run(["get", "workflow", `cf.${name}`, "--version", "v1", "-o", "doturl"]);
    assert.equal(url.code, 0, url.stderr);
    assert.ok(url.stdout.startsWith("http://graph.flyte.org/#strict%20digraph"), url.stdout);
    const svg = await cli.run(["get", "workflow", `cf.${name}`, "--version", "v1", "-o", "svg"]);
    assert.equal(svg.code, 0, svg.stderr);
    assert.match(svg.stdout, /<svg/);
  }
  const cleanup = await cli.run(["get", "workflow", "cf.with_cleanup", "--version", "v1", "-o", "dot"]);
  assert.match(cleanup.stdout, /"fn0" \[label="clean_up \[python-task\]", shape=box, color=red\];/);
  assert.match(cleanup.stdout, /"start-node" -> "fn0" \[label="on failure", style=dashed, color=red\];/);
});
