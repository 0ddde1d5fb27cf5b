// A throwaway Restate server for benchmarks: the binary of the npm package @restatedev/restate-server-<os>-<cpu>, its
// data in a new folder under a given parent, on free loopback ports. Never leaves its process or its folder behind.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, platform, tmpdir } from "node:os";
import { join } from "node:path";
import { findOnPath, freeLoopbackPort, removedOnExit, stopServer } from "../../test/support/postgres.js";

export interface RestateServer {
  /** The admin API, where deployments are registered. */
  adminUrl: string;
  /** The HTTP ingress, where handlers are invoked. */
  ingressUrl: string;
  /** The node's data (RocksDB, the log): under the parent given to startRestateServer. */
  dataDir: string;
  /** Registers the service endpoint at `uri` (the server discovers its services) and waits until they can be invoked. */
  register(uri: string): Promise<void>;
  /** Stops the server and removes its folder; safe to call twice. */
  stop(): Promise<void>;
}

const readyTimeoutMs = 60_000;

function binaryPath(): string {
  const name = `@restatedev/restate-server-${platform()}-${arch()}`;
  try {
    return createRequire(import.meta.url).resolve(`${name}/bin/restate-server`);
  } catch {
    throw new Error(`The Restate server binary (npm package ${name}) is not installed: \`npm install\` installs it with @restatedev/restate-server.`);
  }
}

/**
 * Starts a single-node Restate server (all roles) with its defaults, except: loopback TCP only, no web UI, no
 * telemetry, and the log server's RocksDB WAL not fsynced on each write, so that it keeps what the other durable
 * systems measured alongside keep (a crash of the process loses nothing, a power loss may lose the last writes).
 */
export async function startRestateServer(options: { parent?: string } = {}): Promise<RestateServer> {
  const dir = mkdtempSync(join(options.parent ?? tmpdir(), "tsflyte-bench-restate-"));
  const dataDir = join(dir, "data");
  let server: ChildProcess | undefined;
  const removeAll = removedOnExit(dir, () => server);
  try {
    let admin = 0;
    let ingress = 0;
    for (let attempt = 1; ; attempt++) {
      [admin, ingress] = [await freeLoopbackPort(), await freeLoopbackPort()];
      const fabric = await freeLoopbackPort();
      const started = await start(dir, dataDir, attempt, { admin, ingress, fabric });
      if (started.server) {
        server = started.server;
        break;
      }
      // Another process took a port between our probe and the server's bind: try others.
      if (attempt >= 5 || !/address already in use|AddrInUse/i.test(started.log)) {
        throw new Error(`The Restate server did not start (${binaryPath()}). Its log:\n${started.log.slice(-4000)}`);
      }
    }
    const adminUrl = `http://127.0.0.1:${admin}`;
    const ingressUrl = `http://127.0.0.1:${ingress}`;
    const register = async (uri: string) => {
      const response = await fetch(`${adminUrl}/deployments`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ uri, force: true }),
      });
      if (!response.ok) throw new Error(`Restate refused the deployment at ${uri}: HTTP ${response.status} ${await response.text()}`);
    };
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopped ??= (async () => {
        process.off("exit", removeAll);
        // SIGTERM: the server drains within its shutdown timeout (5 s here).
        if (server) await stopServer(server, "SIGTERM");
        removeAll();
      })();
      return stopped;
    };
    return { adminUrl, ingressUrl, dataDir, register, stop };
  } catch (err) {
    removeAll();
    throw err;
  }
}

async function start(
  dir: string,
  dataDir: string,
  attempt: number,
  ports: { admin: number; ingress: number; fabric: number },
): Promise<{ server?: ChildProcess; log: string }> {
  const logFile = join(dir, `server-${attempt}.log`);
  // A file rather than a pipe: a pipe nobody reads would block the server once full.
  const logFd = openSync(logFile, "w");
  const env = {
    ...process.env,
    RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${ports.admin}`,
    RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ports.ingress}`,
    RESTATE_BIND_ADDRESS: `127.0.0.1:${ports.fabric}`,
    RESTATE_ADMIN__DISABLE_WEB_UI: "true",
    RESTATE_DISABLE_TELEMETRY: "true",
    RESTATE_LOG_SERVER__ROCKSDB_DISABLE_WAL_FSYNC: "true",
    RESTATE_SHUTDOWN_TIMEOUT: "5s",
  };
  const args = ["--no-logo", "--listen-mode", "tcp", "--base-dir", dataDir, "--log-format", "compact", "--log-disable-ansi-codes", "true"];
  // --pdeathsig: if the benchmark dies without running its exit handlers (SIGKILL), the server dies too.
  const setpriv = findOnPath("setpriv");
  const [command, ...rest] = [...(setpriv ? [setpriv, "--pdeathsig", "KILL"] : []), binaryPath(), ...args];
  const server = spawn(command, rest, { stdio: ["ignore", logFd, logFd], env });
  closeSync(logFd);
  let spawnError = "";
  server.on("error", (err) => {
    spawnError = `${command}: ${err.message}`;
  });
  server.unref();
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  const healthy = async (url: string) => {
    try {
      return (await fetch(url)).ok;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (spawnError) return { log: spawnError };
    if (server.exitCode !== null || server.signalCode !== null) return { log: readLog() };
    if ((await healthy(`http://127.0.0.1:${ports.admin}/health`)) && (await healthy(`http://127.0.0.1:${ports.ingress}/restate/health`))) {
      return { server, log: "" };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  server.kill("SIGKILL");
  return { log: `${readLog()}\n(not ready after ${readyTimeoutMs / 1000} seconds)` };
}
