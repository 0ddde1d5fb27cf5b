// Acceptance: `tsflyte demo start|status|teardown` run a real control plane in the background, find it again,
// count what it ran, stop only the process they started and keep its data unless told. Drives the built CLI; never the real home.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { LocalCli, assertExit } from "../fixtures/local/cli.js";
import { Api, createExecutionBody, literal, registerProject } from "../fixtures/server/harness.js";

const cli = new LocalCli("demo");
const demoDir = join(cli.home, "demo");
const recordFile = join(demoDir, "demo.json");
const project = "flytesnacks";
const domain = "development";

/** What `demo status -o json` prints: its keys are the contract. */
interface StatusJson {
  running: boolean;
  healthy: boolean;
  url: string | null;
  pid: number | null;
  startedAt: string | null;
  dataDir: string;
  configFile: string | null;
  logFile: string;
  project: string;
  domain: string;
  executions: Record<string, number> | null;
  entities: { tasks: number; workflows: number; launchPlans: number } | null;
  problem: string | null;
}

interface DemoRecordJson {
  pid: number;
  procStartTime: number | null;
  url: string;
  port: number;
  startedAt: string;
}

const statusKeys = ["configFile", "dataDir", "domain", "entities", "executions", "healthy", "logFile", "pid", "problem", "project", "running", "startedAt", "url"];

