// `tsflyte demo`: one `tsflyte serve` in the background on loopback, with SQLite and file storage under
// $TSFLYTE_HOME/demo, recorded by pid and start time. Never signals a process it cannot prove it started.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { UserError } from "../errors.js";
import { tsflyteHome } from "../home.js";
import { packageRoot } from "../package-root.js";

export const defaultDemoPort = 30080;
export const demoHost = "127.0.0.1";
/** The project and domain the demo config points tsflyte and flytectl at. */
export const demoProject = "flytesnacks";
export const demoDomain = "development";

const readyTimeoutMs = 20_000;
const stopGraceMs = 10_000;
const killWaitMs = 5_000;
const requestTimeoutMs = 2_000;

/** `$TSFLYTE_HOME`, whose `demo` folder holds the demo. */
export function demoHome(): string {
  return tsflyteHome();
}

/** Where a demo keeps everything: one folder, so `teardown --delete-data` removes exactly this. */
export interface DemoPaths {
  dir: string;
  /** The pid record: present while a demo started by `demo start` may be running. */
  record: string;
  log: string;
  config: string;
  db: string;
  data: string;
}

export function demoPaths(home: string): DemoPaths {
  const dir = join(home, "demo");
  return {
    dir,
    record: join(dir, "demo.json"),
    log: join(dir, "server.log"),
    config: join(dir, "config.yaml"),
    db: join(dir, "tsflyte.db"),
    data: join(dir, "data"),
  };
}

/** demo.json: which process `demo start` started, and where it listens. */
export interface DemoRecord {
  pid: number;
  /**
   * The process's start time from /proc/<pid>/stat (clock ticks since boot), compared for equality only, so that
   * a later process given the same pid is never taken for the demo. Null where /proc is not available.
   */
  procStartTime: number | null;
  url: string;
  port: number;
  /** ISO 8601. */
  startedAt: string;
}

export interface DemoStartResult {
  /** False when a demo started earlier was found running and left alone. */
  started: boolean;
  url: string;
  port: number;
  pid: number;
  startedAt: string;
  dataDir: string;
  configFile: string;
  logFile: string;
  /** `export FLYTECTL_CONFIG=…`, for the user's shell. */
  exportLine: string;
  /** A demo.json left by a demo that is gone, removed before starting. */
  staleRecordRemoved: boolean;
}

export interface DemoStartOptions {
  home: string;
  port?: number;
  /** The tsflyte entry script the server runs from; default this installation's bin/run.js. */
  cliEntry?: string;
}

/**
 * Starts the demo control plane, or finds the one already running. Waits until it answers /healthcheck; when it
 * does not, stops it, removes its record and throws with the end of its log.
 */
