// A test kubelet for the k8s test-bed: registers a Node and runs each pod bound to it as a local process on this host.
// It must never write pod status except through pods/status, and never leave a process it started running.
//
// What it fakes, and why: no kubelet can run here (no container runtime, no images, no cgroups, no mounts), yet tests
// need pods that really run. So the container runtime is faked: a pod's container is a local process (command ++ args,
// found on the PATH of `options.env`) in its own process group; "images" exist when `options.images` says so.
//
// What is faithful: Node registration (labels, capacity, Ready condition, addresses, kubelet port) and Lease heartbeats
// every 10 s, so the real node-lifecycle controller untaints the node and the real scheduler binds pods to it; a
// list-then-watch of `spec.nodeName=<node>`; env, envFrom, $(VAR) expansion and their error messages; the
// waiting/running/terminated container states, reasons, exit codes (128+signal) and pod conditions a kubelet writes,
// only through pods/status with a uid precondition; the memory limit (OOMKilled, 137); restarts with CrashLoopBackOff
// for restartPolicy Always/OnFailure; activeDeadlineSeconds; the deletion handshake (SIGTERM, SIGKILL after the grace
// period, then DELETE with gracePeriodSeconds 0 and a uid precondition); container logs served on the kubelet port
// (`/containerLogs/...`), so `kubectl logs` works through the apiserver.
//
// The one deliberate deviation: a kubelet mounts the service-account token at /var/run/secrets/kubernetes.io/
// serviceaccount; a process cannot mount over host paths, so this writes the token, ca.crt and namespace under
// `<workDir>/<ns>/<pod>/serviceaccount/` with a kubeconfig for that token, and sets KUBECONFIG to it. A process thus
// authenticates as the pod's service account, and RBAC applies as in a real cluster.
//
// Not faithful: no isolation (the process sees the host's files, network and PIDs; cwd is a per-pod folder); one
// container per pod (init containers, sidecars and ephemeral containers fail the pod with a clear message); volumes
// other than the token are not mounted; no probes, lifecycle hooks, securityContext, CPU limits, requests accounting
// or evictions; an image that is missing stays in ImagePullBackOff (a kubelet retries the pull and flips back to
// ErrImagePull); logs have no CRI timestamps; the memory limit counts the process group, which a process that calls
// setsid leaves. The log server runs in the test's own process, so a test that blocks its event loop (execFileSync of
// `kubectl logs`) gets "TLS handshake timeout": call kubectl asynchronously.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { lookup } from "node:dns/promises";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from "node:fs";
import { Agent, createServer, request as httpsRequest, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { arch, constants as osConstants, hostname, release, type as osType } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { KubeConfig, type V1Container, type V1Pod } from "@kubernetes/client-node";

export interface TestKubeletOptions {
  /** The kubeconfig the kubelet acts with (the test-bed's admin kubeconfig). */
  kubeconfig: string;
  /** Default `test-kubelet-<6 hex>`. */
  nodeName?: string;
  /** Which images "exist" in the registry; default all. */
  images?: (image: string) => boolean;
  /** The environment every container process starts from (the image's env, in effect), e.g. PATH with tsflyte on it. */
  env?: Record<string, string>;
  /** A folder for per-pod files: `<workDir>/<ns>/<pod>/{root,serviceaccount,<container>.log}`. */
  workDir: string;
  /** How long a missing image shows ErrImagePull before ImagePullBackOff; default 300. */
  imagePullBackOffAfterMs?: number;
  /** The first CrashLoopBackOff delay (doubling, at most 5 min, as a kubelet does); default 10 000. */
  crashLoopBackOffMs?: number;
}

/** One container process the kubelet started. */
export interface KubeletRun {
  namespace: string;
  pod: string;
  container: string;
  pid: number;
  startedAt: number;
  endedAt?: number;
  exitCode?: number;
  reason?: string;
}

type Pod = V1Pod & { metadata: NonNullable<V1Pod["metadata"]>; spec: NonNullable<V1Pod["spec"]> };

interface Terminated {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt?: string;
  finishedAt: string;
  containerID?: string;
}

interface ContainerState {
  waiting?: { reason: string; message?: string };
  running?: { startedAt: string };
  terminated?: Terminated;
}

/** What a kubelet writes when it ends a pod itself (node shutdown, active deadline). */
interface PodEnding {
  reason: string;
  message: string;
  disruption?: boolean;
}

interface PodRecord {
  key: string;
  namespace: string;
  name: string;
  uid: string;
  pod: Pod;
  container: V1Container;
  dir: string;
  startTime: string;
  startTimeMs: number;
  state: "preparing" | "waiting" | "running" | "backoff" | "finished";
  restartCount: number;
  lastState?: ContainerState;
  waiting?: { reason: string; message?: string };
  containerID?: string;
  startedAt?: string;
  child?: ChildProcess;
  group?: number;
  run?: KubeletRun;
  exited?: Promise<void>;
  memoryLimit?: number;
  oomKilled: boolean;
  ending?: PodEnding;
  deleting: boolean;
  timers: Set<NodeJS.Timeout>;
  queue: Promise<void>;
  lastWritten?: string;
  conditionTimes: Map<string, { status: string; time: string }>;
}

const serviceAccountPath = "/var/run/secrets/kubernetes.io/serviceaccount";
const leaseRenewMs = 10_000;
const readyTimeoutMs = 20_000;
const configRetryMs = 10_000;
const maxCrashLoopBackOffMs = 300_000;
const defaultGraceSeconds = 30;

export class TestKubelet {
  readonly nodeName: string;
  /** Every container process started, in order. */
  readonly runs: KubeletRun[] = [];
  /** API calls that failed unexpectedly (also printed to stderr); a test can assert it stays empty. */
  readonly errors: string[] = [];
  private readonly options: TestKubeletOptions;
  private api!: KubeApi;
  private readonly pods = new Map<string, PodRecord>();
  private stopped = false;
  private leaseTimer?: NodeJS.Timeout;
  private memoryTimer?: NodeJS.Timeout;
  private abortWatch?: () => void;
  private watchLoopDone?: Promise<void>;
  private logServer?: Server;
  private hostAddress = "127.0.0.1";
  private readonly killAllAtExit = () => {
    for (const rec of this.pods.values()) signalGroup(rec.group, "SIGKILL");
  };

  constructor(options: TestKubeletOptions) {
    this.options = options;
    this.nodeName = options.nodeName ?? `test-kubelet-${randomBytes(3).toString("hex")}`;
  }

  /** Registers the Node, starts heartbeats, the log server and the pod watch; resolves once the node is Ready and untainted. */
  async start(): Promise<void> {
    this.api = await KubeApi.load(this.options.kubeconfig);
    process.on("exit", this.killAllAtExit);
    try {
      mkdirSync(this.options.workDir, { recursive: true });
      const port = await this.startLogServer();
      this.hostAddress = await loopbackHostname();
      const node = await this.registerNode(port);
      await this.createLease(node.metadata.uid);
      this.leaseTimer = setInterval(() => void this.renewLease(), leaseRenewMs);
      let listed!: () => void;
      const firstList = new Promise<void>((resolve) => (listed = resolve));
      this.watchLoopDone = this.watchPods(listed);
      await firstList;
      await this.waitUntilSchedulable();
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  /** Stops watching and heartbeats, kills every process group it started, and deletes the Node. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.leaseTimer);
    clearInterval(this.memoryTimer);
    this.abortWatch?.();
    const exits: Promise<void>[] = [];
    for (const rec of this.pods.values()) {
      for (const timer of rec.timers) clearTimeout(timer);
      signalGroup(rec.group, "SIGKILL");
      if (rec.exited) exits.push(rec.exited);
    }
    await Promise.race([Promise.all(exits), sleep(5_000)]);
    await this.watchLoopDone?.catch(() => undefined);
    const closed = new Promise<void>((resolve) => (this.logServer ? this.logServer.close(() => resolve()) : resolve()));
    this.logServer?.closeAllConnections();
    await closed;
    if (this.api) {
      const res = await this.api.request("DELETE", `/api/v1/nodes/${this.nodeName}`).catch((err: Error) => ({ status: 0, text: err.message }));
      if (res.status !== 200 && res.status !== 404) this.report(`deleting node ${this.nodeName}: ${res.status} ${res.text}`);
      this.api.close();
    }
    process.off("exit", this.killAllAtExit);
  }

  /**
   * Kills a pod's container process group, as if the container crashed; the returned promise resolves once its status
   * is written. Throws at once (not through the promise) when the pod has no running container here.
   */
  kill(namespace: string, podName: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const rec = this.pods.get(`${namespace}/${podName}`);
    if (!rec?.exited || rec.state !== "running") throw new Error(`TestKubelet.kill: pod ${namespace}/${podName} has no running container`);
    signalGroup(rec.group, signal);
    return rec.exited.then(() => rec.queue);
  }

  /**
   * Simulates a graceful node shutdown (kubelet 1.21+) for every unfinished pod, or one: SIGTERM, SIGKILL after
   * min(terminationGracePeriodSeconds, gracePeriodSeconds), then phase Failed, reason Terminated and a
   * DisruptionTarget condition. Resolves once the statuses are written.
   */
  async shutdown(namespace?: string, podName?: string, gracePeriodSeconds = 0): Promise<void> {
    const ending: PodEnding = { reason: "Terminated", message: "Pod was terminated in response to imminent node shutdown.", disruption: true };
    const targets = [...this.pods.values()].filter(
      (rec) => rec.state !== "finished" && !rec.deleting && (namespace === undefined || rec.namespace === namespace) && (podName === undefined || rec.name === podName),
    );
    if (podName !== undefined && targets.length === 0) throw new Error(`TestKubelet.shutdown: pod ${namespace}/${podName} is not running here`);
    await Promise.all(
      targets.map((rec) => this.endPod(rec, Math.min(rec.pod.spec.terminationGracePeriodSeconds ?? defaultGraceSeconds, gracePeriodSeconds), ending)),
    );
  }

  /** Polls the pod until `predicate` holds; returns it. Throws with the last status seen after `timeoutMs`. */
  async waitForPod(namespace: string, name: string, predicate: (pod: V1Pod) => boolean, timeoutMs = 30_000): Promise<V1Pod> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      const res = await this.api.request("GET", `/api/v1/namespaces/${namespace}/pods/${name}`);
      last = res.status === 200 ? res.body.status : `HTTP ${res.status}`;
      if (res.status === 200 && predicate(res.body as V1Pod)) return res.body as V1Pod;
      if (Date.now() > deadline) throw new Error(`pod ${namespace}/${name} did not reach the expected state in ${timeoutMs} ms; last status: ${JSON.stringify(last)}`);
      await sleep(100);
    }
  }

  // ---- node, lease, watch ---------------------------------------------------------------------------------------

  private async registerNode(port: number): Promise<Pod> {
    const now = kubeTime();
    const resources = { cpu: "8", memory: "32Gi", pods: "110" };
    const condition = (type: string, status: string, reason: string, message: string) => ({
      type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: now,
    });
    const goArch = arch() === "x64" ? "amd64" : arch() === "arm64" ? "arm64" : arch();
    const status = {
      capacity: resources,
      allocatable: resources,
      conditions: [
        condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
      ],
      addresses: [
        { type: "InternalIP", address: "127.0.0.1" },
        { type: "Hostname", address: this.hostAddress },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: port } },
      nodeInfo: {
        machineID: randomBytes(16).toString("hex"),
        systemUUID: randomBytes(16).toString("hex"),
        bootID: randomBytes(16).toString("hex"),
        kernelVersion: release(),
        osImage: `${osType()} (tsflyte test kubelet)`,
        containerRuntimeVersion: "test-kubelet://local-processes",
        kubeletVersion: "v1.20.2",
        kubeProxyVersion: "v1.20.2",
        operatingSystem: "linux",
        architecture: goArch,
      },
    };
    const labels = {
      "kubernetes.io/hostname": this.nodeName,
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": goArch,
      "beta.kubernetes.io/os": "linux",
      "beta.kubernetes.io/arch": goArch,
    };
    const created = await this.api.request("POST", "/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name: this.nodeName, labels }, spec: {}, status });
    if (created.status === 201) return created.body;
    if (created.status === 409) {
      // A kubelet that restarts keeps its Node and refreshes its status.
      const patched = await this.api.request("PATCH", `/api/v1/nodes/${this.nodeName}/status`, { status }, mergePatch);
      if (patched.status === 200) return patched.body;
      throw new Error(`TestKubelet: updating node ${this.nodeName} failed: HTTP ${patched.status} ${patched.text}`);
    }
    throw new Error(`TestKubelet: registering node ${this.nodeName} failed: HTTP ${created.status} ${created.text}`);
  }

  private async createLease(nodeUid: string | undefined): Promise<void> {
    const lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name: this.nodeName,
        namespace: "kube-node-lease",
        ownerReferences: [{ apiVersion: "v1", kind: "Node", name: this.nodeName, uid: nodeUid }],
      },
      spec: { holderIdentity: this.nodeName, leaseDurationSeconds: 40, renewTime: microTime() },
    };
    const res = await this.api.request("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", lease);
    if (res.status === 409) return this.renewLease();
    if (res.status !== 201) throw new Error(`TestKubelet: creating lease kube-node-lease/${this.nodeName} failed: HTTP ${res.status} ${res.text}`);
  }

  private async renewLease(): Promise<void> {
    if (this.stopped) return;
    const res = await this.api
      .request("PATCH", `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${this.nodeName}`, { spec: { holderIdentity: this.nodeName, renewTime: microTime() } }, mergePatch)
      .catch((err: Error) => ({ status: 0, text: err.message }));
    if (res.status !== 200 && !this.stopped) this.report(`renewing lease: HTTP ${res.status} ${res.text}`);
  }

  private async waitUntilSchedulable(): Promise<void> {
    const deadline = Date.now() + readyTimeoutMs;
    let node: any;
    for (;;) {
      const res = await this.api.request("GET", `/api/v1/nodes/${this.nodeName}`);
      node = res.body;
      const ready = node?.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True");
      if (res.status === 200 && ready && !(node.spec?.taints?.length > 0)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `TestKubelet: node ${this.nodeName} is not schedulable after ${readyTimeoutMs} ms (taints ${JSON.stringify(node?.spec?.taints)}); ` +
            "the node-lifecycle controller removes the not-ready taint, so the test-bed must run with --controllers and nodelifecycle.",
        );
      }
      await sleep(100);
    }
  }

  /** List, then watch from the list's resourceVersion; again whenever the watch ends. */
  private async watchPods(listed: () => void): Promise<void> {
    const selector = encodeURIComponent(`spec.nodeName=${this.nodeName}`);
    while (!this.stopped) {
      try {
        const list = await this.api.request("GET", `/api/v1/pods?fieldSelector=${selector}`);
        if (list.status !== 200) throw new Error(`listing pods: HTTP ${list.status} ${list.text}`);
        const seen = new Set<string>();
        for (const pod of list.body.items as Pod[]) {
          seen.add(pod.metadata.uid ?? "");
          this.onPod(pod);
        }
        for (const rec of [...this.pods.values()]) if (!seen.has(rec.uid)) this.onPodGone(rec);
        listed();
        const path = `/api/v1/pods?fieldSelector=${selector}&watch=1&allowWatchBookmarks=true&resourceVersion=${list.body.metadata.resourceVersion}`;
        const watch = this.api.watch(path, (event) => {
          if (event.type === "ADDED" || event.type === "MODIFIED") this.onPod(event.object);
          else if (event.type === "DELETED") {
            const rec = this.pods.get(podKey(event.object));
            if (rec && rec.uid === event.object.metadata.uid) this.onPodGone(rec);
          } else if (event.type === "ERROR") return false; // e.g. 410 Gone: list again
          return true;
        });
        this.abortWatch = watch.abort;
        await watch.done;
      } catch (err) {
        if (this.stopped) break;
        this.report(`pod watch: ${(err as Error).message}`);
        await sleep(500);
      }
    }
  }

  private onPod(pod: Pod): void {
    if (this.stopped || pod.spec.nodeName !== this.nodeName) return;
    const key = podKey(pod);
    let rec = this.pods.get(key);
    if (rec && rec.uid !== pod.metadata.uid) {
      this.onPodGone(rec);
      rec = undefined;
    }
    if (rec) {
      rec.pod = pod;
      if (pod.metadata.deletionTimestamp) void this.deletePod(rec);
      return;
    }
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") return; // finished before this kubelet saw it
    rec = this.newRecord(pod);
    this.pods.set(key, rec);
    if (pod.metadata.deletionTimestamp) void this.deletePod(rec);
    else void this.admit(rec).catch((err: Error) => this.report(`admitting pod ${key}: ${err.message}`));
  }

  /** The pod is gone from the API (deleted, or force-deleted): its process goes too. */
  private onPodGone(rec: PodRecord): void {
    rec.deleting = true;
    for (const timer of rec.timers) clearTimeout(timer);
    signalGroup(rec.group, "SIGKILL");
    if (this.pods.get(rec.key) === rec) this.pods.delete(rec.key);
  }

  private newRecord(pod: Pod): PodRecord {
    const now = Date.now();
    const dir = join(this.options.workDir, pod.metadata.namespace ?? "default", pod.metadata.name ?? "");
    return {
      key: podKey(pod),
      namespace: pod.metadata.namespace ?? "default",
      name: pod.metadata.name ?? "",
      uid: pod.metadata.uid ?? "",
      pod,
      container: pod.spec.containers[0],
      dir,
      startTime: kubeTime(now),
      startTimeMs: now,
      state: "preparing",
      restartCount: 0,
      oomKilled: false,
      deleting: false,
      timers: new Set(),
      queue: Promise.resolve(),
      conditionTimes: new Map(),
    };
  }

  // ---- running a pod --------------------------------------------------------------------------------------------

  private async admit(rec: PodRecord): Promise<void> {
    const spec = rec.pod.spec;
    const extra = [
      ...(spec.initContainers ?? []).map((c) => `init container ${c.name}`),
      ...spec.containers.slice(1).map((c) => `container ${c.name}`),
      ...((spec as { ephemeralContainers?: V1Container[] }).ephemeralContainers ?? []).map((c) => `ephemeral container ${c.name}`),
    ];
    if (extra.length > 0) {
      rec.state = "finished";
      await this.writeStatus(rec, {
        phase: "Failed",
        reason: "UnsupportedByTestKubelet",
        message: `The test kubelet runs exactly one container per pod; this pod also has ${extra.join(", ")}.`,
        hostIP: "127.0.0.1",
        startTime: rec.startTime,
      });
      return;
    }
    if (spec.activeDeadlineSeconds !== undefined) {
      this.after(rec, rec.startTimeMs + spec.activeDeadlineSeconds * 1000 - Date.now(), () =>
        void this.endPod(rec, spec.terminationGracePeriodSeconds ?? defaultGraceSeconds, {
          reason: "DeadlineExceeded",
          message: "Pod was active on the node longer than the specified deadline",
        }),
      );
    }
    rec.waiting = { reason: "ContainerCreating" };
    void this.writeStatus(rec, this.podStatus(rec, "Pending"));
    await this.prepareAndStart(rec);
  }

  /** A pod sync that failed for a reason not the pod's (an API or file error) is retried, as a kubelet's next sync would. */
  private async prepareAndStart(rec: PodRecord): Promise<void> {
    try {
      await this.prepareAndStartOnce(rec);
    } catch (err) {
      if (this.isOver(rec)) return;
      this.report(`preparing pod ${rec.key}: ${(err as Error).message}`);
      this.after(rec, 1_000, () => void this.prepareAndStart(rec));
    }
  }

  /** What a kubelet's pod sync does before a container starts: mount the token, pull the image, build the config. */
  private async prepareAndStartOnce(rec: PodRecord): Promise<void> {
    const c = rec.container;
    const serviceAccount = await this.mountServiceAccountToken(rec);
    if (serviceAccount === null || this.isOver(rec)) return;
    const imageProblem = this.checkImage(c);
    if (imageProblem) {
      rec.state = "waiting";
      rec.waiting = imageProblem;
      void this.writeStatus(rec, this.podStatus(rec, this.phaseWhileWaiting(rec)));
      if (imageProblem.reason === "ErrImagePull") {
        this.after(rec, this.options.imagePullBackOffAfterMs ?? 300, () => {
          rec.waiting = { reason: "ImagePullBackOff", message: `Back-off pulling image "${c.image}"` };
          void this.writeStatus(rec, this.podStatus(rec, this.phaseWhileWaiting(rec)));
        });
      }
      return;
    }
    let config: { env: Record<string, string>; argv: string[] };
    try {
      config = await this.containerConfig(rec, serviceAccount);
    } catch (err) {
      if (!(err instanceof ContainerConfigError) || this.isOver(rec)) throw err;
      rec.state = "waiting";
      rec.waiting = { reason: "CreateContainerConfigError", message: err.message };
      void this.writeStatus(rec, this.podStatus(rec, this.phaseWhileWaiting(rec)));
      // A kubelet retries the pod sync, so a Secret created after its pod is still picked up.
      this.after(rec, configRetryMs, () => void this.prepareAndStart(rec));
      return;
    }
    if (this.isOver(rec)) return;
    this.startContainer(rec, config.env, config.argv);
  }

  private checkImage(c: V1Container): { reason: string; message: string } | undefined {
    const image = c.image ?? "";
    const parsed = parseImageReference(image);
    if ("error" in parsed) {
      return {
        reason: "InvalidImageName",
        message: `Failed to apply default image tag "${image}": couldn't parse image reference "${image}": ${parsed.error}`,
      };
    }
    if ((this.options.images ?? (() => true))(image)) return undefined;
    if (c.imagePullPolicy === "Never") {
      return { reason: "ErrImageNeverPull", message: `Container image "${image}" is not present with pull policy of Never` };
    }
    const full = parsed.normalized;
    return {
      reason: "ErrImagePull",
      message: `rpc error: code = NotFound desc = failed to pull and unpack image "${full}": failed to resolve reference "${full}": ${full}: not found`,
    };
  }

  /**
   * Writes the token secret's files and a kubeconfig under `<dir>/serviceaccount`; undefined when the pod mounts no
   * token, null when the pod went away meanwhile. While the secret is missing a kubelet waits in ContainerCreating.
   */
  private async mountServiceAccountToken(rec: PodRecord): Promise<string | undefined | null> {
    const spec = rec.pod.spec;
    const account = spec.serviceAccountName ?? "default";
    const mounts = rec.container.volumeMounts ?? [];
    const volume = (spec.volumes ?? []).find(
      (v) => v.secret?.secretName?.startsWith(`${account}-token-`) && mounts.some((m) => m.name === v.name && m.mountPath === serviceAccountPath),
    );
    if (!volume?.secret?.secretName) return undefined;
    for (;;) {
      if (this.isOver(rec)) return null;
      const res = await this.api.request("GET", `/api/v1/namespaces/${rec.namespace}/secrets/${volume.secret.secretName}`);
      const data = res.body?.data ?? {};
      if (res.status === 200 && data.token && data["ca.crt"]) {
        const dir = join(rec.dir, "serviceaccount");
        mkdirSync(dir, { recursive: true });
        const token = Buffer.from(data.token, "base64").toString("utf8");
        writeFileSync(join(dir, "token"), token, { mode: 0o600 });
        writeFileSync(join(dir, "ca.crt"), Buffer.from(data["ca.crt"], "base64"));
        writeFileSync(join(dir, "namespace"), rec.namespace);
        const kubeconfig = join(dir, "kubeconfig");
        writeFileSync(kubeconfig, serviceAccountKubeconfig(this.api.server.origin, data["ca.crt"], token, rec.namespace, account), { mode: 0o600 });
        return kubeconfig;
      }
      if (res.status !== 404 && res.status !== 200) this.report(`reading secret ${rec.namespace}/${volume.secret.secretName}: HTTP ${res.status} ${res.text}`);
      await sleep(1_000);
    }
  }

  /** The kubelet's makeEnvironmentVariables and ExpandContainerCommandAndArgs. */
  private async containerConfig(rec: PodRecord, serviceAccountKubeconfig: string | undefined): Promise<{ env: Record<string, string>; argv: string[] }> {
    const { pod, container: c, namespace } = rec;
    const objects = new Map<string, Record<string, string> | undefined>();
    const read = async (kind: "secret" | "configmap", name: string): Promise<Record<string, string> | undefined> => {
      const key = `${kind}/${name}`;
      if (!objects.has(key)) {
        const res = await this.api.request("GET", `/api/v1/namespaces/${namespace}/${kind === "secret" ? "secrets" : "configmaps"}/${name}`);
        if (res.status === 404) objects.set(key, undefined);
        else if (res.status !== 200) throw new Error(`TestKubelet: reading ${kind} ${namespace}/${name}: HTTP ${res.status} ${res.text}`);
        else if (kind === "secret") objects.set(key, Object.fromEntries(Object.entries(res.body.data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), "base64").toString("utf8")])));
        else objects.set(key, { ...(res.body.binaryData ?? {}), ...(res.body.data ?? {}) });
      }
      return objects.get(key);
    };
    const server = this.api.server;
    const port = server.port || "443";
    const serviceEnv: Record<string, string> = {
      KUBERNETES_SERVICE_HOST: server.hostname,
      KUBERNETES_SERVICE_PORT: port,
      KUBERNETES_SERVICE_PORT_HTTPS: port,
      KUBERNETES_PORT: `tcp://${server.hostname}:${port}`,
      [`KUBERNETES_PORT_${port}_TCP`]: `tcp://${server.hostname}:${port}`,
      [`KUBERNETES_PORT_${port}_TCP_PROTO`]: "tcp",
      [`KUBERNETES_PORT_${port}_TCP_PORT`]: port,
      [`KUBERNETES_PORT_${port}_TCP_ADDR`]: server.hostname,
    };
    const env: Record<string, string> = {};
    const mapping = (name: string) => env[name] ?? serviceEnv[name];
    for (const from of c.envFrom ?? []) {
      const ref = from.configMapRef ?? from.secretRef;
      if (!ref?.name) continue;
      const kind = from.configMapRef ? "configmap" : "secret";
      const data = await read(kind, ref.name);
      if (!data) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`${kind} "${ref.name}" not found`);
      }
      for (const [k, v] of Object.entries(data)) {
        const name = (from.prefix ?? "") + k;
        if (/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) env[name] = v; // a kubelet skips invalid names (with an event)
      }
    }
    for (const e of c.env ?? []) {
      let value = e.value ?? "";
      if (value !== "") value = expandReferences(value, mapping);
      else if (e.valueFrom?.secretKeyRef || e.valueFrom?.configMapKeyRef) {
        const ref = (e.valueFrom.secretKeyRef ?? e.valueFrom.configMapKeyRef)!;
        const kind = e.valueFrom.secretKeyRef ? "secret" : "configmap";
        const kindName = kind === "secret" ? "Secret" : "ConfigMap";
        const data = await read(kind, ref.name ?? "");
        if (!data) {
          if (ref.optional) continue;
          throw new ContainerConfigError(`${kind} "${ref.name}" not found`);
        }
        if (!(ref.key in data)) {
          if (ref.optional) continue;
          throw new ContainerConfigError(`couldn't find key ${ref.key} in ${kindName} ${namespace}/${ref.name}`);
        }
        value = data[ref.key];
      } else if (e.valueFrom?.fieldRef) value = fieldRefValue(pod, e.valueFrom.fieldRef.fieldPath);
      else if (e.valueFrom?.resourceFieldRef) value = resourceFieldRefValue(c, e.valueFrom.resourceFieldRef);
      env[e.name] = value;
    }
    const all: Record<string, string> = { ...serviceEnv, ...env };
    const argvSource = [...(c.command ?? []), ...(c.args ?? [])];
    const argv = argvSource.map((a) => expandReferences(a, (name) => all[name]));
    const base: Record<string, string> = { ...(this.options.env ?? { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin" }) };
    // The host's KUBECONFIG is the test's admin identity, which no container has.
    delete base.KUBECONFIG;
    return {
      env: {
        HOME: join(rec.dir, "root"),
        ...base,
        HOSTNAME: pod.spec.hostname ?? rec.name,
        ...(serviceAccountKubeconfig ? { KUBECONFIG: serviceAccountKubeconfig } : {}),
        ...all,
      },
      argv,
    };
  }

  private startContainer(rec: PodRecord, env: Record<string, string>, argv: string[]): void {
    const c = rec.container;
    const root = join(rec.dir, "root");
    mkdirSync(root, { recursive: true });
    const cwd = c.workingDir || root;
    const logPath = join(rec.dir, `${c.name}.log`);
    if (existsSync(logPath)) renameSync(logPath, join(rec.dir, `${c.name}.previous.log`));
    const containerID = `containerd://${randomBytes(32).toString("hex")}`;
    const startedAt = kubeTime();
    rec.run = undefined;
    if (argv.length === 0) {
      this.startFailed(rec, containerID, startedAt, "the container has no command or args, and images have no entrypoint in the test kubelet");
      return;
    }
    if (!existsSync(cwd) || !statSync(cwd).isDirectory()) {
      this.startFailed(rec, containerID, startedAt, `chdir to cwd ("${cwd}") set in config.json failed: no such file or directory`);
      return;
    }
    const fd = openSync(logPath, "a");
    let child: ChildProcess;
    try {
      child = spawn(argv[0], argv.slice(1), { cwd, env, detached: true, stdio: ["ignore", fd, fd] });
    } finally {
      closeSync(fd);
    }
    rec.containerID = containerID;
    rec.startedAt = startedAt;
    rec.oomKilled = false;
    rec.waiting = undefined;
    let exited!: () => void;
    rec.exited = new Promise((resolve) => (exited = resolve));
    if (child.pid === undefined) {
      // Node reports a failed exec (ENOENT, EACCES) as an 'error' event on the next tick.
      child.once("error", (err: NodeJS.ErrnoException) => {
        const detail = err.code === "ENOENT" ? `exec: "${argv[0]}": executable file not found in $PATH` : `exec: "${argv[0]}": ${err.message}`;
        this.startFailed(rec, containerID, startedAt, detail);
        exited();
      });
      return;
    }
    rec.state = "running";
    rec.child = child;
    rec.group = child.pid;
    rec.run = { namespace: rec.namespace, pod: rec.name, container: c.name, pid: child.pid, startedAt: Date.now() };
    this.runs.push(rec.run);
    const limit = c.resources?.limits?.memory;
    rec.memoryLimit = limit === undefined ? undefined : parseQuantity(String(limit));
    if (rec.memoryLimit !== undefined) this.watchMemory();
    void this.writeStatus(rec, this.podStatus(rec, "Running"));
    child.once("exit", (code, signal) => {
      // The container's other processes die with its main process, as in a PID namespace.
      signalGroup(rec.group, "SIGKILL");
      this.onExit(rec, code ?? 128 + (signal ? osConstants.signals[signal] : 0));
      exited();
    });
  }

  /** The runtime could not start the process: containerd reports StartError with exit code 128. */
  private startFailed(rec: PodRecord, containerID: string, startedAt: string, detail: string): void {
    rec.containerID = containerID;
    rec.startedAt = startedAt;
    this.onExit(rec, 128, `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${detail}: unknown`);
  }

  private onExit(rec: PodRecord, exitCode: number, startErrorMessage?: string): void {
    const finishedAt = kubeTime();
    const reason = startErrorMessage ? "StartError" : rec.oomKilled ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error";
    if (rec.run) {
      rec.run.endedAt = Date.now();
      rec.run.exitCode = exitCode;
      rec.run.reason = reason;
    }
    rec.child = undefined;
    rec.group = undefined;
    const terminated: Terminated = {
      exitCode,
      reason,
      ...(startErrorMessage ? { message: startErrorMessage } : {}),
      startedAt: startErrorMessage ? "1970-01-01T00:00:00Z" : rec.startedAt,
      finishedAt,
      containerID: rec.containerID,
    };
    const policy = rec.pod.spec.restartPolicy ?? "Always";
    const restart = !rec.deleting && !rec.ending && !this.stopped && (policy === "Always" || (policy === "OnFailure" && exitCode !== 0));
    if (!restart) {
      rec.state = "finished";
      const phase = rec.ending?.reason === "DeadlineExceeded" || (rec.ending && exitCode !== 0) ? "Failed" : exitCode === 0 ? "Succeeded" : "Failed";
      void this.writeStatus(rec, this.podStatus(rec, phase, { terminated }));
      return;
    }
    // Restart in place: the first at once, then CrashLoopBackOff doubling from crashLoopBackOffMs up to 5 min.
    const delay = rec.restartCount === 0 ? 0 : Math.min((this.options.crashLoopBackOffMs ?? 10_000) * 2 ** (rec.restartCount - 1), maxCrashLoopBackOffMs);
    rec.lastState = { terminated };
    rec.restartCount += 1;
    rec.state = "backoff";
    if (delay > 0) {
      rec.waiting = {
        reason: "CrashLoopBackOff",
        message: `back-off ${formatGoDuration(delay)} restarting failed container=${rec.container.name} pod=${rec.name}_${rec.namespace}(${rec.uid})`,
      };
      void this.writeStatus(rec, this.podStatus(rec, "Running"));
    }
    this.after(rec, delay, () => void this.prepareAndStart(rec));
  }

  /** Ends a pod as the kubelet itself would (node shutdown, active deadline): stop its process, then a Failed status. */
  private async endPod(rec: PodRecord, graceSeconds: number, ending: PodEnding): Promise<void> {
    if (rec.state === "finished" || rec.deleting) return;
    rec.ending = ending;
    for (const timer of rec.timers) clearTimeout(timer);
    rec.timers.clear();
    if (rec.state === "running" && rec.exited) {
      await this.stopProcess(rec, graceSeconds);
      await rec.queue;
      return;
    }
    // Nothing runs: the container never started (a kubelet 1.27+ reports it as ContainerStatusUnknown) or is in back-off.
    rec.state = "finished";
    const terminated: Terminated = rec.lastState?.terminated ?? {
      exitCode: 137,
      reason: "ContainerStatusUnknown",
      message: "The container could not be located when the pod was terminated",
      finishedAt: kubeTime(),
    };
    await this.writeStatus(rec, this.podStatus(rec, "Failed", { terminated }));
  }

  /** SIGTERM to the process group, SIGKILL after the grace period (0: at once); resolves when the main process exited. */
  private async stopProcess(rec: PodRecord, graceSeconds: number): Promise<void> {
    if (!rec.exited) return;
    if (graceSeconds <= 0) signalGroup(rec.group, "SIGKILL");
    else {
      signalGroup(rec.group, "SIGTERM");
      const timer = setTimeout(() => signalGroup(rec.group, "SIGKILL"), graceSeconds * 1000);
      void rec.exited.then(() => clearTimeout(timer));
    }
    await rec.exited;
  }

  /** The deletion handshake: stop the container, then delete the pod with gracePeriodSeconds 0 and its uid. */
  private async deletePod(rec: PodRecord): Promise<void> {
    if (rec.deleting) return;
    rec.deleting = true;
    for (const timer of rec.timers) clearTimeout(timer);
    rec.timers.clear();
    if (rec.state === "running") {
      const grace = Math.min(rec.pod.metadata.deletionGracePeriodSeconds ?? defaultGraceSeconds, rec.pod.spec.terminationGracePeriodSeconds ?? defaultGraceSeconds);
      await this.stopProcess(rec, grace);
    }
    await rec.queue;
    if (this.stopped) return;
    const res = await this.api
      .request("DELETE", `/api/v1/namespaces/${rec.namespace}/pods/${rec.name}`, { gracePeriodSeconds: 0, preconditions: { uid: rec.uid } })
      .catch((err: Error) => ({ status: 0, text: err.message }));
    if (res.status !== 200 && res.status !== 404 && res.status !== 409 && !this.stopped) this.report(`deleting pod ${rec.key}: HTTP ${res.status} ${res.text}`);
  }

  private phaseWhileWaiting(rec: PodRecord): string {
    // A container waiting after it ran once counts as stopped: the pod stays Running while it restarts.
    return rec.lastState?.terminated ? "Running" : "Pending";
  }

  /** The pod status a kubelet generates for the pod's one container. */
  private podStatus(rec: PodRecord, phase: string, end?: { terminated: Terminated }): Record<string, unknown> {
    const c = rec.container;
    const terminal = phase === "Succeeded" || phase === "Failed";
    const running = rec.state === "running" && !end;
    let state: ContainerState;
    if (end) state = { terminated: end.terminated };
    else if (running) state = { running: { startedAt: rec.startedAt! } };
    else state = { waiting: rec.waiting ?? { reason: "ContainerCreating" } };
    const image = c.image ?? "";
    const containerStatus = {
      name: c.name,
      image,
      imageID: rec.containerID ? `docker-pullable://${image}@sha256:${createHash("sha256").update(image).digest("hex")}` : "",
      ...(rec.containerID ? { containerID: rec.containerID } : {}),
      ready: running,
      started: running,
      restartCount: rec.restartCount,
      state,
      lastState: rec.lastState ?? {},
    };
    const unready = terminal
      ? { status: "False", reason: "PodCompleted" }
      : running
        ? { status: "True" }
        : { status: "False", reason: "ContainersNotReady", message: `containers with unready status: [${c.name}]` };
    const owned = [
      this.condition(rec, "Initialized", { status: "True" }),
      this.condition(rec, "Ready", unready),
      this.condition(rec, "ContainersReady", unready),
      ...(rec.ending?.disruption ? [this.condition(rec, "DisruptionTarget", { status: "True", reason: "TerminationByKubelet", message: rec.ending.message })] : []),
    ];
    // A merge patch replaces the whole list: keep the conditions others wrote (PodScheduled by the scheduler, ...).
    const others = ((rec.pod.status?.conditions ?? []) as unknown as Array<{ type: string }>).filter((o) => !owned.some((c) => c.type === o.type));
    if (!others.some((o) => o.type === "PodScheduled")) owned.push(this.condition(rec, "PodScheduled", { status: "True" }));
    const conditions = [...owned, ...others];
    return {
      phase,
      conditions,
      hostIP: "127.0.0.1",
      ...(rec.startedAt ? { podIP: "127.0.0.1", podIPs: [{ ip: "127.0.0.1" }] } : {}),
      startTime: rec.startTime,
      containerStatuses: [containerStatus],
      ...(rec.ending && terminal ? { reason: rec.ending.reason, message: rec.ending.message } : {}),
    };
  }

  private condition(rec: PodRecord, type: string, c: { status: string; reason?: string; message?: string }): Record<string, unknown> {
    const previous = rec.conditionTimes.get(type);
    const time = previous?.status === c.status ? previous.time : kubeTime();
    rec.conditionTimes.set(type, { status: c.status, time });
    return { type, ...c, lastProbeTime: null, lastTransitionTime: time };
  }

  /** Status writes go out one at a time per pod, in order, so a phase never goes backwards. */
  private writeStatus(rec: PodRecord, status: Record<string, unknown>): Promise<void> {
    // The uid makes the patch fail (instead of writing) when the pod was replaced by one with the same name.
    const body = { metadata: { uid: rec.uid }, status };
    const json = JSON.stringify(body);
    if (json === rec.lastWritten) return rec.queue; // a kubelet's status manager writes only changes
    rec.lastWritten = json;
    rec.queue = rec.queue.then(async () => {
      if (this.stopped) return;
      const res = await this.api
        .request("PATCH", `/api/v1/namespaces/${rec.namespace}/pods/${rec.name}/status`, body, mergePatch)
        .catch((err: Error) => ({ status: 0, text: err.message }));
      if (res.status !== 200 && res.status !== 404 && res.status !== 409 && !this.stopped) {
        this.report(`writing status of pod ${rec.key} (phase ${String(status.phase)}): HTTP ${res.status} ${res.text}`);
      }
    });
    return rec.queue;
  }

  // ---- memory limit ---------------------------------------------------------------------------------------------

  private watchMemory(): void {
    this.memoryTimer ??= setInterval(() => {
      const limited = [...this.pods.values()].filter((rec) => rec.state === "running" && rec.group !== undefined && rec.memoryLimit !== undefined);
      if (limited.length === 0) {
        clearInterval(this.memoryTimer);
        this.memoryTimer = undefined;
        return;
      }
      const rss = groupRss(new Set(limited.map((rec) => rec.group!)));
      for (const rec of limited) {
        if ((rss.get(rec.group!) ?? 0) > rec.memoryLimit!) {
          rec.oomKilled = true;
          signalGroup(rec.group, "SIGKILL");
        }
      }
    }, 100);
  }

  // ---- container logs -------------------------------------------------------------------------------------------

  private async startLogServer(): Promise<number> {
    const dir = join(this.options.workDir, `.kubelet-${this.nodeName}`);
    mkdirSync(dir, { recursive: true });
    const keyFile = join(dir, "kubelet.key");
    const certFile = join(dir, "kubelet.crt");
    await promisify(execFile)("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyFile, "-out", certFile,
      "-days", "1", "-subj", `/CN=${this.nodeName}`, "-addext", `subjectAltName=IP:127.0.0.1,DNS:${hostname()},DNS:${this.nodeName}`,
    ]);
    const server = createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => this.serveLogs(req, res));
    this.logServer = server;
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", () => resolve()));
    return (server.address() as { port: number }).port;
  }

  /** GET /containerLogs/<ns>/<pod>/<container>?follow&previous&tailLines&limitBytes, as the kubelet serves them. */
  private serveLogs(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "https://kubelet");
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const fail = (code: number, message: string): void => void res.writeHead(code, { "Content-Type": "text/plain" }).end(message);
    if (req.method !== "GET" || !m) return fail(404, "404 page not found\n");
    const [namespace, pod, container] = m.slice(1).map(decodeURIComponent);
    const rec = this.pods.get(`${namespace}/${pod}`);
    if (!rec) return fail(404, `pod "${pod}" in namespace "${namespace}" does not exist`);
    if (rec.container.name !== container) return fail(404, `container "${container}" not found in pod "${pod}"`);
    const previous = url.searchParams.get("previous") === "true";
    const file = join(rec.dir, previous ? `${container}.previous.log` : `${container}.log`);
    if (!existsSync(file)) {
      if (previous) return fail(400, `previous terminated container "${container}" in pod "${pod}" not found`);
      return fail(400, `container "${container}" in pod "${pod}" is waiting to start: ${rec.waiting?.reason ?? "ContainerCreating"}`);
    }
    let text = readFileSync(file);
    const tailLines = url.searchParams.get("tailLines");
    if (tailLines !== null) {
      const lines = text.toString("utf8").split(/(?<=\n)/);
      text = Buffer.from(lines.slice(Math.max(0, lines.length - Number(tailLines))).join(""));
    }
    const limitBytes = url.searchParams.get("limitBytes");
    if (limitBytes !== null) text = text.subarray(0, Number(limitBytes));
    res.writeHead(200, { "Content-Type": "text/plain" });
    const follow = url.searchParams.get("follow") === "true" && !previous && limitBytes === null;
    if (!follow) return void res.end(text);
    res.write(text);
    // Follow: send what the process appends until it exits (or the client goes away).
    let offset = statSync(file).size;
    const run = rec.run;
    const poll = setInterval(() => {
      const size = existsSync(file) ? statSync(file).size : offset;
      if (size > offset) {
        const fd = openSync(file, "r");
        const chunk = Buffer.alloc(size - offset);
        readSync(fd, chunk, 0, chunk.length, offset);
        closeSync(fd);
        offset = size;
        res.write(chunk);
      }
      if (!run || run.endedAt !== undefined || this.stopped) {
        clearInterval(poll);
        res.end();
      }
    }, 200);
    req.once("close", () => clearInterval(poll));
  }

  // ---- helpers --------------------------------------------------------------------------------------------------

  /** True once the pod needs nothing more from a pod sync: deleted, ended, or the kubelet stopped. */
  private isOver(rec: PodRecord): boolean {
    return rec.deleting || rec.state === "finished" || this.stopped;
  }

  /** A timer that dies with the pod (deletion, shutdown) or the kubelet. */
  private after(rec: PodRecord, ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      rec.timers.delete(timer);
      if (!this.stopped && !rec.deleting) fn();
    }, Math.max(0, ms));
    rec.timers.add(timer);
  }

  private report(message: string): void {
    this.errors.push(message);
    process.stderr.write(`[test-kubelet ${this.nodeName}] ${message}\n`);
  }
}

