// A real, throwaway PostgreSQL server for tests: initdb into a temp folder, start on a free loopback port, stop.
// Never skips when PostgreSQL is missing (it says how to install it), and never leaves a server or its files behind.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, chownSync, closeSync, constants, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import pg from "pg";

export interface TestPostgres {
  /** `postgres://tsflyte:PASSWORD@127.0.0.1:PORT/tsflyte_test_1`: an empty database for the caller; the user is a superuser. */
  url: string;
  /** The superuser's password, which the URL holds (the server checks passwords on TCP connections). */
  password: string;
  port: number;
  /** A new, empty database on this server; returns its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server as an outage would (fast shutdown: sessions are ended), keeping its data for restart(). */
  halt(): Promise<void>;
  /** Starts a halted server again, with the same data on the same port. */
  restart(): Promise<void>;
  /** Stops the server and removes its folder; safe to call twice. */
  stop(): Promise<void>;
}

const superuser = "tsflyte";
const readyTimeoutMs = 30_000;
const stopTimeoutMs = 10_000;

/**
 * Starts a new server with its own data folder, made under `parent` (default: the system's temp folder; a benchmark
 * passes a tmpfs). When the tests run as root (CI does), the server runs as the `postgres` system user, because
 * PostgreSQL refuses to run as root.
 */
export async function startPostgres(options: { parent?: string } = {}): Promise<TestPostgres> {
  const binaries = findPostgresBinaries();
  const runAs = serverUser();
  const dir = mkdtempSync(join(options.parent ?? tmpdir(), "tsflyte-pg-"));
  let server: ChildProcess | undefined;
  // A test file that ends without calling stop() still takes its server down with it.
  const removeAll = removedOnExit(dir, () => server);
  try {
    if (runAs) chownSync(dir, runAs.uid, runAs.gid);
    const password = randomBytes(16).toString("hex");
    const dataDir = join(dir, "data");
    initdb(binaries, runAs, dir, dataDir, password);
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freeLoopbackPort();
      const started = await startServer(binaries, runAs, dir, dataDir, port);
      if (started.server) {
        server = started.server;
        break;
      }
      // Another process took the port between our check and the server's bind: try another one.
      if (attempt >= 5 || !/could not bind|Address already in use/i.test(started.log)) {
        throw new Error(`The test PostgreSQL server did not start (${binaries.postgres}). Its log:\n${started.log}`);
      }
    }
    const urlOf = (database: string) => `postgres://${superuser}:${password}@127.0.0.1:${port}/${database}`;
    let databases = 0;
    const createDatabase = async (): Promise<string> => {
      const name = `tsflyte_test_${++databases}`;
      const client = new pg.Client({ connectionString: urlOf("postgres") });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return urlOf(name);
    };
    const url = await createDatabase();
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopped ??= (async () => {
        process.off("exit", removeAll);
        if (server) await stopServer(server);
        removeAll();
      })();
      return stopped;
    };
    const halt = async (): Promise<void> => {
      if (server) await stopServer(server);
    };
    const restart = async (): Promise<void> => {
      if (server && server.exitCode === null && server.signalCode === null) return;
      const started = await startServer(binaries, runAs, dir, dataDir, port);
      if (!started.server) throw new Error(`The test PostgreSQL server did not start again on port ${port}. Its log:\n${started.log}`);
      server = started.server;
    };
    return { url, password, port, createDatabase, halt, restart, stop };
  } catch (err) {
    removeAll();
    throw err;
  }
}

interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/** Debian's newest /usr/lib/postgresql/<version>/bin, or initdb and postgres on PATH. */
function findPostgresBinaries(): PostgresBinaries {
  const debianRoot = "/usr/lib/postgresql";
  const versions = existsSync(debianRoot)
    ? readdirSync(debianRoot).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a))
    : [];
  const folders = [...versions.map((v) => join(debianRoot, v, "bin")), ...(process.env.PATH ?? "").split(delimiter).filter(Boolean)];
  for (const folder of folders) {
    const found = { initdb: join(folder, "initdb"), postgres: join(folder, "postgres") };
    if (isExecutable(found.initdb) && isExecutable(found.postgres)) return found;
  }
  throw new Error(
    "These tests run a real, throwaway PostgreSQL server, but its programs (initdb and postgres) are not in " +
      `${debianRoot}/<version>/bin or on PATH. Install them: \`apt-get install postgresql\` on Debian or Ubuntu.`,
  );
}

/**
 * Kills the server `current()` names, if it still runs, and removes `dir`: at this process's exit unless called first.
 * Call the returned function to do it now (it then no longer waits for the exit).
 */
