// `tsflyte serve`: one process holding the HTTP API, the scheduler and a pool of task workers over one database
// and one blob store. Binds 127.0.0.1 unless told otherwise; never prints or logs the auth token.
import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { UserError } from "../errors.js";
import { parseDuration } from "../types/duration.js";
import { openBlobStore } from "../storage/open.js";
import { defaultLeaseMs } from "../store/leases.js";
import { openControlPlaneStore, parseDatabaseOption } from "../store/open.js";
import type { ServerLock } from "../store/server-lock.js";
import { createApiHandler, seedDefaults } from "./api/index.js";
import { startSchedulerThread, type SchedulerThread } from "./scheduler-client.js";

export const defaultServePort = 30080;

export interface ServeOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 30080; 0 picks a free port. */
  port?: number;
  /** `sqlite:PATH` or `postgres://…`. */
  db: string;
  /** The blob store: `file://DIR`. */
  storage: string;
  /** Warm task workers, the limit of task attempts running at once. Default: the number of CPUs. */
  workers?: number;
  authToken?: string;
  /** Where workers run tasks: the folder whose node_modules their code imports from. Default: the current one. */
  cwd?: string;
  log?: (line: string) => void;
  /**
   * PostgreSQL: how long this server's lease of an execution lasts unless renewed (renewed every third of it);
   * another server takes an execution over only once its lease has run out. Default 30 s. Refused for SQLite,
   * which serves one server at a time.
   */
  leaseMs?: number;
  /** Called if the scheduler thread dies: executions no longer run, so the server should stop. */
  onSchedulerCrash?: (error: Error) => void;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  /** Executions that were unfinished when the server started and are running again. */
  resumed: number;
  /** Stops listening and stops the workers; unfinished executions stay recorded for the next start to resume. */
  close(): Promise<void>;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const database = parseDatabaseOption(options.db);
  if (database.kind === "sqlite" && options.leaseMs !== undefined) {
    throw new UserError("--lease applies to a PostgreSQL database shared by several servers; a SQLite database serves one server at a time.", "Drop --lease, or use --db postgres://….");
  }
  if (options.leaseMs !== undefined && !(options.leaseMs >= 1000)) {
    throw new UserError(`--lease must be at least 1s, got ${options.leaseMs} ms`, "e.g. --lease 30s");
  }
  const store = await openControlPlaneStore(options.db);
  let lock: ServerLock | undefined;
  if (database.kind === "sqlite") {
    try {
      const { lockSqliteForServer } = await import("../store/server-lock.js");
      lock = lockSqliteForServer(store.location);
    } catch (e) {
      await store.close();
      throw e;
    }
  }
  const blobs = openBlobStore(options.storage);
  let url = "";
  let server: Server | undefined;
  let scheduler: SchedulerThread | undefined;
  try {
    // The schema is migrated (by the store above) and the defaults exist before the scheduler thread opens its own connection.
    await seedDefaults(store);
    // Executions run on a thread of their own: however busy the engine is, the API answers at once.
    scheduler = await startSchedulerThread(
      {
        db: options.db,
        storage: options.storage,
        workers: options.workers ?? Math.max(1, cpus().length),
        cwd: options.cwd ?? process.cwd(),
        ...(database.kind === "postgres" ? { leaseMs: options.leaseMs ?? defaultLeaseMs } : {}),
      },
      options.log,
      options.onSchedulerCrash,
    );
    const handler = createApiHandler({ store, blobs, control: scheduler.control, authToken: options.authToken, publicUrl: () => url, log: options.log });
    server = createServer(handler);
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once("error", reject);
      listening.listen(options.port ?? defaultServePort, host, () => resolve());
    });
  } catch (e) {
    await scheduler?.close();
    await store.close();
    lock?.release();
    throw listenError(e, host, options.port ?? defaultServePort);
  }
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : (options.port ?? defaultServePort);
  url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  lock?.setEndpoint(url);
  const httpServer = server;
  const running = scheduler;
  return {
    url,
    host,
    port,
    resumed: running.resumed,
    async close() {
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
      await running.close();
      await blobs.flush();
      await store.close();
      lock?.release();
    },
  };
}

function listenError(e: unknown, host: string, port: number): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") return new UserError(`cannot listen on ${host}:${port}: the port is in use`, "stop what holds it, or pass --port");
  if (code === "EACCES") return new UserError(`cannot listen on ${host}:${port}: permission denied`, "use a port above 1023");
  if (code === "EADDRNOTAVAIL") return new UserError(`cannot listen on ${host}:${port}: this machine has no such address`);
  return e;
}

/** The bearer token in a file: its first line, trimmed. The token itself never appears in an error. */
export function readAuthToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UserError(`cannot read the auth token file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const token = text.split(/\r?\n/)[0].trim();
  if (!token) throw new UserError(`the auth token file ${file} is empty`, "put the token on its first line");
  if (/\s/.test(token) || token.length < 16) throw new UserError(`the auth token in ${file} must be one word of at least 16 characters`);
  return token;
}

export interface ServeFlags {
  host: string;
  port: number;
  db?: string;
  storage?: string;
  workers?: number;
  authTokenFile?: string;
  /** --lease: a duration ("30s", "1m"). */
  lease?: string;
}

/** What `tsflyte serve` opens when no --db or --storage is given: under $TSFLYTE_HOME/server. */
export function serveDefaults(home: string): { db: string; storage: string } {
  return { db: `sqlite:${join(home, "server", "tsflyte.db")}`, storage: pathToFileURL(join(home, "server", "data")).href };
}

/**
 * Serves until SIGINT or SIGTERM. `announce` gets the address once listening. Unfinished executions stay
 * recorded when it stops, and the next start resumes them.
 */
export async function serveUntilStopped(flags: ServeFlags, home: string, announce: (server: RunningServer, options: ServeOptions) => void): Promise<void> {
  const defaults = serveDefaults(home);
  const options: ServeOptions = {
    host: flags.host,
    port: flags.port,
    db: flags.db ?? defaults.db,
    storage: flags.storage ?? defaults.storage,
    workers: flags.workers,
    leaseMs: flags.lease === undefined ? undefined : parseDuration(flags.lease, "--lease"),
    authToken: flags.authTokenFile ? readAuthToken(flags.authTokenFile) : undefined,
    log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
  };
  let crashed: ((error: Error) => void) | undefined;
  const crash = new Promise<Error>((resolve) => (crashed = resolve));
  const server = await startServer({ ...options, onSchedulerCrash: (e) => crashed?.(e) });
  announce(server, options);
  const stopped = new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  const outcome = await Promise.race([stopped, crash]);
  await server.close();
  if (outcome instanceof Error) throw new Error(`the scheduler stopped, so executions could no longer run: ${outcome.message}`);
}
