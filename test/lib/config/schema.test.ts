// schemas/config.schema.json agrees with the reader: files resolveConfig accepts validate, files it refuses do not.
// Never reads a config from outside this test. Known gaps, where the schema cannot count: a namespace template whose
// filled-in names are always over 63 characters, and a top-level near miss of `kubernetes` or `target`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { Ajv2020 } from "ajv/dist/2020.js";
import { resolveConfig } from "../../../src/lib/config/config.js";
import { UserError } from "../../../src/lib/errors.js";

const schema = JSON.parse(readFileSync(new URL("../../../schemas/config.schema.json", import.meta.url), "utf8")) as object;
const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

test("the files tsflyte writes and a full flytectl file validate", () => {
  const files = [
    "admin:\n  endpoint: dns:///127.0.0.1:30080\n  insecure: true\ntask:\n  project: flytesnacks\n  domain: development\n",
    "# Written by `tsflyte config init`\nadmin:\n  endpoint: dns:///flyte.example.com\n  insecure: false\n",
    "admin:\n  endpoint: localhost:30080\n  authType: Pkce\n  insecure: true\n  authTokenFile: ~/.flyte/token\nconsole:\n  endpoint: http://localhost:30080/console\nlogger:\n  level: 0\nstorage:\n  type: stow\ndotViewer: http://graph.flyte.org/#\n",
    "admin:\n  endpoint: https://flyte.example.com/\ntask:\n  project:\n",
  ];
  for (const text of files) assert.ok(validate(parse(text)), `${text}\n${JSON.stringify(validate.errors)}`);
});

test("the mistakes resolveConfig refuses are flagged in the editor too", () => {
  const files = [
    "admin:\n  insecure: yes\n",
    "admin:\n  endpoint: 127.0.0.1:30080/api/v1\n",
    "admin:\n  endpoint: flyte example.com\n",
    "admin: dns:///h:1\n",
    "task:\n  project: 42\n",
    "dotViewer: graph.flyte.org\n",
  ];
  for (const text of files) assert.equal(validate(parse(text)), false, text);
});

