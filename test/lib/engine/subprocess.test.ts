// The subprocess runner on real processes: attempts built from compiled TaskTemplates run on warm workers and cold
// tsflyte-execute processes through the task container contract, with a real file:// blob store in a temp folder.
// Never asserts timings (bench/workers.ts measures them); never touches the real home.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { toBinary } from "@bufbuild/protobuf";
import { compileProject } from "../../../src/lib/compiler/compile.js";
import { LiteralMapSchema } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import type { TaskTemplate } from "../../../src/lib/idl/gen/flyteidl/core/tasks_pb.js";
import { SubprocessRunner, substituteTemplateVars } from "../../../src/lib/engine/subprocess.js";
import { WorkerPool } from "../../../src/lib/engine/worker-pool.js";
import type { AttemptOutcome, TaskAttempt } from "../../../src/lib/engine/runner.js";
import { FileBlobStore } from "../../../src/lib/storage/file-store.js";
import { attemptOutputPrefix, nodeInputsUri, rawOutputPrefix } from "../../../src/lib/storage/layout.js";
import { t, type AnyType } from "../../../src/lib/types/types.js";
import { contractArgs, fixtureDir, lineOf, literalMap, removeTempDirs, sandbox, tempDir, writeInputs, type Sandbox } from "../execute/support.js";

const templates = new Map<string, TaskTemplate>();
let bundledTemplates = new Map<string, TaskTemplate>();
let bundleStore = "";
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  const compiled = await compileProject({ paths: [join(fixtureDir, "tasks.ts")], projectRoot: fixtureDir, version: "v1", image: "test:1" });
  for (const task of compiled.tasks) templates.set(task.name.replace(/^tasks\./, ""), task.spec.template!);
  // The same tasks registered with their code bundle uploaded to the blob store (fast registration).
  bundleStore = tempDir("tsflyte-subprocess-bundle-");
  const bundled = await compileProject({
    paths: [join(fixtureDir, "tasks.ts")],
    projectRoot: fixtureDir,
    version: "v1",
    image: "test:1",
    codeBundleUri: (bundle) => {
      writeFileSync(join(bundleStore, `${bundle.md5}.tar`), bundle.tar);
      return pathToFileURL(join(bundleStore, `${bundle.md5}.tar`)).href;
    },
  });
  bundledTemplates = new Map(bundled.tasks.map((task) => [task.name.replace(/^tasks\./, ""), task.spec.template!]));
});

after(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  removeTempDirs();
});

interface Env {
  box: Sandbox;
  blobs: FileBlobStore;
}

function env(): Env {
  const box = sandbox("tsflyte-subprocess-");
  const blobs = new FileBlobStore(box.data);
  cleanups.push(() => blobs.close());
  return { box, blobs };
}

function runner(box: Sandbox, options: { size?: number; mode?: "warm" | "cold"; cwd?: string } = {}): SubprocessRunner {
  const made = new SubprocessRunner({ size: options.size ?? 1, mode: options.mode ?? "warm", cwd: options.cwd ?? fixtureDir, env: box.env });
  cleanups.push(() => made.close());
  return made;
}

let executions = 0;

/** An attempt as the engine builds one: inputs.pb queued (not yet on disk), Flyte's layout, the registered template. */
function attempt(
  e: Env,
  taskName: string,
  values: Record<string, [AnyType, unknown]>,
  options: { signal?: AbortSignal; template?: TaskTemplate | null; nodeId?: string; settings?: TaskAttempt["settings"] } = {},
): TaskAttempt {
  const key = { project: "p", domain: "d", name: `e${executions++}` };
  const nodeId = options.nodeId ?? "n0";
  const inputs = literalMap(values);
  const inputsUri = nodeInputsUri(e.blobs.baseUri, key, nodeId);
  e.blobs.put(inputsUri, toBinary(LiteralMapSchema, inputs));
  const template = options.template === null ? undefined : (options.template ?? templates.get(taskName));
  return {
    execution: key,
    nodeId,
    attempt: 0,
    task: { name: `tasks.${taskName}`, template },
    inputs,
    inputsUri,
    outputPrefix: attemptOutputPrefix(e.blobs.baseUri, key, nodeId, 0),
    rawOutputPrefix: rawOutputPrefix(e.blobs.baseUri, key, nodeId, 0),
    blobs: e.blobs,
    signal: options.signal ?? new AbortController().signal,
    interruptible: false,
    taskId: { project: "p", domain: "d", name: `tasks.${taskName}`, version: "v1" },
    ...(options.settings ? { settings: options.settings } : {}),
  };
}

