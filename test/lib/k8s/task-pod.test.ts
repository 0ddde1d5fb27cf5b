// The pod of one attempt, from a TaskTemplate the compiler emits: the whole object `kubectl get pod -o yaml` would
// show, resources resolved like flyteplugins, interruptible scheduling on and off, and pod names and label values.
// Never talks to a cluster: buildTaskPod is pure.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import type { V1Pod } from "@kubernetes/client-node";
import { emitTaskTemplate, type EmitSettings } from "../../../src/lib/compiler/emit-task.js";
import type { TaskAttempt } from "../../../src/lib/engine/runner.js";
import { UserError } from "../../../src/lib/errors.js";
import { LiteralMapSchema } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { Resources_ResourceName, TaskTemplateSchema, type TaskTemplate } from "../../../src/lib/idl/gen/flyteidl/core/tasks_pb.js";
import { buildTaskPod, labelValue, quantityValue, taskPodName, type TaskPodSettings } from "../../../src/lib/k8s/task-pod.js";
import { task } from "../../../src/lib/sdk/declare.js";
import { definitionOf } from "../../../src/lib/sdk/entity.js";
import type { TaskDefinition } from "../../../src/lib/sdk/entity.js";
import type { TaskOptions } from "../../../src/lib/sdk/options.js";
import { MemoryBlobStore } from "../../../src/lib/storage/memory-store.js";
import { attemptOutputPrefix, nodeInputsUri, rawOutputPrefix } from "../../../src/lib/storage/layout.js";
import { t } from "../../../src/lib/types/types.js";

const emitSettings: EmitSettings = { project: "flytesnacks", domain: "development", version: "v7", image: "ghcr.io/acme/spend:v7" };
const taskName = "examples.spend.totalSpend";

/** The TaskTemplate the compiler emits for a task declared with these options. */
function compiledTemplate(options: Partial<TaskOptions<any, any>>): TaskTemplate {
  const declared: TaskOptions<any, any> = { inputs: { amounts: t.list(t.float()) }, outputs: t.float(), ...options };
  const entity = task(declared, (inputs) => (inputs.amounts as number[]).reduce((a, b) => a + b, 0));
  const definition = definitionOf(entity) as TaskDefinition;
  const { template, problems } = emitTaskTemplate({ definition, name: taskName, modulePath: "examples/spend.ts", exportName: "totalSpend" }, emitSettings);
  assert.deepEqual(problems, []);
  return template!;
}

const base = "s3://tsflyte-data";
const execution = { project: "flytesnacks", domain: "development", name: "a8x2k4m9q7w3e5r1t6y0" };

function attemptOf(template: TaskTemplate | undefined, overrides: Partial<TaskAttempt> = {}): TaskAttempt {
  const nodeId = overrides.nodeId ?? "n2";
  const number = overrides.attempt ?? 1;
  return {
    execution,
    nodeId,
    attempt: number,
    task: { name: taskName, template },
    inputs: create(LiteralMapSchema),
    inputsUri: nodeInputsUri(base, execution, nodeId),
    outputPrefix: attemptOutputPrefix(base, execution, nodeId, number),
    rawOutputPrefix: rawOutputPrefix(base, execution, nodeId, number),
    blobs: new MemoryBlobStore(),
    signal: new AbortController().signal,
    interruptible: true,
    taskId: { project: "flytesnacks", domain: "development", name: taskName, version: "v7" },
    ...overrides,
  };
}

const settings: TaskPodSettings = {
  namespace: "flytesnacks-development",
  serviceAccount: "tsflyte-task",
  owner: { apiVersion: "batch/v1", kind: "Job", name: "tsflyte-a8x2k4m9q7w3e5r1t6y0", uid: "5f1c2e9a-3b7d-4c1e-9a2f-0d6b8e4c7a13" },
  interruptible: {
    tolerations: [{ key: "cloud.google.com/gke-spot", operator: "Equal", value: "true", effect: "NoSchedule" }],
    nodeSelector: { "cloud.google.com/gke-spot": "true" },
  },
  storageEnv: { TSFLYTE_S3_ENDPOINT: "http://minio.tsflyte.svc:9000", TSFLYTE_S3_REGION: "us-east-1" },
  credentialsSecret: "tsflyte-s3-credentials",
};

