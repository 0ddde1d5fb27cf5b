// Benchmarks the Kubernetes target on the test-bed (real apiserver, controllers and scheduler; the test kubelet runs
// pods as local processes; s3rver holds the blobs): from `run --remote` to the first task pod, from the execution's
// Job to that pod, and the driver's overhead per task attempt beyond the pod's own run time. With `--nodes N`
// (`npm run bench:k8s -- --nodes 10000`): one workflow of N task nodes plus a gather, end to end, where the CPU went
// (pods, driver, API server and etcd, the kubelet double), the record's shards, and how long `get execution --details`
// takes for it. The default run also maps a trivial task over 200 items, 20 at a time, and reports the driver's overhead
// per item attempt beside the chain's per-attempt figure. Never asserts timings.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestbed } from "../test/support/k8s-testbed.js";
import { TestKubelet } from "../test/support/kubelet.js";
import { startS3Server } from "../test/support/s3-server.js";
import { checkBuild, describeMachine, loadAverage, median, percentile, printTable, projectRoot } from "./support/child-timing.js";

const image = "bench.local/tsflyte:1";
const namespace = "flytesnacks-development";
const rounds = 6;
const baselinePods = 20;
const goalFirstPodMs = 1_000;
const goalOverheadMs = 50;
const mapItems = 200;
const mapConcurrency = 20;

/** `--nodes N`: the wide workflow's task nodes (the gather is one more); `--parallelism P`: its max parallelism. */
function flag(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return undefined;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) fail(`--${name} takes a whole number ≥ 1, not ${process.argv[i + 1]}`);
  return value;
}

function fail(message: string): never {
  throw new Error(`benchmark check failed: ${message}`);
}

/** Runs the CLI to its end; resolves to stdout once it exits 0. */
function cli(args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, join(projectRoot, "bin/run.js"), ...args], { cwd: projectRoot, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`tsflyte ${args.join(" ")} exited ${code}: ${err.slice(-2000)}`))));
  });
}

