// Benchmarks the control plane: 1,000 executions of a one-task workflow, 50 in flight, through the HTTP API of a real
// in-process `tsflyte serve` on SQLite and on PostgreSQL: executions/s and CreateExecution/GetExecution latency, against
// an anchor measured in the same run (a minimal node:http server doing one SQLite insert per create). Never asserts timings.
import { createHash, randomBytes } from "node:crypto";
import { Agent, createServer, request } from "node:http";
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import type { RunningServer } from "../src/lib/server/server.js";
import { loadAverage, percentile } from "./support/child-timing.js";
import { onThrowawayPostgres } from "./support/postgres-round.js";

const goalCreateP99Ms = { SQLite: 20, PostgreSQL: 40 } as Record<string, number>;
const goalAnchorRatio = 1.5;
const executions = 1_000;
const inFlight = 50;
const warmUpExecutions = 50;
// A client waiting for its execution polls it four times a second: faster than a person watching, and far more
// often than flytekit's FlyteRemote.wait or flytectl; 50 lanes polling every 20 ms would measure the polling instead.
const pollIntervalMs = 250;
const executionTimeoutMs = 120_000;
const project = "flytesnacks";
const domain = "development";
const terminalPhases = new Set(["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"]);

const projectRoot = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const fixture = join(projectRoot, "bench/fixtures/server/one-task.ts");

function fail(message: string): never {
  throw new Error(`benchmark check failed: ${message}`);
}

/**
 * The API as a client sees it: JSON over keep-alive HTTP/1.1 connections, every non-2xx a failure of the benchmark.
 * node:http rather than fetch: on two shared CPUs the client's own cost would otherwise be part of every latency.
 */
class Client {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  constructor(readonly url: string) {}

