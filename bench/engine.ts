// Benchmarks the engine's per-node overhead on chains, fan-outs and diamonds of trivial tasks, with every node
// persisted (a real SQLite file and file:// blob store, on the working directory's disk and on tmpfs), against plain
// `await` of the same task bodies. Never asserts timings.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import { task, workflow, t } from "../src/index.js";
import type { Entity } from "../src/lib/sdk/entity.js";
import type { ExecutionResult } from "../src/lib/engine/engine.js";
import { MemoryBlobStore } from "../src/lib/storage/memory-store.js";
import { readRecordedLiteralMap, recordedInputs, recordedOutputs, type RecordedValue } from "../src/lib/engine/recorded-values.js";
import {
  chainBaseline,
  chainWorkflow,
  closePersisted,
  execute,
  fail,
  fanOutBaseline,
  fanOutWorkflow,
  inc,
  incBody,
  input,
  maxParallelism,
  openPersisted,
  outputOf as outputOfRun,
  type IntRef,
  type Persisted,
} from "./support/engine-runs.js";

const goalUsPerNode = 50;
const goalCachedMs = 50;
const runs = 5;

type Shape = "chain" | "fan-out" | "diamond";

// The diamond's task; the chain's and fan-out's come from ./support/engine-runs.ts, shared with bench/peers.ts.
const addBody = async ({ a, b }: { a: number; b: number }) => a + b;
const add = task({ name: "bench.add", inputs: { a: t.int(), b: t.int() }, outputs: t.int() }, addBody);
const cachedInc = task({ name: "bench.cachedInc", inputs: { x: t.int() }, outputs: t.int(), cache: { version: "1" } }, incBody);

interface Case {
  shape: Shape;
  label: string;
  /** Task nodes in the workflow (the fan-out's gather counts). */
  nodes: number;
  entity: Entity;
  baseline: () => Promise<number>;
}

function chainCase(length: number, step = inc): Case {
  return { shape: "chain", label: `chain ${length}`, nodes: length, entity: chainWorkflow(length, step), baseline: () => chainBaseline(length) };
}

function fanOutCase(width: number): Case {
  return { shape: "fan-out", label: `fan-out ${width} + gather`, nodes: width + 1, entity: fanOutWorkflow(width), baseline: () => fanOutBaseline(width) };
}