function output(outcome: AttemptOutcome): string {
  assert.ok(outcome.ok, outcome.ok ? "" : `${outcome.error.code}: ${outcome.error.message}`);
  return t.string().fromLiteral(outcome.outputs.literals.o0, "o0");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A dead child of a parent that is gone may linger as a zombie until init reaps it.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const name = t.string();

for (const mode of ["warm", "cold"] as const) {
  describe(`subprocess runner (${mode})`, { concurrency: true }, () => {
    test("runs a compiled task: outputs, its context and the FLYTE_* environment, its logs", async () => {
      const e = env();
      const whoami = attempt(e, "whoami", { tag: [name, mode] }, { nodeId: "n7" });
      const outcome = await runner(e.box, { mode }).run(whoami);
      const seen = JSON.parse(output(outcome));
      assert.equal(seen.executionId, whoami.execution.name);
      assert.equal(seen.nodeId, "n7");
      assert.deepEqual(seen.env, { project: "p", taskName: "tasks.whoami", taskVersion: "v1", attempt: "0", fromTemplate: "yes" });
      assert.notEqual(seen.pid, process.pid);
      assert.match(outcome.logs, new RegExp(`log line of ${mode}`));
      assert.match(outcome.logs, new RegExp(`warning of ${mode}`));
    });

    test("the execution's envs are in the task's process.env, beat the template's, and leave with the attempt", async () => {
      const e = env();
      const run = runner(e.box, { mode });
      const settings = { envs: { FIXTURE_FROM_TEMPLATE: "execution", FIXTURE_FROM_EXECUTION: "1" } };
      const first = JSON.parse(output(await run.run(attempt(e, "whoami", { tag: [name, mode] }, { settings }))));
      assert.equal(first.env.fromTemplate, "execution");
      assert.equal(first.env.fromExecution, "1");
      // The next attempt on the same worker belongs to an execution without envs.
      const next = JSON.parse(output(await run.run(attempt(e, "whoami", { tag: [name, mode] }))));
      assert.equal(next.env.fromTemplate, "yes");
      assert.equal(next.env.fromExecution, undefined);
      if (mode === "warm") assert.equal(next.pid, first.pid, "the same warm worker ran both");
    });

    test("a user error comes back from error.pb: USER, recoverable, with the .ts line", async () => {
      const e = env();
      const outcome = await runner(e.box, { mode }).run(attempt(e, "fails", { why: [name, mode] }));
      assert.equal(outcome.ok, false);
      if (outcome.ok) return;
      assert.deepEqual([outcome.error.kind, outcome.error.recoverable, outcome.error.code, outcome.error.message], ["USER", true, "Error", `failed because ${mode}`]);
      assert.ok(outcome.error.stack?.includes(`tasks.ts:${lineOf("tasks.ts", "failed because")}:`), outcome.error.stack);
    });

    test("an aborted attempt kills its worker and resolves at once", async () => {
      const e = env();
      const started = join(e.box.root, "started");
      const stop = new AbortController();
      const running = runner(e.box, { mode }).run(attempt(e, "sleeps", { ms: [t.int(), 600_000], started: [name, started] }, { signal: stop.signal }));
      await until("the task started", () => existsSync(started) && readFileSync(started, "utf8") !== "");
      const pid = Number(readFileSync(started, "utf8"));
      stop.abort();
      const outcome = await running;
      assert.equal(outcome.ok, false);
      if (!outcome.ok) assert.deepEqual([outcome.error.kind, outcome.error.code, outcome.error.recoverable], ["SYSTEM", "Aborted", false]);
      await until(`worker ${pid} is gone`, () => !isAlive(pid));
    });
  });
}

describe("subprocess runner (warm workers)", { concurrency: true }, () => {
  test("the pool limit queues attempts beyond it, first come first served", async () => {
    const e = env();
    const one = runner(e.box, { size: 1 });
    const outcomes = await Promise.all(
      [0, 1, 2].map((i) => one.run(attempt(e, "sleeps", { ms: [t.int(), 150], started: [name, ""] }, { nodeId: `n${i}` }))),
    );
    const spans = outcomes.map((o) => JSON.parse(output(o)) as { start: number; end: number; pid: number });
    for (let i = 1; i < spans.length; i++) {
      assert.ok(spans[i].start >= spans[i - 1].end, `attempt ${i} started before attempt ${i - 1} ended: ${JSON.stringify(spans)}`);
    }
    assert.equal(new Set(spans.map((s) => s.pid)).size, 1, "one warm worker ran them all");
  });

  test("logs are captured per attempt, also when attempts run side by side", async () => {
    const e = env();
    const two = runner(e.box, { size: 2 });
    const tags = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"];
    const outcomes = await Promise.all(tags.map((tag, i) => two.run(attempt(e, "whoami", { tag: [name, tag] }, { nodeId: `n${i}` }))));
    outcomes.forEach((outcome, i) => {
      assert.match(outcome.logs, new RegExp(`log line of ${tags[i]}\\b`));
      assert.match(outcome.logs, new RegExp(`warning of ${tags[i]}\\b`));
      for (const other of tags.filter((_, j) => j !== i)) assert.doesNotMatch(outcome.logs, new RegExp(other), `attempt ${tags[i]} has ${other}'s logs`);
    });
  });

  test("process.exit in a task is a SYSTEM failure and its worker is replaced", async () => {
    const e = env();
    const one = runner(e.box, { size: 1 });
    const before = JSON.parse(output(await one.run(attempt(e, "whoami", { tag: [name, "before"] }, { nodeId: "n0" })))).pid as number;
    const crashed = await one.run(attempt(e, "exits", { code: [t.int(), 7] }, { nodeId: "n1" }));
    assert.equal(crashed.ok, false);
    if (!crashed.ok) assert.deepEqual([crashed.error.kind, crashed.error.recoverable, crashed.error.code], ["SYSTEM", true, "TaskExited"]);
    assert.match(crashed.logs, /about to exit/);
    await until(`the crashed worker ${before} is gone`, () => !isAlive(before));
    const after = JSON.parse(output(await one.run(attempt(e, "whoami", { tag: [name, "after"] }, { nodeId: "n2" })))).pid as number;
    assert.notEqual(after, before);
    assert.deepEqual(one.pool.workerPids(), [after]);
  });

  test("a worker killed from outside mid-attempt is a recoverable SYSTEM failure (WorkerDied)", async () => {
    const e = env();
    const started = join(e.box.root, "started");
    const one = runner(e.box, { size: 1 });
    const running = one.run(attempt(e, "sleeps", { ms: [t.int(), 600_000], started: [name, started] }));
    await until("the task started", () => existsSync(started) && readFileSync(started, "utf8") !== "");
    process.kill(Number(readFileSync(started, "utf8")), "SIGKILL");
    const outcome = await running;
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.deepEqual([outcome.error.kind, outcome.error.recoverable, outcome.error.code], ["SYSTEM", true, "WorkerDied"]);
    assert.match(outcome.error.message, /killed by SIGKILL/);
    // The next attempt gets a fresh worker.
    assert.match(output(await one.run(attempt(e, "greet", { name: [name, "again"] }, { nodeId: "n1" }))), /hello again!/);
  });

  test("a template registered with its code bundle runs from the bundle, with no code in the working folder", async () => {
    const e = env();
    const cwd = tempDir("tsflyte-subprocess-cwd-");
    const fromBundle = runner(e.box, { size: 1, cwd });
    const template = bundledTemplates.get("greet")!;
    const args = template.target.case === "container" ? template.target.value.args : [];
    assert.ok(args.includes("--code-bundle"), args.join(" "));
    assert.equal(output(await fromBundle.run(attempt(e, "greet", { name: [name, "bundle"] }, { template }))), "hello bundle!");
  });

  test("a task without a template is a clear, permanent SYSTEM error", async () => {
    const e = env();
    const outcome = await runner(e.box).run(attempt(e, "greet", { name: [name, "x"] }, { template: null }));
    assert.equal(outcome.ok, false);
    if (!outcome.ok) {
      assert.deepEqual([outcome.error.kind, outcome.error.recoverable, outcome.error.code], ["SYSTEM", false, "NoTaskContainer"]);
      assert.match(outcome.error.message, /tasks\.greet: it has no registered TaskTemplate/);
    }
  });

  test("workers die with their parent, even one killed with SIGKILL", async () => {
    const box = sandbox("tsflyte-subprocess-parent-");
    const at = writeInputs(box, "n0", { ms: [t.int(), 600_000], started: [name, ""] });
    const parent = spawn(process.execPath, ["--import", "tsx", join(fixtureDir, "pool-parent.ts"), fixtureDir, ...contractArgs(at, "tasks.ts", "sleeps")], {
      cwd: fixtureDir,
      env: { ...process.env, ...box.env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let text = "";
      parent.stdout.on("data", (b: Buffer) => {
        text += b.toString();
        if (text.includes("\n")) resolve(text.split("\n")[0]);
      });
      parent.on("exit", (code) => reject(new Error(`the parent exited early (${code})`)));
    });
    const pids = JSON.parse(line) as { warm: number[]; cold: number[] };
    assert.equal(pids.warm.length, 2);
    assert.equal(pids.cold.length, 1);
    for (const pid of [...pids.warm, ...pids.cold]) assert.ok(isAlive(pid), `worker ${pid} runs before its parent dies`);
    parent.kill("SIGKILL");
    for (const pid of [...pids.warm, ...pids.cold]) await until(`worker ${pid} is gone after its parent`, () => !isAlive(pid));
  });
});

describe("worker pool", () => {
  test("close() kills every worker and fails what waits", async () => {
    const box = sandbox("tsflyte-pool-");
    const pool = new WorkerPool({ size: 2, cwd: fixtureDir, mode: "warm", env: box.env });
    await pool.warmUp();
    const pids = pool.workerPids();
    assert.equal(pids.length, 2);
    await pool.close();
    for (const pid of pids) assert.equal(isAlive(pid), false, `worker ${pid} outlived close()`);
    const late = await pool.run({ args: [], env: {} });
    assert.match(late.died?.error ?? "", /closed/);
  });
});

test("FlytePropeller's template variables are filled in, case-insensitively", () => {
  const at = { inputsUri: "file:///d/n0/data/inputs.pb", outputPrefix: "file:///d/n0/data/1", rawOutputPrefix: "file:///r/n0/1" };
  const args = ["{{.input}}", "{{ .OutputPrefix }}", "{{.rawOutputDataPrefix}}", "{{.checkpointOutputPrefix}}", "[{{.prevCheckpointPrefix}}]", "{{.inputPrefix}}", "{{.inputs.x}}"];
  assert.deepEqual(
    args.map((a) => substituteTemplateVars(a, at)),
    ["file:///d/n0/data/inputs.pb", "file:///d/n0/data/1", "file:///r/n0/1", "file:///d/n0/data/1/_flytecheckpoints", "[]", "file:///d/n0/data", "{{.inputs.x}}"],
  );
});