async function main(): Promise<void> {
  if (!checkBuild(["dist/commands/run.js", "dist/commands/kubernetes/drive.js"])) return;
  const scratch = mkdtempSync(join(tmpdir(), "tsflyte-bench-k8s-"));
  const [testbed, s3] = await Promise.all([startTestbed(), startS3Server()]);
  let kubelet: TestKubelet | undefined;
  let stopWatch: (() => void) | undefined;
  try {
    const k8s = await import("@kubernetes/client-node");
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(testbed.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const bin = join(scratch, "bin");
    mkdirSync(bin);
    symlinkSync(join(projectRoot, "bin/run.js"), join(bin, "tsflyte"));
    symlinkSync(join(projectRoot, "bin/tsflyte-execute"), join(bin, "tsflyte-execute"));
    kubelet = new TestKubelet({
      kubeconfig: testbed.kubeconfig,
      workDir: join(scratch, "kubelet"),
      images: (name) => name === image,
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        HOME: join(scratch, "pod-home"),
        TSFLYTE_HOME: join(scratch, "pod-home", ".tsflyte"),
        NO_COLOR: "1",
      },
    });
    // --record N: no node, so the driver never runs and the record is written here instead.
    const recordOnly = flag("record");
    if (recordOnly === undefined) await kubelet.start();
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: "s3-credentials" }, stringData: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey } } });
    const config = join(scratch, "config.yaml");
    writeFileSync(
      config,
      `target: kubernetes\nkubernetes:\n  kubeconfig: ${testbed.kubeconfig}\n  storage: s3://${s3.bucket}/tsflyte\n` +
        `  s3: { endpoint: "${s3.endpoint}", region: ${s3.region}, forcePathStyle: true, credentialsSecret: s3-credentials }\n`,
    );
    const env: NodeJS.ProcessEnv = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TSFLYTE_|FLYTECTL_|npm_)/.test(k))),
      FLYTECTL_CONFIG: config,
      TSFLYTE_HOME: join(scratch, "home"),
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      NO_COLOR: "1",
    };

    // First sight of every Job and pod in the namespace, and of each pod's Succeeded phase, on this machine's clock.
    const seen = new Map<string, number>();
    const watchKind = async (path: string, kind: string) => {
      const request = await new k8s.Watch(kc).watch(path, {}, (type: string, object: { metadata?: { name?: string }; status?: { phase?: string } }) => {
        const key = `${kind}/${object.metadata?.name}`;
        if (type === "ADDED" && !seen.has(key)) seen.set(key, Date.now());
        if (object.status?.phase === "Succeeded" && !seen.has(`${key}/Succeeded`)) seen.set(`${key}/Succeeded`, Date.now());
      }, () => undefined);
      return () => request.abort();
    };
    const stops = await Promise.all([watchKind(`/api/v1/namespaces/${namespace}/pods`, "pod"), watchKind(`/apis/batch/v1/namespaces/${namespace}/jobs`, "job")]);
    stopWatch = () => stops.forEach((stop) => stop());

    if (recordOnly !== undefined) {
      await recordedOnly({ nodes: recordOnly, parallelism: 25, env, core, kubelet, seen, kubeconfig: testbed.kubeconfig });
      return;
    }
    const nodes = flag("nodes");
    if (nodes !== undefined) {
      await wide({ nodes, parallelism: flag("parallelism") ?? 25, env, core, kubelet, seen, kubeconfig: testbed.kubeconfig });
      return;
    }

    const registered = Date.now();
    await cli(["register", "bench/fixtures/k8s/chain.ts", "--image", image], env);
    const registerMs = Date.now() - registered;

    const toFirstPod: number[] = [];
    const jobToFirstPod: number[] = [];
    const overheads: number[] = [];
    const sinceExit: number[] = [];
    const podRuns: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const submitted = Date.now();
      const out = await cli(["run", "--remote", "--image", image, "bench/fixtures/k8s/chain.ts", "chain", "--n", "0"], env);
      const name = /^Started execution ([a-z0-9-]+) /m.exec(out)?.[1] ?? fail(`no execution name in ${out}`);
      const deadline = Date.now() + 120_000;
      for (;;) {
        const map = await core.readNamespacedConfigMap({ name, namespace });
        const phase = map.metadata?.labels?.["tsflyte.io/phase"];
        if (phase === "SUCCEEDED") break;
        if (phase === "FAILED" || phase === "ABORTED") fail(`execution ${name} ${phase}: ${map.data?.execution}`);
        if (Date.now() > deadline) fail(`execution ${name} still ${phase} after 120 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const pods = Array.from({ length: 8 }, (_, i) => `${name}-n${i}-0`);
      const created = pods.map((pod) => seen.get(`pod/${pod}`) ?? fail(`pod ${pod} was never seen`));
      const runs = pods.map((pod) => kubelet!.runs.find((r) => r.pod === pod && r.namespace === namespace) ?? fail(`the kubelet never ran ${pod}`));
      const job = seen.get(`job/${name}`) ?? fail(`Job ${name} was never seen`);
      // The first round also pays for the first driver image's caches; keep it out, as a warm-up.
      if (round === 0) continue;
      toFirstPod.push(created[0] - submitted);
      jobToFirstPod.push(created[0] - job);
      for (let i = 1; i < pods.length; i++) {
        overheads.push(created[i] - (seen.get(`pod/${pods[i - 1]}/Succeeded`) ?? fail(`${pods[i - 1]} was never seen Succeeded`)));
        sinceExit.push(created[i] - (runs[i - 1].endedAt ?? fail(`${pods[i - 1]} has no end`)));
      }
      for (const r of runs) podRuns.push((r.endedAt ?? 0) - r.startedAt);
    }

    // A map of mapItems items, mapConcurrency at a time: an item past the first batch starts when an earlier one ends,
    // so pairing the k-th item pod seen Succeeded with the (batch + k)-th item pod created gives the driver's overhead
    // per item attempt, the map's counterpart of the chain's per-attempt figure.
    await cli(["register", "bench/fixtures/k8s/map.ts", "--image", image], env);
    const items = Array.from({ length: mapItems }, (_, i) => i);
    const mapSubmitted = Date.now();
    const mapOut = await cli(["run", "--remote", "--image", image, "bench/fixtures/k8s/map.ts", "fanOut", "--ns", JSON.stringify(items)], env);
    const mapName = /^Started execution ([a-z0-9-]+) /m.exec(mapOut)?.[1] ?? fail(`no execution name in ${mapOut}`);
    const mapDeadline = Date.now() + 600_000;
    for (;;) {
      const map = await core.readNamespacedConfigMap({ name: mapName, namespace });
      const phase = map.metadata?.labels?.["tsflyte.io/phase"];
      if (phase === "SUCCEEDED") break;
      if (phase === "FAILED" || phase === "ABORTED") fail(`execution ${mapName} ${phase}: ${map.data?.execution?.slice(0, 2000)}`);
      if (Date.now() > mapDeadline) fail(`execution ${mapName} still ${phase} after 600 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const mapMs = Date.now() - mapSubmitted;
    const itemPods = items.map((i) => `${mapName}-n0-0-${i}-0`);
    const itemCreated = itemPods.map((pod) => seen.get(`pod/${pod}`) ?? fail(`item pod ${pod} was never seen`)).sort((a, b) => a - b);
    const itemSucceeded = itemPods.map((pod) => seen.get(`pod/${pod}/Succeeded`) ?? fail(`item pod ${pod} was never seen Succeeded`)).sort((a, b) => a - b);
    const itemRuns = itemPods.map((pod) => kubelet!.runs.find((r) => r.pod === pod && r.namespace === namespace) ?? fail(`the kubelet never ran ${pod}`));
    const itemExits = itemRuns.map((r) => r.endedAt ?? fail(`${r.pod} has no end`)).sort((a, b) => a - b);
    const itemOverheads: number[] = [];
    const itemSinceExit: number[] = [];
    for (let k = 0; k + mapConcurrency < mapItems; k++) {
      itemOverheads.push(itemCreated[k + mapConcurrency] - itemSucceeded[k]);
      itemSinceExit.push(itemCreated[k + mapConcurrency] - itemExits[k]);
    }
    const itemPodRuns = itemRuns.map((r) => (r.endedAt ?? 0) - r.startedAt);
    // Never more than the concurrency at once: the pods' run windows, swept in time order.
    const events = itemRuns.flatMap((r) => [[r.startedAt, 1], [r.endedAt ?? 0, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    let mostAtOnce = 0;
    for (const [, change] of events) mostAtOnce = Math.max(mostAtOnce, (running += change));
    if (mostAtOnce > mapConcurrency) fail(`${mostAtOnce} item pods ran at once, more than the map's concurrency ${mapConcurrency}`);

    // Baseline, same run: what the API server alone takes from a pod create call to the watch seeing it.
    const baseline: number[] = [];
    for (let i = 0; i < baselinePods; i++) {
      const podName = `baseline-${i}`;
      const t = Date.now();
      await core.createNamespacedPod({
        namespace,
        body: { metadata: { name: podName }, spec: { restartPolicy: "Never", nodeSelector: { "bench.tsflyte.io/nowhere": "true" }, containers: [{ name: "c", image }] } },
      });
      const deadline = Date.now() + 10_000;
      while (!seen.has(`pod/${podName}`) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
      baseline.push((seen.get(`pod/${podName}`) ?? fail(`baseline pod ${podName} never seen`)) - t);
      await core.deleteNamespacedPod({ name: podName, namespace, gracePeriodSeconds: 0 });
    }

    // And what one small blob costs on this S3 test server, written then read, as the driver does per attempt.
    const { S3BlobStore } = await import("../src/lib/storage/s3-store.js");
    const blobs = new S3BlobStore(`s3://${s3.bucket}/bench`, { endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
    const puts: number[] = [];
    const gets: number[] = [];
    for (let i = 0; i < baselinePods; i++) {
      const uri = `s3://${s3.bucket}/bench/${i}/inputs.pb`;
      let t = Date.now();
      await blobs.write(uri, new Uint8Array(64).fill(i));
      puts.push(Date.now() - t);
      t = Date.now();
      await blobs.read(uri);
      gets.push(Date.now() - t);
    }
    await blobs.close();

    console.log(`Kubernetes target on the test-bed (${describeMachine()}; load ${loadAverage()}); ${rounds - 1} measured executions of an 8-task chain after one warm-up; register took ${registerMs} ms`);
    const base = median(baseline);
    printTable(
      ["measure", "median", "p90", "goal", "ratio to baseline"],
      [
        ["run --remote started → first task pod created", `${median(toFirstPod)} ms`, `${percentile(toFirstPod, 90)} ms`, `(CLI start-up included)`, ""],
        ["execution's Job created → first task pod created", `${median(jobToFirstPod)} ms`, `${percentile(jobToFirstPod, 90)} ms`, `≤ ${goalFirstPodMs} ms`, ""],
        ["driver overhead per attempt (pod Succeeded → next pod created)", `${median(overheads)} ms`, `${percentile(overheads, 90)} ms`, `< ${goalOverheadMs} ms`, `${(median(overheads) / base).toFixed(1)}×`],
        ["… counted from the process's exit (adds the kubelet's status write)", `${median(sinceExit)} ms`, `${percentile(sinceExit, 90)} ms`, "", `${(median(sinceExit) / base).toFixed(1)}×`],
        ["a task pod's own run (tsflyte-execute process)", `${median(podRuns)} ms`, `${percentile(podRuns, 90)} ms`, "", ""],
        [`map of ${mapItems} items, concurrency ${mapConcurrency}: run --remote → SUCCEEDED`, `${(mapMs / 1000).toFixed(1)} s`, `${(mapMs / mapItems).toFixed(0)} ms / item`, "", ""],
        ["driver overhead per map item attempt (item pod Succeeded → next item pod created)", `${median(itemOverheads)} ms`, `${percentile(itemOverheads, 90)} ms`, `< ${goalOverheadMs} ms`, `${(median(itemOverheads) / base).toFixed(1)}×`],
        ["… counted from the item process's exit", `${median(itemSinceExit)} ms`, `${percentile(itemSinceExit, 90)} ms`, "", `${(median(itemSinceExit) / base).toFixed(1)}×`],
        [`a map item pod's own run (most at once: ${mostAtOnce})`, `${median(itemPodRuns)} ms`, `${percentile(itemPodRuns, 90)} ms`, "", ""],
        ["baseline: bare pod create → seen by a watch", `${base} ms`, `${percentile(baseline, 90)} ms`, "", "1.0×"],
        ["baseline: one small blob written to the S3 test server", `${median(puts)} ms`, `${percentile(puts, 90)} ms`, "", `${(median(puts) / base).toFixed(1)}×`],
        ["baseline: one small blob read from the S3 test server", `${median(gets)} ms`, `${percentile(gets, 90)} ms`, "", `${(median(gets) / base).toFixed(1)}×`],
      ],
    );
  } finally {
    stopWatch?.();
    await kubelet?.stop();
    await Promise.all([testbed.stop(), s3.close()]);
    if (!process.env.BENCH_KEEP) rmSync(scratch, { recursive: true, force: true });
    else console.log(scratch);
  }
}

interface WideContext {
  nodes: number;
  parallelism: number;
  env: NodeJS.ProcessEnv;
  core: import("@kubernetes/client-node").CoreV1Api;
  kubelet: TestKubelet;
  seen: Map<string, number>;
  kubeconfig: string;
}

/** CPU seconds (user + system) of a process by pid, and of its reaped children; undefined once it is gone. */
function cpuOf(pid: number | "self"): { own: number; children: number; name: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const tick = 100;
    return { own: (Number(f[11]) + Number(f[12])) / tick, children: (Number(f[13]) + Number(f[14])) / tick, name };
  } catch {
    return undefined;
  }
}

/** The test-bed's processes (this process's children that outlive the run): name → CPU seconds. */
function componentCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== process.pid) continue;
      const cpu = cpuOf(Number(entry));
      if (cpu && /^(etcd|kube-)/.test(cpu.name)) out.set(cpu.name, (out.get(cpu.name) ?? 0) + cpu.own);
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** One workflow of `nodes` task nodes and a gather, end to end, with where the CPU went; then `get execution --details`. */
async function wide(context: WideContext): Promise<void> {
  const { nodes, parallelism, core, kubelet } = context;
  const env = { ...context.env, BENCH_K8S_WIDTH: String(nodes) };
  const componentsBefore = componentCpu();
  const started = Date.now();
  const out = await cli(["run", "--remote", "--image", image, "bench/fixtures/k8s/wide.ts", "wide", "--x", "1", "--max-parallelism", String(parallelism)], env);
  const launchedMs = Date.now() - started;
  const name = /^Started execution ([a-z0-9-]+) /m.exec(out)?.[1] ?? fail(`no execution name in ${out}`);
  const windowStart = Date.now();
  const windowSelf = cpuOf("self")!;
  const windowCpu = process.cpuUsage();
  let driverCpu = 0;
  let lastReport = 0;
  for (;;) {
    const map = await core.readNamespacedConfigMap({ name, namespace });
    const phase = map.metadata?.labels?.["tsflyte.io/phase"];
    const driver = kubelet.runs.find((r) => r.namespace === namespace && r.container === "driver" && r.pod.startsWith(`${name}-`) && r.endedAt === undefined);
    if (driver) driverCpu = cpuOf(driver.pid)?.own ?? driverCpu;
    if (phase === "SUCCEEDED") break;
    if (phase === "FAILED" || phase === "ABORTED") fail(`execution ${name} ${phase}: ${map.data?.execution?.slice(0, 2000)}`);
    if (Date.now() - lastReport > 30_000) {
      lastReport = Date.now();
      const done = kubelet.runs.filter((r) => r.pod.startsWith(`${name}-n`) && r.exitCode === 0).length;
      console.log(`  … ${done}/${nodes + 1} task pods done after ${Math.round((Date.now() - windowStart) / 1000)} s (load ${loadAverage()})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const runMs = Date.now() - windowStart;
  const totalMs = Date.now() - started;
  const selfAfter = cpuOf("self")!;
  const ownCpu = process.cpuUsage(windowCpu);
  const componentsAfter = componentCpu();
  const taskRuns = kubelet.runs.filter((r) => r.namespace === namespace && r.pod.startsWith(`${name}-n`));
  if (taskRuns.length < nodes + 1) fail(`${taskRuns.length} task pods ran, not ${nodes + 1}`);
  // Reaped children in the window: the task pods (the driver, still running, is not among them yet).
  const podCpu = selfAfter.children - windowSelf.children;
  const runMsPerPod = taskRuns.map((r) => (r.endedAt ?? 0) - r.startedAt);

  // The record as the cluster keeps it.
  const maps = (await core.listNamespacedConfigMap({ namespace, labelSelector: `tsflyte.io/execution=${name}` })).items;
  const bytes = maps.reduce((sum, m) => sum + Object.values(m.data ?? {}).reduce((s, text) => s + text.length, 0), 0);

  const details: number[] = [];
  const plain: number[] = [];
  for (let round = 0; round < 3; round++) {
    let t = Date.now();
    const shown = await cli(["get", "execution", name, "--details", "-o", "json"], context.env);
    details.push(Date.now() - t);
    const parsed = JSON.parse(shown) as { nodes: unknown[] };
    if (parsed.nodes.length < nodes + 1) fail(`get execution --details showed ${parsed.nodes.length} nodes, not ${nodes + 1}`);
    t = Date.now();
    await cli(["get", "execution", name], context.env);
    plain.push(Date.now() - t);
  }
  const { connectCluster } = await import("../src/lib/k8s/cluster.js");
  const { ClusterStore } = await import("../src/lib/k8s/cluster-store.js");
  const store = new ClusterStore(await connectCluster({ kubeconfig: context.kubeconfig }), { namespaceFor: (p, d) => `${p}-${d}` });
  const reads: number[] = [];
  for (let round = 0; round < 3; round++) {
    const t = Date.now();
    const [rows, attempts] = await Promise.all([store.listNodeExecutions({ project: "flytesnacks", domain: "development", name }), store.listTaskExecutions({ project: "flytesnacks", domain: "development", name })]);
    reads.push(Date.now() - t);
    if (rows.length < nodes + 1 || attempts.length < nodes + 1) fail(`the store read ${rows.length} nodes and ${attempts.length} attempts`);
  }
  await store.close();

  const components = [...componentsAfter].map(([component, cpu]) => [component, cpu - (componentsBefore.get(component) ?? 0)] as const);
  const per = (seconds: number) => `${((seconds * 1000) / (nodes + 1)).toFixed(1)} ms`;
  console.log(
    `Kubernetes target on the test-bed (${describeMachine()}); one workflow of ${nodes} task nodes + a gather, max parallelism ${parallelism}; ` +
      `run --remote took ${launchedMs} ms (register + create); load at end ${loadAverage()}`,
  );
  printTable(
    ["measure", "value", "per task node"],
    [
      ["run --remote started → execution SUCCEEDED", `${(totalMs / 1000).toFixed(1)} s`, `${(totalMs / (nodes + 1)).toFixed(1)} ms`],
      ["… of which the execution ran (created → SUCCEEDED)", `${(runMs / 1000).toFixed(1)} s`, `${(runMs / (nodes + 1)).toFixed(1)} ms`],
      ["task pod process run (tsflyte-execute), median / p90", `${median(runMsPerPod)} / ${percentile(runMsPerPod, 90)} ms`, ""],
      ["CPU: task pod processes", `${podCpu.toFixed(1)} s`, per(podCpu)],
      ["CPU: the driver (sampled until it ended)", `${driverCpu.toFixed(1)} s`, per(driverCpu)],
      ...components.map(([component, cpu]) => [`CPU: ${component}`, `${cpu.toFixed(1)} s`, per(cpu)]),
      ["CPU: kubelet double + s3rver + watches (this process)", `${((ownCpu.user + ownCpu.system) / 1e6).toFixed(1)} s`, per((ownCpu.user + ownCpu.system) / 1e6)],
      ["record: ConfigMaps (execution + shards) / JSON bytes", `${maps.length} / ${(bytes / 1024 / 1024).toFixed(1)} MiB`, `${Math.round(bytes / (nodes + 1))} B`],
      ["ClusterStore: nodes + attempts read back (one list), median", `${median(reads)} ms`, ""],
      ["get execution NAME (CLI, wall), median", `${median(plain)} ms`, ""],
      ["get execution NAME --details -o json (CLI, wall), median", `${median(details)} ms`, "goal < 2000 ms"],
    ],
  );
}

/**
 * `--record N`: the record a run of the wide workflow leaves (N + 1 nodes and attempts, SUCCEEDED), written through
 * ClusterStore in the driver's batch sizes, without running a pod; then how long reading it back and
 * `get execution --details` take. What a real run adds to the record (outputs) is not in these rows.
 */
async function recordedOnly(context: WideContext): Promise<void> {
  const { nodes, core } = context;
  const env = { ...context.env, BENCH_K8S_WIDTH: String(nodes) };
  const out = await cli(["run", "--remote", "--image", image, "bench/fixtures/k8s/wide.ts", "wide", "--x", "1"], env);
  const name = /^Started execution ([a-z0-9-]+) /m.exec(out)?.[1] ?? fail(`no execution name in ${out}`);
  const { connectCluster } = await import("../src/lib/k8s/cluster.js");
  const { ClusterStore } = await import("../src/lib/k8s/cluster-store.js");
  const store = new ClusterStore(await connectCluster({ kubeconfig: context.kubeconfig }), { namespaceFor: (p, d) => `${p}-${d}` });
  const key = { project: "flytesnacks", domain: "development", name };
  const record = (await store.getExecution(key)) ?? fail(`execution ${name} has no record`);
  const t0 = Date.now();
  await store.write([{ table: "execution", row: { ...record, phase: "RUNNING", startedAt: t0, updatedAt: t0 } }]);
  const ids = Array.from({ length: nodes + 1 }, (_, i) => `n${i}`);
  const row = (nodeId: string, phase: "RUNNING" | "SUCCEEDED", t: number) => ({
    project: key.project,
    domain: key.domain,
    executionName: name,
    nodeId,
    specNodeId: nodeId,
    entityKind: "task" as const,
    entityName: nodeId === `n${nodes}` ? "bench.fixtures.k8s.wide-tasks.sum" : "bench.fixtures.k8s.wide-tasks.inc",
    isParent: false,
    phase,
    inputsUri: `s3://bench/metadata/flytesnacks-development-${name}/${nodeId}/data/inputs.pb`,
    ...(phase === "SUCCEEDED" ? { outputsUri: `s3://bench/metadata/flytesnacks-development-${name}/${nodeId}/data/0/outputs.pb`, endedAt: t } : {}),
    retries: 0,
    createdAt: t,
    startedAt: t,
    updatedAt: t,
  });
  const attempt = (nodeId: string, phase: "RUNNING" | "SUCCEEDED", t: number) => ({
    project: key.project,
    domain: key.domain,
    executionName: name,
    nodeId,
    attempt: 0,
    taskName: nodeId === `n${nodes}` ? "bench.fixtures.k8s.wide-tasks.sum" : "bench.fixtures.k8s.wide-tasks.inc",
    runner: "pod",
    phase,
    logsUri: `s3://bench/metadata/flytesnacks-development-${name}/${nodeId}/data/0/logs.txt`,
    startedAt: t,
    updatedAt: t,
    ...(phase === "SUCCEEDED" ? { endedAt: t } : {}),
  });
  // As the driver writes: each node's start and end in batches of the ones that changed in one turn (here 25).
  let writes = 0;
  const writeStarted = Date.now();
  for (let from = 0; from < ids.length; from += 25) {
    const group = ids.slice(from, from + 25);
    const t = Date.now();
    await store.write(group.flatMap((id) => [{ table: "node" as const, row: row(id, "RUNNING", t) }, { table: "task" as const, row: attempt(id, "RUNNING", t) }]));
    await store.write(group.flatMap((id) => [{ table: "node" as const, row: row(id, "SUCCEEDED", t) }, { table: "task" as const, row: attempt(id, "SUCCEEDED", t) }]));
    writes += 2;
  }
  const writeMs = Date.now() - writeStarted;
  const t1 = Date.now();
  await store.write([{ table: "execution", row: { ...record, phase: "SUCCEEDED", startedAt: t0, endedAt: t1, updatedAt: t1 } }]);
  await store.close();
  const maps = (await core.listNamespacedConfigMap({ namespace, labelSelector: `tsflyte.io/execution=${name}` })).items;
  const bytes = maps.reduce((sum, m) => sum + Object.values(m.data ?? {}).reduce((s, text) => s + text.length, 0), 0);
  const reads: number[] = [];
  const reader = new ClusterStore(await connectCluster({ kubeconfig: context.kubeconfig }), { namespaceFor: (p, d) => `${p}-${d}` });
  for (let round = 0; round < 3; round++) {
    const t = Date.now();
    await Promise.all([reader.listNodeExecutions(key), reader.listTaskExecutions(key)]);
    reads.push(Date.now() - t);
  }
  await reader.close();
  const details: number[] = [];
  const plain: number[] = [];
  for (let round = 0; round < 3; round++) {
    let t = Date.now();
    // BENCH_K8S_CPU_PROF=DIR: the details command writes a V8 CPU profile there.
    const profile = process.env.BENCH_K8S_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_K8S_CPU_PROF}`] : [];
    const shown = JSON.parse(await cli(["get", "execution", name, "--details", "-o", "json"], context.env, profile)) as { nodes: unknown[] };
    details.push(Date.now() - t);
    if (shown.nodes.length !== nodes + 1) fail(`get execution --details showed ${shown.nodes.length} nodes, not ${nodes + 1}`);
    t = Date.now();
    await cli(["get", "execution", name], context.env);
    plain.push(Date.now() - t);
  }
  console.log(`Kubernetes target on the test-bed (${describeMachine()}); the record of a ${nodes}-node + gather run written without pods; load at end ${loadAverage()}`);
  printTable(
    ["measure", "value", "per write / node"],
    [
      [`ClusterStore: ${writes} batches of 25 nodes + 25 attempts`, `${(writeMs / 1000).toFixed(1)} s`, `${(writeMs / writes).toFixed(1)} ms / batch`],
      ["record: ConfigMaps (execution + shards) / JSON bytes", `${maps.length} / ${(bytes / 1024 / 1024).toFixed(1)} MiB`, `${Math.round(bytes / (nodes + 1))} B / node`],
      ["ClusterStore: nodes + attempts read back (one list), median", `${median(reads)} ms`, ""],
      ["get execution NAME (CLI, wall), median", `${median(plain)} ms`, ""],
      ["get execution NAME --details -o json (CLI, wall), median", `${median(details)} ms`, "goal < 2000 ms"],
    ],
  );
}

await main();