export function removedOnExit(dir: string, current: () => ChildProcess | undefined): () => void {
  const removeAll = () => {
    process.off("exit", removeAll);
    const server = current();
    if (server?.pid !== undefined && server.exitCode === null && server.signalCode === null) {
      try {
        process.kill(server.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  };
  process.on("exit", removeAll);
  return removeAll;
}

export function findOnPath(program: string): string | undefined {
  return (process.env.PATH ?? "").split(delimiter).filter(Boolean).map((folder) => join(folder, program)).find(isExecutable);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

interface ServerUser {
  uid: number;
  gid: number;
  /** The command prefix that runs a program as this user: setpriv execs it, so its pid is the program's. */
  prefix: string[];
}

/** As root, the `postgres` user that Debian's package creates; otherwise undefined (this user runs the server). */
function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let ids: number[];
  try {
    ids = ["-u", "-g"].map((flag) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim()));
  } catch {
    throw new Error(
      "These tests run as root, and PostgreSQL refuses to run as root; they run it as the `postgres` user, which does not exist " +
        "here. Install PostgreSQL from the distribution (`apt-get install postgresql` creates the user), or run the tests as another user.",
    );
  }
  const setpriv = findOnPath("setpriv");
  if (!setpriv) {
    throw new Error("These tests run as root and start PostgreSQL as the `postgres` user with setpriv, which is not on PATH. Install util-linux.");
  }
  return { uid: ids[0], gid: ids[1], prefix: [setpriv, "--reuid=postgres", "--regid=postgres", "--init-groups"] };
}

function initdb(binaries: PostgresBinaries, runAs: ServerUser | undefined, dir: string, dataDir: string, password: string): void {
  const passwordFile = join(dir, "password");
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (runAs) chownSync(passwordFile, runAs.uid, runAs.gid);
  const base = [
    "-D", dataDir, "-U", superuser, `--pwfile=${passwordFile}`, "--encoding=UTF8", "--no-locale",
    // Passwords on TCP, as a real deployment has them, so tests can see a wrong one refused.
    "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "--no-instructions",
  ];
  // An ICU collation orders text unlike bytes ('a' < 'B'), as most production databases do: a query that forgets
  // to sort bytewise fails its test here instead of passing by luck under the C locale.
  const attempts = [[...base, "--locale-provider=icu", "--icu-locale=en-US"], base];
  let lastError = "";
  for (const args of attempts) {
    rmSync(dataDir, { recursive: true, force: true });
    try {
      run(runAs, binaries.initdb, args);
      rmSync(passwordFile);
      return;
    } catch (err) {
      lastError = String((err as { stderr?: unknown }).stderr ?? (err as Error).message);
    }
  }
  throw new Error(`initdb (${binaries.initdb}) failed to create the test PostgreSQL cluster:\n${lastError}`);
}

function run(runAs: ServerUser | undefined, program: string, args: string[]): void {
  const [command, ...rest] = [...(runAs?.prefix ?? []), program, ...args];
  execFileSync(command, rest, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } });
}

/** A port nothing listens on right now; the caller binds it soon and retries if another process took it meanwhile. */
export async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once("error", reject).listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The running server once it accepts connections, or its log if it exited first. */
async function startServer(
  binaries: PostgresBinaries,
  runAs: ServerUser | undefined,
  dir: string,
  dataDir: string,
  port: number,
): Promise<{ server?: ChildProcess; log: string }> {
  const logFile = join(dir, `server-${port}.log`);
  // A file rather than a pipe: a pipe nobody reads would block the server once full.
  const logFd = openSync(logFile, "w");
  const settings = {
    port: String(port),
    listen_addresses: "127.0.0.1",
    unix_socket_directories: dir,
    // Durability means nothing for a database that is deleted at the end; starting and writing fast does.
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    shared_buffers: "16MB",
    max_connections: "100",
    // Segments in the data folder rather than /dev/shm, so that a killed server leaves nothing behind once it is removed.
    dynamic_shared_memory_type: "mmap",
  };
  const args = ["-D", dataDir, ...Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`])];
  // --pdeathsig: if the test process dies without running its exit handlers (SIGKILL), the server dies too.
  const setpriv = runAs ? undefined : findOnPath("setpriv");
  const prefix = runAs ? [...runAs.prefix, "--pdeathsig", "KILL"] : setpriv ? [setpriv, "--pdeathsig", "KILL"] : [];
  const [command, ...rest] = [...prefix, binaries.postgres, ...args];
  const server = spawn(command, rest, { stdio: ["ignore", logFd, logFd], env: { ...process.env, LC_ALL: "C" } });
  closeSync(logFd);
  let spawnError = "";
  server.on("error", (err) => {
    spawnError = `${command}: ${err.message}`;
  });
  // The exit handler and stop() end it; a test file that forgets stop() must still be able to exit.
  server.unref();
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (spawnError) return { log: spawnError };
    if (server.exitCode !== null || server.signalCode !== null) return { log: readLog() };
    if (readLog().includes("database system is ready to accept connections")) return { server, log: "" };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  server.kill("SIGKILL");
  return { log: `${readLog()}\n(not ready after ${readyTimeoutMs / 1000} seconds)` };
}

/** `signal` (SIGINT: PostgreSQL's fast shutdown, which ends sessions, then exits), and SIGKILL if that takes too long. */
export async function stopServer(server: ChildProcess, signal: NodeJS.Signals = "SIGINT"): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => server.once("exit", () => resolve()));
  server.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), stopTimeoutMs);
  });
  if (await Promise.race([exited.then(() => false), timedOut])) {
    server.kill("SIGKILL");
    await exited;
  }
  clearTimeout(timer);
}