class ContainerConfigError extends Error {}

// ---- the API client -------------------------------------------------------------------------------------------

const mergePatch = "application/merge-patch+json";

interface ApiResponse {
  status: number;
  text: string;
  body: any;
}

interface WatchEvent {
  type: string;
  object: any;
}

/** JSON over HTTPS with the kubeconfig's CA and credentials; watches as newline-delimited JSON streams. */
class KubeApi {
  private constructor(
    readonly server: URL,
    private readonly agent: Agent,
    private readonly headers: Record<string, string>,
  ) {}

  static async load(kubeconfig: string): Promise<KubeApi> {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error(`TestKubelet: ${kubeconfig} has no current cluster`);
    const opts: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; headers?: Record<string, string> } = {};
    await kc.applyToHTTPSOptions(opts as never);
    const agent = new Agent({ keepAlive: true, ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.rejectUnauthorized });
    return new KubeApi(new URL(cluster.server), agent, { ...(opts.headers ?? {}) });
  }

  request(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = httpsRequest(
        new URL(path, this.server),
        {
          method,
          agent: this.agent,
          headers: { ...this.headers, Accept: "application/json", ...(payload ? { "Content-Type": contentType, "Content-Length": payload.length } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.once("error", reject);
          res.once("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: any;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            resolve({ status: res.statusCode ?? 0, text, body: parsed });
          });
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
      req.once("error", reject);
      req.end(payload);
    });
  }

  /** Calls onEvent for each event until it returns false, the server ends the stream, or abort() is called. */
  watch(path: string, onEvent: (event: WatchEvent) => boolean): { done: Promise<void>; abort: () => void } {
    let abort: () => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      const req = httpsRequest(new URL(path, this.server), { method: "GET", agent: this.agent, headers: { ...this.headers, Accept: "application/json" } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          // 410 Gone: the resourceVersion is too old, which a list answers.
          res.once("end", () => (res.statusCode === 410 ? resolve() : reject(new Error(`watch ${path}: HTTP ${res.statusCode}`))));
          return;
        }
        let pending = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          const lines = (pending + chunk).split("\n");
          pending = lines.pop() ?? "";
          for (const line of lines) {
            if (!line.trim()) continue;
            let event: WatchEvent;
            try {
              event = JSON.parse(line) as WatchEvent;
            } catch {
              req.destroy();
              reject(new Error(`watch ${path}: not JSON: ${line.slice(0, 200)}`));
              return;
            }
            if (!onEvent(event)) {
              req.destroy();
              resolve();
              return;
            }
          }
        });
        res.once("end", () => resolve());
        res.once("error", () => resolve());
      });
      abort = () => {
        req.destroy();
        resolve();
      };
      req.once("error", (err) => (req.destroyed ? resolve() : reject(err)));
      req.end();
    });
    return { done, abort: () => abort() };
  }

  close(): void {
    this.agent.destroy();
  }
}