/** `layers` × `width` nodes; node i of a layer reads nodes i and (i+1) mod width of the layer before, the first layer the input. */
function diamondCase(layers: number, width: number): Case {
  const entity = workflow({ name: `bench.diamond${layers}x${width}`, inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => {
    let layer: IntRef[] = Array.from({ length: width }, () => x);
    for (let l = 0; l < layers; l++) layer = layer.map((_, i) => add({ a: layer[i], b: layer[(i + 1) % width] }));
    return layer[0];
  });
  const baseline = async () => {
    let layer: number[] = Array.from({ length: width }, () => input);
    for (let l = 0; l < layers; l++) layer = await Promise.all(layer.map((_, i) => addBody({ a: layer[i], b: layer[(i + 1) % width] })));
    return layer[0];
  };
  return { shape: "diamond", label: `diamond ${layers}×${width}`, nodes: layers * width, entity, baseline };
}

function outputOf(c: { label: string; entity: Entity }, result: ExecutionResult): number {
  return outputOfRun(c.label, c.entity, result);
}

type Disk = "disk" | "tmpfs";

/** Where the history goes: the working directory's disk (as `tsflyte run` in a project), or tmpfs. */
function benchRoot(disk: Disk): string {
  const root = disk === "tmpfs" ? "/dev/shm" : join(process.cwd(), ".bench-out");
  mkdirSync(root, { recursive: true });
  return root;
}

/** Checks, outside the timed region, that every node and attempt has its row, and every node its inputs and outputs on record. */
async function checkRecorded(c: { label: string; nodes: number }, p: Persisted, result: ExecutionResult, cacheStatus: string): Promise<void> {
  const readable = async (value: RecordedValue) => (await readRecordedLiteralMap(p.blobs, value)) !== undefined;
  const nodes = await p.store.listNodeExecutions(result.record);
  if (nodes.length !== c.nodes) fail(`${c.label}: ${nodes.length} node rows, expected ${c.nodes}`);
  for (const node of nodes) {
    if (node.phase !== "SUCCEEDED") fail(`${c.label}: node ${node.nodeId} is ${node.phase}`);
    if (node.cacheStatus !== cacheStatus) fail(`${c.label}: node ${node.nodeId} cache status ${node.cacheStatus}, expected ${cacheStatus}`);
    if (!(await readable(recordedInputs(node))) || !(await readable(recordedOutputs(node)))) fail(`${c.label}: node ${node.nodeId} has no inputs or outputs on record`);
  }
  const attempts = await p.store.listTaskExecutions(result.record);
  const expectedAttempts = cacheStatus === "CACHE_HIT" ? 0 : c.nodes;
  if (attempts.length !== expectedAttempts) fail(`${c.label}: ${attempts.length} attempt rows, expected ${expectedAttempts}`);
  const stored = await p.store.getExecution(result.record);
  if (stored?.phase !== "SUCCEEDED" || !(await readable(recordedOutputs(stored)))) fail(`${c.label}: the execution row or its outputs are missing`);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

interface Row {
  label: string;
  shape: Shape;
  nodes: number;
  baselineMs: number[];
  engineMs: number[];
  tmpfsMs: number[];
  directMs: number[];
}

async function measure(c: Case): Promise<Row> {
  const expected = await c.baseline();
  const baselineRun = async () => {
    const r = await timed(c.baseline);
    if (r.value !== expected) fail(`${c.label}: the baseline returned ${expected}, then ${r.value}`);
    return r.ms;
  };
  const persistedRun = async (disk: Disk) => {
    const p = openPersisted({ parent: benchRoot(disk) });
    try {
      const r = await timed(() => execute(c.entity, p));
      if (outputOf(c, r.value) !== expected) fail(`${c.label}: the engine returned ${outputOf(c, r.value)}, the baseline ${expected}`);
      await checkRecorded(c, p, r.value, "CACHE_DISABLED");
      return r.ms;
    } finally {
      await closePersisted(p);
    }
  };
  const directRun = async () => {
    const r = await timed(() => execute(c.entity, { blobs: new MemoryBlobStore() }));
    if (outputOf(c, r.value) !== expected) fail(`${c.label}: the engine without a store returned ${outputOf(c, r.value)}, the baseline ${expected}`);
    return r.ms;
  };
  // One warm-up of each (it also makes the workflow's plan, which later executions reuse), then interleaved runs.
  await baselineRun();
  await persistedRun("disk");
  await persistedRun("tmpfs");
  await directRun();
  const row: Row = { label: c.label, shape: c.shape, nodes: c.nodes, baselineMs: [], engineMs: [], tmpfsMs: [], directMs: [] };
  for (let run = 0; run < runs; run++) {
    row.baselineMs.push(await baselineRun());
    row.engineMs.push(await persistedRun("disk"));
    row.tmpfsMs.push(await persistedRun("tmpfs"));
    row.directMs.push(await directRun());
  }
  return row;
}

/** A cached 1,000-node chain: one execution populates the cache, then each timed one is all CACHE_HIT. */
async function measureCachedRerun(length: number): Promise<number[]> {
  const c = chainCase(length, cachedInc);
  const expected = input + length;
  const p = openPersisted({ parent: benchRoot("disk") });
  try {
    const populate = await execute(c.entity, p);
    if (outputOf(c, populate) !== expected) fail("the populating run returned the wrong value");
    await checkRecorded(c, p, populate, "CACHE_POPULATED");
    await execute(c.entity, p); // warm-up of the all-hit path
    const times: number[] = [];
    for (let run = 0; run < runs; run++) {
      const r = await timed(() => execute(c.entity, p));
      if (outputOf(c, r.value) !== expected) fail("a cached re-run returned the wrong value");
      await checkRecorded(c, p, r.value, "CACHE_HIT");
      times.push(r.ms);
    }
    return times;
  } finally {
    await closePersisted(p);
  }
}

/**
 * What this disk and SQLite cost right now, for reading the table: one node's two files written as the blob store
 * writes them (folders n/data and n/data/0, each file to a temp name then renamed), and one row committed.
 */
function measureFloors(count: number): { nodeFilesUs: number; commitUs: number } {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-bench-floor-"));
  try {
    const bytes = new Uint8Array(16);
    const write = (file: string) => {
      writeFileSync(`${file}.tmp`, bytes);
      renameSync(`${file}.tmp`, file);
    };
    let start = performance.now();
    for (let i = 0; i < count; i++) {
      const data = join(dir, `n${i}`, "data");
      mkdirSync(join(dir, `n${i}`));
      mkdirSync(data);
      write(join(data, "inputs.pb"));
      mkdirSync(join(data, "0"));
      write(join(data, "0", "outputs.pb"));
    }
    const nodeFilesUs = ((performance.now() - start) * 1000) / count;
    const db = new Database(join(dir, "floor.db"));
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.exec("CREATE TABLE rows (id INTEGER PRIMARY KEY, value BLOB)");
    const insert = db.prepare("INSERT INTO rows (value) VALUES (?)");
    start = performance.now();
    for (let i = 0; i < count; i++) insert.run(bytes); // one autocommit transaction each
    const commitUs = ((performance.now() - start) * 1000) / count;
    db.close();
    return { nodeFilesUs, commitUs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Least-squares line through (nodes, ms): the slope is the marginal cost per node, the intercept the fixed cost per execution. */
function fitLine(points: { nodes: number; ms: number }[]): { usPerNode: number; fixedMs: number } {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.nodes, 0) / n;
  const my = points.reduce((s, p) => s + p.ms, 0) / n;
  const slope = points.reduce((s, p) => s + (p.nodes - mx) * (p.ms - my), 0) / points.reduce((s, p) => s + (p.nodes - mx) ** 2, 0);
  return { usPerNode: slope * 1000, fixedMs: my - slope * mx };
}

const us = (ms: number, nodes: number) => (ms * 1000) / nodes;

function printTable(rows: Row[]): void {
  const header = ["shape", "nodes", "baseline µs/node", "engine µs/node", "engine min", "overhead µs/node", "ratio", "tmpfs µs/node", "no-store µs/node"];
  const cells = rows.map((r) => {
    const base = us(median(r.baselineMs), r.nodes);
    const engine = us(median(r.engineMs), r.nodes);
    return [
      r.label,
      r.nodes.toLocaleString("en-US"),
      base.toFixed(2),
      engine.toFixed(1),
      us(Math.min(...r.engineMs), r.nodes).toFixed(1),
      (engine - base).toFixed(1),
      `${(engine / base).toFixed(0)}x`,
      us(median(r.tmpfsMs), r.nodes).toFixed(1),
      us(median(r.directMs), r.nodes).toFixed(1),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const c of cells) console.log(line(c));
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");
console.log(`goal: under ${goalUsPerNode} µs of overhead per node with the history persisted, linear in the number of nodes; a cached 1,000-node re-run under ${goalCachedMs} ms`);
console.log(`node ${process.version}, ${cpus().length} CPUs; this machine is shared and noisy — loadavg at start: ${load()}`);
console.log(`engine = runExecution until it resolves (rows and any files flushed), a fresh SQLite file and file:// blob store per run in ${benchRoot("disk")} (opened and checked outside the timing)`);
console.log(`tmpfs = the same in ${benchRoot("tmpfs")}`);
console.log(`no-store = runExecution with no metadata store and a MemoryBlobStore (the direct-call mode: nothing recorded)`);
console.log(`baseline = the same task bodies with plain await (sequential chain, Promise.all per fan-out and per layer); overhead = engine - baseline; ratio = engine / baseline`);
console.log(`InProcessRunner({ containCrashes: true }), maxParallelism ${maxParallelism}; median of ${runs} interleaved runs after one warm-up; every run's output and records checked`);
console.log("");

const floors = measureFloors(1_000);
console.log(
  `reference, same run, in ${tmpdir()}: one node's files alone (3 folders, inputs.pb and outputs.pb, each written then renamed, ` +
    `on one thread) ${floors.nodeFilesUs.toFixed(0)} µs; one SQLite WAL commit of one row (synchronous=NORMAL) ${floors.commitUs.toFixed(0)} µs`,
);
console.log("");

const cases = [chainCase(100), chainCase(1_000), chainCase(10_000), fanOutCase(100), fanOutCase(1_000), fanOutCase(10_000), diamondCase(10, 10), diamondCase(10, 100)];
const rows: Row[] = [];
for (const c of cases) rows.push(await measure(c));
printTable(rows);
console.log("");

console.log("linearity: engine µs/node (median) by size, then a line fitted through the medians: marginal µs per node ± fixed ms per execution");
for (const shape of ["chain", "fan-out", "diamond"] as const) {
  const ofShape = rows.filter((r) => r.shape === shape);
  const steps = ofShape.map((r) => `${r.nodes.toLocaleString("en-US")}: ${us(median(r.engineMs), r.nodes).toFixed(1)}`).join(", ");
  const fit = (pick: (r: Row) => number[]) => fitLine(ofShape.map((r) => ({ nodes: r.nodes, ms: median(pick(r)) })));
  const engine = fit((r) => r.engineMs);
  const tmpfs = fit((r) => r.tmpfsMs);
  const direct = fit((r) => r.directMs);
  const line = (f: { usPerNode: number; fixedMs: number }) => `${f.usPerNode.toFixed(1)} µs/node ${f.fixedMs < 0 ? "-" : "+"} ${Math.abs(f.fixedMs).toFixed(0)} ms`;
  console.log(`  ${shape.padEnd(7)} ${steps} — fitted ${line(engine)} (tmpfs ${line(tmpfs)}, no-store ${line(direct)})`);
}
console.log("");

const cached = await measureCachedRerun(1_000);
const cachedMedian = median(cached);
console.log(`cached re-run of a 1,000-node chain (all CACHE_HIT): median ${cachedMedian.toFixed(1)} ms, min ${Math.min(...cached).toFixed(1)} ms — goal ${cachedMedian < goalCachedMs ? "met" : "missed"}`);
for (const r of rows.filter((row) => row.nodes >= 1_000)) {
  for (const [disk, ms] of [["disk", r.engineMs], ["tmpfs", r.tmpfsMs]] as const) {
    const overhead = us(median(ms), r.nodes) - us(median(r.baselineMs), r.nodes);
    console.log(`${r.label} on ${disk}: ${overhead.toFixed(1)} µs/node overhead — goal ${overhead <= goalUsPerNode ? "met" : "missed"}`);
  }
}
console.log("");
console.log(`loadavg at end: ${load()}`);
