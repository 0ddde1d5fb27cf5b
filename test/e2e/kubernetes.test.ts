// Acceptance: the built CLI straight against Kubernetes, as a user drives it — register, run --remote --wait, get
// execution --details, delete execution — on the real control plane of test/support/k8s-testbed.ts (apiserver, controller
// manager, scheduler) with the test kubelet of test/support/kubelet.ts standing in for the node, and a real
// S3-compatible server (s3rver) for the blob store. Covers every failure class of the pod plugin, a driver killed
// mid-execution, termination with a cause, and what `kubectl` shows.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import type * as K8s from "@kubernetes/client-node";
import { until, startedName, assertExit, lineOf, LocalCli, repoRoot, type CliResult, type DetailsJson, type ExecutionJson } from "../fixtures/local/cli.js";
import { startS3Server, type S3Server } from "../support/s3-server.js";
import { startTestbed, type Testbed } from "../support/k8s-testbed.js";
import { TestKubelet } from "../support/kubelet.js";

const run = promisify(execFile);
const flows = "test/fixtures/k8s/flows.ts";
const image = "ghcr.io/acme/flows:1";
const namespace = "flytesnacks-development";



describe("the CLI straight against Kubernetes", { timeout: 600_000 }, () => {
  let testbed: Testbed;
  let s3: S3Server;
  let kubelet: TestKubelet;
  let cli: LocalCli;
  /** Holds the folders the set-up makes (the kubelet's, the pods' home, the config), removed after. */
  let scratch: LocalCli;
  let core: K8s.CoreV1Api;
  let batch: K8s.BatchV1Api;
  let config: string;
  let ledgerDir: string;

  const ok = async (args: string[]): Promise<CliResult> => {
    const result = await cli.run(args);
    assertExit(result, 0);
    return result;
  };
  const kubectl = async (...args: string[]) => (await run("kubectl", ["--kubeconfig", testbed.kubeconfig, "-n", namespace, ...args])).stdout;
  const details = (name: string) => cli.json<DetailsJson>(["get", "execution", name, "--details", "-o", "json"]);
  const finished = (name: string) =>
    until(`execution ${name} to end`, async () => {
      const e = await cli.json<ExecutionJson>(["get", "execution", name, "-o", "json"]);
      return ["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"].includes(e.closure.phase) ? e : undefined;
    }, 120_000);
  const runningPod = (name: string, nodeId: string) =>
    until(`the ${nodeId} pod of ${name} to run`, async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: `tsflyte.io/execution=${name},tsflyte.io/role=task` });
      return pods.items.find((p) => p.metadata?.annotations?.["tsflyte.io/node-id"] === nodeId && p.status?.phase === "Running");
    });

  before(async () => {
    [testbed, s3] = await Promise.all([startTestbed(), startS3Server()]);
    const k8s = await import("@kubernetes/client-node");
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(testbed.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    batch = kc.makeApiClient(k8s.BatchV1Api);
    scratch = new LocalCli("k8s-scratch");
    // The image's PATH: tsflyte and tsflyte-execute by name, as the README's Dockerfile installs them.
    const bin = scratch.tempDir("tsflyte-k8s-bin-");
    symlinkSync(join(repoRoot, "bin/run.js"), join(bin, "tsflyte"));
    symlinkSync(join(repoRoot, "bin/tsflyte-execute"), join(bin, "tsflyte-execute"));
    const podHome = scratch.tempDir("tsflyte-k8s-pod-home-");
    kubelet = new TestKubelet({
      kubeconfig: testbed.kubeconfig,
      workDir: scratch.tempDir("tsflyte-k8s-kubelet-"),
      images: (name) => name === image,
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: podHome, TSFLYTE_HOME: join(podHome, ".tsflyte"), NO_COLOR: "1" },
    });
    await kubelet.start();
    // A cluster admin's part: the namespace, and the Secret that gives pods the blob store's credentials.
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: "s3-credentials" }, stringData: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey } },
    });
    await until("the default service account", async () => (await core.listNamespacedServiceAccount({ namespace })).items.length > 0 || undefined);
    ledgerDir = scratch.tempDir("tsflyte-k8s-ledger-");
    config = join(scratch.tempDir("tsflyte-k8s-config-"), "config.yaml");
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
        "  imagePullBackOffGrace: 2s",
        "  interruptible: { tolerations: [{ key: spot, operator: Exists, effect: NoSchedule }] }",
        "  iamRoleAnnotation: example.com/iam-role",
        "",
      ].join("\n"),
    );
    // The CLI's own credentials come from AWS_* in its environment, as a user's would.
    cli = new LocalCli("k8s", { FLYTECTL_CONFIG: config, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region });
    await ok(["register", flows, "--image", image]);
    // Each module on its own, as `run --remote` registers it: the example's dynamic body calls `audit`, which only a
    // registration of the whole module under the version `run --remote` computes makes known.
    await ok(["register", "test/fixtures/server/control-flow.ts", "--image", image]);
    await ok(["register", "examples/control-flow.ts", "--image", image]);
  });

  after(async () => {
    await kubelet?.stop();
    await Promise.all([testbed?.stop(), s3?.close()]);
    cli?.cleanup();
    scratch?.cleanup();
  });

  test("register keeps every entity in the cluster, where kubectl sees them", async () => {
    const entities = await kubectl("get", "configmaps", "-l", "tsflyte.io/role=entity", "-o", "jsonpath={range .items[*]}{.metadata.annotations.tsflyte\\.io/name}{\"\\n\"}{end}");
    for (const name of ["double", "describe", "doubled", "exitOnce", "nap", "sleepy"]) {
      assert.ok(entities.split("\n").includes(`test.fixtures.k8s.flows.${name}`), `no ConfigMap for ${name} in:\n${entities}`);
    }
    const tasks = await ok(["get", "task", "-o", "json"]);
    assert.match(tasks.stdout, /test\.fixtures\.k8s\.flows\.hogOnce/);
  });

  test("run --remote --wait succeeds: a driver Job, one pod per attempt as Flyte maps it, outputs read back", async () => {
    const result = await ok(["run", "--remote", "--wait", "--image", image, flows, "doubled", "--x", "21"]);
    const name = startedName(result);
    assert.match(result.stdout, new RegExp(`^Execution ${name} SUCCEEDED`, "m"));
    assert.match(result.stdout, /^ {2}o0: "result: 42"$/m);

    // The driver exits once the execution ended, so its Job completes.
    const job = await until("the driver Job to complete", async () => {
      const j = await batch.readNamespacedJob({ name, namespace });
      return j.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True") ? j : undefined;
    }, 30_000);
    assert.equal(job.metadata?.labels?.["tsflyte.io/role"], "driver");
    const container = job.spec!.template.spec!.containers[0];
    assert.equal(container.image, image);
    assert.deepEqual(container.command, ["tsflyte"]);
    assert.equal(job.metadata?.ownerReferences?.[0].kind, "ConfigMap");

    const pods = await core.listNamespacedPod({ namespace, labelSelector: `tsflyte.io/execution=${name},tsflyte.io/role=task` });
    const names = pods.items.map((p) => p.metadata!.name!).sort();
    assert.deepEqual(names, [`${name}-n0-0`, `${name}-n1-0`]);
    const n1 = pods.items.find((p) => p.metadata!.name === `${name}-n1-0`)!;
    assert.equal(n1.spec!.restartPolicy, "Never");
    const task = n1.spec!.containers[0];
    assert.equal(task.args![0], "tsflyte-execute");
    assert.ok(task.args!.some((a) => a.startsWith(`s3://${s3.bucket}/tsflyte/`)), `args carry s3 URIs: ${task.args!.join(" ")}`);
    const env = Object.fromEntries((task.env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env.FLYTE_INTERNAL_EXECUTION_ID, name);
    assert.equal(env.FLYTE_INTERNAL_TASK_NAME, "test.fixtures.k8s.flows.describe");
    assert.equal(env.FLYTE_ATTEMPT_NUMBER, "0");
    // As Flyte's pod plugin fills them: a limit not given takes the request.
    assert.deepEqual({ ...task.resources }, { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "100m", memory: "1Gi" } });
    assert.deepEqual(
      n1.metadata!.ownerReferences!.map((o) => [o.kind, o.name]),
      [["Job", name]],
    );
    assert.equal(n1.status?.phase, "Succeeded");

    // What a user sees with kubectl: the record, the driver and the task pods, by the execution's label.
    const objects = await kubectl("get", "configmaps,jobs,pods", "-l", `tsflyte.io/execution=${name}`, "-o", "name");
    assert.match(objects, new RegExp(`^configmap/${name}$`, "m"));
    assert.match(objects, new RegExp(`^job\\.batch/${name}$`, "m"));
    assert.match(objects, new RegExp(`^pod/${name}-n0-0$`, "m"));
    assert.match(objects, new RegExp(`^pod/${name}-[a-z0-9]{5}$`, "m"));
  });

  test("a project with several folders: the pipeline's task, subworkflow and launch plan from other folders run as pods", async () => {
    const project = cli.project("test/fixtures/multi-folder");
    const result = await cli.runIn(project, ["run", "--remote", "--wait", "--image", image, "pipelines/batch.ts", "one", "--amounts", "[10, 20]"]);
    assertExit(result, 0);
    assert.match(result.stdout, /^ {2}gross: 36$/m);
    assert.match(result.stdout, /^ {2}net: 30$/m);
    assert.match(result.stdout, /^ {2}planned: 36$/m);
    const name = startedName(result);
    // Every task, also those of the subworkflow and the launch plan, ran from the module that declares it: flows/orders.ts.
    const pods = await core.listNamespacedPod({ namespace, labelSelector: "tsflyte.io/role=task" });
    const tasks = pods.items
      .filter((p) => p.metadata!.labels!["tsflyte.io/execution"] === name)
      .map((p) => (p.spec!.containers[0].env ?? []).find((e) => e.name === "FLYTE_INTERNAL_TASK_NAME")?.value);
    assert.deepEqual([...new Set(tasks)].sort(), ["flows.orders.addTax", "flows.orders.total"]);
    const details = await cli.json<DetailsJson>(["get", "execution", name, "--details", "-o", "json"]);
    assert.deepEqual(
      details.nodes.map((n) => `${n.nodeId} ${n.entity.name} ${n.phase}`),
      ["n0 flows.orders.total SUCCEEDED", "n1 reports.totals.grossTotal SUCCEEDED", "n2 euro_total SUCCEEDED"],
    );
  });

  test("register files: a package compiled offline registers into the cluster under its own version and runs on pods", async () => {
    const dir = scratch.tempDir("tsflyte-k8s-package-");
    const pkg = join(dir, "flyte-package.tgz");
    await ok(["compile", flows, "--image", image, "-o", pkg]);
    const registered = await ok(["register", "files", pkg, "--version", "pkg1"]);
    assert.match(registered.stdout, new RegExp(`^Code bundle: s3://${s3.bucket}/tsflyte/\\S+/fast[0-9a-f]{32}\\.tar$`, "m"));
    assert.match(registered.stdout, /^Successfully registered \d+ entities from \d+ files in flytesnacks\/development$/m);
    const spec = join(dir, "doubled.yaml");
    await ok(["get", "launchplan", "test.fixtures.k8s.flows.doubled", "--version", "pkg1", "--execFile", spec]);
    writeFileSync(spec, readFileSync(spec, "utf8").replace(/^( {2}x:) 0$/m, "$1 5"));
    const name = startedName(await ok(["create", "execution", "--execFile", spec]));
    const execution = await finished(name);
    assert.equal(execution.closure.phase, "SUCCEEDED");
    const pod = await core.readNamespacedPod({ name: `${name}-n0-0`, namespace });
    const args = pod.spec!.containers[0].args!;
    assert.match(args[args.indexOf("--code-bundle") + 1], new RegExp(`^s3://${s3.bucket}/tsflyte/.*/fast[0-9a-f]{32}\\.tar$`));
  });

  test("get execution --details -o yaml reads the history back from the cluster, with values and log links", async () => {
    const name = startedName(await ok(["run", "--remote", "--wait", "--image", image, flows, "doubled", "--x", "4", "--label", "four"]));
    const yaml = await cli.yaml<DetailsJson>(["get", "execution", name, "--details", "-o", "yaml"]);
    assert.equal(yaml.execution.closure.phase, "SUCCEEDED");
    assert.deepEqual(yaml.inputs, { x: 4, label: "four" });
    assert.deepEqual(yaml.outputs, { o0: "four: 8" });
    const n0 = yaml.nodes.find((n) => n.nodeId === "n0")!;
    assert.deepEqual(n0.outputs, { o0: 8 });
    assert.equal(n0.attempts.length, 1);
    const links = (n0.attempts[0] as { logLinks?: Array<{ uri: string }> }).logLinks;
    assert.match(links?.[0]?.uri ?? "", new RegExp(`^s3://${s3.bucket}/tsflyte/.*/n0/data/0/logs\\.txt$`));
    // The same answer from a second user's machine: nothing was kept by the first CLI.
    const listed = await cli.json<ExecutionJson[]>(["get", "execution", "-o", "json"]);
    assert.ok(listed.some((e) => e.id.name === name), "the list has it");
    const other = new LocalCli("k8s-other", { FLYTECTL_CONFIG: config, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey });
    try {
      const again = await other.json<DetailsJson>(["get", "execution", name, "--details", "-o", "json"]);
      assert.deepEqual(again.outputs, { o0: "four: 8" });
    } finally {
      other.cleanup();
    }
  });

  test("create execution with flytectl's keys: task pods run as its account with its role and envs; its labels and annotations are on every object", async () => {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "reports-runner" } } });
    const file = join(cli.tempDir("tsflyte-k8s-spec-"), "report.yaml");
    writeFileSync(
      file,
      [
        // labelled_report declares labels and annotations; the rest are flytectl's keys.
        "workflow: labelled_report",
        'iamRoleARN: "arn:aws:iam::123456789012:role/reports"',
        'kubeServiceAcct: "reports-runner"',
        "targetExecutionCluster: eu-1",
        "inputs:",
        "  names: [REGION, LOG_LEVEL]",
        "envs:",
        "  REGION: eu-west-1",
        "",
      ].join("\n"),
    );
    const name = startedName(await ok(["create", "execution", "--execFile", file, "--envs", "LOG_LEVEL=debug", "--clusterPool", "gpu"]));
    assert.equal((await finished(name)).closure.phase, "SUCCEEDED");
    assert.deepEqual(JSON.parse((await details(name)).outputs!.o0 as string), { REGION: "eu-west-1", LOG_LEVEL: "debug" }, "what the task's pod saw");

    const pod = await core.readNamespacedPod({ name: `${name}-n0-0`, namespace });
    assert.equal(pod.spec!.serviceAccountName, "reports-runner");
    assert.equal(pod.metadata!.labels!.team, "reports");
    assert.equal(pod.metadata!.annotations!["example.com/owner"], "reports@example.com");
    assert.equal(pod.metadata!.annotations!["example.com/iam-role"], "arn:aws:iam::123456789012:role/reports", "under kubernetes.iamRoleAnnotation");
    const env = Object.fromEntries((pod.spec!.containers[0].env ?? []).map((e) => [e.name, e.value]));
    assert.deepEqual([env.REGION, env.LOG_LEVEL], ["eu-west-1", "debug"]);
    // The driver carries the labels and annotations but runs as tsflyte's account, without the role.
    const job = await batch.readNamespacedJob({ name, namespace });
    for (const meta of [job.metadata!, job.spec!.template.metadata!]) {
      assert.equal(meta.labels!.team, "reports");
      assert.equal(meta.annotations!["example.com/owner"], "reports@example.com");
      assert.equal(meta.annotations!["example.com/iam-role"], undefined);
    }
    assert.equal(job.spec!.template.spec!.serviceAccountName, "default");
    const record = await core.readNamespacedConfigMap({ name, namespace });
    assert.equal(record.metadata!.labels!.team, "reports");
    const shown = await cli.yaml<{ spec: Record<string, any> }>(["get", "execution", name, "-o", "yaml"]);
    assert.deepEqual(shown.spec.labels, { values: { team: "reports" } });
    assert.deepEqual(shown.spec.securityContext.runAs, { k8sServiceAccount: "reports-runner", iamRole: "arn:aws:iam::123456789012:role/reports", executionIdentity: "" });
    assert.deepEqual(shown.spec.envs.values, [{ key: "REGION", value: "eu-west-1" }, { key: "LOG_LEVEL", value: "debug" }]);
    assert.deepEqual([shown.spec.clusterAssignment, shown.spec.executionClusterLabel], [{ clusterPoolName: "gpu" }, { value: "eu-1" }]);

    // A service account the namespace lacks is refused before anything is created.
    const records = async () => (await core.listNamespacedConfigMap({ namespace, labelSelector: "tsflyte.io/role=execution" })).items.length;
    const before = await records();
    const missing = await cli.run(["create", "execution", "--execFile", file, "--kubeServiceAcct", "nobody"]);
    assertExit(missing, 2);
    assert.match(missing.stderr, /service account nobody \(kubeServiceAcct\) does not exist in namespace flytesnacks-development/);
    // flytectl's own test file names the account "kubeServiceAcct", which no pod can run as.
    const invalid = await cli.run(["create", "execution", "--execFile", file, "--kubeServiceAcct", "kubeServiceAcct"]);
    assertExit(invalid, 2);
    assert.match(invalid.stderr, /service account "kubeServiceAcct" \(kubeServiceAcct\) is not the name of a Kubernetes service account/);
    assert.equal(await records(), before, "no execution was recorded");
  });

  test("each failure class of the pod plugin is classified and retried (or not) as Flyte's is", async () => {
    const started = await Promise.all(
      [
        ["exitsOnce", "--x", "1"],
        ["hogsOnce", "--x", "1"],
        ["interruptedOnce", "--x", "1"],
        ["pullFails", "--x", "1"],
        ["invalidImage", "--x", "1"],
        ["rejectedPod", "--x", "1"],
      ].map(async ([wf, ...inputs]) => [wf, startedName(await ok(["run", "--remote", "--image", image, flows, wf, ...inputs]))] as const),
    );
    const names = Object.fromEntries(started);
    const results = Object.fromEntries(await Promise.all(started.map(async ([wf, name]) => [wf, (await finished(name), await details(name))] as const)));
    const attemptsOf = (wf: string, nodeId: string) => results[wf].nodes.find((n) => n.nodeId === nodeId)!.attempts;

    // A non-zero exit: USER, retried, then fine.
    assert.equal(results.exitsOnce.execution.closure.phase, "SUCCEEDED", JSON.stringify(results.exitsOnce.nodes));
    let attempts = attemptsOf("exitsOnce", "n1");
    assert.equal(attempts.length, 2);
    assert.equal(attempts[0].error?.kind, "USER");
    assert.match(attempts[0].error!.message, /exit(ed)? (with )?code 3|exit code 3/);
    // The task is interruptible: its first attempt tolerated spot nodes, its last did not.
    const tolerations = async (attempt: number) =>
      (await core.readNamespacedPod({ name: `${names.exitsOnce}-n1-${attempt}`, namespace })).spec?.tolerations?.filter((t) => t.key === "spot") ?? [];
    assert.deepEqual((await tolerations(0)).map((t) => [t.key, t.operator, t.effect]), [["spot", "Exists", "NoSchedule"]]);
    assert.deepEqual(await tolerations(1), []);

    // Over the memory limit: OOMKilled, USER, retried.
    assert.equal(results.hogsOnce.execution.closure.phase, "SUCCEEDED", JSON.stringify(results.hogsOnce.nodes));
    attempts = attemptsOf("hogsOnce", "n1");
    assert.equal(attempts[0].error?.code, "OOMKilled");
    assert.equal(attempts[0].error?.kind, "USER");

    // Exit 137 without OOM: Interrupted, SYSTEM, retried although the task has no user retries.
    assert.equal(results.interruptedOnce.execution.closure.phase, "SUCCEEDED", JSON.stringify(results.interruptedOnce.nodes));
    attempts = attemptsOf("interruptedOnce", "n1");
    assert.equal(attempts[0].error?.code, "Interrupted");
    assert.equal(attempts[0].error?.kind, "SYSTEM");

    // An image the registry lacks: waits out the grace period in ImagePullBackOff, then fails (no retries left).
    assert.equal(results.pullFails.execution.closure.phase, "FAILED");
    attempts = attemptsOf("pullFails", "n1");
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0].error?.code, "ImagePullBackOff");
    assert.match(attempts[0].error!.message, /registry\.invalid\/tsflyte\/missing:1/);

    // An image name no runtime can parse: permanent, not retried despite retries: 3.
    assert.equal(results.invalidImage.execution.closure.phase, "FAILED");
    attempts = attemptsOf("invalidImage", "n1");
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0].error?.code, "InvalidImageName");
    // A pod the API server refuses (422): permanent, not retried despite retries: 3.
    assert.equal(results.rejectedPod.execution.closure.phase, "FAILED");
    attempts = attemptsOf("rejectedPod", "n1");
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0].error?.code, "BadTaskFormat");
    assert.match(attempts[0].error!.message, /NOT VALID/);

    // The pod that could never start was removed.
    await until("the invalid-image pod to go", async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: `tsflyte.io/execution=${names.invalidImage},tsflyte.io/node=n1` });
      return pods.items.length === 0 || undefined;
    });
  });

  describe("control flow", () => {
    const cf = "test/fixtures/server/control-flow.ts";
    const cfName = (name: string) => `test.fixtures.server.control-flow.${name}`;
    /** The task pods of an execution by name, with the node each ran. */
    const taskPods = async (name: string) =>
      (await core.listNamespacedPod({ namespace, labelSelector: `tsflyte.io/execution=${name},tsflyte.io/role=task` })).items.map((p) => ({
        name: p.metadata!.name!,
        nodeId: p.metadata?.annotations?.["tsflyte.io/node-id"],
        pod: p,
      }));

    test("examples/control-flow.ts: one pod per map item attempt, none for a SKIPPED case, the chosen case's pod", async () => {
      const result = await ok(["run", "--remote", "--wait", "--image", image, "examples/control-flow.ts", "priceOrders", "--quantities", "[30,50,10,100]"]);
      assert.match(result.stdout, /^ {2}o0: "recorded 427\.50 after 4 audits"$/m);
      assert.match(result.stderr, /^n1\[3\] SUCCEEDED$/m);
      const name = startedName(result);
      const pods = (await taskPods(name)).map((p) => p.name).sort();
      assert.deepEqual(pods.filter((p) => p.startsWith(`${name}-n1-`)), [0, 1, 2, 3].map((i) => `${name}-n1-0-${i}-0`), "one pod per map item attempt");
      assert.deepEqual(pods.filter((p) => p.startsWith(`${name}-n3-`)), [`${name}-n3-n0-0`], "the chosen case's pod; none for the SKIPPED ones");
      const tree = await details(name);
      const pricing = tree.nodes.find((n) => n.nodeId === "n3")!;
      assert.deepEqual(pricing.entity, { kind: "branch", name: "pricing" });
      assert.deepEqual((pricing as typeof pricing & { children: { nodeId: string; phase: string }[] }).children.map((c) => [c.nodeId, c.phase]), [
        ["n3-n0", "SUCCEEDED"],
        ["n3-n1", "SKIPPED"],
        ["n3-n2", "SKIPPED"],
      ]);
    });

    test("a map over a task: each item attempt is a pod of its own, shown by index; the failure node's pod runs on failure", async () => {
      const ledger = join(ledgerDir, "cf-squares.txt");
      writeFileSync(ledger, "");
      const result = await cli.run(["run", "--remote", "--wait", "--image", image, cf, "squares", "--ns", "[2,-5,6,7]", "--ledger", ledger]);
      const name = startedName(result);
      const pods = await taskPods(name);
      const itemPods = pods.filter((p) => p.nodeId?.startsWith("n0-0-")).map((p) => p.name).sort();
      // Item 3 (7) fails its first attempt and is retried in a second pod; item 1 (-5) is not retried.
      assert.deepEqual(itemPods, [`${name}-n0-0-0-0`, `${name}-n0-0-1-0`, `${name}-n0-0-2-0`, `${name}-n0-0-3-0`, `${name}-n0-0-3-1`]);
      assert.deepEqual(readFileSync(ledger, "utf8").trim().split("\n").sort(), ["square -5", "square 2", "square 6", "square 7", "square 7"]);
      const tree = await details(name);
      const map = tree.nodes.find((n) => n.nodeId === "n0") as unknown as { entity: unknown; children: { specNodeId: string; attempts: { phase: string }[] }[] };
      assert.deepEqual(map.entity, { kind: "array", name: cfName("square") });
      assert.deepEqual(map.children.map((c) => [c.specNodeId, c.attempts.map((a) => a.phase)]), [
        ["0", ["SUCCEEDED"]],
        ["1", ["FAILED"]],
        ["2", ["SUCCEEDED"]],
        ["3", ["RETRYABLE_FAILED", "SUCCEEDED"]],
      ]);

      // after(), .with() and the failure node: the overridden node's pod has its resources; fn0's pod runs once.
      const failed = startedName(await ok(["run", "--remote", "--image", image, cf, "overridden", "--ms", "20000"]));
      const slowPod = await runningPod(failed, "n1");
      assert.deepEqual({ ...slowPod.spec!.containers[0].resources }, { requests: { cpu: "100m", memory: "200Mi" }, limits: { cpu: "100m", memory: "1Gi" } });
      assert.equal((await finished(failed)).closure.phase, "FAILED");
      // Both attempts of n1 timed out (their pods are deleted once stopped); fn0's pod ran once, after them.
      const failedPods = await taskPods(failed);
      assert.deepEqual(failedPods.filter((p) => p.nodeId === "fn0").map((p) => [p.name, p.pod.status?.phase]), [[`${failed}-fn0-0`, "Succeeded"]]);
      assert.ok(failedPods.some((p) => p.name === `${failed}-n0-0`));
      const failedTree = await details(failed);
      assert.deepEqual(
        failedTree.nodes[2].attempts.map((a) => [a.phase, a.error?.code, a.error?.message]),
        [["RETRYABLE_FAILED", "Timeout", "the task did not finish within its timeout of 3s"], ["FAILED", "Timeout", "the task did not finish within its timeout of 3s"]],
      );
      assert.deepEqual(failedTree.nodes.map((n) => [n.nodeId, n.phase]), [["fn0", "SUCCEEDED"], ["n0", "SUCCEEDED"], ["n1", "TIMED_OUT"]]);

      // Half the items may fail: the map succeeds and the sum is of the others (4 + 36 + 49).
      assertExit(result, 0);
      assert.match(result.stdout, /^ {2}o0: 89$/m);
    });
  });

  test("a driver that can never start fails the execution with its pod's reason; meanwhile --wait and get execution say why", async () => {
    const missing = "registry.invalid/acme/absent:1";
    // The image is missing: the driver pod goes ErrImagePull, then ImagePullBackOff, and after the 2 s grace the
    // execution fails with that reason, although no driver ever ran to record it.
    const waited = await cli.run(["run", "--remote", "--wait", "--image", missing, flows, "doubled", "--x", "1"]);
    assertExit(waited, 1);
    const pulled = startedName(waited);
    assert.match(waited.stderr, new RegExp(`^driver pod ${pulled}-[a-z0-9]{5} waiting: (ErrImagePull|ImagePullBackOff) \\(image ${missing.replace(/[./]/g, "\\$&")}\\)`, "m"));
    assert.match(waited.stderr, /^execution FAILED$/m);
    const failed = await cli.json<ExecutionJson>(["get", "execution", pulled, "-o", "json"]);
    assert.equal(failed.closure.phase, "FAILED");
    assert.equal(failed.closure.error?.code, "ImagePullBackOff");
    assert.match(failed.closure.error?.message ?? "", new RegExp(`driver could not start: pod ${pulled}-[a-z0-9]{5}: image "${missing.replace(/[./]/g, "\\$&")}" could not be pulled for 2s`));
    await until("the driver Job to be deleted", async () => (await batch.listNamespacedJob({ namespace, labelSelector: `tsflyte.io/execution=${pulled}` })).items.length === 0 || undefined);

    const dir = cli.tempDir("tsflyte-k8s-driver-");
    const withSettings = (file: string, change: (text: string) => string) => {
      const path = join(dir, file);
      writeFileSync(path, change(readFileSync(config, "utf8")));
      return path;
    };
    // A Secret the driver refers to is missing: CreateContainerConfigError is permanent, so it fails at once.
    const noSecret = withSettings("no-secret.yaml", (text) => text.replace("credentialsSecret: s3-credentials", "credentialsSecret: absent-credentials"));
    const configless = startedName(await ok(["run", "--remote", "-c", noSecret, "--image", image, flows, "doubled", "--x", "1"]));
    const ended = await until(`execution ${configless} to fail`, async () => {
      const e = await cli.json<ExecutionJson>(["get", "execution", configless, "-c", noSecret, "-o", "json"]);
      return e.closure.phase === "QUEUED" ? undefined : e;
    });
    assert.equal(ended.closure.phase, "FAILED");
    assert.equal(ended.closure.error?.code, "CreateContainerConfigError");
    assert.match(ended.closure.error?.message ?? "", /secret "absent-credentials" not found/);

    // Within a long grace the execution stays QUEUED, and `get execution` shows why.
    const patient = withSettings("patient.yaml", (text) => text.replace("imagePullBackOffGrace: 2s", "imagePullBackOffGrace: 10m"));
    const queued = startedName(await ok(["run", "--remote", "-c", patient, "--image", missing, flows, "doubled", "--x", "2"]));
    const shown = await until("get execution to show the pull back-off", async () => {
      const table = await ok(["get", "execution", queued, "-c", patient]);
      return /ImagePullBackOff/.test(table.stdout) ? table.stdout : undefined;
    });
    assert.match(shown, new RegExp(`^${queued} .* QUEUED`, "m"));
    assert.match(shown, new RegExp(`^driver pod ${queued}-[a-z0-9]{5} waiting: ImagePullBackOff \\(image ${missing.replace(/[./]/g, "\\$&")}\\): Back-off pulling image "${missing.replace(/[./]/g, "\\$&")}"; the execution fails after 600 s of it$`, "m"));
    assert.equal((await cli.json<ExecutionJson>(["get", "execution", queued, "-c", patient, "-o", "json"])).closure.phase, "QUEUED");
    await ok(["delete", "execution", queued, "-c", patient, "--cause", "no such image"]);
  });

  test("a task that throws in its pod: the error trace names the .ts line, as a local run's does", async () => {
    const result = await cli.run(["run", "--remote", "--wait", "--image", image, flows, "refusing", "--x", "5"]);
    assertExit(result, 1);
    const line = lineOf(readFileSync(join(repoRoot, flows), "utf8"), "throw new NonRetryableError(`refused");
    assert.match(result.stderr, /^node n0 \(test\.fixtures\.k8s\.flows\.refuse\) failed on attempt 1 of 2: USER$/m);
    assert.match(result.stderr, /^ {2}refused 5$/m);
    assert.match(result.stderr, new RegExp(`^ {4}at .*\\(test/fixtures/k8s/flows\\.ts:${line}:\\d+\\)$`, "m"), result.stderr);
    assert.match(result.stderr, /tsflyte frames? hidden; -v shows them/);
    const recorded = await details(startedName(result));
    assert.match(recorded.execution.closure.error?.message ?? "", new RegExp(`flows\\.ts:${line}:`));
  });

  test("a pod over the namespace's quota waits until there is room, then runs", async () => {
    const quotaNamespace = "quota-development";
    await core.createNamespace({ body: { metadata: { name: quotaNamespace } } });
    await core.createNamespacedSecret({
      namespace: quotaNamespace,
      body: { metadata: { name: "s3-credentials" }, stringData: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey } },
    });
    // Room for the driver only.
    await core.createNamespacedResourceQuota({ namespace: quotaNamespace, body: { metadata: { name: "pods" }, spec: { hard: { pods: "1" } } } });
    await until("the quota to be counted", async () => (await core.readNamespacedResourceQuota({ name: "pods", namespace: quotaNamespace })).status?.hard?.pods === "1" || undefined);
    const name = startedName(await ok(["run", "--remote", "--image", image, "-p", "quota", flows, "doubled", "--x", "5"]));
    const driverRunning = () =>
      until("the driver to run", async () => (await core.listNamespacedPod({ namespace: quotaNamespace, labelSelector: `job-name=${name}` })).items.some((p) => p.status?.phase === "Running") || undefined);
    await driverRunning();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const waiting = await cli.json<ExecutionJson>(["get", "execution", name, "-p", "quota", "-o", "json"]);
    assert.equal(waiting.closure.phase, "RUNNING");
    assert.equal((await core.listNamespacedPod({ namespace: quotaNamespace, labelSelector: `tsflyte.io/execution=${name},tsflyte.io/role=task` })).items.length, 0);
    await core.replaceNamespacedResourceQuota({ name: "pods", namespace: quotaNamespace, body: { metadata: { name: "pods" }, spec: { hard: { pods: "10" } } } });
    const done = await until(`execution ${name} to end`, async () => {
      const e = await cli.json<ExecutionJson>(["get", "execution", name, "-p", "quota", "-o", "json"]);
      return e.closure.phase === "RUNNING" ? undefined : e;
    }, 120_000);
    assert.equal(done.closure.phase, "SUCCEEDED");
    const view = await cli.json<DetailsJson>(["get", "execution", name, "-p", "quota", "--details", "-o", "json"]);
    assert.deepEqual(view.nodes.map((n) => [n.nodeId, n.attempts.length]), [["n0", 1], ["n1", 1]], "waiting for room is not a failed attempt");
  });

  test("a node shutdown and a pod deleted from outside are system failures, retried", async () => {
    const shut = startedName(await ok(["run", "--remote", "--image", image, flows, "sleepy", "--ms", "20000", "--ledger", join(ledgerDir, "shutdown")]));
    const gone = startedName(await ok(["run", "--remote", "--image", image, flows, "sleepy", "--ms", "20000", "--ledger", join(ledgerDir, "deleted")]));
    const [shutPod, gonePod] = await Promise.all([runningPod(shut, "n1"), runningPod(gone, "n1")]);
    await kubelet.shutdown(namespace, shutPod.metadata!.name!);
    await core.deleteNamespacedPod({ name: gonePod.metadata!.name!, namespace });
    for (const [name, code, message] of [
      [shut, /^Interrupted$/, /shutdown/i],
      [gone, /^(UnexpectedObjectDeletion|ResourceDeletedExternally)$/, /delet/i],
    ] as const) {
      assert.equal((await finished(name)).closure.phase, "SUCCEEDED");
      const attempts = (await details(name)).nodes.find((n) => n.nodeId === "n1")!.attempts;
      assert.equal(attempts.length, 2, JSON.stringify(attempts));
      assert.equal(attempts[0].error?.kind, "SYSTEM");
      assert.match(attempts[0].error!.code, code);
      assert.match(attempts[0].error!.message, message);
    }
  });

  test("the driver killed mid-execution is replaced by its Job and resumes: no finished node runs again", async () => {
    const ledger = join(ledgerDir, "driver");
    const name = startedName(await ok(["run", "--remote", "--image", image, flows, "sleepy", "--ms", "3000", "--ledger", ledger]));
    await runningPod(name, "n1");
    const drivers = await core.listNamespacedPod({ namespace, labelSelector: `job-name=${name}` });
    assert.equal(drivers.items.length, 1);
    kubelet.kill(namespace, drivers.items[0].metadata!.name!, "SIGKILL");
    const done = await finished(name);
    assert.equal(done.closure.phase, "SUCCEEDED");
    const after = await core.listNamespacedPod({ namespace, labelSelector: `job-name=${name}` });
    assert.equal(after.items.length, 2, "the Job made a second driver pod");
    const lines = readFileSync(ledger, "utf8").trim().split("\n");
    // n0 ran once; n1's pod kept running and was taken up, not started again.
    assert.deepEqual(lines, ["double 1", "nap start 2 attempt 0", "nap end 2 attempt 0"]);
    const view = await details(name);
    assert.deepEqual(view.nodes.map((n) => [n.nodeId, n.attempts.length]), [["n0", 1], ["n1", 1], ["n2", 1]]);
    assert.deepEqual(view.outputs, { o0: "slept: 3" });
  });

  test("delete execution terminates: the cause is recorded, the driver and its pods are gone", async () => {
    const name = startedName(await ok(["run", "--remote", "--image", image, flows, "sleepy", "--ms", "60000", "--ledger", join(ledgerDir, "terminated")]));
    await runningPod(name, "n1");
    const result = await ok(["delete", "execution", name, "--cause", "wrong inputs"]);
    assert.match(result.stdout, new RegExp(`Terminated execution ${name} in flytesnacks/development`));
    const view = await details(name);
    assert.equal(view.execution.closure.phase, "ABORTED");
    assert.match(JSON.stringify(view.execution.closure), /wrong inputs/);
    await until("the driver Job and every pod of it to go", async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: `tsflyte.io/execution=${name}` });
      const jobs = await batch.listNamespacedJob({ namespace, labelSelector: `tsflyte.io/execution=${name}` });
      return (pods.items.length === 0 && jobs.items.length === 0) || undefined;
    });
    // The record stays, for `get`.
    assert.ok(await core.readNamespacedConfigMap({ name, namespace }));
    const again = await cli.run(["delete", "execution", name, "--cause", "twice"]);
    assert.notEqual(again.code, 0);
  });

  test("file:// storage every node mounts works too: the folder is mounted into the driver and the task pods", async () => {
    const shared = scratch.tempDir("tsflyte-k8s-shared-");
    const fileConfig = join(scratch.tempDir("tsflyte-k8s-file-config-"), "config.yaml");
    writeFileSync(fileConfig, `target: kubernetes\nkubernetes:\n  kubeconfig: ${testbed.kubeconfig}\n  storage: file://${shared}\n`);
    const result = await cli.runWith({ FLYTECTL_CONFIG: fileConfig }, ["run", "--remote", "--wait", "--image", image, "-p", "files", flows, "doubled", "--x", "3"]);
    assertExit(result, 0);
    assert.match(result.stdout, /^ {2}o0: "result: 6"$/m);
    const name = startedName(result);
    const job = await batch.readNamespacedJob({ name, namespace: "files-development" });
    assert.deepEqual(JSON.parse(JSON.stringify(job.spec!.template.spec!.volumes)), [{ name: "tsflyte-storage", hostPath: { path: shared, type: "DirectoryOrCreate" } }]);
    const pod = await core.readNamespacedPod({ name: `${name}-n1-0`, namespace: "files-development" });
    assert.deepEqual(pod.spec!.containers[0].volumeMounts?.find((m) => m.name === "tsflyte-storage")?.mountPath, shared);
    assert.ok(existsSync(join(shared, "metadata", `files-development-${name}`, "n1", "data", "0", "outputs.pb")), "the task wrote its outputs into the shared folder");
  });

  test("bad set-ups: no storage configured (exit 2) and an unreachable cluster (exit 4), each one clear line", async () => {
    const dir = cli.tempDir("tsflyte-k8s-bad-");
    const noStorage = join(dir, "no-storage.yaml");
    writeFileSync(noStorage, `target: kubernetes\nkubernetes:\n  kubeconfig: ${testbed.kubeconfig}\n`);
    const missing = await cli.run(["get", "execution", "-c", noStorage]);
    assertExit(missing, 2);
    assert.match(missing.stderr, /kubernetes\.storage is not set/);
    const deadKubeconfig = join(dir, "dead.kubeconfig");
    writeFileSync(deadKubeconfig, readFileSync(testbed.kubeconfig, "utf8").replace(/server: https:\/\/127\.0\.0\.1:\d+/, "server: https://127.0.0.1:1"));
    const deadConfig = join(dir, "dead.yaml");
    writeFileSync(deadConfig, readFileSync(config, "utf8").replace(testbed.kubeconfig, deadKubeconfig));
    const unreachable = await cli.run(["get", "execution", "-c", deadConfig]);
    assertExit(unreachable, 4);
    assert.match(unreachable.stderr, /cannot reach the Kubernetes API server https:\/\/127\.0\.0\.1:1/);
    // The kubeconfig's bearer token never shows.
    assert.ok(testbed.token);
    assert.ok(!(unreachable.stderr + unreachable.stdout).includes(testbed.token));
  });
});
