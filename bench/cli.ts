// Benchmarks the remote CLI on a real `tsflyte serve`: `get execution` and `--help` beside a minimal oclif CLI, and `register` of 100 generated workflows cold and warm beside `compile`.
// Never asserts timings, never builds the CLI, and never lets a child process see the user's home, config or endpoint.
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Plugin } from "@oclif/core";

const goalGetRatio = 1.3;
const goalRegisterSeconds = 10;
const rounds = 20;
const registerRounds = 3;
const workflows = 100;
// A register that hangs must end the benchmark with a message, not stall it.
const commandTimeoutMs = 180_000;

const projectRoot = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const tsflyte = join(projectRoot, "bin/run.js");
const minimalFixture = join(projectRoot, "bench/fixtures/minimal-oclif");

interface Subject {
  label: string;
  args: string[];
  /** Checked on every run after the clock stops, so a command that fails fast cannot look fast. */
  expect: RegExp;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

interface Timed {
  ms: number;
  stdout: string;
}

/**
 * The environment every child gets: this one without tsflyte's and flytectl's settings, so that neither the user's
 * config nor an endpoint exported in this shell decides what is measured.
 */
function childEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TSFLYTE_|FLYTECTL_)/.test(k)));
  return { ...env, HOME: home, TSFLYTE_HOME: join(home, ".tsflyte"), ...extra };
}

/** Spawn to exit, in milliseconds; exit code and output are checked after the clock stops. */
function timeProcess(subject: Subject): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, subject.args, { cwd: subject.cwd ?? projectRoot, env: subject.env, stdio: ["ignore", "pipe", "pipe"] });
    let ms = 0;
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), commandTimeoutMs);
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("exit", () => (ms = performance.now() - start));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 || !subject.expect.test(stdout)) {
        const how = signal ? `was killed (${signal}${signal === "SIGKILL" ? `, over ${commandTimeoutMs / 1000} s` : ""})` : `exited ${code}`;
        reject(new Error(`benchmark check failed: ${subject.label} ${how}, stdout ${JSON.stringify(stdout.slice(-2000))}, stderr ${JSON.stringify(stderr.slice(-2000))}`));
      } else resolve({ ms, stdout });
    });
  });
}

interface Serve {
  url: string;
  /** The last lines it printed: it logs a line per request. */
  tail(): string;
  stop(): Promise<void>;
}

/** `tsflyte serve --port 0` as a child process, resolved once it prints the address it listens on. */
function startServe(env: NodeJS.ProcessEnv): Promise<Serve> {
  const child = spawn(process.execPath, [tsflyte, "serve", "--port", "0"], { cwd: projectRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let partial = "";
  const keep = (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split("\n");
    partial = parts.pop()!;
    if (lines.push(...parts) > 400) lines.splice(0, lines.length - 200);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const tail = () => [...lines.slice(-30), partial].join("\n");
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`benchmark check failed: tsflyte serve did not listen within 30 s:\n${tail()}`));
    }, 30_000);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`benchmark check failed: tsflyte serve exited ${code ?? signal} before listening:\n${tail()}`));
    });
    child.stdout.on("data", () => {
      const m = /listening on (http:\/\/\S+)/.exec(lines.join("\n"));
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1],
        tail,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
          child.kill("SIGTERM");
          await exited;
          clearTimeout(kill);
        },
      });
    });
  });
}

/**
 * A copy of the minimal CLI reaching the repository's node_modules through a symlink, with an oclif.manifest.json
 * made as `oclif manifest` makes one (tsflyte ships one too). A copy, so the fixture folder never gains a generated file.
 */
async function minimalCli(dir: string): Promise<string> {
  const root = join(dir, "minimal-oclif");
  cpSync(minimalFixture, root, { recursive: true });
  symlinkSync(join(projectRoot, "node_modules"), join(root, "node_modules"), "dir");
  const plugin = new Plugin({ root, type: "core", ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true });
  await plugin.load();
  writeFileSync(join(root, "oclif.manifest.json"), JSON.stringify(plugin.manifest, null, 2));
  return join(root, "bin/run.js");
}

