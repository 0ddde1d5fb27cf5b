// A connection to one Kubernetes cluster: @kubernetes/client-node loaded on first use (it costs hundreds of
// milliseconds), the API groups tsflyte uses, and API failures turned into one clear sentence. Never logs a token.
import type * as K8s from "./client.js";
import { existsSync } from "node:fs";
import { Agent as HttpsAgent, type RequestOptions as HttpsRequestOptions } from "node:https";
import { UnreachableError, UserError } from "../errors.js";

export type K8sModule = typeof K8s;

export interface ClusterOptions {
  /** A kubeconfig file; unset: KUBECONFIG, then ~/.kube/config, then the pod's service account (in a cluster). */
  kubeconfig?: string;
  context?: string;
  /** For messages: where the kubeconfig was chosen, e.g. `~/.flyte/config.yaml:7:15: kubernetes.kubeconfig`. */
  from?: string;
}

export interface Cluster {
  k8s: K8sModule;
  kc: K8s.KubeConfig;
  core: K8s.CoreV1Api;
  batch: K8s.BatchV1Api;
  rbac: K8s.RbacAuthorizationV1Api;
  /** The API server's URL and the context, for messages. */
  server: string;
  context: string;
  /** Options that make a PATCH a JSON merge patch (client-node's default is a JSON patch). */
  mergePatch: K8s.ConfigurationOptions;
}

let loading: Promise<K8sModule> | undefined;

/** Starts loading the client now, so that the import overlaps other start-up work. */
export function preloadKubernetesClient(): Promise<K8sModule> {
  loading ??= import("./client.js");
  return loading;
}

export async function connectCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const k8s = await preloadKubernetesClient();
  const kc = new k8s.KubeConfig();
  try {
    if (options.kubeconfig) {
      if (!existsSync(options.kubeconfig)) {
        throw new UserError(
          `the kubeconfig ${options.kubeconfig}${options.from ? ` (${options.from})` : ""} does not exist`,
          "point kubernetes.kubeconfig (or KUBECONFIG) at your cluster's kubeconfig, e.g. the one `kubectl config view --raw` shows",
        );
      }
      kc.loadFromFile(options.kubeconfig);
    } else {
      kc.loadFromDefault();
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot read the kubeconfig ${options.kubeconfig ?? "(default)"}: ${(e as Error).message}`);
  }
  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new UserError(
        `the kubeconfig has no context "${options.context}"${options.from ? ` (${options.from})` : ""}`,
        known.length ? `its contexts are: ${known.join(", ")}` : "it defines no contexts",
      );
    }
    kc.setCurrentContext(options.context);
  }
  const server = kc.getCurrentCluster()?.server;
  if (!server) {
    throw new UserError(
      `the kubeconfig ${options.kubeconfig ?? "(KUBECONFIG, ~/.kube/config or in-cluster)"} names no cluster for context "${kc.getCurrentContext()}"`,
      "check `kubectl config current-context` and set kubernetes.context",
    );
  }
  const configuration = k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration(server, {}),
    authMethods: { default: await keepAliveAuthentication(kc) },
  });
  return {
    k8s,
    kc,
    core: new k8s.CoreV1Api(configuration),
    batch: new k8s.BatchV1Api(configuration),
    rbac: new k8s.RbacAuthorizationV1Api(configuration),
    server,
    context: kc.getCurrentContext(),
    mergePatch: k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
  };
}

/**
 * The kubeconfig's authentication, over one keep-alive connection pool: client-node makes a new agent, hence a new
 * TLS handshake, for every request, which costs the driver tens of milliseconds per task attempt. A proxied
 * cluster keeps client-node's own agents.
 */
async function keepAliveAuthentication(kc: K8s.KubeConfig): Promise<K8s.SecurityAuthentication> {
  const cluster = kc.getCurrentCluster();
  let agent: HttpsAgent | undefined;
  if (cluster && !cluster.proxyUrl && cluster.server.startsWith("https:")) {
    const tls: HttpsRequestOptions = {};
    await kc.applyToHTTPSOptions(tls);
    agent = new HttpsAgent({
      keepAlive: true,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      pfx: tls.pfx,
      passphrase: tls.passphrase,
      ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
      ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
    });
  }
  return {
    getName: () => "tsflyte-keep-alive",
    async applySecurityAuthentication(context: K8s.RequestContext) {
      // Headers (the token, refreshed as the kubeconfig says) come from client-node; only the agent is ours.
      await kc.applySecurityAuthentication(context);
      if (agent) context.setAgent(agent);
    },
  };
}

/** What the API server answered: the HTTP status and its Status object's reason and message, when it answered. */
export interface ApiFailure {
  code?: number;
  reason?: string;
  message: string;
  /** The client's own network error code (ECONNREFUSED, ENOTFOUND, …) when no answer came. */
  network?: string;
}

export function apiFailure(e: unknown): ApiFailure {
  const err = e as { code?: unknown; body?: unknown; message?: string; cause?: { code?: string } };
  if (typeof err?.code === "number") {
    let body: unknown = err.body;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body);
      } catch {
        // Not a Status object: keep the text.
      }
    }
    const status = body && typeof body === "object" ? (body as { reason?: string; message?: string }) : undefined;
    return { code: err.code, reason: status?.reason, message: status?.message ?? (typeof body === "string" && body ? body : `HTTP ${err.code}`) };
  }
  const network = typeof err?.code === "string" ? err.code : err?.cause?.code;
  return { network, message: err?.message ?? String(e) };
}

export function isApiStatus(e: unknown, code: number): boolean {
  return apiFailure(e).code === code;
}

/**
 * The error a command shows for a failed API call: unreachable and unauthenticated exit 4, forbidden says which
 * permission to ask for, the rest carry the server's own sentence.
 */
export function clusterError(cluster: Pick<Cluster, "server" | "context">, doing: string, e: unknown): Error {
  if (e instanceof UserError) return e;
  const f = apiFailure(e);
  const where = `the Kubernetes API server ${cluster.server} (context ${cluster.context})`;
  if (f.code === undefined) {
    return new UnreachableError(`cannot reach ${where} while ${doing}: ${f.network ?? f.message}`, "check that the cluster is up and that kubernetes.kubeconfig / kubernetes.context name it");
  }
  if (f.code === 401) return new UnreachableError(`${where} did not accept the kubeconfig's credentials while ${doing}`, "refresh the credentials of that context (e.g. log in again)");
  if (f.code === 403) return new UserError(`${where} refused ${doing}: ${f.message}`, "ask a cluster admin for that permission in the namespace");
  return new UserError(`${where} refused ${doing} (${f.code}${f.reason ? ` ${f.reason}` : ""}): ${f.message}`);
}