describe("buildTaskPod", () => {
  test("maps a compiled task to the whole pod a user would see with kubectl get -o yaml", () => {
    const template = compiledTemplate({
      requests: { cpu: "500m", mem: "1Gi", ephemeralStorage: "5Gi" },
      limits: { mem: "2Gi", gpu: 1, ephemeralStorage: "10Gi" },
      env: { LOG_LEVEL: "debug" },
      interruptible: true,
    });
    const attempt = attemptOf(template);
    const prefix = `${base}/metadata/flytesnacks-development-a8x2k4m9q7w3e5r1t6y0/n2/data`;
    const expected: V1Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "a8x2k4m9q7w3e5r1t6y0-n2-1",
        namespace: "flytesnacks-development",
        labels: {
          "app.kubernetes.io/managed-by": "tsflyte",
          "tsflyte.io/execution": "a8x2k4m9q7w3e5r1t6y0",
          "tsflyte.io/project": "flytesnacks",
          "tsflyte.io/domain": "development",
          "tsflyte.io/node": "n2",
          "tsflyte.io/attempt": "1",
          "tsflyte.io/task": "examples.spend.totalSpend",
          "tsflyte.io/role": "task",
        },
        annotations: {
          "tsflyte.io/task-name": "examples.spend.totalSpend",
          "tsflyte.io/node-id": "n2",
          "kubectl.kubernetes.io/default-container": "task",
        },
        ownerReferences: [
          { apiVersion: "batch/v1", kind: "Job", name: "tsflyte-a8x2k4m9q7w3e5r1t6y0", uid: "5f1c2e9a-3b7d-4c1e-9a2f-0d6b8e4c7a13", controller: false, blockOwnerDeletion: false },
        ],
      },
      spec: {
        restartPolicy: "Never",
        serviceAccountName: "tsflyte-task",
        terminationGracePeriodSeconds: 30,
        containers: [
          {
            name: "task",
            image: "ghcr.io/acme/spend:v7",
            args: [
              "tsflyte-execute",
              "--inputs",
              `${prefix}/inputs.pb`,
              "--output-prefix",
              `${prefix}/1`,
              "--raw-output-data-prefix",
              `${base}/raw/flytesnacks-development-a8x2k4m9q7w3e5r1t6y0/n2/1`,
              "--checkpoint-path",
              `${prefix}/1/_flytecheckpoints`,
              "--prev-checkpoint",
              "",
              "--",
              "examples/spend.ts",
              "totalSpend",
            ],
            env: [
              { name: "LOG_LEVEL", value: "debug" },
              { name: "FLYTE_INTERNAL_EXECUTION_ID", value: "a8x2k4m9q7w3e5r1t6y0" },
              { name: "FLYTE_INTERNAL_EXECUTION_PROJECT", value: "flytesnacks" },
              { name: "FLYTE_INTERNAL_EXECUTION_DOMAIN", value: "development" },
              { name: "FLYTE_ATTEMPT_NUMBER", value: "1" },
              { name: "TSFLYTE_NODE_ID", value: "n2" },
              { name: "FLYTE_INTERNAL_TASK_PROJECT", value: "flytesnacks" },
              { name: "FLYTE_INTERNAL_TASK_DOMAIN", value: "development" },
              { name: "FLYTE_INTERNAL_TASK_NAME", value: "examples.spend.totalSpend" },
              { name: "FLYTE_INTERNAL_TASK_VERSION", value: "v7" },
              { name: "TSFLYTE_S3_ENDPOINT", value: "http://minio.tsflyte.svc:9000" },
              { name: "TSFLYTE_S3_REGION", value: "us-east-1" },
            ],
            envFrom: [{ secretRef: { name: "tsflyte-s3-credentials" } }],
            resources: {
              // cpu: only requested, so the limit is the request; memory and ephemeral-storage: both given; GPU: only
              // limited, so the request is the limit. (A request above its limit, which compile refuses, is below.)
              requests: { cpu: "500m", memory: "1Gi", "ephemeral-storage": "5Gi", "nvidia.com/gpu": "1" },
              limits: { cpu: "500m", memory: "2Gi", "ephemeral-storage": "10Gi", "nvidia.com/gpu": "1" },
            },
            terminationMessagePolicy: "FallbackToLogsOnError",
          },
        ],
        tolerations: [{ key: "cloud.google.com/gke-spot", operator: "Equal", value: "true", effect: "NoSchedule" }],
        nodeSelector: { "cloud.google.com/gke-spot": "true" },
      },
    };
    assert.deepEqual(buildTaskPod(attempt, settings), expected);
  });

  test("the last attempt (interruptible false) gets no spot tolerations or node selector", () => {
    const pod = buildTaskPod(attemptOf(compiledTemplate({ interruptible: true }), { interruptible: false }), settings);
    assert.equal(pod.spec!.tolerations, undefined);
    assert.equal(pod.spec!.nodeSelector, undefined);
  });

  test("an interruptible attempt without interruptible settings is scheduled like any other", () => {
    const pod = buildTaskPod(attemptOf(compiledTemplate({})), { namespace: "ns", serviceAccount: "default" });
    assert.equal(pod.spec!.tolerations, undefined);
    assert.equal(pod.spec!.nodeSelector, undefined);
  });

  test("without owner, credentials or storage env the pod has no owner reference, envFrom or extra env", () => {
    const pod = buildTaskPod(attemptOf(compiledTemplate({})), { namespace: "ns", serviceAccount: "default" });
    assert.equal(pod.metadata!.ownerReferences, undefined);
    const container = pod.spec!.containers[0];
    assert.equal(container.envFrom, undefined);
    assert.deepEqual(
      container.env!.map((e) => e.name),
      [
        "FLYTE_INTERNAL_EXECUTION_ID",
        "FLYTE_INTERNAL_EXECUTION_PROJECT",
        "FLYTE_INTERNAL_EXECUTION_DOMAIN",
        "FLYTE_ATTEMPT_NUMBER",
        "TSFLYTE_NODE_ID",
        "FLYTE_INTERNAL_TASK_PROJECT",
        "FLYTE_INTERNAL_TASK_DOMAIN",
        "FLYTE_INTERNAL_TASK_NAME",
        "FLYTE_INTERNAL_TASK_VERSION",
      ],
    );
    // No requests or limits given: none set, so the namespace's LimitRange decides.
    assert.deepEqual(container.resources, {});
  });

  test("file:// storage: the node's folder is mounted at the same path, so the attempt's URIs resolve inside the pod", () => {
    const pod = buildTaskPod(attemptOf(compiledTemplate({})), { namespace: "ns", serviceAccount: "default", storagePath: "/mnt/tsflyte" });
    assert.deepEqual(pod.spec!.volumes, [{ name: "tsflyte-storage", hostPath: { path: "/mnt/tsflyte", type: "DirectoryOrCreate" } }]);
    assert.deepEqual(pod.spec!.containers[0].volumeMounts, [{ name: "tsflyte-storage", mountPath: "/mnt/tsflyte" }]);
    const s3 = buildTaskPod(attemptOf(compiledTemplate({})), { namespace: "ns", serviceAccount: "default" });
    assert.equal(s3.spec!.volumes, undefined);
    assert.equal(s3.spec!.containers[0].volumeMounts, undefined);
  });

  test("each env name appears once; a later source wins and keeps the first position", () => {
    const template = compiledTemplate({ env: { TSFLYTE_S3_ENDPOINT: "http://wrong", FLYTE_ATTEMPT_NUMBER: "9", MODE: "fast" } });
    const env = buildTaskPod(attemptOf(template, { attempt: 0 }), settings).spec!.containers[0].env!;
    assert.deepEqual(env.slice(0, 3), [
      { name: "TSFLYTE_S3_ENDPOINT", value: "http://minio.tsflyte.svc:9000" },
      { name: "FLYTE_ATTEMPT_NUMBER", value: "0" },
      { name: "MODE", value: "fast" },
    ]);
    assert.equal(new Set(env.map((e) => e.name)).size, env.length);
  });

  test("what the execution was launched with: its labels, annotations, IAM role, service account and envs on the pod", () => {
    const template = compiledTemplate({ env: { MODE: "fast", REGION: "task" } });
    const launched = {
      labels: { team: "spend", "tsflyte.io/role": "not ours to set" },
      annotations: { "example.com/owner": "zoe", "tsflyte.io/node-id": "not ours to set" },
      envs: { REGION: "execution", EXTRA: "1" },
      serviceAccount: "spend-runner",
      iamRole: "arn:aws:iam::1:role/spend",
    };
    const pod = buildTaskPod(attemptOf(template, { settings: launched }), settings);
    assert.equal(pod.metadata!.labels!.team, "spend");
    assert.equal(pod.metadata!.labels!["tsflyte.io/role"], "task", "tsflyte's own labels win");
    assert.equal(pod.metadata!.annotations!["example.com/owner"], "zoe");
    assert.equal(pod.metadata!.annotations!["tsflyte.io/node-id"], "n2");
    assert.equal(pod.metadata!.annotations!["iam.amazonaws.com/role"], "arn:aws:iam::1:role/spend");
    assert.equal(pod.spec!.serviceAccountName, "spend-runner");
    const env = pod.spec!.containers[0].env!;
    const get = (name: string) => env.find((e) => e.name === name)?.value;
    // The execution's envs after the task's own, as Flyte's pod plugin orders them.
    assert.equal(get("REGION"), "execution");
    assert.equal(get("MODE"), "fast");
    assert.equal(get("EXTRA"), "1");
    // The annotation key is the target's setting (FlyteAdmin's roleNameKey).
    const eks = buildTaskPod(attemptOf(template, { settings: launched }), { ...settings, iamRoleAnnotation: "eks.amazonaws.com/role-arn" });
    assert.equal(eks.metadata!.annotations!["eks.amazonaws.com/role-arn"], "arn:aws:iam::1:role/spend");
    assert.equal(eks.metadata!.annotations!["iam.amazonaws.com/role"], undefined);
    // Nothing given: the configured service account, no role annotation.
    const plain = buildTaskPod(attemptOf(template), settings);
    assert.equal(plain.spec!.serviceAccountName, "tsflyte-task");
    assert.equal(plain.metadata!.annotations!["iam.amazonaws.com/role"], undefined);
  });

  test("the FLYTE_INTERNAL_TASK_* env comes from the template's id when the attempt has no task id", () => {
    const env = buildTaskPod(attemptOf(compiledTemplate({}), { taskId: undefined }), settings).spec!.containers[0].env!;
    const get = (name: string) => env.find((e) => e.name === name)?.value;
    assert.equal(get("FLYTE_INTERNAL_TASK_NAME"), taskName);
    assert.equal(get("FLYTE_INTERNAL_TASK_VERSION"), "v7");
  });

  test("a container command is kept and its template variables filled in", () => {
    const template = create(TaskTemplateSchema, {
      id: { project: "p", domain: "d", name: "raw", version: "1" },
      type: "container",
      target: { case: "container", value: { image: "alpine:3.20", command: ["sh", "-c", "cp /in {{.outputPrefix}}/outputs.pb"], args: ["{{ .Input }}"] } },
    });
    const attempt = attemptOf(template);
    const container = buildTaskPod(attempt, settings).spec!.containers[0];
    assert.deepEqual(container.command, ["sh", "-c", `cp /in ${attempt.outputPrefix}/outputs.pb`]);
    assert.deepEqual(container.args, [attempt.inputsUri]);
  });

  const resourceRows: Array<{
    name: string;
    requests: Array<[Resources_ResourceName, string]>;
    limits: Array<[Resources_ResourceName, string]>;
    expected: object;
  }> = [
    { name: "nothing given: nothing set", requests: [], limits: [], expected: {} },
    {
      name: "only limits: requests are the limits",
      requests: [],
      limits: [[Resources_ResourceName.CPU, "2"], [Resources_ResourceName.MEMORY, "4Gi"]],
      expected: { requests: { cpu: "2", memory: "4Gi" }, limits: { cpu: "2", memory: "4Gi" } },
    },
    {
      name: "only requests: limits are the requests",
      requests: [[Resources_ResourceName.MEMORY, "512Mi"], [Resources_ResourceName.EPHEMERAL_STORAGE, "1Gi"]],
      limits: [],
      expected: { requests: { memory: "512Mi", "ephemeral-storage": "1Gi" }, limits: { memory: "512Mi", "ephemeral-storage": "1Gi" } },
    },
    {
      name: "a request above its limit comes down to the limit",
      requests: [[Resources_ResourceName.CPU, "1500m"]],
      limits: [[Resources_ResourceName.CPU, "1"]],
      expected: { requests: { cpu: "1" }, limits: { cpu: "1" } },
    },
    {
      name: "zero means unset; STORAGE has no pod resource",
      requests: [[Resources_ResourceName.CPU, "0"], [Resources_ResourceName.STORAGE, "10Gi"], [Resources_ResourceName.GPU, "2"]],
      limits: [],
      expected: { requests: { "nvidia.com/gpu": "2" }, limits: { "nvidia.com/gpu": "2" } },
    },
  ];
  for (const row of resourceRows) {
    test(`resources: ${row.name}`, () => {
      const entries = (list: Array<[Resources_ResourceName, string]>) => list.map(([name, value]) => ({ name, value }));
      const template = create(TaskTemplateSchema, {
        id: { project: "p", domain: "d", name: "raw", version: "1" },
        target: { case: "container", value: { image: "img:1", args: ["tsflyte-execute"], resources: { requests: entries(row.requests), limits: entries(row.limits) } } },
      });
      assert.deepEqual(buildTaskPod(attemptOf(template), settings).spec!.containers[0].resources, row.expected);
    });
  }

  test("a resource value that is not a quantity is the user's to fix, named with its task", () => {
    const template = create(TaskTemplateSchema, {
      target: { case: "container", value: { image: "img:1", resources: { limits: [{ name: Resources_ResourceName.MEMORY, value: "2 GB" }] } } },
    });
    assert.throws(() => buildTaskPod(attemptOf(template), settings), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /task examples\.spend\.totalSpend asks for limits\.memory "2 GB", which is not a Kubernetes quantity/);
      return true;
    });
  });

  test("a task without a container cannot be a pod, and the error says which task", () => {
    const k8sPod = create(TaskTemplateSchema, { target: { case: "k8sPod", value: {} } });
    assert.throws(() => buildTaskPod(attemptOf(k8sPod), settings), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.equal(e.message, "task examples.spend.totalSpend cannot run in a Kubernetes pod: its TaskTemplate has no container (target: k8sPod)");
      return true;
    });
    assert.throws(() => buildTaskPod(attemptOf(undefined), settings), /task examples\.spend\.totalSpend cannot run in a Kubernetes pod: it has no registered TaskTemplate/);
  });
});

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const labelValueRe = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

