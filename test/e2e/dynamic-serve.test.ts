// Acceptance: dynamic workflows on `tsflyte serve`. The body runs in a worker, which writes futures.pb naming the
// registered tasks it called; the control plane runs that workflow as the node's children (a nested dynamic too), and
// recovering a failed execution reuses the generated workflow and re-runs only the child that failed.
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { Api, createExecutionBody, literal, registerProject, startServe, tempDir, type ServeProcess } from "../fixtures/server/harness.js";

const project = "flytesnacks";
const domain = "development";
const module = "test.fixtures.server.dynamic";

describe("dynamic workflows on tsflyte serve", () => {
  const work = tempDir("tsflyte-dynamic-");
  const storage = pathToFileURL(join(work.path, "data")).href;
  let server: ServeProcess;
  let api: Api;
  let version = "";

  before(async () => {
    server = await startServe(["--db", `sqlite:${join(work.path, "tsflyte.db")}`, "--storage", storage, "--workers", "2"], { TSFLYTE_HOME: join(work.path, "home") });
    api = new Api(server.url);
    version = (await registerProject(api, ["test/fixtures/server/dynamic.ts"])).version;
  });
  after(async () => {
    await server?.stop("SIGKILL");
    work.remove();
  });

  const nodesOf = async (name: string) => {
    const all: any[] = [];
    const pending = [""];
    while (pending.length) {
      const parent = pending.pop()!;
      const page = await api.ok("GET", `/api/v1/node_executions/${project}/${domain}/${name}?limit=1000${parent ? `&unique_parent_id=${parent}` : ""}`);
      for (const node of page.node_executions) {
        all.push(node);
        if (node.metadata?.is_parent_node) pending.push(node.id.node_id);
      }
    }
    return new Map(all.map((n) => [n.id.node_id, n]));
  };

  test("a dynamic body builds nodes from its inputs in a worker; a nested dynamic's children run under it", async () => {
    const created = await api.ok("POST", "/api/v1/executions", createExecutionBody(project, domain, { name: `${module}.growing`, version }, { n: literal.int(4) }));
    const name = created.id.name as string;
    const execution = await api.waitForExecution(project, domain, name);
    assert.equal(execution.closure.phase, "SUCCEEDED", JSON.stringify(execution.closure.error));
    const data = await api.ok("GET", `/api/v1/data/executions/${project}/${domain}/${name}`);
    assert.equal(data.full_outputs.literals.o0.scalar.primitive.integer, "18");
    const nodes = await nodesOf(name);
    // grow (n0) built perElement (n0-0-n0) and sum (n0-0-n1); perElement built four triples.
    assert.equal(nodes.get("n0")?.closure.phase, "SUCCEEDED");
    assert.deepEqual([...nodes.keys()].filter((id) => id.startsWith("n0-0-n0-0-")).sort(), ["n0-0-n0-0-n0", "n0-0-n0-0-n1", "n0-0-n0-0-n2", "n0-0-n0-0-n3"]);
    for (const [id, node] of nodes) assert.equal(node.closure.phase, "SUCCEEDED", id);
    const futures = fileURLToPath(`${storage}/metadata/${project}-${domain}-${name}/n0/data/0/futures.pb`);
    assert.ok(existsSync(futures), `the generated workflow is at ${futures}`);
  });

  test("recover reuses the generated workflow: the dynamic task does not run again, only its failed child does", async () => {
    const gate = join(work.path, "gate");
    const created = await api.ok("POST", "/api/v1/executions", createExecutionBody(project, domain, { name: `${module}.fanning`, version }, { n: literal.int(3), gate: literal.str(gate) }));
    const failed = await api.waitForExecution(project, domain, created.id.name);
    assert.equal(failed.closure.phase, "FAILED");
    assert.match(failed.closure.error.message, /item 1 waits for/);
    writeFileSync(gate, "");
    const recovered = await api.ok("POST", "/api/v1/executions/recover", { id: { project, domain, name: created.id.name } });
    const name = recovered.id.name as string;
    const done = await api.waitForExecution(project, domain, name);
    assert.equal(done.closure.phase, "SUCCEEDED", JSON.stringify(done.closure.error));
    const data = await api.ok("GET", `/api/v1/data/executions/${project}/${domain}/${name}`);
    assert.deepEqual(data.full_outputs.literals.o0.collection.literals.map((l: any) => l.scalar.primitive.integer), ["0", "10", "20"]);
    const nodes = await nodesOf(name);
    assert.deepEqual(
      ["n0-0-n0", "n0-0-n1", "n0-0-n2"].map((id) => nodes.get(id)?.closure.phase),
      ["RECOVERED", "SUCCEEDED", "RECOVERED"],
    );
    const attempts = await api.ok("GET", `/api/v1/task_executions/${project}/${domain}/${name}/n0`);
    assert.equal(attempts.task_executions.length, 0, "the dynamic task itself did not run again");
  });
});
