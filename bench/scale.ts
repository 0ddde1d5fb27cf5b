// Benchmarks a 10,000-node workflow end to end through the built CLI on the local target and on `tsflyte serve` over
// SQLite and over PostgreSQL: the run's wall time, and `get execution --details` of it (goal: under 2 s). Never asserts
// timings; every run must SUCCEED with the known sum, and every details answer must list every node.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { describeMachine, loadAverage, median, projectRoot } from "./support/child-timing.js";
import { onThrowawayPostgres } from "./support/postgres-round.js";
import { startServe, type ServeProcess } from "../test/fixtures/server/harness.js";

const nodes = Number(process.env.TSFLYTE_BENCH_NODES ?? "10000");
const goalDetailsSeconds = 2;
const detailsRounds = 3;
const fixture = "bench/fixtures/scale/wide.ts";
const tsflyte = join(projectRoot, "bin/run.js");
// fanOut(x) = (nodes - 1) × (x + 1), with x = 1.
const expected = (nodes - 1) * 2;

function fail(message: string): never {
  throw new Error(`benchmark check failed: ${message}`);
}

/** The environment of every child: no settings from this shell, a home of its own, and the workflow's width. */
function childEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TSFLYTE_|FLYTECTL_)/.test(k)));
  return { ...env, HOME: home, TSFLYTE_HOME: join(home, ".tsflyte"), TSFLYTE_BENCH_NODES: String(nodes), ...extra };
}

async function cli(env: NodeJS.ProcessEnv, args: string[]): Promise<{ ms: number; stdout: string }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsflyte, ...args], { cwd: projectRoot, env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("exit", (code) => {
      const stdout = Buffer.concat(out).toString("utf8");
      if (code !== 0) reject(new Error(`tsflyte ${args.join(" ")} exited ${code}:\n${Buffer.concat(err).toString("utf8").slice(-2000)}`));
      else resolve({ ms: performance.now() - start, stdout });
    });
  });
}

interface Row {
  target: string;
  runSeconds?: number;
  detailsSeconds?: number[];
  skipped?: string;
}

/** Runs the workflow, then reads its details `detailsRounds` times, checking the sum and that every node is listed. */
async function measure(target: string, env: NodeJS.ProcessEnv, remote: boolean): Promise<Row> {
  const run = await cli(env, ["run", ...(remote ? ["--remote", "--wait"] : []), fixture, "fanOut", "--x", "1", "--json"]);
  const result = JSON.parse(run.stdout) as { execution: { name: string } };
  const details: number[] = [];
  for (let round = 0; round < detailsRounds; round++) {
    const answer = await cli(env, ["get", "execution", result.execution.name, "--details", "-o", "json"]);
    const view = JSON.parse(answer.stdout) as { execution: { closure: { phase: string } }; outputs?: { o0?: number }; nodes: unknown[] };
    if (view.execution.closure.phase !== "SUCCEEDED") fail(`${target}: the execution ended ${view.execution.closure.phase}`);
    if (view.nodes.length !== nodes) fail(`${target}: --details listed ${view.nodes.length} nodes, expected ${nodes}`);
    if (view.outputs?.o0 !== expected) fail(`${target}: the output is ${view.outputs?.o0}, expected ${expected}`);
    details.push(answer.ms / 1000);
  }
  return { target, runSeconds: run.ms / 1000, detailsSeconds: details };
}

async function onServe(target: string, db: (dir: string) => string | undefined): Promise<Row> {
  const home = mkdtempSync(join(tmpdir(), "tsflyte-bench-scale-"));
  let server: ServeProcess | undefined;
  try {
    const database = db(home);
    server = await startServe(database ? ["--db", database] : [], { TSFLYTE_HOME: join(home, "server-home"), TSFLYTE_BENCH_NODES: String(nodes) });
    return await measure(target, childEnv(home, { TSFLYTE_ADMIN_ENDPOINT: server.url }), true);
  } finally {
    await server?.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`goal: a ${nodes.toLocaleString("en-US")}-node workflow runs end to end on every target, and get execution --details answers in under ${goalDetailsSeconds} s`);
  console.log(describeMachine());
  console.log(`workflow: ${fixture} fanOut (${nodes - 1} incs of the input gathered by one sum); the built CLI as a child process; details = median of ${detailsRounds} runs of get execution NAME --details -o json, CLI start-up included`);
  console.log("");
  const rows: Row[] = [];
  const home = mkdtempSync(join(tmpdir(), "tsflyte-bench-scale-"));
  try {
    rows.push(await measure("local (embedded SQLite)", childEnv(home), false));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  rows.push(await onServe("serve on SQLite", () => undefined));
  const pg = await onThrowawayPostgres((url) => onServe("serve on PostgreSQL", () => url));
  rows.push("target" in pg ? pg : { target: "serve on PostgreSQL", skipped: pg.skipped });
  for (const r of rows) {
    if (r.skipped) {
      console.log(`${r.target.padEnd(24)} skipped: ${r.skipped}`);
      continue;
    }
    const details = median(r.detailsSeconds!);
    console.log(
      `${r.target.padEnd(24)} run ${r.runSeconds!.toFixed(1)} s (${((r.runSeconds! * 1e6) / nodes).toFixed(0)} µs/node); ` +
        `get execution --details ${details.toFixed(2)} s — goal ${details < goalDetailsSeconds ? "met" : "missed"}`,
    );
  }
  console.log(`loadavg at end: ${loadAverage()}`);
}

await main();
