// Checks the test kubelet against the real control plane of the k8s test-bed: scheduler, Job controller, RBAC, logs.
// Never skips: without the test-bed binaries the suite fails and says how to build them.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { startTestbed, type Testbed } from "./k8s-testbed.js";
import { TestKubelet, expandReferences, parseImageReference, parseQuantity } from "./kubelet.js";

const image = "test.local/node:20";
const missingImage = "test.local/missing:1";
const namespace = "kubelet-test";

describe("TestKubelet on the k8s test-bed", { timeout: 300_000 }, () => {
  let testbed: Testbed | undefined;
  let kubelet: TestKubelet;
  let workDir: string;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let batch: k8s.BatchV1Api;
  let rbac: k8s.RbacAuthorizationV1Api;
  let coordination: k8s.CoordinationV1Api;
  let firstRenewTime: string;

  before(async () => {
    testbed = await startTestbed();
    workDir = mkdtempSync(join(tmpdir(), "tsflyte-kubelet-"));
    kc = new k8s.KubeConfig();
    kc.loadFromFile(testbed.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    batch = kc.makeApiClient(k8s.BatchV1Api);
    rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    kubelet = new TestKubelet({
      kubeconfig: testbed.kubeconfig,
      workDir,
      images: (name) => !name.includes("missing"),
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    await kubelet.start();
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await until("the default service account's token", async () => {
      const sa = await core.readNamespacedServiceAccount({ name: "default", namespace }).catch(() => undefined);
      return (sa?.secrets?.length ?? 0) > 0 || undefined;
    });
  }, { timeout: 120_000 });

  after(async () => {
    await kubelet?.stop();
    await testbed?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }, { timeout: 60_000 });

  const pod = (name: string, container: Partial<k8s.V1Container>, spec: Partial<k8s.V1PodSpec> = {}): Promise<k8s.V1Pod> =>
    core.createNamespacedPod({
      namespace,
      body: { metadata: { name }, spec: { restartPolicy: "Never", ...spec, containers: [{ name: "main", image, ...container }] } },
    });
  const waitFor = (name: string, predicate: (p: any) => boolean, timeoutMs = 30_000): Promise<any> =>
    kubelet.waitForPod(namespace, name, predicate, timeoutMs);
  const phase = (want: string) => (p: any) => p.status?.phase === want;
  const waitingReason = (want: string) => (p: any) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === want;
  const terminated = (p: any) => p.status.containerStatuses[0].state.terminated;
  const runsOf = (name: string) => kubelet.runs.filter((r) => r.namespace === namespace && r.pod === name);
  const kubectl = async (...args: string[]) => (await promisify(execFile)("kubectl", ["--kubeconfig", testbed!.kubeconfig, ...args])).stdout;

  test("registers a Node that turns Ready and schedulable, with a Lease", async () => {
    const node = await core.readNode({ name: kubelet.nodeName });
    const ready = node.status?.conditions?.find((c) => c.type === "Ready");
    assert.equal(ready?.status, "True");
    assert.equal(ready?.reason, "KubeletReady");
    assert.deepEqual(node.spec?.taints ?? [], []);
    assert.ok(!node.spec?.unschedulable);
    assert.equal(node.metadata?.labels?.["kubernetes.io/hostname"], kubelet.nodeName);
    assert.equal(node.metadata?.labels?.["kubernetes.io/os"], "linux");
    assert.deepEqual(node.status?.allocatable, { cpu: "8", memory: "32Gi", pods: "110" });
    assert.deepEqual(node.status?.addresses?.map((a) => a.type), ["InternalIP", "Hostname"]);
    assert.ok((node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0) > 0);
    const lease = await coordination.readNamespacedLease({ name: kubelet.nodeName, namespace: "kube-node-lease" });
    assert.equal(lease.spec?.holderIdentity, kubelet.nodeName);
    assert.equal(lease.spec?.leaseDurationSeconds, 40);
    assert.equal(lease.metadata?.ownerReferences?.[0]?.uid, node.metadata?.uid);
    firstRenewTime = String(lease.spec?.renewTime);
    assert.match(firstRenewTime, /\.\d{6}Z$/, "a MicroTime");
  });

  test("a Job's pod is scheduled here, runs, and completes the Job; kubectl logs reads its output", async (t) => {
    const created = Date.now();
    await batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name: "hello" },
        spec: {
          backoffLimit: 0,
          template: { spec: { restartPolicy: "Never", containers: [{ name: "main", image, command: ["node", "-e", "console.log('hi')"] }] } },
        },
      },
    });
    const job = await until("Job hello to complete", async () => {
      const j = await batch.readNamespacedJob({ name: "hello", namespace });
      return j.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True") ? j : undefined;
    });
    assert.equal(job.status?.succeeded, 1);
    const pods = await core.listNamespacedPod({ namespace, labelSelector: "job-name=hello" });
    assert.equal(pods.items.length, 1);
    const p = pods.items[0];
    const name = p.metadata!.name!;
    assert.equal(p.spec?.nodeName, kubelet.nodeName, "bound by the scheduler");
    assert.equal(p.status?.phase, "Succeeded");
    const state = p.status?.containerStatuses?.[0];
    assert.equal(state?.state?.terminated?.exitCode, 0);
    assert.equal(state?.state?.terminated?.reason, "Completed");
    assert.match(state?.containerID ?? "", /^containerd:\/\/[0-9a-f]{64}$/);
    assert.match(state?.imageID ?? "", new RegExp(`^docker-pullable://${image}@sha256:[0-9a-f]{64}$`));
    assert.equal(state?.ready, false);
    assert.equal(p.status?.podIP, "127.0.0.1");
    const ready = p.status?.conditions?.find((c) => c.type === "Ready");
    assert.deepEqual([ready?.status, ready?.reason], ["False", "PodCompleted"]);
    const [run] = runsOf(name);
    t.diagnostic(`Job created -> process started: ${run.startedAt - created} ms; -> Complete seen: ${Date.now() - created} ms`);
    assert.equal(await kubectl("-n", namespace, "logs", name), "hi\n");
    assert.equal(await core.readNamespacedPodLog({ name, namespace }), "hi\n");
  });

  test("a failing exit code fails the pod with that code", async () => {
    await pod("exit-3", { command: ["node", "-e", "console.error('bad'); process.exit(3)"] });
    const p = await waitFor("exit-3", phase("Failed"));
    assert.deepEqual(
      { exitCode: terminated(p).exitCode, reason: terminated(p).reason },
      { exitCode: 3, reason: "Error" },
    );
    assert.equal(await kubectl("-n", namespace, "logs", "exit-3"), "bad\n");
  });

  test("an image the registry lacks goes ErrImagePull, then ImagePullBackOff, and never runs", async () => {
    const reasons: string[] = [];
    const watch = await new k8s.Watch(kc).watch(
      `/api/v1/namespaces/${namespace}/pods`,
      { fieldSelector: "metadata.name=no-image" },
      (_type, obj) => {
        const reason = obj?.status?.containerStatuses?.[0]?.state?.waiting?.reason;
        if (reason && reasons.at(-1) !== reason) reasons.push(reason);
      },
      () => undefined,
    );
    try {
      await pod("no-image", { image: missingImage, command: ["node", "-e", ""] });
      const p = await waitFor("no-image", waitingReason("ImagePullBackOff"));
      assert.equal(p.status.phase, "Pending");
      assert.equal(p.status.containerStatuses[0].state.waiting.message, `Back-off pulling image "${missingImage}"`);
      await until("the watch to see ImagePullBackOff", async () => reasons.includes("ImagePullBackOff") || undefined);
      assert.deepEqual(reasons, ["ContainerCreating", "ErrImagePull", "ImagePullBackOff"]);
    } finally {
      watch.abort();
    }
    await sleep(500);
    assert.deepEqual(runsOf("no-image"), []);
  });

  test("an invalid image name gives InvalidImageName with the kubelet's message", async () => {
    await pod("bad-name", { image: "test.local/node::20", command: ["node", "-e", ""] });
    await pod("upper-name", { image: "test.local/Node:20", command: ["node", "-e", ""] });
    const bad = await waitFor("bad-name", waitingReason("InvalidImageName"));
    assert.equal(
      bad.status.containerStatuses[0].state.waiting.message,
      'Failed to apply default image tag "test.local/node::20": couldn\'t parse image reference "test.local/node::20": invalid reference format',
    );
    assert.equal(bad.status.phase, "Pending");
    const upper = await waitFor("upper-name", waitingReason("InvalidImageName"));
    assert.match(upper.status.containerStatuses[0].state.waiting.message, /invalid reference format: repository name must be lowercase$/);
    assert.deepEqual([...runsOf("bad-name"), ...runsOf("upper-name")], []);
  });

  test("a missing Secret, key or ConfigMap gives CreateContainerConfigError and the container never runs", async () => {
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: "other-key" }, stringData: { other: "x" } } });
    const secretEnv = (name: string, key: string) => ({ env: [{ name: "PASSWORD", valueFrom: { secretKeyRef: { name, key } } }] });
    await pod("no-secret", { command: ["node", "-e", ""], ...secretEnv("nope", "password") });
    await pod("no-key", { command: ["node", "-e", ""], ...secretEnv("other-key", "password") });
    await pod("no-configmap", { command: ["node", "-e", ""], envFrom: [{ configMapRef: { name: "settings-nope" } }] });
    await pod("optional-secret", {
      command: ["node", "-e", "console.log(process.env.PASSWORD ?? 'unset')"],
      env: [{ name: "PASSWORD", valueFrom: { secretKeyRef: { name: "nope", key: "password", optional: true } } }],
    });
    const messages: Record<string, string> = {
      "no-secret": 'secret "nope" not found',
      "no-key": `couldn't find key password in Secret ${namespace}/other-key`,
      "no-configmap": 'configmap "settings-nope" not found',
    };
    for (const [name, message] of Object.entries(messages)) {
      const p = await waitFor(name, waitingReason("CreateContainerConfigError"));
      assert.equal(p.status.containerStatuses[0].state.waiting.message, message);
      assert.equal(p.status.phase, "Pending");
    }
    await waitFor("optional-secret", phase("Succeeded"));
    assert.equal(await kubectl("-n", namespace, "logs", "optional-secret"), "unset\n");
    await sleep(500);
    assert.deepEqual(Object.keys(messages).flatMap(runsOf), []);
  });

  test("env, envFrom, fieldRef and $(VAR) expansion reach the process as a kubelet builds them", async () => {
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "settings" }, data: { GREETING: "hello" } } });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: "creds" }, stringData: { TOKEN: "s3cret" } } });
    const script =
      "const e = process.env; console.log(JSON.stringify({ argv: process.argv.slice(1), cwd: process.cwd(), " +
      "keys: ['GREETING', 'TOKEN', 'POD', 'NS', 'NODE', 'IP', 'SA', 'MSG', 'HOSTNAME', 'KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT', 'KUBECONFIG']" +
      ".map((k) => [k, e[k]]) }))";
    await pod("env", {
      command: ["node", "-e", script],
      args: ["$(GREETING)-arg", "$$(GREETING)"],
      envFrom: [{ configMapRef: { name: "settings" } }],
      env: [
        { name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "TOKEN" } } },
        { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
        { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
        { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
        { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
        { name: "MSG", value: "$(GREETING) from $(POD), $$(POD) $(UNDEFINED)" },
      ],
    });
    await waitFor("env", phase("Succeeded"));
    const out = JSON.parse(await kubectl("-n", namespace, "logs", "env"));
    const env = Object.fromEntries(out.keys);
    const server = new URL(testbed!.server);
    assert.deepEqual(out.argv, ["hello-arg", "$(GREETING)"]);
    assert.equal(out.cwd, join(workDir, namespace, "env", "root"));
    assert.deepEqual(
      { ...env, KUBECONFIG: undefined },
      {
        GREETING: "hello", TOKEN: "s3cret", POD: "env", NS: namespace, NODE: kubelet.nodeName, IP: "127.0.0.1", SA: "default",
        MSG: "hello from env, $(POD) $(UNDEFINED)", HOSTNAME: "env",
        KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port, KUBECONFIG: undefined,
      },
    );
    assert.equal(env.KUBECONFIG, join(workDir, namespace, "env", "serviceaccount", "kubeconfig"));
  });

  test("a process over its memory limit is OOMKilled with 137", async () => {
    await pod("oom", {
      command: ["node", "-e", "const a = []; for (let i = 0; i < 30; i++) a.push(Buffer.alloc(1e7, 1)); setInterval(() => {}, 1000)"],
      resources: { limits: { memory: "64Mi" } },
    });
    await pod("under-limit", { command: ["node", "-e", "console.log('small')"], resources: { limits: { memory: "256Mi" } } });
    const p = await waitFor("oom", phase("Failed"));
    assert.deepEqual({ exitCode: terminated(p).exitCode, reason: terminated(p).reason }, { exitCode: 137, reason: "OOMKilled" });
    const small = await waitFor("under-limit", (x) => ["Succeeded", "Failed"].includes(x.status?.phase));
    assert.equal(small.status.phase, "Succeeded");
  });

  test("deleting a running pod stops its process (SIGTERM, then SIGKILL after the grace period) and the pod goes", async (t) => {
    const created = Date.now();
    await pod("long", { command: ["node", "-e", "setInterval(() => {}, 1000)"] });
    await pod("stubborn", { command: ["node", "-e", "process.on('SIGTERM', () => console.log('ignored')); setInterval(() => {}, 1000)"] }, {
      terminationGracePeriodSeconds: 1,
    });
    await waitFor("long", phase("Running"));
    t.diagnostic(`pod created -> Running seen: ${Date.now() - created} ms (process started after ${runsOf("long")[0].startedAt - created} ms)`);
    await waitFor("stubborn", phase("Running"));
    await sleep(300); // let node install its SIGTERM handler
    const deletedAt = Date.now();
    await core.deleteNamespacedPod({ name: "long", namespace });
    await core.deleteNamespacedPod({ name: "stubborn", namespace });
    for (const name of ["long", "stubborn"]) {
      await until(`pod ${name} to be gone`, async () => ((await core.readNamespacedPod({ name, namespace }).catch((e) => e)).code === 404) || undefined);
    }
    const [long] = runsOf("long");
    const [stubborn] = runsOf("stubborn");
    assert.equal(long.exitCode, 143, "node dies of the SIGTERM");
    assert.equal(stubborn.exitCode, 137, "SIGKILL after the grace period");
    assert.ok(stubborn.endedAt! - deletedAt >= 900, `killed after ${stubborn.endedAt! - deletedAt} ms`);
    for (const run of [long, stubborn]) assert.throws(() => process.kill(run.pid, 0), /ESRCH/);
  });

  test("kill() crashes the container: Never fails the pod, OnFailure restarts it in place", async () => {
    await pod("crash", { command: ["node", "-e", "setInterval(() => {}, 1000)"] });
    await pod("restart", { command: ["node", "-e", "setInterval(() => {}, 1000)"] }, { restartPolicy: "OnFailure" });
    await waitFor("crash", phase("Running"));
    await waitFor("restart", phase("Running"));
    await kubelet.kill(namespace, "crash");
    const crashed = await waitFor("crash", phase("Failed"));
    assert.deepEqual({ exitCode: terminated(crashed).exitCode, reason: terminated(crashed).reason }, { exitCode: 137, reason: "Error" });
    await kubelet.kill(namespace, "restart", "SIGTERM");
    const restarted = await waitFor("restart", (p) => p.status?.containerStatuses?.[0]?.restartCount === 1 && !!p.status.containerStatuses[0].state.running);
    assert.equal(restarted.status.phase, "Running");
    assert.equal(restarted.status.containerStatuses[0].lastState.terminated.exitCode, 143);
    assert.equal(runsOf("restart").length, 2);
    assert.throws(() => kubelet.kill(namespace, "crash"), /has no running container/);
  });

  test("shutdown() ends a running pod as a kubelet does on a graceful node shutdown", async () => {
    await pod("shut", { command: ["node", "-e", "setInterval(() => {}, 1000)"] });
    await waitFor("shut", phase("Running"));
    await kubelet.shutdown(namespace, "shut");
    const p = await waitFor("shut", phase("Failed"));
    assert.equal(p.status.reason, "Terminated");
    assert.equal(p.status.message, "Pod was terminated in response to imminent node shutdown.");
    assert.deepEqual({ exitCode: terminated(p).exitCode, reason: terminated(p).reason }, { exitCode: 137, reason: "Error" });
    const disruption = p.status.conditions.find((c: any) => c.type === "DisruptionTarget");
    assert.deepEqual([disruption?.status, disruption?.reason], ["True", "TerminationByKubelet"]);
  });

  test("a process authenticates as its pod's service account: 403 without a role, 200 with one", async () => {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "reader" } } });
    await until("the reader service account's token", async () => {
      const sa = await core.readNamespacedServiceAccount({ name: "reader", namespace });
      return (sa.secrets?.length ?? 0) > 0 || undefined;
    });
    const listPods = { command: ["kubectl", "-v=6", "get", "--raw", `/api/v1/namespaces/${namespace}/pods`] };
    await pod("forbidden", listPods, { serviceAccountName: "reader" });
    const denied = await waitFor("forbidden", (p) => ["Succeeded", "Failed"].includes(p.status?.phase));
    const deniedLog = await kubectl("-n", namespace, "logs", "forbidden");
    assert.equal(denied.status.phase, "Failed", deniedLog);
    assert.match(deniedLog, / 403 Forbidden /);
    assert.match(deniedLog, new RegExp(`system:serviceaccount:${namespace}:reader`));

    await rbac.createNamespacedRole({
      namespace,
      body: { metadata: { name: "pod-reader" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list"] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: "reader-reads-pods" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-reader" },
        subjects: [{ kind: "ServiceAccount", name: "reader", namespace }],
      },
    });
    await pod("allowed", listPods, { serviceAccountName: "reader" });
    const allowed = await waitFor("allowed", (p) => ["Succeeded", "Failed"].includes(p.status?.phase));
    const allowedLog = await kubectl("-n", namespace, "logs", "allowed");
    assert.equal(allowed.status.phase, "Succeeded", allowedLog);
    assert.match(allowedLog, / 200 OK /);
    assert.match(allowedLog, /"kind":"PodList"/);
  });

  test("keeps renewing its Lease every 10 s", async () => {
    await until("the Lease to be renewed", async () => {
      const lease = await coordination.readNamespacedLease({ name: kubelet.nodeName, namespace: "kube-node-lease" });
      return String(lease.spec?.renewTime) !== firstRenewTime || undefined;
    }, 15_000);
  });

  test("deleting the namespace removes every pod through the kubelet's deletion handshake", async () => {
    await core.deleteNamespace({ name: namespace });
    await until("namespace deletion", async () => ((await core.readNamespace({ name: namespace }).catch((e) => e)).code === 404) || undefined, 90_000);
    assert.deepEqual(kubelet.errors, []);
  });

  test("stop() kills every process it started and deletes the Node", async () => {
    await core.createNamespacedPod({
      namespace: "default",
      body: { metadata: { name: "left-running" }, spec: { restartPolicy: "Never", containers: [{ name: "main", image, command: ["node", "-e", "setInterval(() => {}, 1000)"] }] } },
    });
    await kubelet.waitForPod("default", "left-running", phase("Running"));
    await kubelet.stop();
    for (const run of kubelet.runs) assert.throws(() => process.kill(run.pid, 0), /ESRCH/, `${run.namespace}/${run.pod} still runs`);
    const gone = await core.readNode({ name: kubelet.nodeName }).catch((e) => e);
    assert.equal(gone.code, 404);
  });
});