// ---- pure helpers ---------------------------------------------------------------------------------------------

function podKey(pod: { metadata?: { namespace?: string; name?: string } }): string {
  return `${pod.metadata?.namespace ?? "default"}/${pod.metadata?.name ?? ""}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A Kubernetes Time: RFC 3339 in seconds. */
function kubeTime(ms = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A Kubernetes MicroTime: six fractional digits, which the apiserver requires. */
function microTime(): string {
  return new Date().toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function signalGroup(group: number | undefined, signal: NodeJS.Signals): void {
  if (group === undefined) return;
  try {
    process.kill(-group, signal);
  } catch {
    // The group is gone.
  }
}

/** This host's name when it resolves to loopback (the apiserver prefers the Hostname address), else 127.0.0.1. */
async function loopbackHostname(): Promise<string> {
  const name = hostname();
  try {
    const addresses = await lookup(name, { all: true });
    if (addresses.length > 0 && addresses.every((a) => a.address === "127.0.0.1" || a.address === "::1")) return name;
  } catch {
    // Unresolvable: use the address itself.
  }
  return "127.0.0.1";
}

/** RSS in bytes of each wanted process group: the sum of VmRSS over the group's processes. */
function groupRss(groups: Set<number>): Map<number, number> {
  const rss = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const pgid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      if (!groups.has(pgid)) continue;
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${entry}/status`, "utf8"));
      if (m) rss.set(pgid, (rss.get(pgid) ?? 0) + Number(m[1]) * 1024);
    } catch {
      // The process ended while we looked.
    }
  }
  return rss;
}