test("target and kubernetes: the schema accepts what resolveConfig accepts and flags what it refuses", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-schema-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "config.yaml");
  const resolves = async (text: string): Promise<boolean> => {
    writeFileSync(file, text);
    try {
      await resolveConfig({ config: file }, { env: {}, home: dir, cwd: dir });
      return true;
    } catch (e) {
      if (e instanceof UserError) return false;
      throw e;
    }
  };
  const issueExample = [
    "target: kubernetes",
    "kubernetes:",
    "  kubeconfig: ~/.kube/config",
    "  context: prod",
    '  namespace: "{project}-{domain}"',
    "  serviceAccount: default",
    "  storage: s3://bucket/prefix",
    '  s3: { endpoint: "http://minio.flyte.svc.cluster.local:9000", region: us-east-1, forcePathStyle: true }',
    "  interruptible: { tolerations: [{key: spot, operator: Exists, effect: NoSchedule}], nodeSelector: {pool: spot} }",
    "",
  ].join("\n");
  const good = [
    issueExample,
    "target: local\n",
    "target:\nkubernetes:\n",
    "kubernetes:\n  namespace: flyte\n  storage: file:///mnt/flyte/\n  imagePullBackOffGrace: 1m30s\n",
    "kubernetes:\n  iamRoleAnnotation: eks.amazonaws.com/role-arn\n",
    `kubernetes:\n  iamRoleAnnotation: ${"a".repeat(253)}/${"b".repeat(63)}\n`,
    "kubernetes:\n  iamRoleAnnotation: role\n",
    "kubernetes:\n  s3:\n    credentialsSecret: flyte-s3\n    forcePathStyle: false\n  serviceAccount: flyte.runner\n",
    "kubernetes:\n  interruptible:\n    tolerations:\n      - operator: Exists\n      - {key: node.kubernetes.io/spot, value: '', effect: NoExecute, tolerationSeconds: 300}\n    nodeSelector:\n      cloud.google.com/gke-spot: 'true'\n      empty: ''\n",
  ];
  const bad = [
    "target: k8s\n",
    "target: 3\n",
    "kubernetes: prod\n",
    "kubernetes:\n  namespce: x\n",
    "kubernetes:\n  namespace: flyte_{domain}\n",
    'kubernetes:\n  namespace: "{project}-{env}"\n',
    'kubernetes:\n  namespace: "{project}-"\n',
    'kubernetes:\n  namespace: "-{project}"\n',
    `kubernetes:\n  namespace: ${"a".repeat(64)}\n`,
    "kubernetes:\n  storage: gs://b/x\n",
    "kubernetes:\n  storage: /mnt/flyte\n",
    "kubernetes:\n  storage: file://relative/path\n",
    "kubernetes:\n  storage: file:///\n",
    "kubernetes:\n  storage: file:///mnt/../flyte\n",
    "kubernetes:\n  storage: s3://ab\n",
    "kubernetes:\n  storage: s3://a..b/x\n",
    "kubernetes:\n  storage: s3://192.168.1.1/x\n",
    "kubernetes:\n  storage: s3://My-Bucket\n",
    "kubernetes:\n  storage: s3://bucket//x\n",
    "kubernetes:\n  serviceAccount: Flyte_Runner\n",
    "kubernetes:\n  context: ''\n",
    "kubernetes:\n  s3:\n    endpoint: minio:9000\n",
    "kubernetes:\n  s3: {forcePathStyle: yes}\n",
    "kubernetes:\n  s3: {forcepathstyle: true}\n",
    "kubernetes:\n  s3:\n    credentialsSecret: AWS_CREDS\n",
    "kubernetes:\n  imagePullBackOffGrace: 3 minutes\n",
    "kubernetes:\n  imagePullBackOffGrace: 180\n",
    "kubernetes:\n  iamRoleAnnotation: iam role\n",
    "kubernetes:\n  iamRoleAnnotation: IAM.example.com/role\n",
    `kubernetes:\n  iamRoleAnnotation: ${"a".repeat(254)}/role\n`,
    `kubernetes:\n  iamRoleAnnotation: example.com/${"b".repeat(64)}\n`,
    "kubernetes:\n  iamRoleAnnotation: ''\n",
    "kubernetes:\n  interruptible: [spot]\n",
    "kubernetes:\n  interruptible:\n    tolerations: {key: spot}\n",
    "kubernetes:\n  interruptible:\n    tolerations: [spot]\n",
    "kubernetes:\n  interruptible:\n    tolerations: [{key: spot, operator: exists}]\n",
    "kubernetes:\n  interruptible:\n    tolerations: [{key: spot, effect: NoScheduling}]\n",
    "kubernetes:\n  interruptible:\n    tolerations: [{key: spot, operator: Exists, value: x}]\n",
    "kubernetes:\n  interruptible:\n    tolerations: [{effect: NoSchedule}]\n",
    "kubernetes:\n  interruptible:\n    tolerations: [{key: spot, tolerationSeconds: 60}]\n",
    "kubernetes:\n  interruptible:\n    tolerations: [{key: spot, effect: NoExecute, tolerationSeconds: 1.5}]\n",
    "kubernetes:\n  interruptible:\n    tolerations: [{key: spot, value: true}]\n",
    "kubernetes:\n  interruptible:\n    tolerations: [{key: 'bad key'}]\n",
    "kubernetes:\n  interruptible:\n    tolerations: [{key: spot, efect: NoSchedule}]\n",
    "kubernetes:\n  interruptible:\n    nodeSelector: [spot]\n",
    "kubernetes:\n  interruptible:\n    nodeSelector: {spot: true}\n",
    "kubernetes:\n  interruptible:\n    nodeSelector: {pool: spot nodes}\n",
    "kubernetes:\n  interruptible:\n    nodeSelector: {-pool: spot}\n",
  ];
  for (const text of good) {
    assert.ok(await resolves(text), `resolveConfig refused:\n${text}`);
    assert.ok(validate(parse(text)), `the schema refused:\n${text}\n${JSON.stringify(validate.errors)}`);
  }
  for (const text of bad) {
    assert.equal(await resolves(text), false, `resolveConfig accepted:\n${text}`);
    assert.equal(validate(parse(text)), false, `the schema accepted:\n${text}`);
  }
});
