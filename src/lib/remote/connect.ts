// Which control plane a remote command talks to: the resolved config's admin endpoint, or a clear error saying how
// to get one. Never opens a connection itself and never puts the token in a message.
import { UserError } from "../errors.js";
import { AdminClient } from "../admin/client.js";
import type { ResolvedConfig } from "../config/config.js";

/** A client for the configured control plane; without an endpoint, an error that says how to set one up. */
export function adminClientFor(config: ResolvedConfig, command: string): AdminClient {
  if (!config.admin) {
    if (config.target === "admin") {
      throw new UserError(
        `${command} goes to a control plane (target admin, ${config.targetFrom}), and none is configured${config.file ? ` in ${config.file}` : " (no config file found)"}`,
        "set admin.endpoint with `tsflyte config init --host HOST:PORT` (or TSFLYTE_ADMIN_ENDPOINT), or choose another --target",
      );
    }
    throw new UserError(
      `${command} needs a control plane, and none is configured${config.file ? ` in ${config.file}` : " (no config file found)"}`,
      "start a local one with `tsflyte demo start` and run the `export FLYTECTL_CONFIG=…` line it prints, " +
        "or point at a running one with `tsflyte config init --host HOST:PORT` (or TSFLYTE_ADMIN_ENDPOINT)",
    );
  }
  return new AdminClient({ url: config.admin.url, endpoint: config.admin.endpoint, authToken: config.admin.authToken, from: config.admin.from });
}

export interface AdminUse {
  /** The command registers or launches: on Kubernetes, the project's namespace and the driver's Role must exist. */
  writes?: boolean;
}

/**
 * Runs `fn` with a client of the configured target and closes its connections after, so the process can exit at
 * once. The Kubernetes target answers the same API from inside this process, over the cluster.
 */
export async function withAdmin<T>(config: ResolvedConfig, command: string, fn: (client: AdminClient) => Promise<T>, use: AdminUse = {}): Promise<T> {
  if (config.target === "kubernetes") {
    const { withKubernetesAdmin } = await import("../k8s/embedded-admin.js");
    return withKubernetesAdmin(config, command, fn, { prepareNamespace: use.writes });
  }
  const client = adminClientFor(config, command);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
