// Benchmarks tsflyte's local engine, history persisted, against durable peers (DBOS on PostgreSQL, Restate) and in-memory
// ones (p-graph, plain await) on the same chain and fan-out of trivial tasks, on the work disk and on tmpfs. Never asserts timings.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer as createHttp2Server, type Http2Server } from "node:http2";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { DBOS } from "@dbos-inc/dbos-sdk";
import * as restate from "@restatedev/restate-sdk";
import * as restateClients from "@restatedev/restate-sdk-clients";
import { PGraph, type DependencyList, type PGraphNode } from "p-graph";
import type { Entity } from "../src/lib/sdk/entity.js";
import { MemoryBlobStore } from "../src/lib/storage/memory-store.js";
import { startPostgres, type TestPostgres } from "../test/support/postgres.js";
import { describeMachine, loadAverage, median, printTable } from "./support/child-timing.js";
import {
  chainBaseline,
  chainWorkflow,
  closePersisted,
  execute,
  fail,
  fanOutBaseline,
  fanOutWorkflow,
  incBody,
  input,
  maxParallelism,
  openPersisted,
  outputOf,
  sumBody,
} from "./support/engine-runs.js";
import { startRestateServer, type RestateServer } from "./support/restate-server.js";

const goalUsPerNode = 50;
const goalTimesFasterThanDurable = 40;
const goalNoStoreOverPGraph = 2;
const rounds = 5;
const bigRounds = 3;
const sizes = [1_000, 10_000] as const;
// A durable peer runs at N = 10,000 (once per shape) only when its N = 1,000 median, scaled linearly, says a run ends within this.
const bigDurableBudgetMs = 60_000;

type Shape = "chain" | "fan-out";

interface Case {
  shape: Shape;
  /** The chain's length, the fan-out's width. */
  size: number;
  /** Task nodes: the fan-out's gather counts. */
  nodes: number;
  expected: number;
  entity: Entity;
}

function makeCase(shape: Shape, size: number): Case {
  return shape === "chain"
    ? { shape, size, nodes: size, expected: input + size, entity: chainWorkflow(size) }
    : { shape, size, nodes: size + 1, expected: (input + 1) * size, entity: fanOutWorkflow(size) };
}

const cases = new Map<number, Case[]>(sizes.map((size) => [size, [makeCase("chain", size), makeCase("fan-out", size)]]));

/** One run of a system on a case: `run` is timed, `check` (the durable record is there) and `close` are not. */
interface Trial {
  run(): Promise<number>;
  check?(): Promise<void>;
  close?(): Promise<void>;
}

interface System {
  label: string;
  trial(c: Case): Promise<Trial> | Trial;
}

// ---- tsflyte ----

