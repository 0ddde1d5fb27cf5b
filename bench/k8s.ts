// Benchmarks the Kubernetes target on the test-bed (real apiserver, controllers and scheduler; the test kubelet runs
// pods as local processes; s3rver holds the blobs): from `run --remote` to the first task pod, from the execution's
// Job to that pod, and the driver's overhead per task attempt beyond the pod's own run time. Never asserts timings.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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

function fail(message: string): never {
  throw new Error(`benchmark check failed: ${message}`);
}

/** Runs the CLI to its end; resolves to stdout once it exits 0. */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot, "bin/run.js"), ...args], { cwd: projectRoot, env, stdio: ["ignore", "pipe", "pipe"] });
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
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: join(scratch, "pod-home"), TSFLYTE_HOME: join(scratch, "pod-home", ".tsflyte"), NO_COLOR: "1" },
    });
    await kubelet.start();
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

await main();