const quantitySuffixes: Record<string, number> = {
  "": 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A Kubernetes quantity ("64Mi", "1G", "1e9", "500m", "128974848") as a number. */
export function parseQuantity(quantity: string): number {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/.exec(quantity.trim());
  if (!m) throw new Error(`invalid quantity ${JSON.stringify(quantity)}`);
  const value = Number(m[1]);
  if (m[2] !== undefined) return value * 10 ** Number(m[2]);
  return value * quantitySuffixes[m[3] ?? ""];
}

/** `$(VAR)` expansion as Kubernetes does it: `$$` escapes, unknown or unclosed references stay as written. */
export function expandReferences(input: string, mapping: (name: string) => string | undefined): string {
  let out = "";
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== "$" || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    let advance = 1;
    if (next === "$") out += "$";
    else if (next === "(") {
      const close = input.indexOf(")", cursor + 2);
      if (close === -1) out += "$(";
      else {
        const name = input.slice(cursor + 2, close);
        out += mapping(name) ?? `$(${name})`;
        advance = close - cursor;
      }
    } else out += `$${next}`;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

function fieldRefValue(pod: Pod, fieldPath: string): string {
  const meta = pod.metadata;
  const sub = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (sub) return (sub[1] === "labels" ? meta.labels : meta.annotations)?.[sub[2]] ?? "";
  switch (fieldPath) {
    case "metadata.name":
      return meta.name ?? "";
    case "metadata.namespace":
      return meta.namespace ?? "";
    case "metadata.uid":
      return meta.uid ?? "";
    case "metadata.labels":
    case "metadata.annotations": {
      const map = (fieldPath === "metadata.labels" ? meta.labels : meta.annotations) ?? {};
      return Object.keys(map).sort().map((k) => `${k}=${JSON.stringify(map[k])}`).join("\n");
    }
    case "spec.nodeName":
      return pod.spec.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec.serviceAccountName ?? "";
    case "status.hostIP":
    case "status.podIP":
    case "status.podIPs":
      return "127.0.0.1";
    default:
      throw new ContainerConfigError(`unsupported fieldRef fieldPath ${JSON.stringify(fieldPath)} in the test kubelet`);
  }
}

function resourceFieldRefValue(c: V1Container, ref: { resource: string; divisor?: unknown }): string {
  const m = /^(limits|requests)\.(cpu|memory|ephemeral-storage)$/.exec(ref.resource);
  if (!m) throw new ContainerConfigError(`unsupported resourceFieldRef resource ${JSON.stringify(ref.resource)} in the test kubelet`);
  const set = (m[1] === "limits" ? c.resources?.limits : c.resources?.requests)?.[m[2]];
  // An unset limit reads as the node's allocatable, an unset request as 0.
  const allocatable: Record<string, string> = { cpu: "8", memory: "32Gi", "ephemeral-storage": "100Gi" };
  const value = parseQuantity(String(set ?? (m[1] === "limits" ? allocatable[m[2]] : "0")));
  const divisor = parseQuantity(String(ref.divisor ?? "1"));
  return String(Math.ceil(value / divisor));
}

/** Go's time.Duration String for whole seconds and minutes ("10s", "2m40s", "5m0s"). */
function formatGoDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m${seconds % 60}s` : `${seconds}s`;
}

function serviceAccountKubeconfig(server: string, caData: string, token: string, namespace: string, account: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: in-cluster",
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${caData}`,
    "users:",
    `- name: ${account}`,
    "  user:",
    `    token: ${token}`,
    "contexts:",
    "- name: in-cluster",
    "  context:",
    "    cluster: in-cluster",
    `    user: ${account}`,
    `    namespace: ${namespace}`,
    "current-context: in-cluster",
    "",
  ].join("\n");
}