describe("test kubelet helpers", () => {
  test("parseQuantity reads Kubernetes quantities", () => {
    assert.equal(parseQuantity("64Mi"), 64 * 2 ** 20);
    assert.equal(parseQuantity("1G"), 1e9);
    assert.equal(parseQuantity("1e3"), 1000);
    assert.equal(parseQuantity("500m"), 0.5);
    assert.equal(parseQuantity("128974848"), 128974848);
    assert.throws(() => parseQuantity("12 MB"));
  });

  test("expandReferences follows Kubernetes $(VAR) rules", () => {
    const vars: Record<string, string> = { A: "a", B: "b" };
    assert.equal(expandReferences("$(A)-$(B)", (n) => vars[n]), "a-b");
    assert.equal(expandReferences("$$(A) $(C) $(A", (n) => vars[n]), "$(A) $(C) $(A");
    assert.equal(expandReferences("cost $5 $", (n) => vars[n]), "cost $5 $");
  });

  test("parseImageReference follows the docker reference grammar", () => {
    assert.deepEqual(parseImageReference("busybox"), { normalized: "docker.io/library/busybox:latest" });
    assert.deepEqual(parseImageReference("test.local:5000/a/b:1.0"), { normalized: "test.local:5000/a/b:1.0" });
    assert.deepEqual(parseImageReference("ghcr.io/x/y@sha256:" + "a".repeat(64)), { normalized: "ghcr.io/x/y@sha256:" + "a".repeat(64) });
    assert.deepEqual(parseImageReference("a b"), { error: "invalid reference format" });
    assert.deepEqual(parseImageReference("x::1"), { error: "invalid reference format" });
    assert.deepEqual(parseImageReference("Busybox"), { error: "invalid reference format: repository name must be lowercase" });
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 100 ms until it returns a value; fails with `what` after `timeoutMs`. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}
