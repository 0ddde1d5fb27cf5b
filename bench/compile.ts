// Benchmarks the compiler on generated 1,000- and 10,000-node workflows (chain, fan-out/fan-in) against a plain-object baseline.
// Never loads files and never times a result it has not checked, so a broken compiler cannot look fast.
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { toBinary } from "@bufbuild/protobuf";
import { task, workflow, t, type RefOf } from "../src/index.js";
import { compileDiscovered, type CompiledEntities } from "../src/lib/compiler/compile.js";
import { discoverEntities } from "../src/lib/compiler/names.js";
import type { LoadedModule } from "../src/lib/compiler/load.js";
import type { EmitSettings } from "../src/lib/compiler/emit-task.js";
import { WorkflowSpecSchema, type WorkflowSpec } from "../src/lib/idl/gen/flyteidl/admin/workflow_pb.js";
import type { BindingData } from "../src/lib/idl/gen/flyteidl/core/literals_pb.js";

const goalNodes = 10_000;
const goalMs = 1_000;
const sizes = [1_000, 10_000];
const runs = 3;
const settings: EmitSettings = { project: "flytesnacks", domain: "development", version: "bench", image: "bench:1" };
const benchFile = fileURLToPath(import.meta.url);
const projectRoot = fileURLToPath(new URL("..", import.meta.url));
const relPath = "bench/compile.ts";

type Shape = "chain" | "fan-out/in";

