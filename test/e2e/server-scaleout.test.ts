// Fault tests of the control plane's record under a second server and a database outage, driving the built `tsflyte
// serve` on a real SQLite file and a real, throwaway PostgreSQL: one server per SQLite file; three servers on one
// PostgreSQL with kill -9 of two of them (leases, takeover only after expiry, nothing run twice); PostgreSQL stopped
// for ~10 s under load (503 + Retry-After meanwhile, every execution resumes by itself).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { startPostgres, type TestPostgres } from "../support/postgres.js";
import { Api, createExecutionBody, literal, registerProject, startServe, tempDir, type ServeProcess } from "../fixtures/server/harness.js";
import { assertExit, LocalCli, repoRoot } from "../fixtures/local/cli.js";

const flows = "test/fixtures/server/flows.ts";
const project = "flytesnacks";
const domain = "development";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LedgerLine {
  event: "start" | "end";
  execution: string;
  step: number;
  attempt: number;
  serverPid: number;
  at: number;
}

function readLedger(path: string): LedgerLine[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [event, execution, step, attempt, serverPid, at] = line.split(" ");
      return { event: event as "start" | "end", execution, step: Number(step), attempt: Number(attempt), serverPid: Number(serverPid), at: Number(at) };
    });
}

/** `tsflyte serve` run to its end: its exit code and output. */
function serveUntilExit(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [join(repoRoot, "bin/run.js"), "serve", "--port", "0", ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  return new Promise((resolve) =>
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

/**
 * What the database recorded of the ticks executions' task nodes: for each node, its SUCCEEDED attempt numbers and
 * when it ended, and every attempt's phase.
 */
async function recordedAttempts(url: string, names: readonly string[]) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tasks = await client.query<{ execution_name: string; node_id: string; attempt: number; phase: string }>(
      "SELECT execution_name, node_id, attempt, phase FROM task_executions WHERE execution_name = ANY($1) ORDER BY execution_name, node_id, attempt",
      [names],
    );
    return tasks.rows;
  } finally {
    await client.end();
  }
}

/**
 * The checks every scenario ends with: each task node has exactly one SUCCEEDED attempt; that attempt started and
 * ended exactly once in a worker (the ledger); and after it, no attempt of the node started again. The first task
 * node is n0 (step 1), the second n1 (step 2). Returns how many attempts ran to their end without being recorded
 * (a server killed between its task's end and its record), which were then rightly run again.
 */
async function assertEachNodeSucceededOnce(url: string, names: readonly string[], ledgerPath: string): Promise<{ lostEnds: number; attempts: number }> {
  const rows = await recordedAttempts(url, names);
  const ledger = readLedger(ledgerPath);
  let lostEnds = 0;
  for (const name of names) {
    for (const [nodeId, step] of [["n0", 1], ["n1", 2]] as const) {
      const attempts = rows.filter((r) => r.execution_name === name && r.node_id === nodeId);
      const succeeded = attempts.filter((r) => r.phase === "SUCCEEDED");
      assert.equal(succeeded.length, 1, `${name}/${nodeId}: one SUCCEEDED attempt, got ${JSON.stringify(attempts)}`);
      const winner = succeeded[0].attempt;
      assert.equal(Math.max(...attempts.map((a) => a.attempt)), winner, `${name}/${nodeId}: no attempt after the one that succeeded`);
      const lines = ledger.filter((l) => l.execution === name && l.step === step);
      assert.equal(lines.filter((l) => l.event === "start" && l.attempt === winner).length, 1, `${name}/${nodeId}: its successful attempt started once`);
      assert.equal(lines.filter((l) => l.event === "end" && l.attempt === winner).length, 1, `${name}/${nodeId}: its successful attempt ended once`);
      const winnerEnd = lines.find((l) => l.event === "end" && l.attempt === winner)!.at;
      assert.deepEqual(lines.filter((l) => l.event === "start" && l.at > winnerEnd), [], `${name}/${nodeId}: nothing ran after it succeeded`);
      lostEnds += lines.filter((l) => l.event === "end" && l.attempt !== winner).length;
    }
  }
  return { lostEnds, attempts: rows.length };
}

describe("one server per SQLite file", () => {
  const work = tempDir("tsflyte-scaleout-sqlite-");
  const cli = new LocalCli("scaleout");
  let holder: ServeProcess | undefined;
  after(async () => {
    await holder?.stop("SIGKILL");
    cli.cleanup();
    work.remove();
  });

  test("a second serve on the same file is refused, naming the holder; once the holder is killed -9, the next start works", async () => {
    // The local history's own file: local runs keep working beside the server that holds it.
    const db = `sqlite:${join(cli.home, "tsflyte.db")}`;
    const args = ["--db", db, "--storage", pathToFileURL(join(work.path, "data")).href, "--workers", "1"];
    const env = { TSFLYTE_HOME: join(work.path, "home") };
    holder = await startServe(args, env);
    const refused = await serveUntilExit(args, env);
    assert.notEqual(refused.code, 0, refused.output);
    assert.match(refused.output, new RegExp(`is in use by tsflyte serve \\(pid ${holder.child.pid} on [^,]+, since \\d{4}-\\d\\d-\\d\\dT[^,]+, listening on ${holder.url.replace(/[.]/g, "\\.")}\\)`));
    assert.doesNotMatch(refused.output, /listening on http.*\n.*database:/, "the refused server never listened");

    // A local run records its history in the same file meanwhile: the server's lock is not the database's.
    const local = await cli.runWith({}, ["run", flows, "double", "--x", "4"]);
    assertExit(local, 0);
    assert.match(local.stdout, /8/);
    await holder.stop("SIGKILL");
    holder = await startServe(args, env);
    assert.match(holder.output(), /listening on http/);
  });

  test("--lease is refused for SQLite before anything starts", async () => {
    const refused = await serveUntilExit(["--db", `sqlite:${join(work.path, "other.db")}`, "--lease", "3s"], { TSFLYTE_HOME: join(work.path, "home") });
    assert.equal(refused.code, 2, refused.output);
    assert.match(refused.output, /--lease applies to a PostgreSQL database shared by several servers/);
  });
});

/**
 * What the multi-server describe blocks share: a throwaway PostgreSQL (started before their tests), one blob folder,
 * and the servers they start, all killed and removed after them.
 */
function serversOnOnePostgres(prefix: string): { work: ReturnType<typeof tempDir>; storage: string; servers: ServeProcess[]; postgres: () => TestPostgres } {
  const work = tempDir(prefix);
  const servers: ServeProcess[] = [];
  let postgres: TestPostgres | undefined;
  before(async () => {
    postgres = await startPostgres();
  });
  after(async () => {
    for (const server of servers) await server.stop("SIGKILL");
    await postgres?.stop();
    work.remove();
  });
  return { work, storage: pathToFileURL(join(work.path, "data")).href, servers, postgres: () => postgres! };
}

describe("three servers on one PostgreSQL", () => {
  const { work, storage, servers, postgres } = serversOnOnePostgres("tsflyte-scaleout-pg-");

  test("kill -9 of one server and then another under load: every execution succeeds, no task node succeeds twice, takeovers only after the lease ran out", async () => {
    const leaseMs = 3000;
    for (const name of ["a", "b", "c"]) {
      servers.push(await startServe(["--db", postgres().url, "--storage", storage, "--workers", "2", "--lease", "3s"], { TSFLYTE_HOME: join(work.path, `home-${name}`) }));
    }
    const apis = servers.map((s) => new Api(s.url));
    const { version } = await registerProject(apis[0], [flows]);
    const ledger = join(work.path, "ledger.txt");
    writeFileSync(ledger, "");
    const names: string[] = [];
    const count = 24;
    // New executions arrive through every server's API, including the two that are about to die.
    for (let i = 0; i < count; i++) {
      const body = createExecutionBody(project, domain, { name: "test.fixtures.server.flows.ticks", version }, { ms: literal.int(1500), ledger: literal.str(ledger) }, `tick${i}`);
      names.push((await apis[i % 3].ok("POST", "/api/v1/executions", body)).id.name);
    }
    const kills: { pid: number; at: number }[] = [];
    await sleep(3000);
    for (const victim of [servers[0], servers[1]]) {
      // Under load: the victim is running attempts when it dies.
      const deadline = Date.now() + 30_000;
      while (!readLedger(ledger).some((l) => l.serverPid === victim.child.pid && l.event === "start" && !readLedger(ledger).some((e) => e.event === "end" && e.execution === l.execution && e.step === l.step && e.attempt === l.attempt))) {
        assert.ok(Date.now() < deadline, "the server to kill never ran an attempt");
        await sleep(50);
      }
      kills.push({ pid: victim.child.pid!, at: Date.now() });
      await victim.stop("SIGKILL");
      await sleep(4000);
    }
    const survivor = apis[2];
    for (const name of names) {
      const execution = await survivor.waitForExecution(project, domain, name, 180_000);
      assert.equal(execution.closure.phase, "SUCCEEDED", `${name}: ${JSON.stringify(execution.closure.error)}`);
    }
    const { lostEnds, attempts } = await assertEachNodeSucceededOnce(postgres().url, names, ledger);

    // Every takeover is logged with the lease it took over; each came after that lease had run out, and only from a dead server.
    const takeovers = [servers[1], servers[2]].flatMap((s) =>
      [...s.output().matchAll(/^(\S+) took over execution \S+\/(\S+) from [^/\s]+\/(\d+)\/\S+ whose lease ran out at (\S+)$/gm)].map((m) => ({
        at: Date.parse(m[1]),
        execution: m[2],
        fromPid: Number(m[3]),
        expiredAt: Date.parse(m[4]),
      })),
    );
    assert.ok(takeovers.length > 0, `no takeover was logged:\n${servers[2].output()}`);
    for (const takeover of takeovers) {
      assert.ok(takeover.at >= takeover.expiredAt, `${takeover.execution} was taken over before its lease ran out: ${JSON.stringify(takeover)}`);
      const killed = kills.find((k) => k.pid === takeover.fromPid);
      assert.ok(killed, `${takeover.execution} was taken from a live server (pid ${takeover.fromPid})`);
      assert.ok(takeover.at >= killed.at, `${takeover.execution} was taken over before its server died`);
    }
    // Attempts the dead servers left running were retried by a live one only after their lease ran out.
    const ledgerLines = readLedger(ledger);
    for (const kill of kills) {
      const orphaned = ledgerLines.filter((l) => l.serverPid === kill.pid && l.event === "start" && !ledgerLines.some((e) => e.event === "end" && e.execution === l.execution && e.step === l.step && e.attempt === l.attempt));
      for (const lost of orphaned) {
        const next = ledgerLines.find((l) => l.event === "start" && l.execution === lost.execution && l.step === lost.step && l.attempt === lost.attempt + 1);
        assert.ok(next, `${lost.execution} step ${lost.step}: the attempt lost with its server was run again`);
        assert.notEqual(next.serverPid, kill.pid);
        assert.ok(next.at >= kill.at + leaseMs / 3, `${lost.execution} step ${lost.step}: retried ${next.at - kill.at} ms after its server died, before its lease could run out`);
      }
    }
    console.log(
      `three servers, ${count} executions (${count * 2} task nodes, ${attempts} attempts recorded), 2 kills, ${takeovers.length} takeovers, ` +
        `0 nodes succeeded twice, ${lostEnds} attempts ended in a dying server's worker without being recorded`,
    );
  });
});

describe("two servers on one PostgreSQL: terminate", () => {
  const { work, storage, servers, postgres } = serversOnOnePostgres("tsflyte-scaleout-pair-");

  test("terminate through the server that does not run it: the owner stops it and records it ABORTED with the cause", async () => {
    // The default lease: the termination reaches the owner at a renewal (every 10 s), not through a takeover.
    for (const name of ["a", "b"]) {
      servers.push(await startServe(["--db", postgres().url, "--storage", storage, "--workers", "2"], { TSFLYTE_HOME: join(work.path, `home-${name}`) }));
    }
    const apis = servers.map((s) => new Api(s.url));
    const { version } = await registerProject(apis[0], [flows]);
    const ledger = join(work.path, "ledger.txt");
    writeFileSync(ledger, "");
    const launch = { name: "test.fixtures.server.flows.ticks", version };
    const long = (await apis[0].ok("POST", "/api/v1/executions", createExecutionBody(project, domain, launch, { ms: literal.int(60_000), ledger: literal.str(ledger) }, "long"))).id.name;
    const deadline = Date.now() + 30_000;
    let runner: number | undefined;
    while (runner === undefined) {
      assert.ok(Date.now() < deadline, "the long execution never started");
      runner = readLedger(ledger).find((l) => l.execution === long)?.serverPid;
      await sleep(50);
    }
    const other = servers.findIndex((s) => s.child.pid !== runner);
    await apis[other].ok("DELETE", `/api/v1/executions/${project}/${domain}/${long}`, { cause: "wrong inputs" });
    const aborted = await apis[other].waitForExecution(project, domain, long, 10_000);
    assert.equal(aborted.closure.phase, "ABORTED");
    assert.equal(aborted.closure.abort_metadata.cause, "wrong inputs");
    assert.deepEqual(readLedger(ledger).filter((l) => l.execution === long && l.event === "end"), [], "its running attempt was stopped");
  });
});

describe("a PostgreSQL outage under load", () => {
  const work = tempDir("tsflyte-scaleout-outage-");
  let postgres: TestPostgres;
  let server: ServeProcess | undefined;
  before(async () => {
    postgres = await startPostgres();
  });
  after(async () => {
    await server?.stop("SIGKILL");
    await postgres?.stop();
    work.remove();
  });

  test("PostgreSQL stopped for ~10 s: the API answers 503 with Retry-After, and every execution resumes and succeeds without a restart", async () => {
    server = await startServe(["--db", postgres.url, "--storage", pathToFileURL(join(work.path, "data")).href, "--workers", "2", "--lease", "3s"], {
      TSFLYTE_HOME: join(work.path, "home"),
    });
    const api = new Api(server.url);
    const { version } = await registerProject(api, [flows]);
    const ledger = join(work.path, "ledger.txt");
    writeFileSync(ledger, "");
    const names: string[] = [];
    for (let i = 0; i < 8; i++) {
      const body = createExecutionBody(project, domain, { name: "test.fixtures.server.flows.ticks", version }, { ms: literal.int(2000), ledger: literal.str(ledger) }, `outage${i}`);
      names.push((await api.ok("POST", "/api/v1/executions", body)).id.name);
    }
    const deadline = Date.now() + 30_000;
    while (!readLedger(ledger).some((l) => l.event === "start")) {
      assert.ok(Date.now() < deadline, "no attempt started");
      await sleep(50);
    }
    await postgres.halt();
    const haltedAt = Date.now();
    let unavailable = 0;
    while (Date.now() - haltedAt < 10_000) {
      const answer = await api.request("GET", `/api/v1/executions/${project}/${domain}/${names[0]}`).catch((e: unknown) => {
        throw new Error(`the server stopped answering during the outage (${String(e)}):\n${server!.output()}`);
      });
      assert.equal(answer.status, 503, answer.text);
      assert.equal(answer.json.code, "Unavailable");
      assert.match(answer.json.error, /the database is unavailable/);
      unavailable++;
      await sleep(1000);
    }
    const downFor = Date.now() - haltedAt;
    const retryAfter = await fetch(`${server.url}/api/v1/executions/${project}/${domain}`);
    assert.equal(retryAfter.status, 503);
    assert.match(retryAfter.headers.get("retry-after") ?? "", /^\d+$/);
    await postgres.restart();
    for (const name of names) {
      const execution = await api.waitForExecution(project, domain, name, 120_000);
      assert.equal(execution.closure.phase, "SUCCEEDED", `${name}: ${JSON.stringify(execution.closure.error)}\n${server.output()}`);
    }
    assert.equal(server.child.exitCode, null, "the server kept running");
    const { lostEnds } = await assertEachNodeSucceededOnce(postgres.url, names, ledger);
    assert.equal(lostEnds, 0, "an attempt that ran during the outage was recorded, not run again");
    assert.doesNotMatch(server.output(), /stopped with an internal error/);
    console.log(`outage: ${names.length} executions, PostgreSQL down ${(downFor / 1000).toFixed(0)} s, ${unavailable} answers 503, all SUCCEEDED`);
  });
});