  call(method: "GET" | "POST", path: string, body?: unknown): Promise<any> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.url}${path}`,
        {
          method,
          agent: this.agent,
          headers: { accept: "application/json", ...(payload === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) reject(new Error(`benchmark check failed: ${method} ${path} answered ${status}: ${text.slice(0, 500)}`));
            else resolve(text ? JSON.parse(text) : undefined);
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** Through the data proxy, as `tsflyte register` uploads a code bundle: the URI the workers fetch it from. */
  async upload(filename: string, bytes: Uint8Array): Promise<string> {
    const md5 = createHash("md5").update(bytes).digest("base64");
    const location = await this.call("POST", "/api/v1/dataproxy/artifact_urn", { project, domain, filename, content_md5: md5 });
    const put = await fetch(location.signed_url as string, { method: "PUT", body: bytes, headers: { "content-md5": md5 } });
    if (!put.ok) fail(`uploading ${filename} answered ${put.status}: ${await put.text()}`);
    return location.native_url as string;
  }
}

interface LaunchPlanRef {
  name: string;
  version: string;
}

/**
 * Compiles the fixture with the real compiler, its code bundle uploaded to this server, and registers tasks,
 * workflows and launch plans, under a version of its own per database run.
 */
async function register(client: Client, version: string): Promise<LaunchPlanRef> {
  const { create, toJson } = await import("@bufbuild/protobuf");
  const { TaskCreateRequestSchema } = await import("../src/lib/idl/gen/flyteidl/admin/task_pb.js");
  const { WorkflowCreateRequestSchema } = await import("../src/lib/idl/gen/flyteidl/admin/workflow_pb.js");
  const { LaunchPlanCreateRequestSchema } = await import("../src/lib/idl/gen/flyteidl/admin/launch_plan_pb.js");
  const { compileProject } = await import("../src/lib/compiler/compile.js");
  const compiled = await compileProject({
    paths: [fixture],
    project,
    domain,
    version,
    projectRoot,
    codeBundleUri: (bundle) => client.upload(`fast${bundle.md5}.tar`, bundle.tar),
  });
  for (const t of compiled.tasks) {
    await client.call("POST", "/api/v1/tasks", toJson(TaskCreateRequestSchema, create(TaskCreateRequestSchema, { id: t.spec.template!.id, spec: t.spec })));
  }
  for (const w of compiled.workflows) {
    await client.call("POST", "/api/v1/workflows", toJson(WorkflowCreateRequestSchema, create(WorkflowCreateRequestSchema, { id: w.spec.template!.id, spec: w.spec })));
  }
  for (const l of compiled.launchPlans) {
    await client.call("POST", "/api/v1/launch_plans", toJson(LaunchPlanCreateRequestSchema, create(LaunchPlanCreateRequestSchema, { id: l.launchPlan.id, spec: l.launchPlan.spec })));
  }
  const plan = compiled.launchPlans.find((l) => l.name.endsWith(".oneTask"));
  if (!plan) fail(`the fixture compiled to no oneTask launch plan (${compiled.launchPlans.map((l) => l.name).join(", ")})`);
  return { name: plan.name, version: compiled.version };
}

function createBody(launchPlan: LaunchPlanRef, x: number): unknown {
  return {
    project,
    domain,
    spec: {
      launchPlan: { resourceType: "LAUNCH_PLAN", project, domain, name: launchPlan.name, version: launchPlan.version },
      metadata: { mode: "MANUAL" },
    },
    inputs: { literals: { x: { scalar: { primitive: { integer: String(x) } } } } },
  };
}

interface Samples {
  createMs: number[];
  getMs: number[];
  wallMs: number;
}

/**
 * `count` executions in `inFlight` lanes: each lane creates one (timing CreateExecution), polls it with
 * GetExecution until it is terminal (timing each Get), then creates the next. Every execution must succeed.
 */
async function drive(client: Client, launchPlan: LaunchPlanRef, count: number): Promise<Samples> {
  const samples: Samples = { createMs: [], getMs: [], wallMs: 0 };
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const x = next++;
      let t = performance.now();
      const created = await client.call("POST", "/api/v1/executions", createBody(launchPlan, x));
      samples.createMs.push(performance.now() - t);
      const name = created?.id?.name as string | undefined;
      if (!name) fail(`CreateExecution answered without id.name: ${JSON.stringify(created)}`);
      const deadline = Date.now() + executionTimeoutMs;
      for (;;) {
        t = performance.now();
        const execution = await client.call("GET", `/api/v1/executions/${project}/${domain}/${name}`);
        samples.getMs.push(performance.now() - t);
        const phase = execution?.closure?.phase as string;
        if (terminalPhases.has(phase)) {
          if (phase !== "SUCCEEDED") fail(`execution ${name} ended ${phase}: ${JSON.stringify(execution.closure.error)}`);
          break;
        }
        if (Date.now() > deadline) fail(`execution ${name} still ${phase} after ${executionTimeoutMs / 1000} s`);
        await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
      }
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, lane));
  samples.wallMs = performance.now() - start;
  return samples;
}

interface ClientJob {
  url: string;
  launchPlan: LaunchPlanRef;
  count: number;
}

/**
 * Drives the server from a worker thread: the client's own work (HTTP, JSON) then runs on another event loop, and
 * the latencies are the server's, not the time a response waited for the client to get round to reading it.
 */
function driveFromThread(job: ClientJob): Promise<Samples> {
  return new Promise((resolve, reject) => {
    // Node 20 does not pass tsx's loader hooks to worker threads: the thread registers them, then loads this file.
    const bootstrap = `import { register } from ${JSON.stringify(import.meta.resolve("tsx/esm/api"))}; register(); await import(${JSON.stringify(import.meta.url)});`;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), { workerData: job });
    let result: Samples | undefined;
    worker.once("message", (samples: Samples) => (result = samples));
    worker.once("error", reject);
    worker.once("exit", (code) => (result ? resolve(result) : reject(new Error(`the client thread exited ${code} without results`))));
  });
}

interface Row {
  database: string;
  samples?: Samples;
  /** The server's event loop delay during the measured run, p99, in ms: time every request waited in line. */
  loopDelayP99Ms?: number;
  skipped?: string;
}

async function measure(database: string, db: (dir: string) => string): Promise<Row> {
  const { startServer } = await import("../src/lib/server/server.js");
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-bench-server-"));
  const log: string[] = [];
  let server: RunningServer | undefined;
  try {
    // The last lines only: a line per request adds up to tens of thousands.
    const keep = (line: string) => log.push(line) > 200 && log.splice(0, 100);
    server = await startServer({ port: 0, db: db(dir), storage: pathToFileURL(join(dir, "data")).href, cwd: projectRoot, log: keep });
    const launchPlan = await register(new Client(server.url), `bench-${database.toLowerCase()}-${Date.now()}`);
    // Warm-up: workers started, the closure loaded, the database's pages warm. Not counted.
    await driveFromThread({ url: server.url, launchPlan, count: warmUpExecutions });
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const samples = await driveFromThread({ url: server.url, launchPlan, count: executions });
    delay.disable();
    return { database, samples, loopDelayP99Ms: delay.percentile(99) / 1e6 };
  } catch (e) {
    if (log.length) console.log(`${database}: the server's last log lines:\n${log.slice(-20).join("\n")}`);
    throw e;
  } finally {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The anchor: the least a server can do for the same client — node:http, one SQLite insert (WAL, synchronous=NORMAL,
 * as tsflyte's store) per create and one select per get, every execution SUCCEEDED at once. Runs no execution.
 */
async function measureAnchor(): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-bench-anchor-"));
  const db = new Database(join(dir, "anchor.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec("CREATE TABLE executions (project TEXT, domain TEXT, name TEXT, spec BLOB, created_at INTEGER, PRIMARY KEY (project, domain, name))");
  const insert = db.prepare("INSERT INTO executions VALUES (?, ?, ?, ?, ?)");
  const select = db.prepare("SELECT name FROM executions WHERE project = ? AND domain = ? AND name = ?");
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const answer = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
      };
      if (req.method === "POST" && req.url === "/api/v1/executions") {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { project: string; domain: string };
        const name = `a${randomBytes(10).toString("hex").slice(0, 19)}`;
        insert.run(body.project, body.domain, name, Buffer.concat(chunks), Date.now());
        return answer(200, { id: { project: body.project, domain: body.domain, name } });
      }
      const [, , , , p, d, n] = (req.url ?? "").split("/");
      if (req.method === "GET" && select.get(p, d, n)) return answer(200, { id: { project: p, domain: d, name: n }, closure: { phase: "SUCCEEDED" } });
      answer(404, { error: "not found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  try {
    const url = `http://127.0.0.1:${address.port}`;
    const launchPlan = { name: "anchor", version: "v1" };
    await driveFromThread({ url, launchPlan, count: warmUpExecutions });
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const samples = await driveFromThread({ url, launchPlan, count: executions });
    delay.disable();
    return { database: "anchor (node:http + 1 SQLite insert)", samples, loopDelayP99Ms: delay.percentile(99) / 1e6 };
  } finally {
    await new Promise((resolve) => server.close(resolve));
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(rows: Row[]): void {
  const header = ["database", "executions", "wall s", "executions/s", "create p50 ms", "create p99 ms", "get p50 ms", "get p99 ms", "gets", "server loop delay p99 ms"];
  const cells = rows.map((r) => {
    if (!r.samples) return [r.database, `skipped: ${r.skipped}`];
    const s = r.samples;
    return [
      r.database,
      s.createMs.length.toLocaleString("en-US"),
      (s.wallMs / 1000).toFixed(2),
      ((s.createMs.length / s.wallMs) * 1000).toFixed(0),
      percentile(s.createMs, 50).toFixed(1),
      percentile(s.createMs, 99).toFixed(1),
      percentile(s.getMs, 50).toFixed(1),
      percentile(s.getMs, 99).toFixed(1),
      s.getMs.length.toLocaleString("en-US"),
      (r.loopDelayP99Ms ?? 0).toFixed(1),
    ];
  });
  const measured = cells.filter((c) => c.length === header.length);
  const widths = header.map((h, i) => Math.max(h.length, ...measured.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c.length < header.length ? `${c[0].padEnd(widths[0])}  ${c[1]}` : c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const c of cells) console.log(line(c));
}

async function main(): Promise<void> {
  console.log(
    `goal: p99 CreateExecution under ${goalCreateP99Ms.SQLite} ms on SQLite, ${goalCreateP99Ms.PostgreSQL} ms on PostgreSQL, and at most ${goalAnchorRatio}× the anchor's; ` +
      `${executions.toLocaleString("en-US")} executions of a one-task workflow at ${inFlight} in flight`,
  );
  console.log(`node ${process.version}, ${cpus().length} CPUs (= task workers); this machine is shared and noisy — loadavg at start: ${loadAverage()}`);
  console.log(`a real server in this process (startServer, port 0, file:// blobs in ${tmpdir()}), driven over keep-alive HTTP from a worker thread; executions run on the server's scheduler thread and ${cpus().length} warm workers`);
  console.log(`each of ${inFlight} lanes: POST /api/v1/executions (timed), then GET /api/v1/executions/… every ${pollIntervalMs} ms until terminal (each timed), then the next`);
  console.log(`executions/s = executions / wall time until the last is terminal; ${warmUpExecutions} warm-up executions first, not counted; every execution must SUCCEED`);
  console.log("");

  const anchor = await measureAnchor();
  const rows: Row[] = [anchor, await measure("SQLite", (dir) => `sqlite:${join(dir, "tsflyte.db")}`)];

  const pg = await onThrowawayPostgres((url) => measure("PostgreSQL", () => url));
  rows.push("database" in pg ? pg : { database: "PostgreSQL", skipped: pg.skipped });

  printTable(rows);
  console.log("");
  const anchorP99 = percentile(anchor.samples!.createMs, 99);
  for (const r of rows) {
    if (!r.samples || r === anchor) continue;
    const p99 = percentile(r.samples.createMs, 99);
    const ratio = p99 / anchorP99;
    const met = p99 < goalCreateP99Ms[r.database] && ratio <= goalAnchorRatio;
    console.log(`${r.database}: p99 CreateExecution ${p99.toFixed(1)} ms, ${ratio.toFixed(2)}× the anchor's ${anchorP99.toFixed(1)} ms — goal ${met ? "met" : "missed"}`);
  }
  console.log(`loadavg at end: ${loadAverage()}`);
}

if (isMainThread) {
  await main();
} else {
  const job = workerData as ClientJob;
  parentPort!.postMessage(await drive(new Client(job.url), job.launchPlan, job.count));
}
