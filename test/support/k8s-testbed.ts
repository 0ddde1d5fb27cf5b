// Starts a real Kubernetes control plane on loopback for a test file: etcd, kube-apiserver (RBAC, token auth),
// kube-controller-manager and kube-scheduler, built by scripts/k8s-testbed-build.sh. There is no kubelet: tests bring
// test/support/kubelet.ts. Never skips when the binaries are missing (it says how to build them), and never leaves a
// process it started running when the test process exits.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync, mkdirSync, chmodSync } from "node:fs";
import { request } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";

export interface Testbed {
  /** A kubeconfig for an administrator (group system:masters), with the CA and a bearer token. */
  kubeconfig: string;
  /** The folder holding the certificates, the logs and etcd's data; removed by stop(). */
  run: string;
  /** `https://127.0.0.1:PORT`. */
  server: string;
  /** The administrator's bearer token, for tests that check it is never shown. */
  token: string;
  /** Stops every process (SIGTERM, then SIGKILL after 10 s) and removes `run`; safe to call twice. */
  stop(): Promise<void>;
}

const cache = process.env.K8S_TESTBED_CACHE ?? "/var/cache/k8s-testbed";
const components = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const;
const readyTimeoutMs = Number(process.env.K8S_TESTBED_TIMEOUT_MS ?? 90_000);
const run$ = promisify(execFile);

/** Starts the control plane and waits until it schedules pods and issues service-account tokens; takes 8-15 s. */
export async function startTestbed(): Promise<Testbed> {
  const binaries = findBinaries();
  const run = mkdtempSync(join(tmpdir(), "k8s-testbed-"));
  const started: { name: string; child: ChildProcess }[] = [];
  const killAll = () => {
    for (const { child } of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.on("exit", killAll);
  const launch = (name: string, command: string, args: string[]): ChildProcess => {
    const log = openSync(join(run, `${name}.log`), "a");
    const child = spawn(command, args, { stdio: ["ignore", log, log] });
    closeSync(log);
    started.push({ name, child });
    return child;
  };
  const deadline = Date.now() + readyTimeoutMs;

  try {
    const pki = await writeCertificates(run);
    const token = randomBytes(24).toString("hex");
    const controllerToken = randomBytes(24).toString("hex");
    const schedulerToken = randomBytes(24).toString("hex");
    writeFileSync(
      join(run, "tokens.csv"),
      // The controller manager runs every controller as itself, so it needs cluster-admin; the scheduler gets only
      // the roles the apiserver bootstraps for system:kube-scheduler.
      `${token},admin,admin,"system:masters"\n${controllerToken},system:kube-controller-manager,kcm,"system:masters"\n` +
        `${schedulerToken},system:kube-scheduler,scheduler\n`,
      { mode: 0o600 },
    );

    const etcdPort = await freePort();
    const etcdPeerPort = await freePort();
    const etcd = launch("etcd", "etcd", [
      "--name=testbed",
      `--data-dir=${join(run, "etcd")}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=testbed=http://127.0.0.1:${etcdPeerPort}`,
      "--initial-cluster-state=new",
      "--logger=zap",
      "--log-outputs=stderr",
      "--log-level=warn",
    ]);

    const apiPort = await freePort();
    const server = `https://127.0.0.1:${apiPort}`;
    const apiserver = launch("kube-apiserver", binaries["kube-apiserver"], [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${pki.cert}`,
      `--tls-private-key-file=${pki.key}`,
      `--cert-dir=${pki.dir}`,
      `--client-ca-file=${pki.ca}`,
      `--token-auth-file=${join(run, "tokens.csv")}`,
      "--authorization-mode=RBAC",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${pki.saPublic}`,
      `--service-account-signing-key-file=${pki.saPrivate}`,
      "--service-cluster-ip-range=10.0.0.0/24",
      "--allow-privileged=true",
      "--profiling=false",
    ]);
    const api = (path: string) => httpsGet(`${server}${path}`, pki.caPem, token);
    await waitFor("kube-apiserver /readyz", deadline, [etcd, apiserver], async () => (await api("/readyz")).body === "ok");
    await waitFor("namespace default", deadline, [apiserver], async () => (await api("/api/v1/namespaces/default")).status === 200);

    const kubeconfigFor = (user: string, userToken: string): string => {
      const file = join(run, `${user.replace(/[^a-z-]/g, "-")}.kubeconfig`);
      writeFileSync(file, kubeconfigText(server, pki.caPem, user, userToken), { mode: 0o600 });
      return file;
    };
    // Both serve /healthz over TLS on a port of their own, and no insecure port.
    const serving = async () => {
      const port = await freePort();
      return { port, flags: ["--bind-address=127.0.0.1", `--secure-port=${port}`, "--port=0", `--tls-cert-file=${pki.cert}`, `--tls-private-key-file=${pki.key}`] };
    };
    const controllerServing = await serving();
    const controllers = launch("kube-controller-manager", binaries["kube-controller-manager"], [
      `--kubeconfig=${kubeconfigFor("system:kube-controller-manager", controllerToken)}`,
      "--controllers=*",
      "--use-service-account-credentials=false",
      `--service-account-private-key-file=${pki.saPrivate}`,
      `--root-ca-file=${pki.ca}`,
      `--cluster-signing-cert-file=${pki.ca}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      `--flex-volume-plugin-dir=${join(run, "flexvolume")}`,
      "--leader-elect=false",
      "--profiling=false",
      ...controllerServing.flags,
    ]);
    const schedulerServing = await serving();
    const scheduler = launch("kube-scheduler", binaries["kube-scheduler"], [
      `--kubeconfig=${kubeconfigFor("system:kube-scheduler", schedulerToken)}`,
      "--leader-elect=false",
      "--profiling=false",
      ...schedulerServing.flags,
    ]);
    const healthz = (port: number) => httpsGet(`https://127.0.0.1:${port}/healthz`, pki.caPem);
    await waitFor("kube-controller-manager /healthz", deadline, [controllers], async () => (await healthz(controllerServing.port)).body === "ok");
    await waitFor("kube-scheduler /healthz", deadline, [scheduler], async () => (await healthz(schedulerServing.port)).body === "ok");
    // The ServiceAccount admission plugin refuses pods until the token controller gave default/default its secret.
    await waitFor("the token of service account default/default", deadline, [controllers], async () => {
      const answer = await api("/api/v1/namespaces/default/serviceaccounts/default");
      return answer.status === 200 && ((JSON.parse(answer.body) as { secrets?: unknown[] }).secrets?.length ?? 0) > 0;
    });

    const kubeconfig = join(run, "kubeconfig");
    writeFileSync(kubeconfig, kubeconfigText(server, pki.caPem, "admin", token), { mode: 0o600 });
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        for (const { child } of [...started].reverse()) await terminate(child);
        process.off("exit", killAll);
        rmSync(run, { recursive: true, force: true });
      })());
    return { kubeconfig, run, server, token, stop };
  } catch (error) {
    killAll();
    process.off("exit", killAll);
    const tails = started.map(({ name }) => `--- last lines of ${name}.log ---\n${tail(join(run, `${name}.log`), 20)}`).join("\n");
    throw new Error(`The Kubernetes test-bed did not start: ${(error as Error).message}\nIts logs are kept in ${run}.\n${tails}`);
  }
}

function findBinaries(): Record<(typeof components)[number], string> {
  const missing = components.filter((c) => !existsSync(join(cache, "bin", c)));
  if (missing.length) {
    throw new Error(
      `The Kubernetes test-bed is not built: ${missing.join(", ")} missing from ${join(cache, "bin")}. ` +
        "Run `scripts/k8s-testbed-build.sh` once on this machine (6-10 minutes, from Debian's packages), then run the tests again.",
    );
  }
  for (const tool of ["etcd", "openssl"]) {
    if (!onPath(tool)) throw new Error(`The Kubernetes test-bed needs ${tool}: run \`scripts/k8s-testbed-build.sh\`, which installs it from Debian.`);
  }
  return Object.fromEntries(components.map((c) => [c, join(cache, "bin", c)])) as Record<(typeof components)[number], string>;
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? "").split(":").some((dir) => dir && existsSync(join(dir, tool)));
}