// The run's folders, removed at exit if a signal or a failure ends the benchmark in the middle of a run.
const runFolders = new Set<string>();
process.on("exit", () => runFolders.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tsflyte(parent: string): System {
  return {
    label: "tsflyte (history persisted)",
    trial: (c) => {
      const p = openPersisted({ parent });
      runFolders.add(p.dir);
      let executionName = "";
      return {
        run: async () => {
          const result = await execute(c.entity, p);
          executionName = result.record.name;
          return outputOf("tsflyte", c.entity, result);
        },
        check: async () => {
          const key = { project: "bench", domain: "development", name: executionName };
          const nodes = await p.store.listNodeExecutions(key);
          if (nodes.length !== c.nodes || nodes.some((n) => n.phase !== "SUCCEEDED")) fail(`tsflyte ${c.shape} ${c.size}: ${nodes.length} node rows, not ${c.nodes} SUCCEEDED`);
          if ((await p.store.getExecution(key))?.phase !== "SUCCEEDED") fail(`tsflyte ${c.shape} ${c.size}: the execution row is not SUCCEEDED`);
        },
        close: async () => {
          await closePersisted(p);
          runFolders.delete(p.dir);
        },
      };
    },
  };
}

const tsflyteNoStore: System = {
  label: "tsflyte (no store)",
  trial: (c) => ({ run: async () => outputOf("tsflyte without a store", c.entity, await execute(c.entity, { blobs: new MemoryBlobStore() })) }),
};

// ---- DBOS: a workflow whose steps are the task bodies, checkpointed in PostgreSQL ----

const dbosInc = DBOS.registerStep(incBody, { name: "inc" });
const dbosSum = DBOS.registerStep(sumBody, { name: "sum" });
const dbosChain = DBOS.registerWorkflow(
  async (x: number, length: number) => {
    let last = x;
    for (let i = 0; i < length; i++) last = await dbosInc({ x: last });
    return last;
  },
  { name: "chain" },
);
const dbosFanOut = DBOS.registerWorkflow(
  async (x: number, width: number) => {
    // Started in one synchronous loop, so each step's checkpoint number is the same on a replay.
    const parts = await Promise.all(Array.from({ length: width }, () => dbosInc({ x })));
    return dbosSum({ xs: parts });
  },
  { name: "fanOut" },
);

let dbosWorkflows = 0;

const dbos: System = {
  label: "DBOS",
  trial: (c) => {
    const workflowID = `bench-${dbosWorkflows++}`;
    return {
      run: async () => {
        const handle = await DBOS.startWorkflow(c.shape === "chain" ? dbosChain : dbosFanOut, { workflowID })(input, c.size);
        return handle.getResult();
      },
      check: async () => {
        const steps = await DBOS.listWorkflowSteps(workflowID);
        if (steps?.length !== c.nodes) fail(`DBOS ${c.shape} ${c.size}: ${steps?.length ?? "no"} steps recorded, not ${c.nodes}`);
      },
    };
  },
};

// ---- Restate: a service whose handler runs each task body as a ctx.run durable step ----

const restateService = restate.service({
  name: "peers",
  handlers: {
    chain: async (ctx: restate.Context, req: { x: number; length: number }): Promise<number> => {
      let last = req.x;
      for (let i = 0; i < req.length; i++) {
        const x = last;
        last = await ctx.run("inc", () => incBody({ x }));
      }
      return last;
    },
    fanOut: async (ctx: restate.Context, req: { x: number; width: number }): Promise<number> => {
      const parts = await restate.RestatePromise.all(Array.from({ length: req.width }, () => ctx.run("inc", () => incBody({ x: req.x }))));
      return ctx.run("sum", () => sumBody({ xs: parts }));
    },
  },
});

function restateSystem(ingressUrl: string): System {
  const client = restateClients.connect({ url: ingressUrl }).serviceClient(restateService);
  return {
    label: "Restate",
    trial: (c) => ({ run: async () => (c.shape === "chain" ? client.chain({ x: input, length: c.size }) : client.fanOut({ x: input, width: c.size })) }),
  };
}

/** The SDK's endpoint on an ephemeral loopback port (HTTP/2, so the server streams each invocation's journal both ways). */
async function serveRestateEndpoint(): Promise<{ server: Http2Server; uri: string }> {
  // The Restate SDK 1.17 calls Promise.withResolvers, which Node has from 22 on; on Node 20 the benchmark supplies it.
  if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== "function") {
    Object.defineProperty(Promise, "withResolvers", {
      configurable: true,
      writable: true,
      value<T>() {
        let resolve!: (value: T | PromiseLike<T>) => void;
        let reject!: (reason?: unknown) => void;
        const promise = new Promise<T>((ok, ko) => {
          resolve = ok;
          reject = ko;
        });
        return { promise, resolve, reject };
      },
    });
  }
  // Errors only: the SDK's console logger writes two lines per invocation, and warns that a loopback endpoint checks no signatures.
  const logger: restate.LoggerTransport = (meta, message, ...rest) => {
    if (String(meta.level) === "error") console.error("[restate]", message, ...rest);
  };
  const server = createHttp2Server(restate.createEndpointHandler({ services: [restateService], logger }));
  await new Promise<void>((done, reject) => server.once("error", reject).listen(0, "127.0.0.1", done));
  return { server, uri: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

// ---- p-graph and plain await ----

const pGraph: System = {
  label: "p-graph",
  trial: (c) => ({
    // The graph is built in the timed region, as each tsflyte execution builds its own; the task bodies pass values through a Map.
    run: async () => {
      const values = new Map<string, number>();
      const nodes = new Map<string, PGraphNode>();
      const dependencies: DependencyList = [];
      if (c.shape === "chain") {
        for (let i = 0; i < c.size; i++) {
          const id = `n${i}`;
          const before = i > 0 ? `n${i - 1}` : undefined;
          nodes.set(id, { run: async () => values.set(id, await incBody({ x: before ? values.get(before)! : input })) });
          if (before) dependencies.push([before, id]);
        }
        await new PGraph(nodes, dependencies).run();
        return values.get(`n${c.size - 1}`)!;
      }
      const parts = Array.from({ length: c.size }, (_, i) => `n${i}`);
      for (const id of parts) nodes.set(id, { run: async () => values.set(id, await incBody({ x: input })) });
      nodes.set("gather", { run: async () => values.set("gather", await sumBody({ xs: parts.map((id) => values.get(id)!) })) });
      for (const id of parts) dependencies.push([id, "gather"]);
      await new PGraph(nodes, dependencies).run();
      return values.get("gather")!;
    },
  }),
};

const plainAwait: System = {
  label: "plain await",
  trial: (c) => ({ run: () => (c.shape === "chain" ? chainBaseline(c.size) : fanOutBaseline(c.size)) }),
};

// ---- measuring ----

async function once(system: System, c: Case): Promise<number> {
  const trial = await system.trial(c);
  try {
    const start = performance.now();
    const value = await trial.run();
    const ms = performance.now() - start;
    if (value !== c.expected) fail(`${system.label} ${c.shape} ${c.size} returned ${value}, not ${c.expected}`);
    await trial.check?.();
    return ms;
  } finally {
    await trial.close?.();
  }
}

/** Milliseconds per system label and shape. */
type Times = Map<string, Map<Shape, number[]>>;

function record(times: Times, system: System, c: Case, ms: number): void {
  if (!times.has(system.label)) times.set(system.label, new Map());
  const byShape = times.get(system.label)!;
  byShape.set(c.shape, [...(byShape.get(c.shape) ?? []), ms]);
}

/** `warmUp` systems run each case once untimed; then `count` rounds run every system on every case, the order rotated by one system per round. */
async function interleaved(systems: System[], warmUp: System[], size: number, count: number): Promise<Times> {
  const times: Times = new Map();
  for (const system of warmUp) for (const c of cases.get(size)!) await once(system, c);
  for (let round = 0; round < count; round++) {
    for (let i = 0; i < systems.length; i++) {
      const system = systems[(i + round) % systems.length];
      for (const c of cases.get(size)!) record(times, system, c, await once(system, c));
    }
  }
  return times;
}

const usPerNode = (ms: number, c: Case) => (ms * 1000) / c.nodes;

function medianUs(times: Times, label: string, c: Case): number | undefined {
  const ms = times.get(label)?.get(c.shape);
  return ms?.length ? usPerNode(median(ms), c) : undefined;
}

function printTimes(times: Times, systems: System[], size: number): void {
  const [chain, fan] = cases.get(size)!;
  const cell = (label: string, c: Case) => {
    const ms = times.get(label)?.get(c.shape);
    if (!ms?.length) return ["—", "—"];
    const spread = ms.length > 1 ? `${usPerNode(Math.min(...ms), c).toFixed(1)}–${usPerNode(Math.max(...ms), c).toFixed(1)}` : "(one run)";
    return [usPerNode(median(ms), c).toFixed(ms.length > 1 && usPerNode(median(ms), c) < 10 ? 2 : 1), spread];
  };
  printTable(
    ["system", `chain ${size.toLocaleString("en-US")} µs/node`, "min–max", `fan-out ${size.toLocaleString("en-US")} + gather µs/node`, "min–max"],
    systems.map((s) => [s.label, ...cell(s.label, chain), ...cell(s.label, fan)]),
  );
}

interface Goal {
  text: string;
  met: boolean;
}

/** Ratios against tsflyte's figures of the same run, and the issue's goals they bear on. */
function ratiosAndGoals(times: Times, size: number, where: string): Goal[] {
  const goals: Goal[] = [];
  const fmt = (v: number) => (v >= 10 ? v.toFixed(0) : v.toFixed(2));
  for (const c of cases.get(size)!) {
    const persisted = medianUs(times, "tsflyte (history persisted)", c)!;
    const noStore = medianUs(times, "tsflyte (no store)", c)!;
    const plain = medianUs(times, "plain await", c)!;
    const pg = medianUs(times, "p-graph", c)!;
    const name = `${c.shape} ${size.toLocaleString("en-US")}`;
    const parts = [`${fmt(persisted / plain)}× plain await's time`, `${fmt(persisted / pg)}× p-graph's`];
    for (const peer of ["DBOS", "Restate"]) {
      const theirs = medianUs(times, peer, c);
      if (theirs === undefined) {
        parts.push(`${peer} not run`);
        continue;
      }
      parts.push(`${peer} takes ${fmt(theirs / persisted)}× its time`);
      goals.push({ text: `${where}, ${name}: ${peer} takes ${fmt(theirs / persisted)}× the time of tsflyte with history persisted (goal ≥ ${goalTimesFasterThanDurable}×)`, met: theirs / persisted >= goalTimesFasterThanDurable });
    }
    console.log(`  ${name}: tsflyte (history persisted) takes ${parts.join(", ")}; tsflyte (no store) takes ${fmt(noStore / pg)}× p-graph's time`);
    const overhead = persisted - plain;
    goals.push({ text: `${where}, ${name}: tsflyte with history persisted ${overhead.toFixed(1)} µs/node over plain await (goal ≤ ${goalUsPerNode} µs)`, met: overhead <= goalUsPerNode });
    goals.push({ text: `${where}, ${name}: tsflyte without a store ${fmt(noStore / pg)}× p-graph's time (goal ≤ ${goalNoStoreOverPGraph}×)`, met: noStore / pg <= goalNoStoreOverPGraph });
  }
  return goals;
}

// ---- disks ----

/** The mount a path lives on, from /proc/mounts: the longest mount point that holds it. */
function mountOf(path: string): { point: string; type: string; device: string } {
  const mounts = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split(" "))
    .map(([device, point, type]) => ({ device, point: point.replace(/\\040/g, " "), type }));
  const full = resolve(path);
  return mounts
    .filter((m) => full === m.point || full.startsWith(m.point === "/" ? "/" : `${m.point}/`))
    .sort((a, b) => b.point.length - a.point.length)[0];
}

interface Disk {
  name: string;
  /** Where every system's state goes: a new folder under it each. */
  parent: string;
  describe: string;
  release(): void;
}

/** The working directory's file system: the system temp folder when it is on the same device, otherwise a folder made in the working directory. */
function workDisk(): Disk {
  const cwd = process.cwd();
  const sameDevice = statSync(tmpdir()).dev === statSync(cwd).dev;
  const parent = sameDevice ? tmpdir() : mkdtempSync(join(cwd, ".tmp-bench-peers-"));
  const m = mountOf(parent);
  return {
    name: "work disk",
    parent,
    describe: `the working directory's disk: ${parent} (${m.type} on ${m.device}, mounted at ${m.point})`,
    release: () => (sameDevice ? undefined : rmSync(parent, { recursive: true, force: true })),
  };
}

/** /dev/shm when it is a tmpfs; otherwise, as root, a tmpfs mounted for the run; otherwise none. */
function tmpfsDisk(): Disk | string {
  if (mountOf("/dev/shm")?.type === "tmpfs") {
    return { name: "tmpfs", parent: "/dev/shm", describe: "tmpfs: /dev/shm", release: () => undefined };
  }
  if (process.getuid?.() !== 0) return "no tmpfs: /dev/shm is not one, and mounting one needs root";
  const point = mkdtempSync(join(tmpdir(), "tsflyte-bench-tmpfs-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=4g,mode=1777", "tmpfs", point]);
  let mounted = true;
  const release = () => {
    if (!mounted) return;
    mounted = false;
    execFileSync("umount", ["--lazy", point]);
    rmSync(point, { recursive: true, force: true });
  };
  // At exit this may run before the servers' own exit handlers kill them: --lazy detaches it now, and the kernel frees it once they are gone.
  process.on("exit", release);
  return { name: "tmpfs", parent: point, describe: `tmpfs mounted for this run at ${point}`, release };
}

/** The peers' servers for one disk, their state under `parent`; the caller stops them. */
async function startPeers(parent: string): Promise<{ postgres: TestPostgres; restateServer: RestateServer; endpoint: Http2Server; stop(): Promise<void> }> {
  const postgres = await startPostgres({ parent });
  let restateServer: RestateServer | undefined;
  let endpoint: Http2Server | undefined;
  let launched = false;
  const stop = async () => {
    if (launched) await DBOS.shutdown();
    endpoint?.close();
    await restateServer?.stop();
    await postgres.stop();
  };
  try {
    DBOS.setConfig({ name: "tsflyte-bench", systemDatabaseUrl: await postgres.createDatabase(), logLevel: "error" });
    await DBOS.launch();
    launched = true;
    restateServer = await startRestateServer({ parent });
    const served = await serveRestateEndpoint();
    endpoint = served.server;
    await restateServer.register(served.uri);
    return { postgres, restateServer, endpoint, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The first invocations after registering may meet a server still spreading the new deployment: retry those for a while. */
async function untilInvocable(system: System, c: Case): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await once(system, c);
      return;
    } catch (err) {
      if (Date.now() > deadline || String(err).includes("benchmark check failed")) throw err;
      await new Promise((done) => setTimeout(done, 200));
    }
  }
}

async function measureDisk(disk: Disk): Promise<Goal[]> {
  console.log(`== ${disk.describe}`);
  const peers = await startPeers(disk.parent);
  const goals: Goal[] = [];
  try {
    console.log(
      `   state: tsflyte's SQLite file and file:// blob folder in a new ${disk.parent}/tsflyte-bench-engine-* per run; ` +
        `DBOS's PostgreSQL data folder in ${disk.parent}/tsflyte-pg-*; Restate's data folder ${peers.restateServer.dataDir}`,
    );
    const restateOnDisk = restateSystem(peers.restateServer.ingressUrl);
    const all = [tsflyte(disk.parent), tsflyteNoStore, dbos, restateOnDisk, pGraph, plainAwait];
    await untilInvocable(restateOnDisk, cases.get(1_000)![0]);

    console.log(`\n   N = 1,000: median of ${rounds} interleaved rounds after a warm-up round`);
    const small = await interleaved(all, all, 1_000, rounds);
    printTimes(small, all, 1_000);
    goals.push(...ratiosAndGoals(small, 1_000, disk.name));

    // tsflyte, p-graph and plain await at 10,000; the no-store engine's warm-up also makes the big workflows' plans.
    const inMemory = [tsflyteNoStore, pGraph, plainAwait];
    console.log(`\n   N = 10,000: median of ${bigRounds} interleaved rounds after a warm-up round of ${inMemory.map((s) => s.label).join(", ")}`);
    const big = await interleaved([tsflyte(disk.parent), ...inMemory], inMemory, 10_000, bigRounds);
    const bigPeers: string[] = [];
    for (const peer of [dbos, restateOnDisk]) {
      for (const c of cases.get(10_000)!) {
        const small1000 = cases.get(1_000)!.find((s) => s.shape === c.shape)!;
        const estimateMs = (median(small.get(peer.label)!.get(c.shape)!) * c.nodes) / small1000.nodes;
        if (estimateMs > bigDurableBudgetMs) {
          bigPeers.push(`${peer.label} ${c.shape} not run (estimated ${(estimateMs / 1000).toFixed(0)} s from N = 1,000, over ${bigDurableBudgetMs / 1000} s)`);
          continue;
        }
        try {
          record(big, peer, c, await once(peer, c));
          bigPeers.push(`${peer.label} ${c.shape} run once`);
        } catch (err) {
          // A peer that cannot carry 10,000 nodes is a finding to print, not a reason to lose the other figures.
          bigPeers.push(`${peer.label} ${c.shape} failed (${err instanceof Error ? `${err.message}${err.cause ? `: ${String(err.cause)}` : ""}` : String(err)})`);
        }
      }
    }
    printTimes(big, all, 10_000);
    console.log(`   durable peers at 10,000 (one run each, no warm-up at this size, after its 1,000 rounds): ${bigPeers.join("; ")}`);
    goals.push(...ratiosAndGoals(big, 10_000, disk.name));
  } finally {
    await peers.stop();
  }
  console.log("");
  return goals;
}

console.log(`goals (issue 14): tsflyte with history persisted ≤ ${goalUsPerNode} µs/node over plain await at N = 1,000 and 10,000, on disk and tmpfs;`);
console.log(`  ≥ ${goalTimesFasterThanDurable}× faster than DBOS and Restate in the same run; the engine without a store ≤ ${goalNoStoreOverPGraph}× p-graph's time`);
console.log(describeMachine());
console.log("systems (each runs the same task bodies: x → x + 1, and the gather's sum):");
console.log(`  tsflyte (history persisted) = runExecution with InProcessRunner({ containCrashes: true }), maxParallelism ${maxParallelism}, a fresh SQLite file`);
console.log("    (WAL, synchronous=NORMAL) and file:// blob store per run, opened, checked (node rows) and removed outside the timing");
console.log("  tsflyte (no store) = runExecution with no metadata store and a MemoryBlobStore (the direct-call mode: nothing recorded)");
console.log("  DBOS = @dbos-inc/dbos-sdk: a registered workflow whose steps are registered steps (the fan-out: Promise.all of the steps,");
console.log("    then the gather step), started with a new workflow ID and awaited; steps counted afterwards; the throwaway test PostgreSQL");
console.log("    (test/support/postgres.ts: fsync=off, synchronous_commit=off), DBOS's default pool of 10 connections, in this process");
console.log("  Restate = a restate-server from npm (all roles, one node, its default 24 partitions; log server WAL not fsynced), the SDK's");
console.log("    HTTP/2 endpoint in this process, a service handler running each task body as ctx.run (fan-out: RestatePromise.all),");
console.log("    invoked through the ingress with @restatedev/restate-sdk-clients and awaited");
console.log("  p-graph = new PGraph(nodes, dependencies).run(), the graph built in the timed region, values passed through a Map; nothing durable");
console.log("  plain await = the task bodies awaited in sequence (chain) or with Promise.all then the gather (fan-out)");
console.log("no system fsyncs each commit: each keeps its record through a crash of its process, not through a power loss.");
console.log("all servers of a disk stay up through all its rounds, so their idle work falls on every system alike; each run's output is checked");
console.log("(the chain returns 1 + N from 1, the fan-out 2·N). µs/node = the run's time / its task nodes (the fan-out's gather counts).");
console.log("");

// Ctrl-C or a kill ends the run through process.exit, so the exit handlers stop the servers and remove every folder.
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) process.once(signal, () => process.exit(code));

const disks: Disk[] = [workDisk()];
const tmpfs = tmpfsDisk();
if (typeof tmpfs === "string") console.log(`${tmpfs}: measured on the work disk only\n`);
else disks.push(tmpfs);
const goals: Goal[] = [];
try {
  for (const disk of disks) goals.push(...(await measureDisk(disk)));
} finally {
  for (const disk of disks) disk.release();
}
console.log("goals:");
for (const g of goals) console.log(`  ${g.met ? "met   " : "missed"}  ${g.text}`);
console.log(`\nloadavg at end: ${loadAverage()}`);
