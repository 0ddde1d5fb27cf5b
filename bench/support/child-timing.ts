// Shared by the benchmarks that time child processes: spawn to exit checked after the clock stops, interleaved rounds, the CLIs measured, the statistics.
// Never asserts a timing, never builds the CLI, and never writes into the repository: what it generates goes in the caller's temp folder.
import { spawn } from "node:child_process";
import { cpSync, existsSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

export const projectRoot = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
const minimalFixture = join(projectRoot, "bench/fixtures/minimal-oclif");
// A child that hangs (a register against a stuck server) must end the benchmark with a message, not stall it.
const killAfterMs = 180_000;

export interface Subject {
  label: string;
  /** Arguments to this node binary. */
  args: string[];
  /** Checked on every run after the clock stops, so a command that fails fast cannot look fast. */
  expect: RegExp;
  /** Default: the repository. */
  cwd?: string;
  /** The child's whole environment; default: this process's. */
  env?: NodeJS.ProcessEnv;
}

export interface Timed {
  ms: number;
  stdout: string;
}

/** Spawn to exit, in milliseconds; exit code and output are checked after the clock stops, so the check costs nothing. */
export function timeProcess(subject: Subject): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, subject.args, { cwd: subject.cwd ?? projectRoot, env: subject.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let ms = 0;
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    // `exit` comes before the pipes are drained: the clock stops there, not at `close`.
    child.on("exit", () => (ms = performance.now() - start));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 || !subject.expect.test(stdout)) {
        const how = signal ? `was killed (${signal}${signal === "SIGKILL" ? `, over ${killAfterMs / 1000} s` : ""})` : `exited ${code}`;
        reject(new Error(`benchmark check failed: ${subject.label} ${how}, stdout ${JSON.stringify(stdout.slice(-2000))}, stderr ${JSON.stringify(stderr.slice(-2000))}`));
      } else resolve({ ms, stdout });
    });
  });
}

/**
 * Milliseconds per subject label: one untimed warm-up round (disk cache, transpile caches), then `rounds` rounds that
 * each run every subject once, the order rotated by one per round, so a slow moment of the machine falls on all alike.
 */
export async function timeInRounds(subjects: Subject[], rounds: number): Promise<Map<string, number[]>> {
  for (const s of subjects) await timeProcess(s);
  const times = new Map(subjects.map((s) => [s.label, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < subjects.length; i++) {
      const s = subjects[(i + round) % subjects.length];
      times.get(s.label)!.push((await timeProcess(s)).ms);
    }
  }
  return times;
}

/**
 * A copy of the minimal CLI in `dir`, reaching the repository's node_modules through a symlink, with or without an
 * oclif.manifest.json made the way `oclif manifest` makes one. A copy, so the fixture folder never gains a generated file.
 */
export async function minimalCli(dir: string, withManifest: boolean): Promise<string> {
  const root = join(dir, withManifest ? "minimal-oclif-manifest" : "minimal-oclif");
  cpSync(minimalFixture, root, { recursive: true });
  symlinkSync(join(projectRoot, "node_modules"), join(root, "node_modules"), "dir");
  if (withManifest) {
    // Loaded here: a benchmark that only wants the statistics should not carry oclif in its own process.
    const { Plugin } = await import("@oclif/core");
    const plugin = new Plugin({ root, type: "core", ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true });
    await plugin.load();
    writeFileSync(join(root, "oclif.manifest.json"), JSON.stringify(plugin.manifest, null, 2));
  }
  return join(root, "bin/run.js");
}

/** Files under `folder` changed after `since` (ms since the epoch), newest first. */
function changedSince(folder: string, since: number): { path: string; mtimeMs: number }[] {
  const changed: { path: string; mtimeMs: number }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (statSync(path).mtimeMs > since) changed.push({ path, mtimeMs: statSync(path).mtimeMs });
    }
  };
  walk(folder);
  return changed.sort((a, b) => b.mtimeMs - a.mtimeMs);
}

/**
 * False, with the reason printed, when one of `built` (paths in the repository) is missing: the benchmark never builds.
 * A build older than a source file is measured all the same, with a warning, since another session may be editing src/.
 */
export function checkBuild(built: string[]): boolean {
  const paths = built.map((p) => join(projectRoot, p));
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length) {
    console.log(`the CLI is not built (missing ${missing.map((p) => relative(projectRoot, p)).join(", ")}): run \`npm run build\` first`);
    return false;
  }
  const buildTime = Math.min(...paths.map((p) => statSync(p).mtimeMs));
  const changed = changedSince(join(projectRoot, "src"), buildTime);
  if (changed.length) {
    const names = changed.slice(0, 3).map((c) => relative(projectRoot, c.path)).join(", ");
    console.log(`warning: ${changed.length} source file(s) changed after the build (${names}${changed.length > 3 ? ", …" : ""}); the build measured may be stale`);
  }
  return true;
}

/** The mean of the middle two for an even count: the rounds are even, and either middle alone would lean one way. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile: always a time that was measured. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Left-aligned first column, right-aligned numbers, a dashed rule under the header. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

export const loadAverage = () => loadavg().map((l) => l.toFixed(2)).join(" ");

/** Printed first: on a shared machine the load says how far to trust the numbers that follow. */
export function describeMachine(): string {
  return `node ${process.version}, ${cpus().length} CPUs; this machine is shared and noisy — loadavg at start: ${loadAverage()}`;
}