/** A CA, a serving certificate for 127.0.0.1 and the in-cluster names, and the key pair service-account tokens are signed with. */
async function writeCertificates(run: string) {
  const dir = join(run, "pki");
  mkdirSync(dir);
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run$("openssl", args, { cwd: dir });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "30", "-subj", "/CN=tsflyte-testbed-ca",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  await openssl("req", ...ec, "-keyout", "apiserver.key", "-out", "apiserver.csr", "-subj", "/CN=kube-apiserver");
  writeFileSync(
    at("apiserver.ext"),
    "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n" +
      "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
  );
  await openssl("x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30",
    "-extfile", "apiserver.ext", "-out", "apiserver.crt");
  await openssl("genrsa", "-out", "sa.key", "2048");
  await openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub");
  for (const key of ["ca.key", "apiserver.key", "sa.key"]) chmodSync(at(key), 0o600);
  return {
    dir,
    ca: at("ca.crt"),
    caKey: at("ca.key"),
    caPem: readFileSync(at("ca.crt"), "utf8"),
    cert: at("apiserver.crt"),
    key: at("apiserver.key"),
    saPrivate: at("sa.key"),
    saPublic: at("sa.pub"),
  };
}

function kubeconfigText(server: string, caPem: string, user: string, token: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: testbed",
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${Buffer.from(caPem).toString("base64")}`,
    "users:",
    `- name: ${user}`,
    "  user:",
    `    token: ${token}`,
    "contexts:",
    "- name: testbed",
    "  context:",
    "    cluster: testbed",
    `    user: ${user}`,
    "    namespace: default",
    "current-context: testbed",
    "",
  ].join("\n");
}

/** A port nothing listens on now; the component that takes it is restarted by its caller's deadline if it was taken meanwhile. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function httpsGet(url: string, ca: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, { ca, timeout: 3000, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // Not up yet: the caller asks again.
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ status: 0, body: "" }));
    req.end();
  });
}

async function waitFor(what: string, deadline: number, processes: ChildProcess[], ready: () => Promise<boolean>): Promise<void> {
  for (;;) {
    const gone = processes.find((p) => p.exitCode !== null || p.signalCode !== null);
    if (gone) throw new Error(`${gone.spawnfile} exited (${gone.exitCode ?? gone.signalCode}) while waiting for ${what}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${readyTimeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
