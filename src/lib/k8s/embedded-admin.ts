// The Kubernetes target as the remote commands see it: the same FlyteAdmin-shaped API that `tsflyte serve` answers,
// served for the length of one command on a loopback port with a one-time token, over a store kept in the cluster
// and the configured blob store. So every remote command checks and answers alike on both targets. Never listens
// beyond 127.0.0.1, and never outlives the command.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { AdminClient } from "../admin/client.js";
import { namespaceFor as configuredNamespace, type KubernetesSettings, type ResolvedConfig } from "../config/config.js";
import { UserError } from "../errors.js";
import { createApiHandler } from "../server/api/index.js";
import { openBlobStore } from "../storage/open.js";
import { s3OptionsFromEnv } from "../storage/s3-store.js";
import { apiFailure, clusterError, connectCluster, isApiStatus, preloadKubernetesClient, type Cluster } from "./cluster.js";
import { ClusterStore } from "./cluster-store.js";
import { KubernetesControl } from "./control.js";
import { configuredS3, driverRoleName, driverRules, type DriverSettings } from "./driver-job.js";
import { labels, labelValue } from "./task-pod.js";

export interface KubernetesAdminOptions {
  /** Make sure the project's namespace and the driver's Role exist first (commands that register or launch). */
  prepareNamespace?: boolean;
}

/** Runs `fn` with a client of the Kubernetes target's API; every error keeps its own class (and exit code). */
export async function withKubernetesAdmin<T>(config: ResolvedConfig, command: string, fn: (client: AdminClient) => Promise<T>, options: KubernetesAdminOptions = {}): Promise<T> {
  void preloadKubernetesClient();
  const settings = config.kubernetes;
  const driver = driverSettingsOf(settings, command);
  const cluster = await connectCluster({ kubeconfig: settings.kubeconfig, context: settings.context, from: settings.from });
  const namespaceFor = (project: string, domain: string) => configuredNamespace(settings, project, domain);
  if (options.prepareNamespace) await prepareNamespace(cluster, namespaceFor(config.project, config.domain), config.project, config.domain, settings.serviceAccount);
  const store = new ClusterStore(cluster, { namespaceFor });
  const blobs = openBlobStore(driver.storage, { s3: { ...s3OptionsFromEnv(process.env), ...configuredS3(settings) } });
  const control = new KubernetesControl(cluster, store, driver);
  let internal: unknown;
  const token = randomBytes(24).toString("hex");
  let url = "";
  const server = createServer(
    createApiHandler({
      store,
      blobs,
      control,
      authToken: token,
      publicUrl: () => url,
      // The API lives only as long as this command: links point at the durable log blob instead.
      logLink: (attempt) => attempt.logsUri ?? "",
      onInternalError: (e) => (internal ??= e),
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new AdminClient({
    url,
    endpoint: `Kubernetes context ${cluster.context} (${cluster.server})`,
    authToken: token,
    from: settings.from,
    // The driver cannot say why it does not start: whoever looks at the execution reads its pod.
    pendingReason: (key) => control.pendingReason(key),
  });
  try {
    return await fn(client);
  } catch (e) {
    // The API answered "internal error" for a failure of the cluster or the blob store: show that failure itself.
    throw internal ?? e;
  } finally {
    await client.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await blobs.flush();
    await store.close();
  }
}

function driverSettingsOf(settings: KubernetesSettings, command: string): DriverSettings {
  if (!settings.storage) {
    throw new UserError(
      `${command} on the kubernetes target needs a blob store every node can reach, and kubernetes.storage is not set (${settings.from})`,
      "add `kubernetes: {storage: s3://BUCKET/PREFIX}` (or file:///a/path/every/node/mounts) to the config, or set TSFLYTE_K8S_STORAGE",
    );
  }
  return {
    namespaceTemplate: settings.namespaceTemplate,
    serviceAccount: settings.serviceAccount,
    storage: settings.storage,
    ...(settings.s3 ? { s3: settings.s3 } : {}),
    ...(settings.interruptible ? { interruptible: settings.interruptible } : {}),
    imagePullBackOffGraceMs: settings.imagePullBackOffGraceMs,
    ...(settings.iamRoleAnnotation ? { iamRoleAnnotation: settings.iamRoleAnnotation } : {}),
  };
}

/**
 * The namespace (created, labelled with its project and domain, when missing) and the Role and RoleBinding that let
 * the driver's service account run executions there. Someone without the right to create them gets told what to ask for.
 */
export async function prepareNamespace(cluster: Cluster, namespace: string, project: string, domain: string, serviceAccount: string): Promise<void> {
  try {
    await cluster.core.readNamespace({ name: namespace });
  } catch (e) {
    if (isApiStatus(e, 404)) {
      try {
        await cluster.core.createNamespace({
          body: { metadata: { name: namespace, labels: { [labels.managedBy]: "tsflyte", [labels.project]: labelValue(project), [labels.domain]: labelValue(domain) } } },
        });
      } catch (c) {
        if (!isApiStatus(c, 409)) throw namespaceError(cluster, namespace, c);
      }
    } else if (!isApiStatus(e, 403)) {
      // 403: this user may not read namespaces, yet may well use this one.
      throw clusterError(cluster, `reading namespace ${namespace}`, e);
    }
  }
  const role = { metadata: { name: driverRoleName, namespace, labels: { [labels.managedBy]: "tsflyte" } }, rules: driverRules };
  const binding = {
    metadata: { name: driverRoleName, namespace, labels: { [labels.managedBy]: "tsflyte" } },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: driverRoleName },
    subjects: [{ kind: "ServiceAccount", name: serviceAccount, namespace }],
  };
  await ensure(cluster, `Role ${driverRoleName}`, namespace, () => cluster.rbac.createNamespacedRole({ namespace, body: role }), () => cluster.rbac.replaceNamespacedRole({ name: driverRoleName, namespace, body: role }));
  await ensure(
    cluster,
    `RoleBinding ${driverRoleName}`,
    namespace,
    () => cluster.rbac.createNamespacedRoleBinding({ namespace, body: binding }),
    () => cluster.rbac.replaceNamespacedRoleBinding({ name: driverRoleName, namespace, body: binding }),
  );
}

async function ensure(cluster: Cluster, what: string, namespace: string, create: () => Promise<unknown>, replace: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (e) {
    if (!isApiStatus(e, 409)) throw accessError(cluster, what, namespace, e);
    try {
      // Kept current, so a tsflyte that needs one more permission grants it.
      await replace();
    } catch (r) {
      // Someone may keep it by hand and not let us change it: theirs stands.
      if (!isApiStatus(r, 403)) throw accessError(cluster, what, namespace, r);
    }
  }
}

function accessError(cluster: Cluster, what: string, namespace: string, e: unknown): Error {
  if (isApiStatus(e, 403)) {
    return new UserError(
      `you may not create the ${what} the execution driver needs in namespace ${namespace}: ${apiFailure(e).message}`,
      `ask a cluster admin to apply tsflyte's driver Role and RoleBinding in ${namespace} (README, "Kubernetes": RBAC)`,
    );
  }
  return clusterError(cluster, `creating ${what} in namespace ${namespace}`, e);
}

function namespaceError(cluster: Cluster, namespace: string, e: unknown): Error {
  if (isApiStatus(e, 403)) {
    return new UserError(
      `namespace ${namespace} does not exist and you may not create it: ${apiFailure(e).message}`,
      `ask a cluster admin to create it (kubectl create namespace ${namespace}), or set kubernetes.namespace to one you can use`,
    );
  }
  return clusterError(cluster, `creating namespace ${namespace}`, e);
}
