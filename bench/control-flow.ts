// Benchmarks control flow in the engine with its history persisted (a real SQLite file, file:// blobs, the in-process
// runner): a map over N items against the same work as N plain task nodes (goal: per-item overhead within 2× of a
// plain node's, linear in N), and a conditional against one more task node (goal: no more). Never asserts timings.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { create } from "@bufbuild/protobuf";
import { LiteralMapSchema } from "../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { conditional, map, task, t, workflow } from "../src/index.js";
import { runExecution } from "../src/lib/engine/engine.js";
import { InProcessRunner } from "../src/lib/engine/in-process.js";
import { definitionOf, type Entity } from "../src/lib/sdk/entity.js";
import { openSqliteStore } from "../src/lib/store/sqlite.js";
import { openBlobStore } from "../src/lib/storage/open.js";
import { describeMachine, median } from "./support/child-timing.js";

const sizes = (process.env.TSFLYTE_BENCH_ITEMS ?? "2500,5000,10000").split(",").map(Number);
const branchRounds = Number(process.env.TSFLYTE_BENCH_BRANCH_ROUNDS ?? "300");

const inc = task({ name: "bench.inc", inputs: { x: t.int() }, outputs: t.int() }, async ({ x }) => x + 1);
const sum = task({ name: "bench.sum", inputs: { xs: t.list(t.int()) }, outputs: t.int() }, async ({ xs }) => xs.reduce((a, b) => a + b, 0));

function plainFanOut(n: number) {
  return workflow({ name: `bench.plain${n}`, inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => sum({ xs: Array.from({ length: n }, () => inc({ x })) }));
}
function mapped(n: number) {
  return workflow({ name: `bench.mapped${n}`, inputs: { xs: t.list(t.int()) }, outputs: t.int() }, ({ xs }) => sum({ xs: map(inc)({ x: xs }) }));
}
const oneTask = workflow({ name: "bench.one", inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => inc({ x }));
const twoTasks = workflow({ name: "bench.two", inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => inc({ x: inc({ x }) }));
const branched = workflow({ name: "bench.branch", inputs: { x: t.int() }, outputs: t.int() }, ({ x }) =>
  conditional("sign").if(x.gte(0)).then(inc({ x })).else().then(inc({ x: 0 })),
);

const nameOf = (entity: Entity) => definitionOf(entity)!.explicitName!;
let executions = 0;

/** One execution on a fresh store: its wall time and CPU time in ms, checked against the expected output. */
async function timed(dir: string, entity: Entity, inputs: Record<string, unknown>, expected: number): Promise<{ wall: number; cpu: number }> {
  const store = openSqliteStore(join(dir, `run${executions}.db`));
  const blobs = openBlobStore(pathToFileURL(join(dir, "data")).href);
  const def = definitionOf(entity)!;
  const literals = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, def.inputs[k].toLiteral(v, k)]));
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const result = await runExecution(
    {
      key: { project: "bench", domain: "d", name: `b${executions++}` },
      entity,
      nameOf,
      launch: { kind: def.kind, name: nameOf(entity), version: "local" },
      inputs: create(LiteralMapSchema, { literals }),
    },
    { store, blobs, runner: new InProcessRunner() },
  );
  await blobs.flush();
  const wall = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  await store.close();
  if (result.record.phase !== "SUCCEEDED") throw new Error(`${nameOf(entity)} ended ${result.record.phase}: ${result.record.error?.message}`);
  const out = result.outputs?.literals.o0;
  const got = out?.value.case === "scalar" && out.value.value.value.case === "primitive" ? Number(out.value.value.value.value.value.value) : NaN;
  if (got !== expected) throw new Error(`${nameOf(entity)} gave ${got}, expected ${expected}`);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-bench-control-flow-"));
  try {
    console.log(describeMachine());
    console.log("\nmap over N items vs N plain task nodes (µs per item, wall / CPU; history persisted to SQLite)");
    console.log("     N   plain wall   map wall   ratio   plain CPU   map CPU   ratio");
    for (const n of sizes) {
      const plain = plainFanOut(n);
      const overMap = mapped(n);
      const xs = Array.from({ length: n }, () => 1);
      // A warm-up of each shape, then the median of three.
      await timed(dir, plain, { x: 1 }, 2 * n);
      await timed(dir, overMap, { xs }, 2 * n);
      const p: { wall: number; cpu: number }[] = [];
      const m: { wall: number; cpu: number }[] = [];
      for (let round = 0; round < 3; round++) {
        p.push(await timed(dir, plain, { x: 1 }, 2 * n));
        m.push(await timed(dir, overMap, { xs }, 2 * n));
      }
      const pw = (median(p.map((r) => r.wall)) * 1000) / n;
      const mw = (median(m.map((r) => r.wall)) * 1000) / n;
      const pc = (median(p.map((r) => r.cpu)) * 1000) / n;
      const mc = (median(m.map((r) => r.cpu)) * 1000) / n;
      console.log(
        `${String(n).padStart(6)}   ${pw.toFixed(0).padStart(10)}   ${mw.toFixed(0).padStart(8)}   ${(mw / pw).toFixed(2).padStart(5)}   ${pc.toFixed(0).padStart(9)}   ${mc.toFixed(0).padStart(7)}   ${(mc / pc).toFixed(2).padStart(5)}`,
      );
    }

    console.log(`\na conditional vs one more task node (ms per execution, median of ${branchRounds})`);
    const rounds: Record<string, number[]> = { one: [], two: [], branch: [] };
    for (let i = 0; i < 20; i++) {
      await timed(dir, oneTask, { x: 1 }, 2);
      await timed(dir, branched, { x: 1 }, 2);
      await timed(dir, twoTasks, { x: 1 }, 3);
    }
    for (let i = 0; i < branchRounds; i++) {
      rounds.one.push((await timed(dir, oneTask, { x: 1 }, 2)).wall);
      rounds.branch.push((await timed(dir, branched, { x: 1 }, 2)).wall);
      rounds.two.push((await timed(dir, twoTasks, { x: 1 }, 3)).wall);
    }
    const one = median(rounds.one);
    const two = median(rounds.two);
    const branch = median(rounds.branch);
    console.log(`  one task ${one.toFixed(2)} ms; one task in a conditional ${branch.toFixed(2)} ms; two tasks ${two.toFixed(2)} ms`);
    console.log(`  the conditional adds ${(branch - one).toFixed(2)} ms; a task node adds ${(two - one).toFixed(2)} ms (ratio ${((branch - one) / (two - one)).toFixed(2)}; goal ≤ 1)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
