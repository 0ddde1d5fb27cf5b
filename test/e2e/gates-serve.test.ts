// Acceptance: gates on `tsflyte serve` (SQLite and a real PostgreSQL). The signal API as FlyteAdmin's SignalService
// answers it — list, set, a value of the wrong type (400 naming the signal and both types), set twice — a gate's timeout
// and a sleep; then the built CLI as a user drives it: get signal, signal with a bad value then a good one, approve, and
// an execution that waits through a restart of the server.
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { startPostgres } from "../support/postgres.js";
import { assertExit, LocalCli } from "../fixtures/local/cli.js";
import { Api, createExecutionBody, literal, registerProject, startServe, tempDir, type ServeProcess } from "../fixtures/server/harness.js";

const flows = "test/fixtures/server/gate-flows.ts";
const wf = (name: string) => `test.fixtures.server.gate-flows.${name}`;
const project = "flytesnacks";
const domain = "development";

interface SignalJson {
  id: { execution_id: { name: string }; signal_id: string };
  type: { simple?: string };
  value: { scalar?: { primitive?: Record<string, unknown> } } | null;
}

/** Polls the signal list until `signalId` is there (its gate waits), and returns the list. */
async function waitForSignal(api: Api, name: string, signalId: string): Promise<SignalJson[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const list = await api.ok("GET", `/api/v1/signals/${project}/${domain}/${name}`);
    if ((list.signals as SignalJson[]).some((s) => s.id.signal_id === signalId)) return list.signals;
    assert.ok(Date.now() < deadline, `signal ${signalId} of ${name} never appeared`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const bool = (v: boolean) => ({ scalar: { primitive: { boolean: v } } });
const setBody = (name: string, signalId: string, value: unknown) => ({ id: { executionId: { project, domain, name }, signalId }, value });

const backends = [
  {
    name: "SQLite",
    db: async () => {
      const dir = tempDir("tsflyte-gates-sqlite-");
      return { url: `sqlite:${join(dir.path, "tsflyte.db")}`, stop: async () => dir.remove() };
    },
  },
  { name: "PostgreSQL", db: () => startPostgres() },
];

for (const backend of backends) {
  describe(`the signal API of tsflyte serve on ${backend.name}`, () => {
    const work = tempDir("tsflyte-gates-serve-");
    let db: { url: string; stop: () => Promise<void> };
    let server: ServeProcess;
    let api: Api;
    let version = "";
    const launch = (name: string) => ({ name: wf(name), version });

    before(async () => {
      db = await backend.db();
      server = await startServe(["--db", db.url, "--storage", pathToFileURL(join(work.path, "data")).href, "--workers", "2"], { TSFLYTE_HOME: join(work.path, "home") });
      api = new Api(server.url);
      version = (await registerProject(api, [flows])).version;
    });
    after(async () => {
      await server?.stop("SIGKILL");
      await db?.stop();
      work.remove();
    });

    test("a waiting gate's signal is listed without a value; set with the right types, the execution goes on and succeeds", async () => {
      const created = await api.ok("POST", "/api/v1/executions", createExecutionBody(project, domain, launch("release"), { epochs: literal.int(2) }));
      const name = created.id.name as string;
      const signals = await waitForSignal(api, name, "batch-size");
      const batch = signals.find((s) => s.id.signal_id === "batch-size")!;
      assert.equal(batch.type.simple, "INTEGER");
      assert.equal(batch.value, null);
      assert.equal(batch.id.execution_id.name, name);
      const execution = await api.ok("GET", `/api/v1/executions/${project}/${domain}/${name}`);
      assert.equal(execution.closure.phase, "RUNNING");

      // The wrong type: 400, naming the signal and both types, and nothing is set.
      const wrong = await api.request("POST", "/api/v1/signals", setBody(name, "batch-size", literal.str("lots")));
      assert.equal(wrong.status, 400, wrong.text);
      assert.match(wrong.json.message, /signal "batch-size": expected int, got string "lots"; signal "batch-size" takes int/);
      // No such signal: 404.
      const missing = await api.request("POST", "/api/v1/signals", setBody(name, "no-such-signal", literal.int(1)));
      assert.equal(missing.status, 404, missing.text);
      assert.match(missing.json.message, /no signal "no-such-signal"/);

      await api.ok("POST", "/api/v1/signals", setBody(name, "batch-size", literal.int(32)));
      // The same value again is fine; another value is refused.
      await api.ok("POST", "/api/v1/signals", setBody(name, "batch-size", literal.int(32)));
      const again = await api.request("POST", "/api/v1/signals", setBody(name, "batch-size", literal.int(64)));
      assert.equal(again.status, 409, again.text);
      assert.match(again.json.message, /already set to int 32/);

      await waitForSignal(api, name, "deploy-ok");
      await api.ok("POST", "/api/v1/signals", setBody(name, "deploy-ok", bool(true)));
      const done = await api.waitForExecution(project, domain, name);
      assert.equal(done.closure.phase, "SUCCEEDED", JSON.stringify(done.closure.error));
      const data = await api.ok("GET", `/api/v1/data/executions/${project}/${domain}/${name}`);
      assert.equal(data.full_outputs.literals.o0.scalar.primitive.string_value, "model-e2 x32");
      const listed = await api.ok("GET", `/api/v1/signals/${project}/${domain}/${name}?limit=1`);
      assert.equal(listed.signals.length, 1);
      assert.equal(listed.signals[0].id.signal_id, "batch-size");
      assert.equal(listed.signals[0].value.scalar.primitive.integer, "32");
      const next = await api.ok("GET", `/api/v1/signals/${project}/${domain}/${name}?limit=1&token=${listed.token}`);
      assert.deepEqual(next.signals.map((s: SignalJson) => [s.id.signal_id, s.value?.scalar?.primitive?.boolean]), [["deploy-ok", true]]);
      assert.equal(next.token, "");
      // A finished execution's signals are not set any more.
      const late = await api.request("POST", "/api/v1/signals", setBody(name, "deploy-ok", bool(true)));
      assert.equal(late.status, 400, late.text);
      assert.match(late.json.message, /has ended \(SUCCEEDED\)/);
    });

    test("a rejected approval fails the execution; the gate node says it was rejected", async () => {
      const created = await api.ok("POST", "/api/v1/executions", createExecutionBody(project, domain, launch("release"), { epochs: literal.int(1) }));
      const name = created.id.name as string;
      await waitForSignal(api, name, "deploy-ok");
      await api.ok("POST", "/api/v1/signals", setBody(name, "deploy-ok", bool(false)));
      const done = await api.waitForExecution(project, domain, name);
      assert.equal(done.closure.phase, "FAILED");
      assert.match(done.closure.error.message, /approve "deploy-ok" was rejected/);
    });

    test("a gate's timeout fails its node TIMED_OUT with the gate and the timeout in the message", async () => {
      const created = await api.ok("POST", "/api/v1/executions", createExecutionBody(project, domain, launch("hurried"), { epochs: literal.int(1) }));
      const name = created.id.name as string;
      const done = await api.waitForExecution(project, domain, name);
      assert.equal(done.closure.phase, "FAILED");
      const nodes = await api.ok("GET", `/api/v1/node_executions/${project}/${domain}/${name}`);
      const gate = nodes.node_executions.find((n: any) => n.id.node_id === "n1");
      assert.equal(gate.closure.phase, "TIMED_OUT");
      assert.match(gate.closure.error.message, /approve "quick-ok" did not get an approval within its timeout of 1s/);
    });

    test("a sleep holds the node after it for its duration", async () => {
      const created = await api.ok("POST", "/api/v1/executions", createExecutionBody(project, domain, launch("nap"), {}));
      const name = created.id.name as string;
      const done = await api.waitForExecution(project, domain, name);
      assert.equal(done.closure.phase, "SUCCEEDED", JSON.stringify(done.closure.error));
      const nodes = await api.ok("GET", `/api/v1/node_executions/${project}/${domain}/${name}`);
      const sleepNode = nodes.node_executions.find((n: any) => n.id.node_id === "n1");
      assert.equal(sleepNode.closure.phase, "SUCCEEDED");
      const stamped = Number((await api.ok("GET", `/api/v1/data/executions/${project}/${domain}/${name}`)).full_outputs.literals.o0.scalar.primitive.integer);
      assert.ok(stamped - Date.parse(sleepNode.closure.started_at) >= 990, "the task ran after the sleep");
    });
  });
}

describe("the gate commands of the CLI against tsflyte serve", () => {
  let server: ServeProcess;
  let cli: LocalCli;
  let scratch: LocalCli;
  let serverHome = "";
  let api: Api;
  let version = "";

  const restart = async () => {
    server = await startServe(["--workers", "2"], { TSFLYTE_HOME: serverHome });
    api = new Api(server.url);
    cli = new LocalCli("gates-cli", { TSFLYTE_ADMIN_ENDPOINT: server.url });
  };

  before(async () => {
    scratch = new LocalCli("gates-server");
    serverHome = scratch.tempDir("tsflyte-gates-serve-home-");
    await restart();
    version = (await registerProject(api, [flows])).version;
  });
  after(async () => {
    await server?.stop("SIGKILL");
    cli?.cleanup();
    scratch?.cleanup();
  });

  test("get signal shows what waits; signal refuses a bad value with the input rules and takes a good one; approve lets it finish, across a server restart", async () => {
    const created = await api.ok("POST", "/api/v1/executions", createExecutionBody(project, domain, { name: wf("release"), version }, { epochs: literal.int(5) }));
    const name = created.id.name as string;
    await waitForSignal(api, name, "batch-size");
    await waitForSignal(api, name, "deploy-ok");

    const table = await cli.run(["get", "signal", name]);
    assertExit(table, 0);
    const lines = table.stdout.trim().split("\n");
    assert.match(lines[0], /^SIGNAL\s+TYPE\s+VALUE$/);
    assert.match(table.stdout, /batch-size\s+int\s+waiting/);
    assert.match(table.stdout, /deploy-ok\s+boolean\s+waiting/);
    const json = await cli.json<{ signalId: string; type: string; state: string }[]>(["get", "signal", name, "-o", "json"]);
    assert.deepEqual(json.map((s) => [s.signalId, s.type, s.state]), [["batch-size", "int", "waiting"], ["deploy-ok", "boolean", "waiting"]]);

    // The server stops while both gates wait; the execution waits on, from the store.
    await server.stop("SIGKILL");
    await restart();
    assert.match(server.output(), /resumed 1 unfinished execution/);

    const bad = await cli.run(["signal", name, "batch-size", "lots"]);
    assertExit(bad, 2);
    assert.match(bad.stderr, /signal "batch-size": expected int, got 'lots'; not a whole number/);
    const unknown = await cli.run(["signal", name, "batch-sise", "3"]);
    assertExit(unknown, 3);
    assert.match(unknown.stderr, /has no signal "batch-sise"; its signals are "batch-size", "deploy-ok"/);
    const good = await cli.run(["signal", name, "batch-size", "16"]);
    assertExit(good, 0);
    assert.match(good.stdout, new RegExp(`Set signal "batch-size" of execution ${name} to 16 \\(int\\)`));
    const notApproval = await cli.run(["approve", name, "batch-size"]);
    assertExit(notApproval, 2);
    assert.match(notApproval.stderr, /takes int, so it is not an approval/);

    const approved = await cli.run(["approve", name, "deploy-ok"]);
    assertExit(approved, 0);
    assert.match(approved.stdout, new RegExp(`Approved "deploy-ok" of execution ${name}`));
    const done = await api.waitForExecution(project, domain, name);
    assert.equal(done.closure.phase, "SUCCEEDED", JSON.stringify(done.closure.error));
    const data = await api.ok("GET", `/api/v1/data/executions/${project}/${domain}/${name}`);
    assert.equal(data.full_outputs.literals.o0.scalar.primitive.string_value, "model-e5 x16");
    const yaml = await cli.yaml<{ signalId: string; value: unknown; state: string }[]>(["get", "signal", name, "-o", "yaml"]);
    assert.deepEqual(yaml.map((s) => [s.signalId, s.value, s.state]), [["batch-size", 16, "set"], ["deploy-ok", true, "set"]]);
    const twice = await cli.run(["signal", name, "batch-size", "17"]);
    assertExit(twice, 2);
    assert.match(twice.stderr, /has ended \(SUCCEEDED\)/);
  });
});