// One task per role: the node count, not the task count, is what a large workflow grows in.
const increment = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => x + 1);
const square = task({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => x * x);
const sum = task({ inputs: { xs: t.list(t.int()) }, outputs: t.int() }, ({ xs }) => xs.reduce((a, b) => a + b, 0));

/** N nodes, each consuming the previous node's output. */
function chainWorkflow(nodes: number) {
  return workflow({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => {
    let last: RefOf<ReturnType<typeof t.int>> = x;
    for (let i = 0; i < nodes; i++) last = increment({ x: last });
    return last;
  });
}

/** N - 1 nodes reading the workflow input, then one reducer binding a list of all their outputs. */
function fanWorkflow(nodes: number) {
  return workflow({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => {
    const parts: RefOf<ReturnType<typeof t.int>>[] = [];
    for (let i = 0; i < nodes - 1; i++) parts.push(square({ x }));
    return sum({ xs: parts });
  });
}

function moduleFor(shape: Shape, nodes: number): LoadedModule {
  const exports: Record<string, unknown> =
    shape === "chain" ? { increment, [`chain${nodes}`]: chainWorkflow(nodes) } : { square, sum, [`fan${nodes}`]: fanWorkflow(nodes) };
  return { file: benchFile, relPath, exports };
}

function compile(module: LoadedModule): CompiledEntities {
  return compileDiscovered(discoverEntities(projectRoot, [module]), settings, projectRoot);
}

function fail(message: string): never {
  throw new Error(`benchmark check failed: ${message}`);
}

/** Checks the emitted graph node by node, outside the timed region. */
function checkCompiled(shape: Shape, nodes: number, compiled: CompiledEntities): WorkflowSpec {
  if (compiled.problems.length) fail(`${shape} ${nodes}: ${compiled.problems.length} problems, first: ${JSON.stringify(compiled.problems[0])}`);
  if (compiled.workflows.length !== 1) fail(`${shape} ${nodes}: ${compiled.workflows.length} workflows emitted, expected 1`);
  if (compiled.launchPlans.length !== 1) fail(`${shape} ${nodes}: ${compiled.launchPlans.length} launch plans emitted, expected 1`);
  const spec = compiled.workflows[0].spec;
  const emitted = spec.template?.nodes ?? [];
  if (emitted.length !== nodes) fail(`${shape} ${nodes}: the WorkflowTemplate has ${emitted.length} nodes`);
  const promiseOf = (data: BindingData | undefined) => (data?.value.case === "promise" ? data.value.value : undefined);
  emitted.forEach((node, i) => {
    const reducer = shape === "fan-out/in" && i === nodes - 1;
    const binding = node.inputs[0]?.binding;
    if (node.inputs.length !== 1) fail(`node ${node.id} has ${node.inputs.length} input bindings`);
    if (!reducer) {
      const from = promiseOf(binding);
      const expected = shape === "chain" && i > 0 ? `n${i - 1}` : "start-node";
      if (from?.nodeId !== expected) fail(`node ${node.id} reads ${from?.nodeId ?? "no promise"}, expected ${expected}`);
      if (node.upstreamNodeIds.length !== (expected === "start-node" ? 0 : 1)) fail(`node ${node.id} has ${node.upstreamNodeIds.length} upstream nodes`);
      return;
    }
    const list = binding?.value.case === "collection" ? binding.value.value.bindings : [];
    if (list.length !== nodes - 1) fail(`the reducer binds ${list.length} list items, expected ${nodes - 1}`);
    list.forEach((item, j) => {
      if (promiseOf(item)?.nodeId !== `n${j}`) fail(`reducer item ${j} does not read n${j}`);
    });
    if (node.upstreamNodeIds.length !== nodes - 1) fail(`the reducer has ${node.upstreamNodeIds.length} upstream nodes`);
  });
  const out = promiseOf(spec.template?.outputs[0]?.binding);
  if (out?.nodeId !== `n${nodes - 1}`) fail(`${shape} ${nodes}: the workflow output reads ${out?.nodeId ?? "nothing"}`);
  return spec;
}

interface PlainNode {
  id: string;
  inputs: { var: string; promise?: { nodeId: string; var: string }; collection?: { nodeId: string; var: string }[] }[];
  upstream: string[];
}

/** The same graph as plain objects: what any representation costs, with no tracing, checking or protobuf. */
function plainGraph(shape: Shape, nodes: number): PlainNode[] {
  const graph: PlainNode[] = [];
  if (shape === "chain") {
    for (let i = 0; i < nodes; i++) {
      const from = i === 0 ? "start-node" : `n${i - 1}`;
      graph.push({ id: `n${i}`, inputs: [{ var: "x", promise: { nodeId: from, var: i === 0 ? "x" : "o0" } }], upstream: i === 0 ? [] : [from] });
    }
    return graph;
  }
  for (let i = 0; i < nodes - 1; i++) graph.push({ id: `n${i}`, inputs: [{ var: "x", promise: { nodeId: "start-node", var: "x" } }], upstream: [] });
  graph.push({
    id: `n${nodes - 1}`,
    inputs: [{ var: "xs", collection: graph.map((n) => ({ nodeId: n.id, var: "o0" })) }],
    upstream: graph.map((n) => n.id),
  });
  return graph;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time<T>(fn: () => T): { ms: number; value: T } {
  const start = performance.now();
  const value = fn();
  return { ms: performance.now() - start, value };
}

const mb = (bytes: number) => bytes / 1024 / 1024;

interface Row {
  shape: Shape;
  nodes: number;
  compileMs: number;
  serializeMs: number;
  bytes: number;
  baselineMs: number;
  rssMb: number;
  maxRssMb: number;
}

function measure(shape: Shape, nodes: number): Row {
  const module = moduleFor(shape, nodes);
  let rss = process.memoryUsage().rss;
  const sample = () => (rss = Math.max(rss, process.memoryUsage().rss));

  // Warm-up, checked like the measured runs; toBinary is warmed too, so its one timed call is not mostly JIT.
  toBinary(WorkflowSpecSchema, checkCompiled(shape, nodes, compile(module)));
  if (plainGraph(shape, nodes).length !== nodes) fail("baseline graph has the wrong size");

  const compileTimes: number[] = [];
  const serializeTimes: number[] = [];
  const baselineTimes: number[] = [];
  let bytes = 0;
  for (let run = 0; run < runs; run++) {
    const compiled = time(() => compile(module));
    sample();
    compileTimes.push(compiled.ms);
    const spec = checkCompiled(shape, nodes, compiled.value);
    // Each run's WorkflowSpec is serialized once; one call alone is too noisy to report.
    const serialized = time(() => toBinary(WorkflowSpecSchema, spec));
    sample();
    serializeTimes.push(serialized.ms);
    bytes = serialized.value.length;
    if (bytes === 0) fail("toBinary produced no bytes");
    const baseline = time(() => plainGraph(shape, nodes));
    sample();
    baselineTimes.push(baseline.ms);
    if (baseline.value.length !== nodes || baseline.value[nodes - 1].inputs.length !== 1) fail("baseline graph has the wrong size");
  }
  return {
    shape,
    nodes,
    compileMs: median(compileTimes),
    serializeMs: median(serializeTimes),
    bytes,
    baselineMs: median(baselineTimes),
    rssMb: mb(rss),
    maxRssMb: process.resourceUsage().maxRSS / 1024, // maxRSS is in kilobytes
  };
}

function printTable(rows: Row[]): void {
  const header = ["shape", "nodes", "compile ms", "µs/node", "serialize ms", "pb KB", "baseline ms", "ratio", "rss MB", "maxRSS MB"];
  const cells = rows.map((r) => [
    r.shape,
    String(r.nodes),
    r.compileMs.toFixed(1),
    ((r.compileMs * 1000) / r.nodes).toFixed(1),
    r.serializeMs.toFixed(1),
    (r.bytes / 1024).toFixed(0),
    r.baselineMs.toFixed(2),
    `${(r.compileMs / r.baselineMs).toFixed(0)}x`,
    r.rssMb.toFixed(0),
    r.maxRssMb.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const c of cells) console.log(line(c));
}

console.log(`goal: ${goalNodes.toLocaleString("en-US")} nodes compiled and checked in under ${goalMs / 1000} s`);
console.log(`compile = discoverEntities + compileDiscovered (trace, emit, FlyteAdmin checks); median of ${runs} runs after one warm-up`);
console.log(`baseline = the same graph as plain JS objects; ratio = compile / baseline; serialize = toBinary of the WorkflowSpec (median)`);
console.log(`rss MB = highest process.memoryUsage().rss sampled after each run; maxRSS MB = process.resourceUsage().maxRSS so far`);
console.log("");
const rows: Row[] = [];
for (const nodes of sizes) for (const shape of ["chain", "fan-out/in"] as const) rows.push(measure(shape, nodes));
printTable(rows);
console.log("");
for (const r of rows.filter((row) => row.nodes === goalNodes)) {
  const met = r.compileMs < goalMs;
  console.log(`${r.shape} ${r.nodes}: ${r.compileMs.toFixed(0)} ms — goal ${met ? "met" : "MISSED"}`);
  if (!met) process.exitCode = 1;
}
