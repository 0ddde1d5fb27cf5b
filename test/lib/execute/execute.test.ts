// Acceptance for the task container contract: the BUILT bin/tsflyte-execute, run as FlytePropeller runs a pod, reads
// a binary LiteralMap and writes exactly one of outputs.pb and error.pb (exit 0), or exits 2 on a bad command line.
// Never touches the real home: each test has its own temp folder for the blob store, the home and the cache.
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { after, describe, test } from "node:test";
import { z } from "zod";
import { buildCodeBundle } from "../../../src/lib/compiler/bundle.js";
import { t } from "../../../src/lib/types/types.js";
import {
  contractArgs,
  fixtureDir,
  lineOf,
  readResult,
  removeTempDirs,
  runExecute,
  sandbox,
  tempDir,
  writeInputs,
  type Sandbox,
} from "./support.js";

after(removeTempDirs);

const name = t.string();

async function execute(box: Sandbox, exportName: string, values: Parameters<typeof writeInputs>[2], options: { module?: string; cwd?: string; extra?: string[]; env?: Record<string, string>; nodeId?: string } = {}) {
  const at = writeInputs(box, options.nodeId ?? `n-${exportName}`, values);
  const run = await runExecute(contractArgs(at, options.module ?? "tasks.ts", exportName, options.extra), {
    cwd: options.cwd ?? fixtureDir,
    env: { ...box.env, ...options.env },
  });
  return { ...run, ...readResult(at.outputPrefix), at };
}

