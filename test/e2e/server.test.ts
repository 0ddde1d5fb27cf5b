// Acceptance: `tsflyte serve` on SQLite and on a real PostgreSQL runs registered workflows through warm workers to
// success and to failure, survives `kill -9` mid-execution without losing or re-running finished nodes, and checks auth.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { startPostgres } from "../support/postgres.js";
import { Api, createExecutionBody, literal, registerProject, startServe, tempDir, type ServeProcess } from "../fixtures/server/harness.js";

const flows = "test/fixtures/server/flows.ts";
const project = "flytesnacks";
const domain = "development";

interface Backend {
  name: string;
  db: () => Promise<{ url: string; stop: () => Promise<void> }>;
  /** PostgreSQL: a short lease, so that a restarted server takes over the executions of the killed one soon. */
  args: string[];
}

const backends: Backend[] = [
  {
    name: "SQLite",
    db: async () => {
      const dir = tempDir("tsflyte-serve-sqlite-");
      return { url: `sqlite:${join(dir.path, "tsflyte.db")}`, stop: async () => dir.remove() };
    },
    args: [],
  },
  { name: "PostgreSQL", db: () => startPostgres(), args: ["--lease", "3s"] },
];

for (const backend of backends) {
  describe(`tsflyte serve on ${backend.name}`, () => {
    const work = tempDir("tsflyte-serve-");
    const storage = pathToFileURL(join(work.path, "data")).href;
    let db: { url: string; stop: () => Promise<void> };
    let server: ServeProcess;
    let api: Api;
    let version = "";

    const serveArgs = () => ["--db", db.url, "--storage", storage, "--workers", "2", ...backend.args];
    const launch = (name: string) => ({ name, version });

    before(async () => {
      db = await backend.db();
      server = await startServe(serveArgs(), { TSFLYTE_HOME: join(work.path, "home") });
      api = new Api(server.url);
      version = (await registerProject(api, [flows])).version;
    });
    after(async () => {
      await server?.stop("SIGKILL");
      await db?.stop();
      work.remove();
    });

    test("a registered workflow runs to success in a worker, with outputs, nodes, attempts and logs", async () => {
      const created = await api.ok("POST", "/api/v1/executions", createExecutionBody(project, domain, launch("test.fixtures.server.flows.doubled"), { x: literal.int(21) }));
      const name = created.id.name as string;
      const execution = await api.waitForExecution(project, domain, name);
      assert.equal(execution.closure.phase, "SUCCEEDED", JSON.stringify(execution.closure.error));
      const data = await api.ok("GET", `/api/v1/data/executions/${project}/${domain}/${name}`);
      assert.equal(data.full_outputs.literals.o0.scalar.primitive.string_value, "result: 42");
      assert.equal(data.full_inputs.literals.label.scalar.primitive.string_value, "result", "the default input was filled in");
      const nodes = await api.ok("GET", `/api/v1/node_executions/${project}/${domain}/${name}`);
      const ids = nodes.node_executions.map((n: any) => n.id.node_id).sort();
      assert.deepEqual(ids, ["n0", "n1"]);
      for (const node of nodes.node_executions) assert.equal(node.closure.phase, "SUCCEEDED");
      const attempts = await api.ok("GET", `/api/v1/task_executions/${project}/${domain}/${name}/n0`);
      assert.equal(attempts.task_executions.length, 1);
      const attempt = attempts.task_executions[0];
      assert.equal(attempt.closure.phase, "SUCCEEDED");
      const link = attempt.closure.logs[0].uri as string;
      const logs = await fetch(link);
      assert.equal(logs.status, 200);
      assert.match(await logs.text(), /doubling 21/);
    });

    test("an execution's envs reach its worker, its files go under its raw output prefix, and the rest of its spec is kept", async () => {
      const out = tempDir("tsflyte-serve-env-");
      try {
        const raw = `${storage}/team-raw`;
        const names = ["REGION", "LOG_LEVEL"].map((n) => literal.str(n));
        const created = await api.ok("POST", "/api/v1/executions", {
          project,
          domain,
          spec: {
            launchPlan: { resourceType: "TASK", project, domain, name: "test.fixtures.server.flows.environment", version },
            envs: { values: [{ key: "REGION", value: "eu-west-1" }] },
            rawOutputDataConfig: { outputLocationPrefix: raw },
            labels: { values: { team: "reports" } },
            securityContext: { runAs: { k8sServiceAccount: "reports-runner" } },
          },
          inputs: { literals: { names: { collection: { literals: names } }, dir: literal.str(out.path) } },
        });
        const name = created.id.name as string;
        const execution = await api.waitForExecution(project, domain, name);
        assert.equal(execution.closure.phase, "SUCCEEDED", JSON.stringify(execution.closure.error));
        const data = await api.ok("GET", `/api/v1/data/executions/${project}/${domain}/${name}`);
        const uri = data.full_outputs.literals.o0.scalar.blob.uri as string;
        assert.ok(uri.startsWith(`${raw}/${project}-${domain}-${name}/n0/0/`), uri);
        assert.deepEqual(JSON.parse(readFileSync(fileURLToPath(uri), "utf8")), { REGION: "eu-west-1", LOG_LEVEL: null });
        // Kept and shown; this server runs tasks as its own user, whatever service account is named.
        assert.deepEqual(execution.spec.labels, { values: { team: "reports" } });
        assert.equal(execution.spec.security_context.run_as.k8s_service_account, "reports-runner");
        assert.equal(execution.spec.raw_output_data_config.output_location_prefix, raw);
      } finally {
        out.remove();
      }
    });

    test("a task's NonRetryableError fails the execution once, with the user's message", async () => {
      const created = await api.ok("POST", "/api/v1/executions", createExecutionBody(project, domain, launch("test.fixtures.server.flows.refusing"), { why: literal.str("no budget") }));
      const name = created.id.name as string;
      const execution = await api.waitForExecution(project, domain, name);
      assert.equal(execution.closure.phase, "FAILED");
      assert.equal(execution.closure.error.kind, "USER");
      assert.match(execution.closure.error.message, /refused: no budget/);
      const attempts = await api.ok("GET", `/api/v1/task_executions/${project}/${domain}/${name}/n0`);
      assert.equal(attempts.task_executions.length, 1, "a NonRetryableError is not retried");
    });

    test("kill -9 mid-execution: the restarted server resumes it, finished nodes are not re-run, the lost attempt is retried", async () => {
      const ledger = join(work.path, `ledger-${backend.name}.txt`);
      writeFileSync(ledger, "");
      const created = await api.ok(
        "POST",
        "/api/v1/executions",
        createExecutionBody(project, domain, launch("test.fixtures.server.flows.sleepy"), { ms: literal.int(4000), ledger: literal.str(ledger) }),
      );
      const name = created.id.name as string;
      // Wait until the slow node's task is running in a worker.
      const deadline = Date.now() + 30_000;
      while (!readFileSync(ledger, "utf8").includes("nap start 2")) {
        assert.ok(Date.now() < deadline, `the slow node never started:\n${server.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await server.stop("SIGKILL");
      server = await startServe(serveArgs(), { TSFLYTE_HOME: join(work.path, "home") });
      api = new Api(server.url);
      // SQLite: this server is the only one, so it resumes at once. PostgreSQL: once the killed server's lease ran out.
      if (backend.name === "SQLite") assert.match(server.output(), /resumed 1 unfinished execution/);
      const execution = await api.waitForExecution(project, domain, name);
      if (backend.name === "PostgreSQL") assert.match(server.output(), new RegExp(`took over execution ${project}/${domain}/${name} from .* whose lease ran out`));
      assert.equal(execution.closure.phase, "SUCCEEDED", JSON.stringify(execution.closure.error));
      const lines = readFileSync(ledger, "utf8").trim().split("\n");
      assert.deepEqual(lines.filter((l) => l.startsWith("double")), ["double 1"], "the finished node ran once");
      assert.equal(lines.filter((l) => l === "nap start 2").length, 2, "the interrupted node ran again");
      const attempts = await api.ok("GET", `/api/v1/task_executions/${project}/${domain}/${name}/n1`);
      const phases = attempts.task_executions.map((a: any) => a.closure.phase);
      assert.deepEqual(phases, ["RETRYABLE_FAILED", "SUCCEEDED"]);
      assert.equal(attempts.task_executions[0].closure.error.kind, "SYSTEM");
      assert.equal(attempts.task_executions[0].closure.error.code, "WorkerLost");
      const data = await api.ok("GET", `/api/v1/data/executions/${project}/${domain}/${name}`);
      assert.equal(data.full_outputs.literals.o0.scalar.primitive.integer, "3");
    });

    test("recover reuses the finished node and runs the failed one with the gate open; relaunch runs everything again", async () => {
      const ledger = join(work.path, `ledger-recover-${backend.name}.txt`);
      const gate = join(work.path, `gate-${backend.name}`);
      writeFileSync(ledger, "");
      const inputs = { x: literal.int(4), gate: literal.str(gate), ledger: literal.str(ledger) };
      const created = await api.ok("POST", "/api/v1/executions", createExecutionBody(project, domain, launch("test.fixtures.server.flows.gated"), inputs));
      const failed = await api.waitForExecution(project, domain, created.id.name);
      assert.equal(failed.closure.phase, "FAILED");
      assert.match(failed.closure.error.message, /the gate .* is closed/);
      writeFileSync(gate, "open");
      const recovered = await api.ok("POST", "/api/v1/executions/recover", { id: { project, domain, name: created.id.name } });
      const done = await api.waitForExecution(project, domain, recovered.id.name);
      assert.equal(done.closure.phase, "SUCCEEDED", JSON.stringify(done.closure.error));
      const nodes = await api.ok("GET", `/api/v1/node_executions/${project}/${domain}/${recovered.id.name}`);
      const phases = Object.fromEntries(nodes.node_executions.map((n: any) => [n.id.node_id, n.closure.phase]));
      assert.deepEqual(phases, { n0: "RECOVERED", n1: "SUCCEEDED" });
      const data = await api.ok("GET", `/api/v1/data/executions/${project}/${domain}/${recovered.id.name}`);
      assert.equal(data.full_outputs.literals.o0.scalar.primitive.integer, "108");
      assert.deepEqual(readFileSync(ledger, "utf8").trim().split("\n"), ["double 4"], "recover did not run the finished node again");

      const relaunched = await api.ok("POST", "/api/v1/executions/relaunch", { id: { project, domain, name: created.id.name } });
      assert.equal((await api.waitForExecution(project, domain, relaunched.id.name)).closure.phase, "SUCCEEDED");
      assert.deepEqual(readFileSync(ledger, "utf8").trim().split("\n"), ["double 4", "double 4"], "relaunch ran everything again");
    });

    test("a task runs on its own as an execution", async () => {
      const body = createExecutionBody(project, domain, launch("test.fixtures.server.flows.double"), { x: literal.int(5), ledger: literal.str("") }) as any;
      body.spec.launchPlan.resourceType = "TASK";
      const created = await api.ok("POST", "/api/v1/executions", body);
      const execution = await api.waitForExecution(project, domain, created.id.name);
      assert.equal(execution.closure.phase, "SUCCEEDED", JSON.stringify(execution.closure.error));
      const data = await api.ok("GET", `/api/v1/data/executions/${project}/${domain}/${created.id.name}`);
      assert.equal(data.full_outputs.literals.o0.scalar.primitive.integer, "10");
    });

    test("terminate with a cause ends a running execution ABORTED and records the cause", async () => {
      const ledger = join(work.path, `ledger-abort-${backend.name}.txt`);
      writeFileSync(ledger, "");
      const created = await api.ok(
        "POST",
        "/api/v1/executions",
        createExecutionBody(project, domain, launch("test.fixtures.server.flows.sleepy"), { ms: literal.int(60_000), ledger: literal.str(ledger) }),
      );
      const name = created.id.name as string;
      const deadline = Date.now() + 30_000;
      while (!readFileSync(ledger, "utf8").includes("nap start")) {
        assert.ok(Date.now() < deadline, "the slow node never started");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await api.ok("DELETE", `/api/v1/executions/${project}/${domain}/${name}`, { cause: "wrong inputs" });
      const execution = await api.waitForExecution(project, domain, name, 10_000);
      assert.equal(execution.closure.phase, "ABORTED");
      assert.equal(execution.closure.abort_metadata.cause, "wrong inputs");
    });
  });
}

describe("tsflyte serve with --auth-token-file", () => {
  const work = tempDir("tsflyte-serve-auth-");
  const token = "s3cr3t-t0ken-for-the-e2e-test";
  let server: ServeProcess;

  before(async () => {
    const tokenFile = join(work.path, "token");
    writeFileSync(tokenFile, `${token}\n`);
    server = await startServe(["--db", `sqlite:${join(work.path, "db.sqlite")}`, "--storage", pathToFileURL(join(work.path, "data")).href, "--auth-token-file", tokenFile]);
  });
  after(async () => {
    await server?.stop();
    work.remove();
  });

  test("requests without the bearer token get 401; with it they are answered; the token is never printed", async () => {
    const anonymous = await new Api(server.url).request("GET", "/api/v1/projects");
    assert.equal(anonymous.status, 401);
    const wrong = await new Api(server.url, "not-the-token-at-all").request("GET", "/api/v1/projects");
    assert.equal(wrong.status, 401);
    assert.ok(!wrong.text.includes("not-the-token-at-all"));
    const projects = await new Api(server.url, token).ok("GET", "/api/v1/projects");
    assert.ok(projects.projects.some((p: any) => p.id === "flytesnacks"));
    await server.stop();
    assert.ok(!server.output().includes(token), "the token appears in the server's output");
  });
});
