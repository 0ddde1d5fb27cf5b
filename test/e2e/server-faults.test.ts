// Fault tests of `tsflyte serve` as an operator meets them: Ctrl-C and SIGTERM under load (a drain that fails nothing
// and charges nothing), kill -9 three times in a row (only attempts a worker really started are charged), and a full
// disk (a tmpfs mounted for the test: the write error belongs to the one execution whose write failed).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, test } from "node:test";
import { Api, createExecutionBody, literal, registerProject, startServe, tempDir, type ServeProcess } from "../fixtures/server/harness.js";

const flows = "test/fixtures/server/fault-flows.ts";
const project = "flytesnacks";
const domain = "development";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A server on a database and blob store that outlive it: each start() is the same control plane again. */
function controlPlane(prefix: string, extraArgs: string[]) {
  const work = tempDir(prefix);
  const args = ["--db", `sqlite:${join(work.path, "tsflyte.db")}`, "--storage", pathToFileURL(join(work.path, "data")).href, ...extraArgs];
  const env = { TSFLYTE_HOME: join(work.path, "home") };
  const ledger = join(work.path, "ledger.txt");
  writeFileSync(ledger, "");
  return {
    work,
    ledger,
    start: (ownProcessGroup = false) => startServe(args, env, { ownProcessGroup }),
    lines: () => readFileSync(ledger, "utf8").split("\n").filter(Boolean),
  };
}