describe("tsflyte-execute", { concurrency: true }, () => {
  test("writes outputs.pb and exits 0", async () => {
    const box = sandbox();
    const r = await execute(box, "greet", { name: [name, "world"] });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.error, undefined);
    assert.equal(t.string().fromLiteral(r.outputs!.literals.o0, "o0"), "hello world!");
  });

  test("a returned file is uploaded under the raw output prefix, with its hash", async () => {
    const box = sandbox();
    const r = await execute(box, "report", { lines: [t.int(), 3] });
    assert.equal(r.code, 0, r.stderr);
    const file = r.outputs!.literals.file;
    assert.equal(t.int().fromLiteral(r.outputs!.literals.count, "count"), 3);
    const blob = file.value.case === "scalar" && file.value.value.value.case === "blob" ? file.value.value.value.value : undefined;
    assert.ok(blob?.uri.startsWith(`${r.at.rawPrefix}/`), `${blob?.uri} is not under ${r.at.rawPrefix}`);
    assert.equal(readFileSync(fileURLToPath(blob!.uri), "utf8"), "line 1\nline 2\nline 3");
    assert.match(file.hash, /^[0-9a-f]{64}$/);
  });

  test("a thrown Error is USER and RECOVERABLE in error.pb, with the .ts line in its stack; exit 0", async () => {
    const box = sandbox();
    const r = await execute(box, "fails", { why: [name, "the disk is full"] });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.outputs, undefined);
    assert.equal(r.error?.kind, "USER");
    assert.equal(r.error?.recoverable, true);
    assert.equal(r.error?.code, "Error");
    assert.equal(r.error?.message, "failed because the disk is full");
    assert.ok(r.error?.stack?.includes(`tasks.ts:${lineOf("tasks.ts", "failed because")}:`), r.error?.stack);
  });

  test("NonRetryableError is USER and NON_RECOVERABLE", async () => {
    const box = sandbox();
    const r = await execute(box, "refuses", { why: [name, "bad input"] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.error?.kind, r.error?.recoverable, r.error?.code, r.error?.message], ["USER", false, "NonRetryableError", "refused: bad input"]);
  });

  test("an export that is missing is USER NON_RECOVERABLE, naming what the module exports", async () => {
    const box = sandbox();
    const r = await execute(box, "greeet", {});
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.error?.kind, r.error?.recoverable, r.error?.code], ["USER", false, "TaskNotFound"]);
    assert.match(r.error!.message, /tasks\.ts has no export named "greeet"; it exports tasks .*greet.* and other export notATask/);
  });

  test("an export that is not a task is USER NON_RECOVERABLE", async () => {
    const box = sandbox();
    const r = await execute(box, "notATask", {});
    assert.deepEqual([r.error?.kind, r.error?.recoverable, r.error?.code], ["USER", false, "TaskNotFound"]);
    assert.match(r.error!.message, /exports "notATask" as string "just a string", which is not a task/);
  });

  test("a module that throws while it is imported is a USER error with its stack", async () => {
    const box = sandbox();
    const r = await execute(box, "never", {}, { module: "broken-import.ts" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.error?.kind, "USER");
    assert.match(r.error!.message, /broken-import\.ts threw while it was imported: cannot start: CONFIG_URL is not set/);
    assert.ok(r.error?.stack?.includes(`broken-import.ts:${lineOf("broken-import.ts", "cannot start")}:`), r.error?.stack);
  });

  test("a module that does not exist is USER NON_RECOVERABLE", async () => {
    const box = sandbox();
    const r = await execute(box, "greet", {}, { module: "nowhere.ts" });
    assert.deepEqual([r.error?.kind, r.error?.recoverable, r.error?.code], ["USER", false, "ModuleNotFound"]);
  });

  test("process.exit in the task is contained: error.pb says SYSTEM RECOVERABLE, and the process exits 0", async () => {
    const box = sandbox();
    const r = await execute(box, "exits", { code: [t.int(), 3] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.error?.kind, r.error?.recoverable, r.error?.code], ["SYSTEM", true, "TaskExited"]);
    assert.match(r.stdout, /about to exit/);
  });

  test("the task's context and environment come from FLYTE_* and TSFLYTE_NODE_ID", async () => {
    const box = sandbox();
    const env = {
      FLYTE_INTERNAL_EXECUTION_ID: "abc123",
      FLYTE_INTERNAL_EXECUTION_PROJECT: "flytesnacks",
      FLYTE_INTERNAL_EXECUTION_DOMAIN: "development",
      FLYTE_INTERNAL_TASK_NAME: "tasks.whoami",
      FLYTE_INTERNAL_TASK_VERSION: "v7",
      FLYTE_ATTEMPT_NUMBER: "2",
      TSFLYTE_NODE_ID: "n3",
    };
    const r = await execute(box, "whoami", { tag: [name, "ctx"] }, { env });
    assert.equal(r.code, 0, r.stderr);
    const seen = JSON.parse(t.string().fromLiteral(r.outputs!.literals.o0, "o0"));
    assert.deepEqual([seen.executionId, seen.nodeId, seen.attempt], ["abc123", "n3", 2]);
    assert.deepEqual(seen.env, { project: "flytesnacks", taskName: "tasks.whoami", taskVersion: "v7", attempt: "2" });
    assert.match(r.stdout, /log line of ctx/);
    assert.match(r.stderr, /warning of ctx/);
  });

  test("without TSFLYTE_NODE_ID the node id comes from the output prefix, as on a Flyte cluster", async () => {
    const box = sandbox();
    const r = await execute(box, "whoami", { tag: [name, "node"] });
    assert.equal(JSON.parse(t.string().fromLiteral(r.outputs!.literals.o0, "o0")).nodeId, "n-whoami");
  });

  test("inputs that are not there are a SYSTEM RECOVERABLE error, once the wait for them is over", async () => {
    const box = sandbox();
    const at = writeInputs(box, "n0", {});
    const started = Date.now();
    const r = await runExecute(contractArgs({ ...at, inputs: `${box.dataUri}/missing/inputs.pb` }, "tasks.ts", "greet"), {
      cwd: fixtureDir,
      env: { ...box.env, TSFLYTE_EXECUTE_INPUTS_WAIT_MS: "300" },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - started >= 300, "it waited for the inputs");
    const { error } = readResult(at.outputPrefix);
    assert.deepEqual([error?.kind, error?.recoverable, error?.code], ["SYSTEM", true, "InputsUnavailable"]);
  });

  test("inputs written a moment after the attempt starts are waited for (a driver writes them while the pod starts)", async () => {
    const box = sandbox();
    const at = writeInputs(box, "n1", { name: [name, "late"] });
    const late = `${box.dataUri}/late/inputs.pb`;
    const running = runExecute(contractArgs({ ...at, inputs: late }, "tasks.ts", "greet"), { cwd: fixtureDir, env: box.env });
    await new Promise((resolve) => setTimeout(resolve, 400));
    mkdirSync(join(box.data, "late"), { recursive: true });
    copyFileSync(fileURLToPath(at.inputs), join(box.data, "late", "inputs.pb"));
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    const { outputs, error } = readResult(at.outputPrefix);
    assert.equal(error, undefined);
    assert.ok(outputs);
  });

  test("exits non-zero only when it cannot write error.pb", async () => {
    const box = sandbox();
    const at = writeInputs(box, "n0", { name: [name, "x"] });
    writeFileSync(join(box.data, "blocker"), "a file where the output folder would go");
    const r = await runExecute(contractArgs({ ...at, outputPrefix: `${box.dataUri}/blocker/n0/data/0` }, "tasks.ts", "greet"), { cwd: fixtureDir, env: box.env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /could not write .*blocker\/n0\/data\/0\/error\.pb/);
  });
});

describe("tsflyte-execute --code-bundle", { concurrency: true }, () => {
  /** The fixture's tasks as a code bundle in the blob store, and a working folder with no code and no node_modules. */
  async function bundled(box: Sandbox): Promise<{ uri: string; cwd: string }> {
    const bundle = await buildCodeBundle(fixtureDir, ["tasks.ts"]);
    assert.ok(bundle.files.some((f) => f.path === "helpers/shout.ts"), "the bundle holds the helper the task imports");
    const path = join(box.data, "code", `${bundle.md5}.tar`);
    mkdirSync(join(box.data, "code"), { recursive: true });
    writeFileSync(path, bundle.tar);
    const cwd = join(box.root, "workdir");
    mkdirSync(cwd);
    return { uri: pathToFileURL(path).href, cwd };
  }

  test("runs the task from the bundle; tsflyte is the running one, other packages come from tsflyte's node_modules", async () => {
    const box = sandbox();
    const code = await bundled(box);
    const greet = await execute(box, "greet", { name: [name, "bundle"] }, { cwd: code.cwd, extra: ["--code-bundle", code.uri] });
    assert.equal(greet.code, 0, greet.stderr);
    assert.equal(greet.error, undefined, greet.error?.message);
    assert.equal(t.string().fromLiteral(greet.outputs!.literals.o0, "o0"), "hello bundle!");
    // norm imports zod, which neither the bundle nor the working folder has.
    const point = t.struct(z.object({ x: z.number(), y: z.number() }));
    const norm = await execute(box, "norm", { point: [point, { x: 3, y: 4 }] }, { cwd: code.cwd, extra: ["--code-bundle", code.uri] });
    assert.equal(norm.error, undefined, norm.error?.message);
    assert.equal(t.float().fromLiteral(norm.outputs!.literals.o0, "o0"), 5);
    const bundles = readdirSync(join(box.env.TSFLYTE_EXECUTE_CACHE, "bundles"));
    assert.equal(bundles.length, 1, `one extracted bundle, no temp folders left: ${bundles.join(", ")}`);
  });

  test("the stack of a failing task from a bundle names its .ts line, by its path in the project, not in this machine's cache", async () => {
    const box = sandbox();
    const code = await bundled(box);
    const r = await execute(box, "fails", { why: [name, "bundled"] }, { cwd: code.cwd, extra: ["--code-bundle", code.uri] });
    assert.deepEqual([r.error?.kind, r.error?.recoverable], ["USER", true]);
    assert.ok(r.error?.stack?.includes(` (tasks.ts:${lineOf("tasks.ts", "failed because")}:`), r.error?.stack);
    assert.ok(!r.error?.stack?.includes(box.env.TSFLYTE_EXECUTE_CACHE), r.error?.stack);
  });

  test("workers starting at once with an empty cache extract the bundle once, atomically", async () => {
    const box = sandbox();
    const code = await bundled(box);
    const runs = await Promise.all(
      ["a", "b", "c", "d"].map((who) => execute(box, "greet", { name: [name, who] }, { cwd: code.cwd, extra: ["--code-bundle", code.uri], nodeId: `n-${who}` }).then((r) => ({ who, r }))),
    );
    for (const { who, r } of runs) {
      assert.equal(r.error, undefined, r.error?.message);
      assert.equal(t.string().fromLiteral(r.outputs!.literals.o0, "o0"), `hello ${who}!`);
    }
    const bundles = readdirSync(join(box.env.TSFLYTE_EXECUTE_CACHE, "bundles"));
    assert.equal(bundles.length, 1, bundles.join(", "));
    assert.ok(existsSync(join(box.env.TSFLYTE_EXECUTE_CACHE, "bundles", bundles[0], "helpers", "shout.ts")));
  });

  test("a code bundle that cannot be read is a SYSTEM RECOVERABLE error", async () => {
    const box = sandbox();
    const cwd = tempDir("tsflyte-execute-cwd-");
    const r = await execute(box, "greet", { name: [name, "x"] }, { cwd, extra: ["--code-bundle", `${box.dataUri}/code/missing.tar`] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.error?.kind, r.error?.recoverable, r.error?.code], ["SYSTEM", true, "CodeBundleUnavailable"]);
  });
});

describe("tsflyte-execute usage", { concurrency: true }, () => {
  const cases: [string, string[], RegExp][] = [
    ["no arguments", [], /no arguments/],
    ["a missing --output-prefix", ["--inputs", "file:///x", "--raw-output-data-prefix", "file:///y", "--", "m.ts", "t"], /--output-prefix is required/],
    ["no task after --", ["--inputs", "file:///x", "--output-prefix", "file:///o", "--raw-output-data-prefix", "file:///y"], /give the task after "--"/],
    ["an unknown flag", ["--inputz", "file:///x"], /unknown flag --inputz/],
  ];
  for (const [what, args, message] of cases) {
    test(`${what}: usage on stderr, exit 2, nothing written`, async () => {
      const box = sandbox();
      const r = await runExecute(args, { cwd: box.root, env: box.env });
      assert.equal(r.code, 2);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /usage: tsflyte-execute --inputs URI --output-prefix URI --raw-output-data-prefix URI/);
      assert.deepEqual(readdirSync(box.data), []);
    });
  }
});