// The docker reference grammar (github.com/distribution/reference), which a kubelet uses to parse image names.
const pathComponent = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const domainPattern = `${domainComponent}(?:\\.${domainComponent})*(?::[0-9]+)?`;
const referencePattern = new RegExp(
  `^((?:${domainPattern}/)?${pathComponent}(?:/${pathComponent})*)(?::([\\w][\\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`,
);

/** ParseNormalizedNamed: the error a kubelet reports, or the fully qualified name it pulls. */
export function parseImageReference(image: string): { normalized: string } | { error: string } {
  if (/^[a-f0-9]{64}$/.test(image)) return { error: `invalid repository name (${image}), cannot specify 64-byte hexadecimal strings` };
  const slash = image.indexOf("/");
  let domain = "docker.io";
  let remainder = image;
  const first = slash === -1 ? "" : image.slice(0, slash);
  if (slash !== -1 && (/[.:]/.test(first) || first === "localhost" || first.toLowerCase() !== first)) {
    domain = first;
    remainder = image.slice(slash + 1);
  }
  if (domain === "docker.io" && !remainder.includes("/")) remainder = `library/${remainder}`;
  const tagSep = remainder.indexOf(":");
  const remoteName = tagSep === -1 ? remainder : remainder.slice(0, tagSep);
  if (remoteName.toLowerCase() !== remoteName) return { error: "invalid reference format: repository name must be lowercase" };
  const full = `${domain}/${remainder}`;
  const m = referencePattern.exec(full);
  if (!m) return { error: "invalid reference format" };
  if (m[1].length > 255) return { error: "invalid reference format: repository name must not be more than 255 characters" };
  return { normalized: m[2] || m[3] ? full : `${full}:latest` };
}
