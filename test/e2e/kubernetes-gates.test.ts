// Acceptance: gates straight on Kubernetes, as a user drives them — run --remote, get signal, signal (a bad value, then a
// good one), approve — on the real control plane of test/support/k8s-testbed.ts with the test kubelet and an S3-compatible
// blob store. The signals live in the cluster as ConfigMaps, and the execution waits through its driver being killed.
import assert from "node:assert/strict";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type * as K8s from "@kubernetes/client-node";
import { until, startedName, assertExit, LocalCli, repoRoot, type CliResult, type ExecutionJson } from "../fixtures/local/cli.js";
import { startS3Server, type S3Server } from "../support/s3-server.js";
import { startTestbed, type Testbed } from "../support/k8s-testbed.js";
import { TestKubelet } from "../support/kubelet.js";

const flows = "test/fixtures/server/gate-flows.ts";
const image = "ghcr.io/acme/gates:1";
const namespace = "flytesnacks-development";



describe("gates straight on Kubernetes", { timeout: 600_000 }, () => {
  let testbed: Testbed;
  let s3: S3Server;
  let kubelet: TestKubelet;
  let cli: LocalCli;
  let scratch: LocalCli;
  let core: K8s.CoreV1Api;

  const ok = async (args: string[]): Promise<CliResult> => {
    const result = await cli.run(args);
    assertExit(result, 0);
    return result;
  };

  before(async () => {
    [testbed, s3] = await Promise.all([startTestbed(), startS3Server()]);
    const k8s = await import("@kubernetes/client-node");
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(testbed.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    scratch = new LocalCli("k8s-gates-scratch");
    const bin = scratch.tempDir("tsflyte-k8s-gates-bin-");
    symlinkSync(join(repoRoot, "bin/run.js"), join(bin, "tsflyte"));
    symlinkSync(join(repoRoot, "bin/tsflyte-execute"), join(bin, "tsflyte-execute"));
    const podHome = scratch.tempDir("tsflyte-k8s-gates-pod-home-");
    kubelet = new TestKubelet({
      kubeconfig: testbed.kubeconfig,
      workDir: scratch.tempDir("tsflyte-k8s-gates-kubelet-"),
      images: (name) => name === image,
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: podHome, TSFLYTE_HOME: join(podHome, ".tsflyte"), NO_COLOR: "1" },
    });
    await kubelet.start();
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: "s3-credentials" }, stringData: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey } },
    });
    await until("the default service account", async () => (await core.listNamespacedServiceAccount({ namespace })).items.length > 0 || undefined);
    const config = join(scratch.tempDir("tsflyte-k8s-gates-config-"), "config.yaml");
    writeFileSync(
      config,
      [
        "target: kubernetes",
        "kubernetes:",
        `  kubeconfig: ${testbed.kubeconfig}`,
        '  namespace: "{project}-{domain}"',
        "  serviceAccount: default",
        `  storage: s3://${s3.bucket}/tsflyte`,
        `  s3: { endpoint: "${s3.endpoint}", region: ${s3.region}, forcePathStyle: true, credentialsSecret: s3-credentials }`,
        "",
      ].join("\n"),
    );
    cli = new LocalCli("k8s-gates", { FLYTECTL_CONFIG: config, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region });
  });

  after(async () => {
    await kubelet?.stop();
    await Promise.all([testbed?.stop(), s3?.close()]);
    cli?.cleanup();
    scratch?.cleanup();
  });

  test("get signal, signal (refused, then set) and approve on a waiting execution, which waits through its driver being killed", async () => {
    const name = startedName(await ok(["run", "--remote", "--image", image, flows, "release", "--epochs", "3"]));
    const waiting = await until("both gates to wait", async () => {
      const signals = await cli.json<{ signalId: string; type: string; state: string }[]>(["get", "signal", name, "-o", "json"]);
      return signals.length === 2 ? signals : undefined;
    }, 120_000);
    assert.deepEqual(waiting.map((s) => [s.signalId, s.type, s.state]), [["batch-size", "int", "waiting"], ["deploy-ok", "boolean", "waiting"]]);
    const execution = await cli.json<ExecutionJson>(["get", "execution", name, "-o", "json"]);
    assert.equal(execution.closure.phase, "RUNNING");

    // The signals are ConfigMaps of the execution's namespace, one each.
    const maps = await core.listNamespacedConfigMap({ namespace, labelSelector: `tsflyte.io/role=signal,tsflyte.io/execution=${name}` });
    assert.deepEqual(maps.items.map((m) => m.metadata?.annotations?.["tsflyte.io/signal-id"]).sort(), ["batch-size", "deploy-ok"]);

    // The driver dies while the gates wait; its Job starts another, which waits on from the records.
    const drivers = await core.listNamespacedPod({ namespace, labelSelector: `job-name=${name}` });
    assert.equal(drivers.items.length, 1);
    kubelet.kill(namespace, drivers.items[0].metadata!.name!, "SIGKILL");
    await until("a second driver pod", async () => ((await core.listNamespacedPod({ namespace, labelSelector: `job-name=${name}` })).items.length === 2 ? true : undefined));

    const bad = await cli.run(["signal", name, "batch-size", "four"]);
    assertExit(bad, 2);
    assert.match(bad.stderr, /signal "batch-size": expected int, got 'four'; not a whole number/);
    assert.match((await ok(["signal", name, "batch-size", "4"])).stdout, /Set signal "batch-size" of execution .* to 4 \(int\)/);
    assert.match((await ok(["approve", name, "deploy-ok"])).stdout, new RegExp(`Approved "deploy-ok" of execution ${name}`));

    const done = await until("the execution to end", async () => {
      const e = await cli.json<ExecutionJson>(["get", "execution", name, "-o", "json"]);
      return ["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"].includes(e.closure.phase) ? e : undefined;
    }, 120_000);
    assert.equal(done.closure.phase, "SUCCEEDED", JSON.stringify(done.closure.error));
    const table = await ok(["get", "signal", name]);
    assert.match(table.stdout, /batch-size\s+int\s+4/);
    assert.match(table.stdout, /deploy-ok\s+boolean\s+true/);
    const again = await cli.run(["signal", name, "batch-size", "5"]);
    assertExit(again, 2);
    assert.match(again.stderr, /has ended \(SUCCEEDED\)/);
  });
});
