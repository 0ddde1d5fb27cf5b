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
  /** Overrides of the connection timeouts (defaultHttpTimeouts), for tests. */
  httpTimeouts?: Partial<HttpTimeouts>;
}

/**
 * How long a client may hold a connection without finishing its request. Node's defaults let a client that sends
 * its headers and then a body one byte at a time keep a connection for 300 s; these close it sooner. Request bodies
 * are also capped in size by the API (10 MiB for JSON and protobuf, 2 GiB for an upload: 413 above).
 */
export interface HttpTimeouts {
  /** From the connection's first byte to the end of the request's headers (408 after). */
  headersMs: number;
  /** From the first byte to the end of the body, so an upload of the largest size must come at ≥ 18 MB/s (408 after). */
  requestMs: number;
  /** An idle keep-alive connection between requests is closed after this. */
  keepAliveMs: number;
}

export const defaultHttpTimeouts: HttpTimeouts = { headersMs: 20_000, requestMs: 120_000, keepAliveMs: 5_000 };

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  /** Executions that were unfinished when the server started and are running again. */
  resumed: number;
  /**
   * Stops listening (requests under way are answered), then drains: no new execution or attempt starts, the attempts
   * running get up to `graceMs` (default 0) to finish, and the rest are interrupted without counting against any
   * retry budget. Unfinished executions stay recorded for the next start to resume.
   */
  close(graceMs?: number): Promise<void>;
  /** Ends the grace period of a close() under way: running attempts are interrupted now, still charging nothing. */
  stopNow(): void;
}

/** How long `serve` lets running attempts finish when it is stopped, unless --grace says otherwise. */
export const defaultStopGrace = "30s";

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
    const timeouts = { ...defaultHttpTimeouts, ...options.httpTimeouts };
    server = createServer(
      {
        headersTimeout: timeouts.headersMs,
        requestTimeout: timeouts.requestMs,
        keepAliveTimeout: timeouts.keepAliveMs,
        // How often timeouts are checked (Node's default, 30 s, would let a slow client stay that much longer).
        connectionsCheckingInterval: Math.max(50, Math.min(1_000, timeouts.headersMs / 4)),
      },
      handler,
    );
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
    async close(graceMs = 0) {
      await new Promise<void>((resolve) => {
        // Requests under way finish (a CreateExecution is answered); idle keep-alive connections go now, and the
        // rest when the grace period is over.
        const cut = setTimeout(() => httpServer.closeAllConnections(), Math.min(graceMs, 5_000));
        httpServer.close(() => {
          clearTimeout(cut);
          resolve();
        });
        httpServer.closeIdleConnections();
      });
      await running.close(graceMs);
      await blobs.flush();
      await store.close();
      lock?.release();
    },
    stopNow() {
      running.stopNow();
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
  /** How long running attempts may finish when stopped: "30s", "2m", "0s" (default 30s). */
  grace?: string;
  /** --lease: a duration ("30s", "1m"). */
  lease?: string;
}

/** What `tsflyte serve` opens when no --db or --storage is given: under $TSFLYTE_HOME/server. */
export function serveDefaults(home: string): { db: string; storage: string } {
  return { db: `sqlite:${join(home, "server", "tsflyte.db")}`, storage: pathToFileURL(join(home, "server", "data")).href };
}

/**
 * Serves until SIGINT or SIGTERM, then stops gracefully (see RunningServer.close) within the --grace period; a second
 * signal ends the grace period at once, a third exits without waiting. `announce` gets the address once listening.
 * Unfinished executions stay recorded when it stops, and the next start resumes them.
 */
export async function serveUntilStopped(flags: ServeFlags, home: string, announce: (server: RunningServer, options: ServeOptions) => void): Promise<void> {
  const graceMs = parseDuration(flags.grace ?? defaultStopGrace, "--grace");
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
  let signals = 0;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        options.log?.(`${signal}: stopping; running attempts get up to ${graceMs / 1000}s to finish (send it again to interrupt them now)`);
        resolve();
      } else if (signals === 2) {
        options.log?.(`${signal}: interrupting the running attempts now; they run again on the next start (send it again to exit at once)`);
        server.stopNow();
      } else {
        options.log?.(`${signal}: exiting at once; attempts still running count as lost on the next start`);
        process.exit(130);
      }
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  const outcome = await Promise.race([stopped, crash]);
  await server.close(outcome instanceof Error ? 0 : graceMs);
  if (outcome instanceof Error) throw new Error(`the scheduler stopped, so executions could no longer run: ${outcome.message}`);
}