/** One module: a workflow chaining two tasks (even `i`) or three (odd `i`), written as a user would. */
function workflowModule(i: number): string {
  const three = i % 2 === 1;
  const name = `flow${String(i).padStart(3, "0")}`;
  const body = three ? "label({ x: shift({ x: scale({ x }) }) })" : "label({ x: scale({ x }) })";
  return [
    `// Generated by bench/cli.ts: workflow ${i + 1} of ${workflows}.`,
    `import { task, workflow, t } from "tsflyte";`,
    "",
    `export const scale = task({ inputs: { x: t.int() }, outputs: t.int() }, async ({ x }) => x * ${i + 2});`,
    ...(three ? [`export const shift = task({ inputs: { x: t.int() }, outputs: t.int() }, async ({ x }) => x + ${i});`] : []),
    `export const label = task({ inputs: { x: t.int() }, outputs: t.string() }, async ({ x }) => "${name}: " + x);`,
    "",
    `export const ${name} = workflow({ inputs: { x: t.int() }, outputs: t.string() }, ({ x }) => ${body});`,
    "",
  ].join("\n");
}

/**
 * A project folder as a user has one: package.json, node_modules with tsflyte in it (a symlink to this repository,
 * so the SDK is the built one the CLI runs), and the workflow modules under `workflows/`. Returns the entity count.
 * Its own node_modules, not a link to the repository's: the transpile cache lands in it and is removed with it.
 */
