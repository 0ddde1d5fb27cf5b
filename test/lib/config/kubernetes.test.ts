// The kubernetes target's config: `target:` and --target precedence, the `kubernetes:` section with its defaults, KUBECONFIG,
// every refused value pointing at file:line:col and key, and namespaceFor. Never reads the real home, KUBECONFIG or process.env.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { namespaceFor, resolveConfig, type ConfigFlags, type KubernetesSettings, type ResolvedConfig } from "../../../src/lib/config/config.js";
import { UserError } from "../../../src/lib/errors.js";

interface Sandbox {
  home: string;
  cwd: string;
  /** The default config file, ~/.flyte/config.yaml. */
  config: string;
  write(path: string, text: string): string;
  resolve(flags?: ConfigFlags, env?: NodeJS.ProcessEnv): Promise<ResolvedConfig>;
  /** Writes `text` as the default config file and returns the UserError resolving it throws. */
  refused(text: string, env?: NodeJS.ProcessEnv): Promise<UserError>;
}

function sandbox(t: TestContext): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-k8s-config-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const home = join(dir, "home");
  const cwd = join(dir, "work");
  mkdirSync(home);
  mkdirSync(cwd);
  const write = (path: string, text: string): string => {
    const full = join(dir, path);
    mkdirSync(join(full, ".."), { recursive: true });
    writeFileSync(full, text);
    return full;
  };
  const resolve = (flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = {}): Promise<ResolvedConfig> => resolveConfig(flags, { env, home, cwd });
  return {
    home,
    cwd,
    config: join(home, ".flyte/config.yaml"),
    write,
    resolve,
    async refused(text, env = {}) {
      write("home/.flyte/config.yaml", text);
      return userError(resolve({}, env), JSON.stringify(text));
    },
  };
}

async function userError(promise: Promise<unknown>, what = "this"): Promise<UserError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError for ${what}, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected an error for ${what}`);
}

/** The issue's example, with a real endpoint. */
const issueExample = `target: kubernetes            # default for remote commands; --target local|admin|kubernetes overrides
kubernetes:
  kubeconfig: ~/.kube/config  # default: KUBECONFIG, then ~/.kube/config
  context: prod               # optional
  namespace: "{project}-{domain}"
  serviceAccount: default
  storage: s3://bucket/prefix # or file:///a/path/every/node/mounts
  s3: { endpoint: "http://minio.flyte.svc.cluster.local:9000", region: us-east-1, forcePathStyle: true }   # credentials from AWS_* env
  interruptible: { tolerations: [{key: spot, operator: Exists, effect: NoSchedule}], nodeSelector: {pool: spot} }
