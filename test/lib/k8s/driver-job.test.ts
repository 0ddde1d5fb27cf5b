// The driver Job of an execution as `kubectl get job -o yaml` shows it: the image, `tsflyte kubernetes drive` by
// name, the settings it reads (nothing secret), its owner, the storage mount for file://, and bad settings refused.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UserError } from "../../../src/lib/errors.js";
import { buildDriverJob, parseDriverSettings, storagePath, type DriverSettings } from "../../../src/lib/k8s/driver-job.js";
import type { ExecutionRecord } from "../../../src/lib/store/records.js";

const execution: ExecutionRecord = {
  project: "flytesnacks",
  domain: "development",
  name: "a8x2k4m9q7w3e5r1t6y0",
  launchKind: "launchPlan",
  launchName: "examples.spend.calculateSpend",
  launchVersion: "v7",
  mode: "MANUAL",
  phase: "QUEUED",
  inputsUri: "s3://b/metadata/x/inputs.pb",
  overwriteCache: false,
  maxParallelism: 25,
  createdAt: 1,
  updatedAt: 1,
};

const s3Settings: DriverSettings = {
  namespaceTemplate: "{project}-{domain}",
  serviceAccount: "flyte-runner",
  storage: "s3://bucket/tsflyte",
  s3: { endpoint: "http://minio:9000", region: "eu-west-1", forcePathStyle: true, credentialsSecret: "s3-credentials" },
  imagePullBackOffGraceMs: 180_000,
};

describe("buildDriverJob", () => {
  test("runs tsflyte by name from the image, owned by the execution's ConfigMap, with its settings and no secret in sight", () => {
    const job = buildDriverJob({ execution, namespace: "flytesnacks-development", image: "ghcr.io/acme/flows:1", settings: s3Settings, owner: { name: execution.name, uid: "u-1" } });
    assert.equal(job.metadata!.name, execution.name);
    assert.equal(job.metadata!.labels!["tsflyte.io/role"], "driver");
    assert.equal(job.metadata!.labels!["tsflyte.io/execution"], execution.name);
    assert.deepEqual(job.metadata!.ownerReferences, [{ apiVersion: "v1", kind: "ConfigMap", name: execution.name, uid: "u-1", controller: false, blockOwnerDeletion: false }]);
    const pod = job.spec!.template.spec!;
    assert.equal(pod.restartPolicy, "Never");
    assert.equal(pod.serviceAccountName, "flyte-runner");
    const container = pod.containers[0];
    assert.equal(container.image, "ghcr.io/acme/flows:1");
    assert.deepEqual(container.command, ["tsflyte"]);
    assert.deepEqual(container.args, ["kubernetes", "drive", execution.name, "--project", "flytesnacks", "--domain", "development", "--namespace", "flytesnacks-development"]);
    const env = Object.fromEntries(container.env!.map((e) => [e.name, e.value]));
    assert.deepEqual(parseDriverSettings(env.TSFLYTE_K8S_DRIVER), s3Settings);
    assert.equal(env.TSFLYTE_S3_ENDPOINT, "http://minio:9000");
    assert.equal(env.TSFLYTE_S3_REGION, "eu-west-1");
    assert.equal(env.TSFLYTE_S3_FORCE_PATH_STYLE, "true");
    assert.deepEqual(container.envFrom, [{ secretRef: { name: "s3-credentials" } }]);
    assert.ok(!JSON.stringify(job).includes("AWS_SECRET_ACCESS_KEY"), "credentials come from the Secret, never the spec");
    assert.equal(pod.volumes, undefined);
  });

  test("carries the execution's labels and annotations on the Job and its pod, but runs as the configured account without its IAM role", () => {
    const launched: ExecutionRecord = {
      ...execution,
      settings: { labels: { team: "spend" }, annotations: { "example.com/owner": "zoe" }, serviceAccount: "spend-runner", iamRole: "arn:aws:iam::1:role/spend" },
    };
    const job = buildDriverJob({ execution: launched, namespace: "ns", image: "i", settings: s3Settings, owner: { name: "x", uid: "u" } });
    for (const meta of [job.metadata!, job.spec!.template.metadata!]) {
      assert.equal(meta.labels!.team, "spend");
      assert.equal(meta.labels!["tsflyte.io/role"], "driver");
      assert.deepEqual(meta.annotations, { "example.com/owner": "zoe" });
    }
    assert.equal(job.spec!.template.spec!.serviceAccountName, "flyte-runner", "the driver needs tsflyte's Role, which the task's account may lack");
    const bare = buildDriverJob({ execution, namespace: "ns", image: "i", settings: s3Settings, owner: { name: "x", uid: "u" } });
    assert.equal(bare.metadata!.annotations, undefined);
  });

  test("file:// storage mounts the node's folder at the same path", () => {
    const settings: DriverSettings = { ...s3Settings, storage: "file:///mnt/tsflyte%20data", s3: undefined };
    assert.equal(storagePath(settings), "/mnt/tsflyte data");
    const pod = buildDriverJob({ execution, namespace: "ns", image: "i", settings, owner: { name: "x", uid: "u" } }).spec!.template.spec!;
    assert.deepEqual(pod.volumes, [{ name: "tsflyte-storage", hostPath: { path: "/mnt/tsflyte data", type: "DirectoryOrCreate" } }]);
    assert.deepEqual(pod.containers[0].volumeMounts, [{ name: "tsflyte-storage", mountPath: "/mnt/tsflyte data" }]);
    assert.equal(pod.containers[0].envFrom, undefined);
  });
});

describe("parseDriverSettings", () => {
  test("a driver started by hand, or with settings cut short, is told how drivers start", () => {
    for (const text of [undefined, "{not json", JSON.stringify({ storage: "s3://b" })]) {
      assert.throws(
        () => parseDriverSettings(text),
        (e: unknown) => e instanceof UserError && /TSFLYTE_K8S_DRIVER/.test(e.message) && /run --remote --target kubernetes/.test(e.hint ?? ""),
      );
    }
  });
});