describe("taskPodName", () => {
  test("is <execution>-<nodeId>-<attempt> when that is a valid name", () => {
    assert.equal(taskPodName("a8x2k4m9q7w3e5r1t6y0", "n0", 0), "a8x2k4m9q7w3e5r1t6y0-n0-0");
    // A subworkflow child's node id has dashes already.
    assert.equal(taskPodName("a8x2k4m9q7w3e5r1t6y0", "n1-0-n3", 2), "a8x2k4m9q7w3e5r1t6y0-n1-0-n3-2");
  });

  test("a long name is cut to 63 with a stable hash, distinct per attempt", () => {
    const execution = "nightly-backfill-of-the-spend-report-2024-06";
    const nodeId = "n4-0-n2-0-n7-0-n1";
    const names = [0, 1, 2].map((attempt) => taskPodName(execution, nodeId, attempt));
    for (const name of names) {
      assert.ok(name.length <= 63, name);
      assert.match(name, dnsLabel);
      assert.match(name, /^nightly-backfill-of-the-spend-report-2024-06-n4-0-n2-[0-9a-f]{10}$/);
    }
    assert.equal(new Set(names).size, 3);
    assert.equal(taskPodName(execution, nodeId, 1), names[1]);
  });

  test("a cut that lands on a dash does not leave one before the hash", () => {
    // 51 characters and a dash at position 52: the prefix must drop the dash instead of ending "--".
    const name = taskPodName(`${"x".repeat(51)}`, "n0-0-n1-0-n2", 0);
    assert.match(name, /^x{51}-[0-9a-f]{10}$/);
  });

  test("characters a pod name cannot hold become dashes and the name gets a hash, so ids stay distinct", () => {
    const upper = taskPodName("a8x2k4m9q7w3e5r1t6y0", "N0", 0);
    const lower = taskPodName("a8x2k4m9q7w3e5r1t6y0", "n0", 0);
    const underscore = taskPodName("a8x2k4m9q7w3e5r1t6y0", "load_data", 0);
    assert.match(upper, /^a8x2k4m9q7w3e5r1t6y0-n0-0-[0-9a-f]{10}$/);
    assert.notEqual(upper, lower);
    assert.match(underscore, /^a8x2k4m9q7w3e5r1t6y0-load-data-0-[0-9a-f]{10}$/);
  });

  test("any input gives a valid name of at most 63 characters, the same every time", () => {
    const alphabet = "abcXYZ019-_.:/ é";
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const text = (max: number) => Array.from({ length: Math.floor(random() * max) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
    for (let i = 0; i < 500; i++) {
      const [execution, nodeId, attempt] = [text(80), text(40), Math.floor(random() * 12)];
      const name = taskPodName(execution, nodeId, attempt);
      assert.ok(name.length <= 63 && dnsLabel.test(name), `${JSON.stringify([execution, nodeId, attempt])} → ${name}`);
      assert.equal(taskPodName(execution, nodeId, attempt), name);
    }
  });
});

describe("labelValue", () => {
  test("a valid value stays as it is, the empty one too", () => {
    for (const value of ["examples.spend.totalSpend", "n1-0-n3", "A_b.C-9", ""]) assert.equal(labelValue(value), value);
  });

  test("a long task name is cut to 63 with a stable hash", () => {
    const name = "analytics.pipelines.quarterly_revenue_reconciliation.computeAdjustedTotalsPerRegion";
    const value = labelValue(name);
    assert.ok(value.length <= 63);
    assert.match(value, labelValueRe);
    assert.match(value, /^analytics\.pipelines\.quarterly_revenue_reconciliation-[0-9a-f]{10}$/);
    assert.equal(labelValue(name), value);
    assert.notEqual(labelValue(`${name}2`), value);
  });

  test("invalid characters and ends become valid ones", () => {
    for (const text of ["-leading", "trailing.", "with space", "ünïcode", "a/b:c", "---", "_x_"]) {
      const value = labelValue(text);
      assert.ok(value.length <= 63 && labelValueRe.test(value) && value !== "", `${text} → ${value}`);
    }
    assert.match(labelValue("with space"), /^with-space-[0-9a-f]{10}$/);
    assert.match(labelValue("---"), /^[0-9a-f]{10}$/);
  });
});

describe("quantityValue", () => {
  test("reads Kubernetes quantities", () => {
    assert.equal(quantityValue("500m"), 0.5);
    assert.equal(quantityValue("2"), 2);
    assert.equal(quantityValue("1Gi"), 2 ** 30);
    assert.equal(quantityValue("1G"), 1e9);
    assert.equal(quantityValue("1e3"), 1000);
    assert.equal(quantityValue("2 GB"), undefined);
  });
});