export async function startDemo(options: DemoStartOptions): Promise<DemoStartResult> {
  const paths = demoPaths(options.home);
  const port = options.port ?? defaultDemoPort;
  mkdirSync(paths.dir, { recursive: true });
  const existing = readDemoRecord(paths);
  let staleRecordRemoved = false;
  if (existing && isDemoProcessAlive(existing)) {
    writeDemoConfig(paths, existing.port);
    return startResult(paths, existing, { started: false, staleRecordRemoved });
  }
  if (existing !== undefined) {
    rmSync(paths.record, { force: true });
    staleRecordRemoved = true;
  }

  await ensurePortFree(port);
  const logStart = existsSync(paths.log) ? statSync(paths.log).size : 0;
  const logFd = openSync(paths.log, "a");
  let child: ChildProcess;
  try {
    writeSync(logFd, `--- ${new Date().toISOString()} tsflyte demo start: serve on ${demoHost}:${port}\n`);
    child = spawn(
      process.execPath,
      [
        options.cliEntry ?? join(packageRoot, "bin", "run.js"),
        "serve",
        "--host", demoHost,
        "--port", String(port),
        "--db", `sqlite:${paths.db}`,
        "--storage", pathToFileURL(paths.data).href,
        // Within teardown's wait after SIGTERM, so that running attempts are interrupted and recorded, not killed.
        "--grace", "5s",
      ],
      // Its own process group and no pipes to us: it outlives this command and the terminal it ran in.
      { detached: true, stdio: ["ignore", logFd, logFd], env: process.env },
    );
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid;
  if (pid === undefined) {
    const error = await new Promise<Error>((resolve) => child.once("error", resolve));
    throw new UserError(`cannot start the demo control plane: ${error.message}`);
  }
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.once("exit", (code, signal) => (exited = { code, signal }));
  child.unref();

  const record: DemoRecord = {
    pid,
    procStartTime: readProcStat(pid)?.startTicks ?? null,
    url: `http://${demoHost}:${port}`,
    port,
    startedAt: new Date().toISOString(),
  };
  let why: string;
  try {
    writeDemoRecord(paths, record);
    const deadline = Date.now() + readyTimeoutMs;
    while (!exited && Date.now() < deadline) {
      if (await isHealthy(record.url)) {
        writeDemoConfig(paths, port);
        return startResult(paths, record, { started: true, staleRecordRemoved });
      }
      await sleep(100);
    }
    why = exited
      ? `it exited during start-up (${exited.signal ? `signal ${exited.signal}` : `exit code ${exited.code}`})`
      : `it did not answer ${record.url}/healthcheck within ${readyTimeoutMs / 1000} s`;
  } catch (e) {
    // The record or the config could not be written: a server nobody can find or stop must not stay behind.
    await stopProcess(record, child);
    rmSync(paths.record, { force: true });
    throw e;
  }
  if (!exited) await stopProcess(record, child);
  rmSync(paths.record, { force: true });
  throw new UserError(
    `the demo control plane did not start: ${why}. The end of ${paths.log}:\n${logTail(paths.log, logStart)}`,
    "fix what the log says, then run `tsflyte demo start` again",
  );
}

function startResult(paths: DemoPaths, record: DemoRecord, how: { started: boolean; staleRecordRemoved: boolean }): DemoStartResult {
  return {
    started: how.started,
    url: record.url,
    port: record.port,
    pid: record.pid,
    startedAt: record.startedAt,
    dataDir: paths.dir,
    configFile: paths.config,
    logFile: paths.log,
    exportLine: `export FLYTECTL_CONFIG=${shellQuote(paths.config)}`,
    staleRecordRemoved: how.staleRecordRemoved,
  };
}

/** `demo status -o json`: the same keys every time, null where a value is not known. */
export interface DemoStatus {
  running: boolean;
  healthy: boolean;
  url: string | null;
  pid: number | null;
  startedAt: string | null;
  dataDir: string;
  configFile: string | null;
  logFile: string;
  project: string;
  domain: string;
  /** Executions of `project`/`domain` by phase, when the server answered. */
  executions: Record<string, number> | null;
  /** Registered names of `project`/`domain`, when the server answered. */
  entities: { tasks: number; workflows: number; launchPlans: number } | null;
  /** Why the numbers are missing or the demo is not healthy; null when all is well. */
  problem: string | null;
}

export async function demoStatus(options: { home: string; project?: string; domain?: string }): Promise<DemoStatus> {
  const paths = demoPaths(options.home);
  const project = options.project ?? demoProject;
  const domain = options.domain ?? demoDomain;
  const record = readDemoRecord(paths);
  const base: DemoStatus = {
    running: false,
    healthy: false,
    url: null,
    pid: null,
    startedAt: null,
    dataDir: paths.dir,
    configFile: existsSync(paths.config) ? paths.config : null,
    logFile: paths.log,
    project,
    domain,
    executions: null,
    entities: null,
    problem: null,
  };
  if (!record) return base;
  if (!isDemoProcessAlive(record)) {
    const problem = record.pid > 0 ? `the demo recorded in ${paths.record} (pid ${record.pid}) is no longer running` : `${paths.record} is not a demo record`;
    return { ...base, problem };
  }
  const running = { ...base, running: true, url: record.url, pid: record.pid, startedAt: record.startedAt };
  if (demoProcessIdentity(record) === "unproven") {
    return { ...running, problem: `pid ${record.pid} runs, but it cannot be proven to be the demo: ${unprovenError(paths, record).hint ?? ""}` };
  }
  if (!(await isHealthy(record.url))) {
    return { ...running, problem: `pid ${record.pid} runs, but ${record.url}/healthcheck does not answer; see ${paths.log}` };
  }
  try {
    const [executions, tasks, workflows, launchPlans] = await Promise.all([
      countExecutions(record.url, project, domain),
      countNames(record.url, "task_ids", project, domain),
      countNames(record.url, "workflow_ids", project, domain),
      countNames(record.url, "launch_plan_ids", project, domain),
    ]);
    return { ...running, healthy: true, executions, entities: { tasks, workflows, launchPlans } };
  } catch (e) {
    return { ...running, healthy: true, problem: `healthy, but the counts could not be read: ${(e as Error).message}` };
  }
}

export interface DemoTeardownResult {
  /** True when a running demo was stopped by this call. */
  stopped: boolean;
  pid: number | null;
  url: string | null;
  /** It had to be killed: it did not exit within the grace period after SIGTERM. */
  killed: boolean;
  /** A demo.json naming a process that is gone was removed. */
  staleRecordRemoved: boolean;
  dataDir: string;
  dataDeleted: boolean;
}

/** Stops the demo `start` recorded, if it still runs; with `deleteData`, removes $TSFLYTE_HOME/demo too. */
export async function teardownDemo(options: { home: string; deleteData?: boolean }): Promise<DemoTeardownResult> {
  const paths = demoPaths(options.home);
  const record = readDemoRecord(paths);
  const result: DemoTeardownResult = {
    stopped: false,
    pid: record?.pid ?? null,
    url: record?.url ?? null,
    killed: false,
    staleRecordRemoved: false,
    dataDir: paths.dir,
    dataDeleted: false,
  };
  const identity = record ? demoProcessIdentity(record) : "gone";
  if (record && identity === "unproven") throw unprovenError(paths, record);
  if (record && identity === "same") {
    const how = await stopProcess(record);
    if (how === "alive") {
      throw new UserError(`the demo control plane (pid ${record.pid}) is still running after SIGTERM and SIGKILL`, `stop it by hand: kill -KILL ${record.pid}`);
    }
    result.stopped = true;
    result.killed = how === "killed";
  } else if (record) {
    result.staleRecordRemoved = true;
  }
  rmSync(paths.record, { force: true });
  if (options.deleteData && existsSync(paths.dir)) {
    rmSync(paths.dir, { recursive: true, force: true });
    result.dataDeleted = true;
  }
  return result;
}

// ── The record and the config file ──

/** demo.json, or undefined when there is none. A record that cannot be read is treated as stale. */
export function readDemoRecord(paths: DemoPaths): DemoRecord | undefined {
  let text: string;
  try {
    text = readFileSync(paths.record, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new UserError(`cannot read ${paths.record}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const value = JSON.parse(text) as Partial<DemoRecord>;
    if (Number.isInteger(value.pid) && typeof value.url === "string" && Number.isInteger(value.port)) {
      return {
        pid: value.pid!,
        procStartTime: typeof value.procStartTime === "number" ? value.procStartTime : null,
        url: value.url,
        port: value.port!,
        startedAt: typeof value.startedAt === "string" ? value.startedAt : "",
      };
    }
  } catch {
    // Half-written by hand or by a full disk: no process can be proven from it.
  }
  // pid 0 is never alive, so callers treat this like any stale record and remove it.
  return { pid: 0, procStartTime: null, url: "", port: 0, startedAt: "" };
}

function writeDemoRecord(paths: DemoPaths, record: DemoRecord): void {
  writeFileAtomically(paths.record, `${JSON.stringify(record, null, 2)}\n`);
}

/** flytectl's config format, pointing at the demo. Holds no secret: the demo has no auth. */
function writeDemoConfig(paths: DemoPaths, port: number): void {
  const text = [
    "# Written by `tsflyte demo start`: points tsflyte and flytectl at the demo control plane.",
    "admin:",
    `  endpoint: dns:///${demoHost}:${port}`,
    "  insecure: true",
    "task:",
    `  project: ${demoProject}`,
    `  domain: ${demoDomain}`,
    "",
  ].join("\n");
  writeFileAtomically(paths.config, text);
}

function writeFileAtomically(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

// ── The process ──

/**
 * What can be proven about the recorded process. "same": it runs with the recorded /proc start time, so it is the
 * one `start` started. "gone": no such process, a zombie, or a pid now held by a process started at another time.
 * "unproven": a process with that pid runs, but its start time is not recorded or cannot be read, so it may be any
 * process that was given the pid later.
 */
export type DemoProcessIdentity = "same" | "gone" | "unproven";

export function demoProcessIdentity(record: DemoRecord): DemoProcessIdentity {
  if (!Number.isInteger(record.pid) || record.pid <= 0) return "gone";
  try {
    process.kill(record.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return "gone";
  }
  const proc = readProcStat(record.pid);
  if (!proc) return "unproven";
  if (proc.state === "Z" || proc.state === "X") return "gone";
  if (record.procStartTime === null) return "unproven";
  return proc.startTicks === record.procStartTime ? "same" : "gone";
}

/** Whether the recorded demo may still run: proven to, or a process holds its pid that cannot be told apart from it. */
export function isDemoProcessAlive(record: DemoRecord): boolean {
  return demoProcessIdentity(record) !== "gone";
}

function unprovenError(paths: DemoPaths, record: DemoRecord): UserError {
  const why =
    record.procStartTime === null
      ? `${paths.record} records no start time for it`
      : `its start time cannot be read from /proc/${record.pid}/stat`;
  return new UserError(
    `a process with pid ${record.pid} runs, but ${why}, so tsflyte cannot prove it is the control plane \`demo start\` started (a pid is reused by later processes); it sent no signal and kept ${paths.record}`,
    `if \`ps -o pid,args -p ${record.pid}\` shows \`tsflyte serve\` with --port ${record.port}, stop it with \`kill ${record.pid}\`; then \`tsflyte demo teardown\` removes the record`,
  );
}

/** Fields 3 (state) and 22 (start time in clock ticks since boot) of /proc/<pid>/stat; undefined off Linux or when unreadable. */
function readProcStat(pid: number): { state: string; startTicks: number } | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "latin1");
    // Field 2 is the command name in parentheses and may itself hold spaces and ')'.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const startTicks = Number(fields[22 - 3]);
    return fields[0] && Number.isSafeInteger(startTicks) ? { state: fields[0], startTicks } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * SIGTERM (the server then stops its workers and closes the database), SIGKILL to its process group after the
 * grace period. Checks the start time before each signal, so a reused pid is never signalled.
 */
async function stopProcess(record: DemoRecord, child?: ChildProcess): Promise<"stopped" | "killed" | "alive"> {
  if (!signalIfSame(record, record.pid, "SIGTERM", child)) return "stopped";
  if (await waitForExit(record, stopGraceMs, child)) return "stopped";
  // The group: workers it started share it, and must not outlive it.
  signalIfSame(record, -record.pid, "SIGKILL", child);
  return (await waitForExit(record, killWaitMs, child)) ? "killed" : "alive";
}

/**
 * Whether the recorded process is proven to be the demo: by its start time, or, for the child this process spawned
 * and has not seen exit, by being that child (its pid cannot be reused before it is reaped).
 */
function isProvenDemo(record: DemoRecord, child?: ChildProcess): boolean {
  if (child && child.pid === record.pid) return child.exitCode === null && child.signalCode === null;
  return demoProcessIdentity(record) === "same";
}

function signalIfSame(record: DemoRecord, target: number, signal: NodeJS.Signals, child?: ChildProcess): boolean {
  if (!isProvenDemo(record, child)) return false;
  try {
    process.kill(target, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
    if ((e as NodeJS.ErrnoException).code === "EPERM") {
      throw new UserError(`not allowed to stop the demo control plane (pid ${record.pid})`, "run teardown as the user who ran `tsflyte demo start`");
    }
    throw e;
  }
}

async function waitForExit(record: DemoRecord, timeoutMs: number, child?: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isProvenDemo(record, child)) return true;
    await sleep(50);
  }
  return !isProvenDemo(record, child);
}

/** Refuses a port something else listens on, before a server is spawned only to fail on it. */
async function ensurePortFree(port: number): Promise<void> {
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const probe = createServer();
    probe.once("error", (e: NodeJS.ErrnoException) => resolve(e));
    probe.listen(port, demoHost, () => probe.close(() => resolve(undefined)));
  });
  if (!error) return;
  if (error.code === "EADDRINUSE") {
    const what = (await isHealthy(`http://${demoHost}:${port}`))
      ? "another tsflyte control plane (not one `tsflyte demo start` recorded) listens there"
      : "another program listens there";
    throw new UserError(`cannot start the demo on ${demoHost}:${port}: the port is in use; ${what}`, "stop what holds the port, then run `tsflyte demo start` again");
  }
  if (error.code === "EACCES") throw new UserError(`cannot start the demo on ${demoHost}:${port}: permission denied`, "use a port above 1023");
  throw new UserError(`cannot start the demo on ${demoHost}:${port}: ${error.code ?? error.message}`);
}

function logTail(file: string, from: number, lines = 20): string {
  let text = "";
  try {
    text = readFileSync(file).subarray(from).toString("utf8");
  } catch {
    return "  (the log could not be read)";
  }
  const tail = text.trimEnd().split("\n").slice(-lines);
  return tail.length && tail[0] !== "" ? tail.map((l) => `  ${l}`).join("\n") : "  (the log is empty)";
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ── The HTTP API ──

async function isHealthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthcheck`, { signal: AbortSignal.timeout(requestTimeoutMs) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { Accept: "application/json" }, signal: AbortSignal.timeout(requestTimeoutMs) });
  const text = await res.text();
  if (!res.ok) {
    let message = text.slice(0, 200);
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // Not the API's JSON error body: show what came back.
    }
    throw new Error(`GET ${new URL(url).pathname} answered ${res.status}: ${message}`);
  }
  return JSON.parse(text) as T;
}

/** Executions by phase: the API's counts endpoint. */
async function countExecutions(url: string, project: string, domain: string): Promise<Record<string, number>> {
  const body = await getJson<{ execution_counts?: { phase: string; count: string | number }[] }>(
    `${url}/api/v1/count/executions/${encodeURIComponent(project)}/${encodeURIComponent(domain)}`,
  );
  const counts: Record<string, number> = {};
  for (const { phase, count } of body.execution_counts ?? []) counts[phase] = Number(count);
  return counts;
}

/** Distinct registered names, page by page (FlyteAdmin's NamedEntityIdentifierList). */
async function countNames(url: string, resource: "task_ids" | "workflow_ids" | "launch_plan_ids", project: string, domain: string): Promise<number> {
  let count = 0;
  let token = "";
  for (let page = 0; page < 100; page++) {
    const query = new URLSearchParams({ limit: "1000", ...(token ? { token } : {}) });
    const body = await getJson<{ entities?: unknown[]; token?: string }>(
      `${url}/api/v1/${resource}/${encodeURIComponent(project)}/${encodeURIComponent(domain)}?${query}`,
    );
    count += body.entities?.length ?? 0;
    token = body.token ?? "";
    if (!token) break;
  }
  return count;
}