`;

const defaults = (home: string): KubernetesSettings => ({
  kubeconfig: join(home, ".kube/config"),
  namespaceTemplate: "{project}-{domain}",
  serviceAccount: "default",
  imagePullBackOffGraceMs: 180_000,
  from: "defaults",
});

test("the issue's example file resolves to every setting, with where the section is", async (t) => {
  const s = sandbox(t);
  s.write("home/.flyte/config.yaml", issueExample);
  const config = await s.resolve();
  assert.equal(config.target, "kubernetes");
  assert.equal(config.targetFrom, `${s.config}:1:9: target`);
  assert.deepEqual(config.kubernetes, {
    kubeconfig: join(s.home, ".kube/config"),
    context: "prod",
    namespaceTemplate: "{project}-{domain}",
    serviceAccount: "default",
    storage: "s3://bucket/prefix",
    s3: { endpoint: "http://minio.flyte.svc.cluster.local:9000", region: "us-east-1", forcePathStyle: true },
    interruptible: { tolerations: [{ key: "spot", operator: "Exists", effect: "NoSchedule" }], nodeSelector: { pool: "spot" } },
    imagePullBackOffGraceMs: 180_000,
    from: `${s.config}:2:1: kubernetes`,
  });
});

test("without a kubernetes section, or with an empty one, every default applies", async (t) => {
  const s = sandbox(t);
  assert.deepEqual((await s.resolve()).kubernetes, defaults(s.home));
  s.write("home/.flyte/config.yaml", "kubernetes:\n");
  assert.deepEqual((await s.resolve()).kubernetes, defaults(s.home));
  s.write("home/.flyte/config.yaml", "kubernetes:\n  storage: s3://b-1/\n");
  assert.deepEqual((await s.resolve()).kubernetes, { ...defaults(s.home), storage: "s3://b-1", from: `${s.config}:1:1: kubernetes` });
});

test("target: --target beats TSFLYTE_TARGET beats target in the file beats admin when an endpoint is set beats local", async (t) => {
  const s = sandbox(t);
  const pick = async (flags: ConfigFlags, env: NodeJS.ProcessEnv = {}): Promise<[string, string]> => {
    const config = await s.resolve(flags, env);
    return [config.target, config.targetFrom];
  };
  assert.deepEqual(await pick({}), ["local", "default"]);
  s.write("home/.flyte/config.yaml", "admin:\n  endpoint: dns:///127.0.0.1:30080\n");
  assert.deepEqual(await pick({}), ["admin", "default"]);
  assert.deepEqual(await pick({}, { TSFLYTE_ADMIN_ENDPOINT: "h:1" }), ["admin", "default"]);
  s.write("home/.flyte/config.yaml", "admin:\n  endpoint: dns:///127.0.0.1:30080\ntarget: local\n");
  assert.deepEqual(await pick({}), ["local", `${s.config}:3:9: target`]);
  assert.deepEqual(await pick({}, { TSFLYTE_TARGET: "kubernetes" }), ["kubernetes", "TSFLYTE_TARGET"]);
  assert.deepEqual(await pick({ target: "admin" }, { TSFLYTE_TARGET: "kubernetes" }), ["admin", "--target"]);
  // `VAR= tsflyte …` clears a variable.
  assert.deepEqual(await pick({}, { TSFLYTE_TARGET: "" }), ["local", `${s.config}:3:9: target`]);
});

test("a target that is not local, admin or kubernetes is refused, naming where it came from", async (t) => {
  const s = sandbox(t);
  const byFlag = await userError(s.resolve({ target: "k8s" }));
  assert.equal(byFlag.message, '--target: "k8s" is not a target; the targets are local, admin and kubernetes');
  assert.equal(byFlag.hint, "k8s is spelled kubernetes here");
  const byEnv = await userError(s.resolve({}, { TSFLYTE_TARGET: "kubernets" }));
  assert.equal(byEnv.message, 'TSFLYTE_TARGET: "kubernets" is not a target; the targets are local, admin and kubernetes');
  assert.equal(byEnv.hint, "did you mean kubernetes?");
  const byFile = await s.refused("target: cluster\n");
  assert.equal(byFile.message, `${s.config}:1:9: target: "cluster" is not a target; the targets are local, admin and kubernetes`);
  assert.match(byFile.hint ?? "", /kubernetes in the cluster of the kubeconfig/);
  assert.equal((await s.refused("target: K8S\n")).hint, "K8S is spelled kubernetes here");
  assert.equal((await s.refused("target: 3\n")).message, `${s.config}:1:9: target: expected a string, found number 3`);
});

test("kubeconfig: kubernetes.kubeconfig beats the first path in KUBECONFIG beats ~/.kube/config", async (t) => {
  const s = sandbox(t);
  const kubeconfig = async (env: NodeJS.ProcessEnv = {}, flags: ConfigFlags = {}): Promise<string> => (await s.resolve(flags, env)).kubernetes.kubeconfig;
  assert.equal(await kubeconfig(), join(s.home, ".kube/config"));
  assert.equal(await kubeconfig({ KUBECONFIG: "/etc/k/one.yaml:/etc/k/two.yaml" }), "/etc/k/one.yaml");
  // Empty entries are skipped as kubectl skips them; relative ones come from the working folder; ~ expands.
  assert.equal(await kubeconfig({ KUBECONFIG: "::clusters/dev.yaml:/etc/k/two.yaml" }), join(s.cwd, "clusters/dev.yaml"));
  assert.equal(await kubeconfig({ KUBECONFIG: "~/k/a.yaml" }), join(s.home, "k/a.yaml"));
  assert.equal(await kubeconfig({ KUBECONFIG: "" }), join(s.home, ".kube/config"));
  s.write("home/.flyte/config.yaml", "kubernetes:\n  kubeconfig: ~/.kube/prod.yaml\n");
  assert.equal(await kubeconfig({ KUBECONFIG: "/etc/k/one.yaml" }), join(s.home, ".kube/prod.yaml"));
  // A relative path is taken from the config file's folder, not the working folder.
  const elsewhere = s.write("elsewhere/tsflyte.yaml", "kubernetes:\n  kubeconfig: kube/config.yaml\n");
  assert.equal(await kubeconfig({}, { config: elsewhere }), join(s.home, "../elsewhere/kube/config.yaml"));
  assert.equal(await kubeconfig({}, { config: "../elsewhere/tsflyte.yaml" }), join(s.home, "../elsewhere/kube/config.yaml"));
});

test("TSFLYTE_K8S_NAMESPACE, TSFLYTE_K8S_STORAGE and TSFLYTE_K8S_CONTEXT beat the file", async (t) => {
  const s = sandbox(t);
  s.write("home/.flyte/config.yaml", "kubernetes:\n  namespace: flyte-{domain}\n  storage: s3://file-bucket\n  context: file-ctx\n");
  const fromFile = (await s.resolve()).kubernetes;
  assert.deepEqual([fromFile.namespaceTemplate, fromFile.storage, fromFile.context], ["flyte-{domain}", "s3://file-bucket", "file-ctx"]);
  const env = { TSFLYTE_K8S_NAMESPACE: "{project}", TSFLYTE_K8S_STORAGE: "file:///mnt/flyte/", TSFLYTE_K8S_CONTEXT: "kind-kind" };
  const fromEnv = (await s.resolve({}, env)).kubernetes;
  assert.deepEqual([fromEnv.namespaceTemplate, fromEnv.storage, fromEnv.context], ["{project}", "file:///mnt/flyte", "kind-kind"]);
  const blank = (await s.resolve({}, { TSFLYTE_K8S_NAMESPACE: "", TSFLYTE_K8S_STORAGE: "", TSFLYTE_K8S_CONTEXT: "" })).kubernetes;
  assert.deepEqual([blank.namespaceTemplate, blank.storage, blank.context], ["flyte-{domain}", "s3://file-bucket", "file-ctx"]);
  const bad = await userError(s.resolve({}, { TSFLYTE_K8S_STORAGE: "gs://bucket" }));
  assert.equal(bad.message, 'TSFLYTE_K8S_STORAGE: "gs://bucket" has the scheme gs://, not s3:// or file://; gs:// is not supported by the kubernetes target');
  assert.match(bad.hint ?? "", /s3:\/\/bucket\/prefix/);
  const badNamespace = await userError(s.resolve({}, { TSFLYTE_K8S_NAMESPACE: "Flyte-{domain}" }));
  assert.equal(badNamespace.message, 'TSFLYTE_K8S_NAMESPACE: "Flyte-{domain}" has "F", which a namespace name cannot have');
});

test("the rest of the section: service account, s3 settings, the ImagePullBackOff grace, the IAM role annotation", async (t) => {
  const s = sandbox(t);
  s.write(
    "home/.flyte/config.yaml",
    "kubernetes:\n  serviceAccount: flyte-runner\n  s3:\n    endpoint: https://s3.example.com/\n    forcePathStyle: false\n    credentialsSecret: flyte-s3\n  imagePullBackOffGrace: 1m30s\n  iamRoleAnnotation: eks.amazonaws.com/role-arn\n",
  );
  const k = (await s.resolve()).kubernetes;
  assert.equal(k.serviceAccount, "flyte-runner");
  assert.equal(k.iamRoleAnnotation, "eks.amazonaws.com/role-arn");
  assert.deepEqual(k.s3, { endpoint: "https://s3.example.com", forcePathStyle: false, credentialsSecret: "flyte-s3" });
  assert.equal(k.imagePullBackOffGraceMs, 90_000);
  for (const [grace, ms] of [["90s", 90_000], ["3m", 180_000], ["500ms", 500], ["1.5h", 5_400_000], ["0s", 0]] as const) {
    s.write("home/.flyte/config.yaml", `kubernetes:\n  imagePullBackOffGrace: ${grace}\n`);
    assert.equal((await s.resolve()).kubernetes.imagePullBackOffGraceMs, ms, grace);
  }
});

test("storage forms: s3://bucket[/prefix] and file:///path, without a trailing slash", async (t) => {
  const s = sandbox(t);
  const storage = async (value: string): Promise<string | undefined> => (await s.resolve({}, { TSFLYTE_K8S_STORAGE: value })).kubernetes.storage;
  assert.equal(await storage("s3://my-bucket"), "s3://my-bucket");
  assert.equal(await storage("s3://my.bucket-1/a/b/"), "s3://my.bucket-1/a/b");
  assert.equal(await storage("file:///a/path/every/node/mounts/"), "file:///a/path/every/node/mounts");
  const refused: [string, string][] = [
    ["s3://My-Bucket/x", 'has the bucket "My-Bucket", which may have only lowercase letters, digits, \'.\' and \'-\', starting and ending with a letter or digit'],
    ["s3://ab", 'has the bucket "ab", which must have 3 to 63 characters'],
    ["s3://a..b", 'has the bucket "a..b", which has two dots in a row'],
    ["s3://192.168.1.1/x", 'has the bucket "192.168.1.1", which looks like an IP address'],
    ["s3://", "has no bucket"],
    ["s3://bucket//x", "has an empty path segment ('//')"],
    ["S3://bucket", "must start with s3:// in lowercase"],
    ["bucket/prefix", "is not an s3:// or file:// URL"],
    ["/mnt/flyte", "is not an s3:// or file:// URL"],
    ["file://mnt/flyte", "names a host or a relative path; write file:/// and then the absolute path"],
    ["file:///", "is the root folder; name a folder below it"],
    ["file:///mnt/../flyte", "is not a plain absolute path; write file:///flyte"],
    ["s3://bucket/a b", "has a space, '?' or '#'"],
    ["https://bucket.s3.amazonaws.com", "has the scheme https://, not s3:// or file://"],
  ];
  for (const [value, problem] of refused) {
    assert.equal((await userError(storage(value))).message, `TSFLYTE_K8S_STORAGE: ${JSON.stringify(value)} ${problem}`, value);
  }
});

test("each refused value in the section says file:line:col and the key", async (t) => {
  const s = sandbox(t);
  const cases: [string, string][] = [
    ["kubernetes: prod\n", '1:13: kubernetes: expected a mapping, found string "prod"'],
    ["kubernetes:\n  namespace: flyte_{domain}\n", '2:14: kubernetes.namespace: "flyte_{domain}" has "_", which a namespace name cannot have'],
    ["kubernetes:\n  namespace: \"{project}-{env}\"\n", '2:14: kubernetes.namespace: "{project}-{env}" has the placeholder {env}'],
    ["kubernetes:\n  namespace: \"{projct}\"\n", '2:14: kubernetes.namespace: "{projct}" has the placeholder {projct}; did you mean {project}?'],
    ["kubernetes:\n  namespace: \"{project}-\"\n", "2:14: kubernetes.namespace: \"{project}-\" gives namespace names that start or end with '-'"],
    [`kubernetes:\n  namespace: ${"a".repeat(64)}\n`, `2:14: kubernetes.namespace: "${"a".repeat(64)}" is not a namespace name: it has 64 characters, more than 63`],
    [`kubernetes:\n  namespace: "${"a".repeat(62)}-{domain}"\n`, `2:14: kubernetes.namespace: "${"a".repeat(62)}-{domain}" gives namespace names longer than 63 characters`],
    ["kubernetes:\n  namespace: 42\n", "2:14: kubernetes.namespace: expected a string, found number 42"],
    ["kubernetes:\n  storage: gs://b/x\n", '2:12: kubernetes.storage: "gs://b/x" has the scheme gs://, not s3:// or file://; gs:// is not supported by the kubernetes target'],
    ["kubernetes:\n  storage: file://relative/path\n", '2:12: kubernetes.storage: "file://relative/path" names a host or a relative path; write file:/// and then the absolute path'],
    ["kubernetes:\n  serviceAccount: Flyte_Runner\n", '2:19: kubernetes.serviceAccount: "Flyte_Runner" is not the name of a service account'],
    ["kubernetes:\n  context: ''\n", '2:12: kubernetes.context: expected a non-empty string, found string ""'],
    ["kubernetes:\n  s3: minio\n", '2:7: kubernetes.s3: expected a mapping, found string "minio"'],
    ["kubernetes:\n  s3:\n    endpoint: minio:9000\n", '3:15: kubernetes.s3.endpoint: "minio:9000" is not an http:// or https:// URL'],
    ["kubernetes:\n  s3: {forcePathStyle: yes}\n", '2:24: kubernetes.s3.forcePathStyle: expected a boolean, found string "yes"'],
    ["kubernetes:\n  s3:\n    credentialsSecret: AWS_CREDS\n", '3:24: kubernetes.s3.credentialsSecret: "AWS_CREDS" is not the name of a Secret'],
    ["kubernetes:\n  imagePullBackOffGrace: 3 minutes\n", '2:26: kubernetes.imagePullBackOffGrace: "3 minutes" is not a duration'],
    ["kubernetes:\n  imagePullBackOffGrace: 180\n", "2:26: kubernetes.imagePullBackOffGrace: expected a string, found number 180"],
    ["kubernetes:\n  iamRoleAnnotation: iam role\n", '2:22: kubernetes.iamRoleAnnotation: "iam role" is not an annotation key'],
    ["kubernetes:\n  iamRoleAnnotation: [a]\n", '2:22: kubernetes.iamRoleAnnotation: expected a string, found array ["a"]'],
    ["kubernetes:\n  interruptible: [spot]\n", '2:18: kubernetes.interruptible: expected a mapping, found array ["spot"]'],
    ["kubernetes:\n  interruptible:\n    tolerations: {key: spot}\n", '3:18: kubernetes.interruptible.tolerations: expected a list of tolerations, found object {"key":"spot"}'],
    ["kubernetes:\n  interruptible:\n    tolerations: [spot]\n", '3:19: kubernetes.interruptible.tolerations[0]: expected a mapping, found string "spot"'],
    ["kubernetes:\n  interruptible:\n    tolerations:\n      - key: spot\n        operator: exists\n", '5:19: kubernetes.interruptible.tolerations[0].operator: expected Exists or Equal, found string "exists"'],
    ["kubernetes:\n  interruptible:\n    tolerations:\n      - key: spot\n        effect: NoScheduling\n", '5:17: kubernetes.interruptible.tolerations[0].effect: expected NoSchedule, PreferNoSchedule or NoExecute, found string "NoScheduling"'],
    ["kubernetes:\n  interruptible:\n    tolerations:\n      - {key: spot, operator: Exists, value: x}\n", "4:46: kubernetes.interruptible.tolerations[0].value: must be left out when operator is Exists"],
    ["kubernetes:\n  interruptible:\n    tolerations:\n      - {key: a, operator: Exists}\n      - {effect: NoSchedule}\n", "5:9: kubernetes.interruptible.tolerations[1]: a toleration without key must have operator: Exists (it then tolerates every taint)"],
    ["kubernetes:\n  interruptible:\n    tolerations:\n      - {key: spot, tolerationSeconds: 60}\n", "4:40: kubernetes.interruptible.tolerations[0].tolerationSeconds: needs effect: NoExecute"],
    ["kubernetes:\n  interruptible:\n    tolerations:\n      - {key: spot, effect: NoExecute, tolerationSeconds: 1.5}\n", "4:59: kubernetes.interruptible.tolerations[0].tolerationSeconds: expected a whole number of seconds, found number 1.5"],
    ["kubernetes:\n  interruptible:\n    tolerations:\n      - {key: spot, value: true}\n", "4:28: kubernetes.interruptible.tolerations[0].value: expected a string, found boolean true"],
    ["kubernetes:\n  interruptible:\n    tolerations:\n      - {key: 'bad key'}\n", '4:15: kubernetes.interruptible.tolerations[0].key: "bad key" is not a label key'],
    ["kubernetes:\n  interruptible:\n    nodeSelector: [spot]\n", '3:19: kubernetes.interruptible.nodeSelector: expected a mapping of node labels to values, found array ["spot"]'],
    ["kubernetes:\n  interruptible:\n    nodeSelector:\n      spot: true\n", "4:13: kubernetes.interruptible.nodeSelector.spot: expected a string, found boolean true"],
    ["kubernetes:\n  interruptible:\n    nodeSelector:\n      pool: spot nodes\n", '4:13: kubernetes.interruptible.nodeSelector.pool: "spot nodes" is not a label value'],
    ["kubernetes:\n  interruptible:\n    nodeSelector:\n      -pool: spot\n", '4:7: kubernetes.interruptible.nodeSelector: "-pool" is not a label key'],
  ];
  for (const [text, expected] of cases) {
    const e = await s.refused(text);
    assert.equal(e.message, `${s.config}:${expected}`, text);
    assert.ok(e.hint, `a hint for ${text}`);
  }
});

test("case mistakes in operator and effect get the right spelling as a hint", async (t) => {
  const s = sandbox(t);
  const operator = await s.refused("kubernetes:\n  interruptible:\n    tolerations: [{key: a, operator: exists}]\n");
  assert.equal(operator.hint, "operators are case-sensitive: write Exists");
  const effect = await s.refused("kubernetes:\n  interruptible:\n    tolerations: [{key: a, effect: noschedule}]\n");
  assert.equal(effect.hint, "effects are case-sensitive: write NoSchedule");
});

test("an unknown key in the section is refused at the key, with the nearest known key", async (t) => {
  const s = sandbox(t);
  const typo = await s.refused("kubernetes:\n  namespce: '{project}'\n");
  assert.equal(typo.message, `${s.config}:2:3: kubernetes.namespce: unknown key; did you mean kubernetes.namespace?`);
  assert.equal(typo.hint, "the keys of kubernetes are kubeconfig, context, namespace, serviceAccount, storage, s3, interruptible, imagePullBackOffGrace, iamRoleAnnotation");
  const cases: [string, string][] = [
    ["kubernetes:\n  service_account: x\n", "2:3: kubernetes.service_account: unknown key; did you mean kubernetes.serviceAccount?"],
    ["kubernetes:\n  bucket: x\n", "2:3: kubernetes.bucket: unknown key"],
    ["kubernetes:\n  s3: {endpoint: 'http://m:9000', forcepathstyle: true}\n", "2:35: kubernetes.s3.forcepathstyle: unknown key; did you mean kubernetes.s3.forcePathStyle?"],
    ["kubernetes:\n  interruptible:\n    toleration: []\n", "3:5: kubernetes.interruptible.toleration: unknown key; did you mean kubernetes.interruptible.tolerations?"],
    ["kubernetes:\n  interruptible:\n    tolerations:\n      - key: a\n        efect: NoSchedule\n", "5:9: kubernetes.interruptible.tolerations[0].efect: unknown key; did you mean kubernetes.interruptible.tolerations[0].effect?"],
    // Top-level keys are flytectl's to have, but a near miss of ours is named rather than skipped.
    ["kubernets:\n  storage: s3://bucket\n", "1:1: kubernets: unknown key; did you mean kubernetes?"],
    ["task:\n  project: p\nTarget: kubernetes\n", "3:1: Target: unknown key; did you mean target?"],
  ];
  for (const [text, expected] of cases) assert.equal((await s.refused(text)).message, `${s.config}:${expected}`, text);
  s.write("home/.flyte/config.yaml", "storage:\n  type: stow\nlogger:\n  level: 0\nfiles: {}\n");
  assert.equal((await s.resolve()).kubernetes.from, "defaults");
});

/** What namespaceFor reads of the settings: the template and where it was set. */
const settings = (namespaceTemplate: string, from = "defaults") => ({ namespaceTemplate, from });

test("namespaceFor fills in {project} and {domain}", () => {
  assert.equal(namespaceFor(settings("{project}-{domain}"), "flytesnacks", "development"), "flytesnacks-development");
  assert.equal(namespaceFor(settings("flyte-{domain}-{domain}"), "p", "prod"), "flyte-prod-prod");
  assert.equal(namespaceFor(settings("flyte"), "p", "d"), "flyte");
});

test("namespaceFor refuses a result that is not a namespace name, naming the template and where it came from", () => {
  const refused = (fn: () => unknown): UserError => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof UserError);
      return e;
    }
    assert.fail("expected an error");
  };
  const upper = refused(() => namespaceFor(settings("{project}-{domain}"), "MyProject", "development"));
  assert.equal(
    upper.message,
    'the namespace template "{project}-{domain}" (the default) gives "MyProject-development" for project "MyProject" and domain "development", which is not a Kubernetes namespace name: it has characters other than lowercase letters, digits and \'-\'',
  );
  assert.match(upper.hint ?? "", /kubernetes\.namespace \(or TSFLYTE_K8S_NAMESPACE\)/);
  const long = refused(() => namespaceFor(settings("{project}-{domain}", "/c.yaml:4:1: kubernetes"), "p".repeat(60), "prod"));
  assert.match(long.message, /^the namespace template "\{project\}-\{domain\}" \(the default\) gives "p{60}-prod" .*: it has 65 characters, more than 63$/);
  const fromFile = refused(() => namespaceFor(settings("{domain}-{project}", "/c.yaml:4:1: kubernetes"), "p", "dev_1"));
  assert.match(fromFile.message, /^the namespace template "\{domain\}-\{project\}" \(TSFLYTE_K8S_NAMESPACE, else kubernetes\.namespace in \/c\.yaml:4:1: kubernetes\) gives "dev_1-p"/);
  const fromEnv = refused(() => namespaceFor(settings("{project}"), "-p", "d"));
  assert.match(fromEnv.message, /\(TSFLYTE_K8S_NAMESPACE\) gives "-p" .*: it starts or ends with '-'$/);
  assert.match(refused(() => namespaceFor(settings("{project}{domain}"), "", "")).message, /: it is empty$/);
});