after(() => {
  // A failed test may leave a demo running: end it (and its workers) by the pid it recorded.
  if (existsSync(recordFile)) {
    const { pid } = JSON.parse(readFileSync(recordFile, "utf8")) as DemoRecordJson;
    if (pid > 0 && processExists(pid)) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
  cli.cleanup();
});

function processExists(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "latin1");
    const fields = state.slice(state.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return false;
  } catch {
    // No /proc: the kernel decides below.
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** Whether any process is left in the process group the demo server led: its task workers too. */
function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function readRecord(): DemoRecordJson {
  return JSON.parse(readFileSync(recordFile, "utf8")) as DemoRecordJson;
}

async function status(code: number, ...more: string[]): Promise<StatusJson> {
  const result = await cli.json<StatusJson>(["demo", "status", "-o", "json", ...more], code);
  assert.deepEqual(Object.keys(result).sort(), statusKeys, "the JSON of demo status keeps the same keys");
  return result;
}

describe("tsflyte demo", () => {
  test("start, status with counts, start again, teardown keeping data, start again, teardown --delete-data", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;

    const started = await cli.run(["demo", "start", "--port", String(port)]);
    assertExit(started, 0);
    const configFile = join(demoDir, "config.yaml");
    const lines = started.stdout.trimEnd().split("\n");
    assert.equal(lines[lines.length - 1], `export FLYTECTL_CONFIG=${configFile}`, "the export line is the last line");
    assert.match(started.stdout, new RegExp(`started at ${url} \\(pid \\d+\\)`));
    const first = readRecord();
    assert.equal(first.url, url);
    assert.equal(first.port, port);
    assert.ok(processExists(first.pid), "the server runs after `demo start` has exited");
    assert.equal((await fetch(`${url}/healthcheck`)).status, 200);
    assert.deepEqual(parseYaml(readFileSync(configFile, "utf8")), {
      admin: { endpoint: `dns:///127.0.0.1:${port}`, insecure: true },
      task: { project, domain },
    });
    assert.match(readFileSync(join(demoDir, "server.log"), "utf8"), new RegExp(`tsflyte serve listening on ${url}`));

    const empty = await status(0);
    assert.equal(empty.running, true);
    assert.equal(empty.healthy, true);
    assert.equal(empty.url, url);
    assert.equal(empty.pid, first.pid);
    assert.equal(empty.dataDir, demoDir);
    assert.equal(empty.problem, null);
    assert.deepEqual(empty.entities, { tasks: 0, workflows: 0, launchPlans: 0 });
    assert.equal(Object.values(empty.executions ?? { x: 1 }).reduce((a, b) => a + b, 0), 0);

    // One execution through the demo, then the counts show it.
    const api = new Api(url);
    const compiled = await registerProject(api, ["test/fixtures/server/flows.ts"], project, domain);
    const plan = compiled.launchPlans.find((l) => l.name.endsWith(".doubled"));
    assert.ok(plan, "flows.ts has a doubled workflow");
    const created = await api.ok("POST", "/api/v1/executions", createExecutionBody(project, domain, { name: plan.name, version: compiled.version }, { x: literal.int(2) }));
    const done = await api.waitForExecution(project, domain, created.id.name as string);
    assert.equal(done.closure.phase, "SUCCEEDED", JSON.stringify(done.closure.error));

    const counted = await cli.json<StatusJson>(["demo", "status", "--json"]);
    assert.equal(counted.executions?.SUCCEEDED, 1);
    assert.deepEqual(counted.entities, { tasks: compiled.tasks.length, workflows: compiled.workflows.length, launchPlans: compiled.launchPlans.length });
    const table = await cli.run(["demo", "status"]);
    assertExit(table, 0);
    assert.match(table.stdout, new RegExp(`running at ${url}`));
    assert.match(table.stdout, /executions in flytesnacks\/development: 1 \(SUCCEEDED 1\)/);

    const again = await cli.run(["demo", "start", "--port", String(port)]);
    assertExit(again, 0);
    assert.match(again.stdout, new RegExp(`already running at ${url} \\(pid ${first.pid},`));
    assert.equal(readRecord().pid, first.pid, "a second start leaves the running demo alone");
    const againJson = await cli.json<{ started: boolean; pid: number; url: string; exportLine: string }>(["demo", "start", "--port", String(port), "--json"]);
    assert.deepEqual(
      { started: againJson.started, pid: againJson.pid, url: againJson.url, exportLine: againJson.exportLine },
      { started: false, pid: first.pid, url, exportLine: `export FLYTECTL_CONFIG=${configFile}` },
    );

    const stopped = await cli.json<{ stopped: boolean; pid: number; killed: boolean; dataDeleted: boolean }>(["demo", "teardown", "--json"]);
    assert.deepEqual({ stopped: stopped.stopped, pid: stopped.pid, killed: stopped.killed, dataDeleted: stopped.dataDeleted }, { stopped: true, pid: first.pid, killed: false, dataDeleted: false });
    assert.equal(processExists(first.pid), false, "the server is gone");
    await waitFor(() => !groupExists(first.pid), "the server's task workers to exit with it");
    assert.equal(existsSync(recordFile), false);
    assert.ok(existsSync(join(demoDir, "tsflyte.db")), "teardown keeps the data");
    const down = await status(3);
    assert.equal(down.running, false);
    assert.equal(down.url, null);
    const downText = await cli.run(["demo", "status"]);
    assertExit(downText, 3);
    assert.match(downText.stdout, /not running[\s\S]*tsflyte demo start/);

    const restarted = await cli.run(["demo", "start", "--port", String(port)]);
    assertExit(restarted, 0);
    const second = readRecord();
    assert.notEqual(second.pid, first.pid);
    assert.equal((await status(0)).executions?.SUCCEEDED, 1, "the restarted demo has the earlier execution");

    const deleted = await cli.run(["demo", "teardown", "--delete-data"]);
    assertExit(deleted, 0);
    assert.match(deleted.stdout, new RegExp(`stopped the tsflyte demo at ${url} \\(pid ${second.pid}\\)`));
    assert.equal(processExists(second.pid), false);
    assert.equal(existsSync(demoDir), false, "--delete-data removes the demo folder");

    const nothing = await cli.run(["demo", "teardown"]);
    assertExit(nothing, 0);
    assert.match(nothing.stdout, /no tsflyte demo is running/);
  });

  test("a demo.json whose process is gone, or whose pid now belongs to another process, is stale: nothing is signalled", async () => {
    mkdirSync(demoDir, { recursive: true });
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
    assert.ok(dead && !processExists(dead));
    const record = (pid: number, procStartTime: number | null) =>
      writeFileSync(recordFile, JSON.stringify({ pid, procStartTime, url: "http://127.0.0.1:1", port: 1, startedAt: new Date().toISOString() }));

    record(dead, 12345);
    const gone = await status(3);
    assert.equal(gone.running, false);
    assert.match(gone.problem ?? "", new RegExp(`pid ${dead}\\) is no longer running`));
    const cleared = await cli.run(["demo", "teardown"]);
    assertExit(cleared, 0);
    assert.match(cleared.stdout, /removed the record of one that stopped/);
    assert.equal(existsSync(recordFile), false);

    // This test process's own pid with another start time: a reused pid, which must never be signalled.
    if (process.platform === "linux") {
      record(process.pid, 1);
      assert.equal((await status(3)).running, false);
      assertExit(await cli.run(["demo", "teardown"]), 0);
      assert.equal(existsSync(recordFile), false);
    }

    // A stale record does not stop a new start.
    record(dead, 12345);
    const port = await freePort();
    const started = await cli.run(["demo", "start", "--port", String(port)]);
    assertExit(started, 0);
    assert.match(started.stdout, /record of an earlier demo that is no longer running was removed/);
    assertExit(await cli.run(["demo", "teardown", "--delete-data"]), 0);
  });

  test("a running pid whose start time is not recorded cannot be proven the demo: teardown signals nothing and says what to do", async () => {
    mkdirSync(demoDir, { recursive: true });
    // A process that is surely not the demo, holding the recorded pid as a reused pid would.
    const bystander = spawn("sleep", ["120"], { stdio: "ignore" });
    const pid = bystander.pid!;
    try {
      writeFileSync(recordFile, JSON.stringify({ pid, procStartTime: null, url: "http://127.0.0.1:1", port: 1, startedAt: new Date().toISOString() }));
      for (const args of [["demo", "teardown"], ["demo", "teardown", "--delete-data"]]) {
        const refused = await cli.run(args);
        assertExit(refused, 2);
        assert.match(refused.stderr, new RegExp(`a process with pid ${pid} runs, but .*demo\\.json records no start time for it, so tsflyte cannot prove it is the control plane`));
        assert.match(refused.stderr, /it sent no signal and kept .*demo\.json/);
        assert.match(refused.stderr, new RegExp(`ps -o pid,args -p ${pid}.*kill ${pid}`));
        assert.equal(processExists(pid), true, "the unproven process was not signalled");
        assert.equal(existsSync(recordFile), true, "the record is kept, so the demo can still be found");
      }
      const shown = await status(4);
      assert.equal(shown.pid, pid);
      assert.match(shown.problem ?? "", new RegExp(`pid ${pid} runs, but it cannot be proven to be the demo`));
    } finally {
      bystander.kill("SIGKILL");
    }
    await waitFor(() => !processExists(pid), "the bystander to exit");
    const cleared = await cli.run(["demo", "teardown"]);
    assertExit(cleared, 0);
    assert.equal(existsSync(recordFile), false, "once the pid is gone the record is stale and removed");
  });

  test("a port held by another program is refused before anything starts, and no record is left", async () => {
    // Another program on the port: an HTTP server that answers 404 to everything, /healthcheck too.
    const holder: HttpServer = createHttpServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const result = await cli.run(["demo", "start", "--port", String(port)]);
      assertExit(result, 2);
      assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${port}: the port is in use`));
      assert.match(result.stderr, /another program listens there/);
      assert.equal(existsSync(recordFile), false);
    } finally {
      holder.closeAllConnections();
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  test("a server that fails at start-up: start shows the end of its log, exits 2 and leaves no record", async () => {
    // A folder where the SQLite file should be: the server cannot open its database and exits.
    mkdirSync(join(demoDir, "tsflyte.db"), { recursive: true });
    try {
      const result = await cli.run(["demo", "start", "--port", String(await freePort())]);
      assertExit(result, 2);
      assert.match(result.stderr, /the demo control plane did not start: it exited during start-up/);
      assert.match(result.stderr, /server\.log:/);
      assert.equal(existsSync(recordFile), false);
      assertExit(await cli.run(["demo", "status"]), 3);
    } finally {
      assertExit(await cli.run(["demo", "teardown", "--delete-data"]), 0);
    }
  });
});