function workflowProject(root: string): number {
  mkdirSync(join(root, "workflows"), { recursive: true });
  mkdirSync(join(root, "node_modules"));
  symlinkSync(projectRoot, join(root, "node_modules/tsflyte"), "dir");
  writeFileSync(join(root, "package.json"), `${JSON.stringify({ name: "bench-flows", private: true, type: "module" }, null, 2)}\n`);
  let tasks = 0;
  for (let i = 0; i < workflows; i++) {
    writeFileSync(join(root, "workflows", `flow${String(i).padStart(3, "0")}.ts`), workflowModule(i));
    tasks += i % 2 === 1 ? 3 : 2;
  }
  // Each workflow also gets its default launch plan.
  return tasks + 2 * workflows;
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

/** The CLI must be built: dist/ and the manifest; a build older than the sources is measured, with a warning. */
function checkBuild(): boolean {
  const built = ["dist/commands/get/execution.js", "dist/commands/register.js", "dist/commands/compile.js", "oclif.manifest.json"].map((p) => join(projectRoot, p));
  const missing = built.filter((p) => !existsSync(p));
  if (missing.length) {
    console.log(`the CLI is not built (missing ${missing.map((p) => relative(projectRoot, p)).join(", ")}): run \`npm run build\` first`);
    return false;
  }
  const buildTime = Math.min(...built.map((p) => statSync(p).mtimeMs));
  const changed = changedSince(join(projectRoot, "src"), buildTime);
  if (changed.length) {
    const names = changed.slice(0, 3).map((c) => relative(projectRoot, c.path)).join(", ");
    console.log(`warning: ${changed.length} source file(s) changed after the build (${names}${changed.length > 3 ? ", …" : ""}); the build measured may be stale`);
  }
  return true;
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

/** Part 1: start-up of `--help` and `get execution` beside the minimal oclif CLI, interleaved in rounds. */
async function measureStartup(dir: string, home: string, serve: Serve): Promise<void> {
  const remote = childEnv(home, { TSFLYTE_ADMIN_ENDPOINT: serve.url });
  const started = await timeProcess({
    label: "tsflyte run --remote --wait examples/hello.ts hello",
    args: [tsflyte, "run", "--remote", "--wait", "examples/hello.ts", "hello"],
    expect: /Started execution \S+[\s\S]*SUCCEEDED/,
    env: remote,
  });
  const name = /Started execution (\S+)/.exec(started.stdout)![1];
  const minimal = await minimalCli(dir);
  const subjects: Subject[] = [
    { label: "minimal oclif hello (manifest)", args: [minimal, "hello"], expect: /^hello$/m, env: childEnv(home) },
    { label: "tsflyte --help", args: [tsflyte, "--help"], expect: /USAGE[\s\S]*COMMANDS[\s\S]*register/, env: childEnv(home) },
    {
      label: "tsflyte get execution NAME -o yaml",
      args: [tsflyte, "get", "execution", name, "-o", "yaml"],
      expect: new RegExp(`name: ${name}\\n[\\s\\S]*phase: SUCCEEDED`),
      env: remote,
    },
  ];
  console.log(`execution ${name} created for \`get\` by \`tsflyte run --remote --wait examples/hello.ts hello\` (${(started.ms / 1000).toFixed(2)} s)`);
  console.log(`${rounds} rounds after one untimed warm-up round; each round runs every command once, in an order rotated by one per round`);
  console.log("ratio = median / median of the minimal oclif CLI (tsflyte ships a manifest too: oclif.manifest.json from `npm run build`)");
  console.log("");

  for (const s of subjects) await timeProcess(s);
  const times = new Map(subjects.map((s) => [s.label, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < subjects.length; i++) {
      const s = subjects[(i + round) % subjects.length];
      times.get(s.label)!.push((await timeProcess(s)).ms);
    }
  }

  const median = (label: string) => percentile(times.get(label)!, 50);
  const reference = median(subjects[0].label);
  printTable(
    ["command", "runs", "median ms", "p90 ms", "min ms", "ratio"],
    subjects.map((s) => {
      const ms = times.get(s.label)!;
      return [s.label, String(ms.length), percentile(ms, 50).toFixed(0), percentile(ms, 90).toFixed(0), Math.min(...ms).toFixed(0), `${(percentile(ms, 50) / reference).toFixed(2)}x`];
    }),
  );
  console.log("");
  const get = median(subjects[2].label) / reference;
  const getP90 = percentile(times.get(subjects[2].label)!, 90) / percentile(times.get(subjects[0].label)!, 90);
  console.log(`get/minimal: ${get.toFixed(2)}x by median (${getP90.toFixed(2)}x by p90) — goal ≤ ${goalGetRatio}x ${get <= goalGetRatio ? "met" : "missed"}`);
  console.log(`help/minimal: ${(median(subjects[1].label) / reference).toFixed(2)}x by median`);
}

interface RegisterRow {
  label: string;
  ms: number[];
  /** Compile registers nothing, so it has no rate. */
  registers: boolean;
}

/** Part 2: `register` of the generated project on a fresh project (cold) and again (warm), beside `compile`. */
async function measureRegister(dir: string, home: string, serve: Serve): Promise<void> {
  const root = join(dir, "flows");
  const entities = workflowProject(root);
  const remote = childEnv(home, { TSFLYTE_ADMIN_ENDPOINT: serve.url });
  let outputs = 0;
  const compile = (label: string): Subject => ({
    label,
    args: [tsflyte, "compile", "workflows", "--output", join(dir, `flyte-package-${outputs++}`)],
    expect: new RegExp(`Compiled ${entities} entities`),
    cwd: root,
    env: childEnv(home),
  });
  const register = (label: string, project: string): Subject => ({
    label,
    args: [tsflyte, "register", "workflows", "--image", "bench:1", "-p", project],
    expect: new RegExp(`Successfully registered ${entities} entities in ${project}/development`),
    cwd: root,
    env: remote,
  });
  // A new project is a cold server for register: nothing of this version, nor any other, is registered in it.
  const newProject = async (id: string) => {
    await timeProcess({ label: `create project ${id}`, args: [tsflyte, "create", "project", "--id", id, "--name", id], expect: /Created project/, env: remote });
    return id;
  };

  console.log(`${workflows} workflows in ${workflows} generated modules (${root}/workflows/flowNNN.ts), each a chain of 2 or 3 tasks, alternately:`);
  console.log(`${entities - 2 * workflows} tasks, ${workflows} workflows and ${workflows} default launch plans = ${entities} entities; imported as "tsflyte" through node_modules/tsflyte → ${projectRoot}`);
  console.log("cold: `register workflows --image bench:1 -p P` into a project P just created (nothing registered); warm: the same command again (same version, all there)");
  console.log("compile: `compile workflows --output OUT`, no network — how much of register is compiling");
  console.log(`first the two runs with an empty transpile cache (node_modules/.cache/tsflyte of the project), then ${registerRounds} rounds of compile, cold, warm`);
  console.log("");

  const rows: RegisterRow[] = [];
  const row = (label: string, registers: boolean) => {
    const r: RegisterRow = { label, ms: [], registers };
    rows.push(r);
    return r;
  };
  const firstCompile = row("compile, empty transpile cache", false);
  const firstRegister = row("register cold, empty transpile cache", true);
  const compiles = row("compile", false);
  const colds = row("register cold (new project)", true);
  const warms = row("register warm (same version again)", true);

  firstCompile.ms.push((await timeProcess(compile(firstCompile.label))).ms);
  rmSync(join(root, "node_modules/.cache"), { recursive: true, force: true });
  firstRegister.ms.push((await timeProcess(register(firstRegister.label, await newProject("bench-first")))).ms);
  for (let round = 0; round < registerRounds; round++) {
    compiles.ms.push((await timeProcess(compile(compiles.label))).ms);
    const project = await newProject(`bench-cold-${round}`);
    colds.ms.push((await timeProcess(register(colds.label, project))).ms);
    warms.ms.push((await timeProcess(register(warms.label, project))).ms);
  }

  printTable(
    ["command", "runs", "median s", "min s", "max s", "entities/s", "workflows/s"],
    rows.map((r) => {
      const median = percentile(r.ms, 50);
      const perSecond = (n: number) => (r.registers ? ((n / median) * 1000).toFixed(0) : "-");
      const s = (ms: number) => (ms / 1000).toFixed(2);
      return [r.label, String(r.ms.length), s(median), s(Math.min(...r.ms)), s(Math.max(...r.ms)), perSecond(entities), perSecond(workflows)];
    }),
  );
  console.log("");
  const cold = percentile(colds.ms, 50);
  const warm = percentile(warms.ms, 50);
  const compiling = percentile(compiles.ms, 50);
  console.log(`compile / register cold: ${((compiling / cold) * 100).toFixed(0)}% by median; register cold − compile: ${((cold - compiling) / 1000).toFixed(2)} s`);
  console.log(`compile / register warm: ${((compiling / warm) * 100).toFixed(0)}% by median; register warm − compile: ${((warm - compiling) / 1000).toFixed(2)} s`);
  const verdict = (ms: number) => (ms < goalRegisterSeconds * 1000 ? "met" : "missed");
  console.log(
    `${workflows} workflows registered cold in ${(cold / 1000).toFixed(2)} s by median — goal < ${goalRegisterSeconds} s ${verdict(cold)}` +
      ` (with an empty transpile cache: ${(firstRegister.ms[0] / 1000).toFixed(2)} s, ${verdict(firstRegister.ms[0])})`,
  );
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");
console.log(`goals: \`tsflyte get execution\` within ${goalGetRatio}x of a minimal oclif CLI's start-up; \`tsflyte register\` of ${workflows} workflows in under ${goalRegisterSeconds} s`);
console.log(`node ${process.version}, ${cpus().length} CPUs; this machine is shared and noisy — loadavg at start: ${load()}`);
if (!checkBuild()) {
  process.exitCode = 1;
} else {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-bench-cli-"));
  let serve: Serve | undefined;
  try {
    // One home for every child: the server keeps its SQLite file and blobs under $TSFLYTE_HOME/server.
    const home = join(dir, "home");
    mkdirSync(home);
    serve = await startServe(childEnv(home));
    console.log(`wall time from spawn to exit of each child process (${process.execPath}); every run's exit code and output checked`);
    console.log(`\`tsflyte serve --port 0\` at ${serve.url} (SQLite and file:// blobs under ${home}); HOME and TSFLYTE_HOME of every child in ${dir}`);
    console.log("");
    await measureStartup(dir, home, serve);
    console.log("");
    await measureRegister(dir, home, serve);
  } catch (e) {
    if (serve) console.log(`the server's last lines:\n${serve.tail()}`);
    throw e;
  } finally {
    await serve?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log("");
console.log(`loadavg at end: ${load()}`);