/** Creates one execution of the `work` task per name, each noting its start and end in the ledger. */
async function launchWork(api: Api, version: string, names: string[], ms: number, ledger: string): Promise<void> {
  for (const name of names) {
    const body = createExecutionBody(project, domain, { name: "test.fixtures.server.fault-flows.work", version }, { ms: literal.int(ms), ledger: literal.str(ledger), tag: literal.str(name) }, name) as any;
    body.spec.launchPlan.resourceType = "TASK";
    await api.ok("POST", "/api/v1/executions", body);
  }
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

async function phaseOf(api: Api, name: string): Promise<string> {
  return (await api.ok("GET", `/api/v1/executions/${project}/${domain}/${name}`)).closure.phase;
}

async function attemptsOf(api: Api, name: string): Promise<Array<{ phase: string; code?: string; kind?: string }>> {
  const answer = await api.ok("GET", `/api/v1/task_executions/${project}/${domain}/${name}/n0`);
  return answer.task_executions.map((a: any) => ({ phase: a.closure.phase, code: a.closure.error?.code, kind: a.closure.error?.kind }));
}

/** Tags the ledger shows as started and not ended since line `from`. */
function runningSince(lines: string[], from: number): Set<string> {
  const running = new Set<string>();
  for (const line of lines.slice(from)) {
    const [event, tag] = line.split(" ");
    if (event === "start") running.add(tag);
    else running.delete(tag);
  }
  return running;
}

describe("tsflyte serve stopped by Ctrl-C or SIGTERM", () => {
  test("Ctrl-C with a short grace: running attempts are interrupted uncharged, waiting ones never start, and all succeed after a restart", async () => {
    const plane = controlPlane("tsflyte-stop-int-", ["--workers", "2", "--grace", "1s"]);
    let server: ServeProcess | undefined;
    try {
      server = await plane.start(true);
      let api = new Api(server.url);
      const { version } = await registerProject(api, [flows]);
      const names = ["int0", "int1", "int2", "int3", "int4", "int5"];
      await launchWork(api, version, names, 3000, plane.ledger);
      await waitUntil("two attempts run", () => runningSince(plane.lines(), 0).size === 2);
      const interrupted = runningSince(plane.lines(), 0);
      // Ctrl-C at a terminal: SIGINT to the whole foreground process group.
      process.kill(-server.child.pid!, "SIGINT");
      const exit = await server.exited;
      assert.equal(exit.code, 0, `serve exited ${exit.code ?? exit.signal}:\n${server.output()}`);
      assert.match(server.output(), /interrupting 6 unfinished execution/);
      const stoppedAt = plane.lines().length;
      assert.deepEqual(runningSince(plane.lines(), 0), interrupted, "no attempt ended or started during the grace period");

      server = await plane.start(true);
      api = new Api(server.url);
      assert.match(server.output(), /resumed 6 unfinished execution/);
      for (const name of names) {
        const execution = await api.waitForExecution(project, domain, name);
        assert.equal(execution.closure.phase, "SUCCEEDED", `${name}: ${JSON.stringify(execution.closure.error)}`);
        const attempts = await attemptsOf(api, name);
        if (interrupted.has(name)) {
          assert.deepEqual(attempts, [{ phase: "ABORTED", code: "Interrupted", kind: "SYSTEM" }, { phase: "SUCCEEDED", code: undefined, kind: undefined }], name);
        } else {
          assert.deepEqual(attempts, [{ phase: "SUCCEEDED", code: undefined, kind: undefined }], `${name} never started before the stop: it runs as attempt 0`);
        }
      }
      const after = plane.lines().slice(stoppedAt);
      for (const name of names) assert.equal(after.filter((l) => l === `end ${name}`).length, 1, `${name} ran to its end once after the restart`);
    } finally {
      await server?.stop("SIGKILL");
      plane.work.remove();
    }
  });

  test("SIGTERM with a long grace: running attempts finish, no new one starts, and the rest run after a restart", async () => {
    const plane = controlPlane("tsflyte-stop-term-", ["--workers", "2", "--grace", "30s"]);
    let server: ServeProcess | undefined;
    try {
      server = await plane.start();
      let api = new Api(server.url);
      const { version } = await registerProject(api, [flows]);
      const names = ["term0", "term1", "term2", "term3", "term4"];
      await launchWork(api, version, names, 1500, plane.ledger);
      await waitUntil("two attempts run", () => runningSince(plane.lines(), 0).size === 2);
      const draining = runningSince(plane.lines(), 0);
      process.kill(server.child.pid!, "SIGTERM");
      const exit = await server.exited;
      assert.equal(exit.code, 0, `serve exited ${exit.code ?? exit.signal}:\n${server.output()}`);
      const atStop = plane.lines();
      for (const name of draining) assert.ok(atStop.includes(`end ${name}`), `${name} finished within the grace period`);
      assert.equal(atStop.filter((l) => l.startsWith("start")).length, 2, "no attempt started after SIGTERM");

      server = await plane.start();
      api = new Api(server.url);
      for (const name of names) {
        const execution = await api.waitForExecution(project, domain, name);
        assert.equal(execution.closure.phase, "SUCCEEDED", `${name}: ${JSON.stringify(execution.closure.error)}`);
        assert.deepEqual(await attemptsOf(api, name), [{ phase: "SUCCEEDED", code: undefined, kind: undefined }], name);
      }
      const lines = plane.lines();
      for (const name of names) assert.equal(lines.filter((l) => l === `start ${name}`).length, 1, `${name} ran once`);
    } finally {
      await server?.stop("SIGKILL");
      plane.work.remove();
    }
  });
});

describe("tsflyte serve killed with kill -9", () => {
  test("three kills in a row: every execution succeeds, and only attempts a worker had started are charged", async () => {
    const workers = 2;
    const kills = 3;
    const plane = controlPlane("tsflyte-kill9-", ["--workers", String(workers)]);
    let server: ServeProcess | undefined;
    try {
      server = await plane.start();
      let api = new Api(server.url);
      const { version } = await registerProject(api, [flows]);
      const names = Array.from({ length: 8 }, (_, i) => `kill${i}`);
      await launchWork(api, version, names, 2000, plane.ledger);
      let hit = new Set<string>();
      let since = 0;
      for (let k = 0; k < kills; k++) {
        // Each kill hits attempts the previous one did not: those it hit have finished since the restart.
        const previous = hit;
        const current = api;
        const from = since;
        await waitUntil(`kill ${k + 1} can hit new attempts`, async () => {
          for (const name of previous) if ((await phaseOf(current, name)) !== "SUCCEEDED") return false;
          return [...runningSince(plane.lines(), from)].some((name) => !previous.has(name));
        });
        hit = runningSince(plane.lines(), since);
        await server.stop("SIGKILL");
        since = plane.lines().length;
        server = await plane.start();
        api = new Api(server.url);
      }
      let charged = 0;
      for (const name of names) {
        const execution = await api.waitForExecution(project, domain, name, 90_000);
        assert.equal(execution.closure.phase, "SUCCEEDED", `${name}: ${JSON.stringify(execution.closure.error)}`);
        const attempts = await attemptsOf(api, name);
        const lost = attempts.filter((a) => a.phase === "RETRYABLE_FAILED");
        for (const a of lost) assert.equal(a.code, "WorkerLost", `${name}: ${JSON.stringify(attempts)}`);
        assert.deepEqual(attempts.at(-1), { phase: "SUCCEEDED", code: undefined, kind: undefined });
        assert.equal(attempts.length, lost.length + 1, `${name}: every attempt but the last was lost to a kill: ${JSON.stringify(attempts)}`);
        charged += lost.length;
      }
      // Each kill charges at most the attempts its workers were running, not every execution that waited for one.
      assert.ok(charged <= workers * kills, `${charged} attempts were charged for ${kills} kills of a server with ${workers} workers`);
      assert.ok(charged >= kills, `each kill hit at least one running attempt (${charged} charged)`);
    } finally {
      await server?.stop("SIGKILL");
      plane.work.remove();
    }
  });
});

describe("tsflyte serve on a full disk", () => {
  test("ENOSPC fails only the execution whose write failed, with its own error; once there is room, new executions succeed", async (t) => {
    const work = tempDir("tsflyte-enospc-");
    const mount = join(work.path, "disk");
    mkdirSync(mount);
    // Only a machine that refuses mounts to a non-root user skips this; as root (CI) a failed mount fails the test.
    if (process.getuid?.() !== 0) {
      work.remove();
      t.skip("mounting a small tmpfs needs root (CAP_SYS_ADMIN); run the suite as root, as CI does, to fill a disk for real");
      return;
    }
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mount], { stdio: "pipe" });
    } catch (e) {
      work.remove();
      throw e;
    }
    const ledger = join(work.path, "ledger.txt");
    writeFileSync(ledger, "");
    const filler = join(mount, "filler");
    let server: ServeProcess | undefined;
    try {
      const args = ["--db", `sqlite:${join(work.path, "tsflyte.db")}`, "--storage", pathToFileURL(join(mount, "data")).href, "--workers", "3"];
      server = await startServe(args, { TSFLYTE_HOME: join(work.path, "home") });
      const api = new Api(server.url);
      const { version } = await registerProject(api, [flows]);
      const bytes = 1 << 20;
      // Room for small files, not for `talk`'s log of `bytes`.
      const { bavail, bsize } = statfsSync(mount);
      writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - bytes / 2)));
      const spillBody = (name: string) =>
        createExecutionBody(project, domain, { name: "test.fixtures.server.fault-flows.spill", version }, { bytes: literal.int(bytes), ms: literal.int(3000), ledger: literal.str(ledger) }, name);
      const workBody = (name: string) => {
        const body = createExecutionBody(project, domain, { name: "test.fixtures.server.fault-flows.work", version }, { ms: literal.int(100), ledger: literal.str(ledger), tag: literal.str(name) }, name) as any;
        body.spec.launchPlan.resourceType = "TASK";
        return body;
      };
      await api.ok("POST", "/api/v1/executions", spillBody("spill0"));
      // `talk` has ended and the write of its log failed; spill0 writes nothing more until `work` ends.
      await waitUntil("talk ends", async () => {
        const nodes = await api.ok("GET", `/api/v1/node_executions/${project}/${domain}/spill0`);
        return nodes.node_executions.some((n: any) => n.id.node_id === "n0" && n.closure.phase === "SUCCEEDED");
      });
      await api.ok("POST", "/api/v1/executions", workBody("bystander"));
      const bystander = await api.waitForExecution(project, domain, "bystander");
      assert.equal(bystander.closure.phase, "SUCCEEDED", `spill0's write error is not the bystander's: ${JSON.stringify(bystander.closure.error)}`);
      const spilled = await api.waitForExecution(project, domain, "spill0");
      assert.equal(spilled.closure.phase, "FAILED");
      assert.match(spilled.closure.error.message, /could not write \S+\/flytesnacks-development-spill0\/n0\/\S+\/logs\.txt: ENOSPC/);

      // A new execution whose inputs are too large for its row (they go to the blob store) is refused while the disk
      // is full, as a store that is down for now: 503 with Retry-After, and nothing of it is left behind.
      const bigBody = (name: string) => {
        const body = createExecutionBody(project, domain, { name: "test.fixtures.server.fault-flows.work", version }, { ms: literal.int(1), ledger: literal.str(ledger), tag: literal.str("t".repeat(768 * 1024)) }, name) as any;
        body.spec.launchPlan.resourceType = "TASK";
        return body;
      };
      const refused = await api.request("POST", "/api/v1/executions", bigBody("big0"));
      assert.equal(refused.status, 503, refused.text);
      assert.equal(refused.headers.get("retry-after"), "5");
      assert.match(refused.json.message, /the blob store is full right now, so nothing was created/);
      assert.equal((await api.request("GET", `/api/v1/executions/${project}/${domain}/big0`)).status, 404);

      rmSync(filler);
      await api.ok("POST", "/api/v1/executions", bigBody("big0"));
      await api.ok("POST", "/api/v1/executions", spillBody("spill1"));
      await api.ok("POST", "/api/v1/executions", workBody("later"));
      for (const name of ["big0", "spill1", "later"]) {
        const execution = await api.waitForExecution(project, domain, name);
        assert.equal(execution.closure.phase, "SUCCEEDED", `${name} once there is room: ${JSON.stringify(execution.closure.error)}`);
      }
      const attempts = await api.ok("GET", `/api/v1/task_executions/${project}/${domain}/spill1/n0`);
      const log = await fetch(attempts.task_executions[0].closure.logs[0].uri);
      assert.ok((await log.text()).includes("x".repeat(bytes)), "spill1's log was stored whole");
    } finally {
      await server?.stop("SIGKILL");
      execFileSync("umount", [mount], { stdio: "pipe" });
      work.remove();
    }
  });
});
