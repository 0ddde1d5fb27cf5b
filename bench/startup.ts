// Benchmarks start-up: wall time of `tsflyte --version` and `tsflyte run` on a one-task workflow, beside `node -e 0` and
// a minimal oclif CLI, as child processes interleaved in the same run. Never asserts timings and never builds the CLI.
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Plugin } from "@oclif/core";

const goalRatio = 2;
const rounds = 12;
const projectRoot = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const fixture = join(projectRoot, "bench/fixtures/minimal-oclif");

interface Subject {
  label: string;
  args: string[];
  /** Checked on every run, so a command that fails fast cannot look fast. */
  expect: RegExp;
  env?: NodeJS.ProcessEnv;
}

/** Spawn to exit, in milliseconds; the output is checked after the clock stops. */
function timeProcess(subject: Subject): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, subject.args, { cwd: projectRoot, env: { ...process.env, ...subject.env }, stdio: ["ignore", "pipe", "pipe"] });
    let ms = 0;
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("exit", () => (ms = performance.now() - start));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0 || !subject.expect.test(stdout)) {
        reject(new Error(`benchmark check failed: ${subject.label} exited ${code}, stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)}`));
      } else resolve(ms);
    });
  });
}

/**
 * A copy of the minimal CLI in `dir`, reaching the repository's node_modules through a symlink, with or without an
 * oclif.manifest.json made the way `oclif manifest` makes one. Copies, so the fixture folder never gains a generated file.
 */
async function minimalCli(dir: string, withManifest: boolean): Promise<string> {
  const root = join(dir, withManifest ? "minimal-oclif-manifest" : "minimal-oclif");
  cpSync(fixture, root, { recursive: true });
  symlinkSync(join(projectRoot, "node_modules"), join(root, "node_modules"), "dir");
  if (withManifest) {
    const plugin = new Plugin({ root, type: "core", ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true });
    await plugin.load();
    writeFileSync(join(root, "oclif.manifest.json"), JSON.stringify(plugin.manifest, null, 2));
  }
  return join(root, "bin/run.js");
}

/** The CLI must be built: dist/ and the manifest; a build older than the sources is measured, with a warning. */
function checkBuild(): boolean {
  const dist = join(projectRoot, "dist/commands/run.js");
  const manifest = join(projectRoot, "oclif.manifest.json");
  const missing = [dist, manifest].filter((p) => !existsSync(p));
  if (missing.length) {
    console.log(`the CLI is not built (missing ${missing.map((p) => p.slice(projectRoot.length + 1)).join(", ")}): run \`npm run build\` first`);
    return false;
  }
  const source = join(projectRoot, "src/commands/run.ts");
  if (statSync(source).mtimeMs > statSync(dist).mtimeMs) console.log("warning: src/commands/run.ts is newer than dist/; the build measured may be stale");
  return true;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function printTable(subjects: Subject[], times: Map<string, number[]>, reference: string): void {
  const header = ["command", "median ms", "min ms", "ratio"];
  const ref = median(times.get(reference)!);
  const cells = subjects.map((s) => {
    const ms = times.get(s.label)!;
    return [s.label, median(ms).toFixed(0), Math.min(...ms).toFixed(0), `${(median(ms) / ref).toFixed(2)}x`];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const c of cells) console.log(line(c));
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");
console.log(`goal: \`tsflyte run\` of a one-task workflow within ${goalRatio}x of a minimal oclif CLI's start-up`);
console.log(`node ${process.version}, ${cpus().length} CPUs; this machine is shared and noisy — loadavg at start: ${load()}`);
if (!checkBuild()) {
  process.exitCode = 1;
} else {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-bench-startup-"));
  try {
    const home = join(dir, "home");
    const minimalPlain = await minimalCli(dir, false);
    const minimalManifest = await minimalCli(dir, true);
    const tsflyte = join(projectRoot, "bin/run.js");
    const runArgs = [tsflyte, "run", "examples/hello.ts", "hello", "--who", "bench"];
    const subjects: Subject[] = [
      { label: "node -e 0", args: ["-e", "0"], expect: /^$/ },
      { label: "minimal oclif hello (no manifest)", args: [minimalPlain, "hello"], expect: /^hello$/m },
      { label: "minimal oclif hello (manifest)", args: [minimalManifest, "hello"], expect: /^hello$/m },
      { label: "tsflyte --version", args: [tsflyte, "--version"], expect: /^tsflyte\/\d/ },
      { label: "tsflyte run examples/hello.ts hello", args: runArgs, expect: /SUCCEEDED[\s\S]*hello, bench/, env: { TSFLYTE_HOME: home } },
    ];
    console.log(`wall time from spawn to exit of each child process (${process.execPath}), cwd ${projectRoot}`);
    console.log(`${rounds} rounds after one untimed warm-up round (which also creates the run's TSFLYTE_HOME in ${dir});`);
    console.log("each round runs every command once, in an order rotated by one per round; every run's exit code and output checked");
    console.log("ratio = median / median of the minimal oclif CLI with a manifest (tsflyte ships one: oclif.manifest.json from `npm run build`)");
    console.log(`tsflyte run: ${runArgs.slice(1).join(" ")} (a workflow of one task; history in a SQLite file, data in file://)`);
    console.log("");

    for (const s of subjects) await timeProcess(s);
    const times = new Map(subjects.map((s) => [s.label, [] as number[]]));
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < subjects.length; i++) {
        const s = subjects[(i + round) % subjects.length];
        times.get(s.label)!.push(await timeProcess(s));
      }
    }

    const reference = "minimal oclif hello (manifest)";
    printTable(subjects, times, reference);
    console.log("");
    const m = (label: string) => median(times.get(label)!);
    const nodeMs = m("node -e 0");
    const run = m("tsflyte run examples/hello.ts hello");
    const ratio = run / m(reference);
    const byMin = Math.min(...times.get("tsflyte run examples/hello.ts hello")!) / Math.min(...times.get(reference)!);
    console.log(`tsflyte run / minimal oclif (manifest): ${ratio.toFixed(2)}x by median, ${byMin.toFixed(2)}x by min — goal ${ratio <= goalRatio ? "met" : "missed"}`);
    console.log(`tsflyte run / minimal oclif (no manifest): ${(run / m("minimal oclif hello (no manifest)")).toFixed(2)}x`);
    console.log(`tsflyte --version / minimal oclif (manifest): ${(m("tsflyte --version") / m(reference)).toFixed(2)}x`);
    console.log(
      `above node -e 0 (${nodeMs.toFixed(0)} ms): minimal oclif (manifest) +${(m(reference) - nodeMs).toFixed(0)} ms, ` +
        `tsflyte --version +${(m("tsflyte --version") - nodeMs).toFixed(0)} ms, tsflyte run +${(run - nodeMs).toFixed(0)} ms`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log("");
console.log(`loadavg at end: ${load()}`);
