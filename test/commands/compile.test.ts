// `tsflyte compile` driven through its command class: files in registration order, the JSON result shape, and
// a clear failure for bad input. Never writes outside its temp directory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import Compile from "../../src/commands/compile.js";
import { renderCompileResult, type CompileResult } from "../../src/render/compile.js";
import { TaskSpecSchema } from "../../src/lib/idl/gen/flyteidl/admin/task_pb.js";
import { captureStderr } from "../support/capture-stderr.js";

const root = fileURLToPath(new URL("../../", import.meta.url));


test("compile writes one file per entity and prints a line for each", async () => {
  const out = mkdtempSync(join(tmpdir(), "tsflyte-compile-"));
  try {
    const result = (await Compile.run([join(root, "examples/spend.ts"), "-o", out, "--image", "acme/flows:1"], root)) as CompileResult;
    const stdout = renderCompileResult(result);
    const files = readdirSync(out).sort();
    assert.deepEqual(files.map((f) => f.replace(/^\d+_/, "")), [
      "examples.spend.payMultiplier_1.pb",
      "examples.spend.totalSpend_1.pb",
      "examples.spend.calculateSpend_2.pb",
      "examples.spend.calculateSpend_3.pb",
      "nightly_spend_3.pb",
    ]);
    assert.match(stdout, /^task +examples\.spend\.payMultiplier +→ +00_examples\.spend\.payMultiplier_1\.pb$/m);
    assert.match(stdout, /Compiled 5 entities for flytesnacks\/development at version [A-Za-z0-9_-]{22} into /);
    const spec = fromBinary(TaskSpecSchema, readFileSync(join(out, files[0])));
    assert.equal(spec.template?.target.case, "container");
    assert.equal(spec.template?.target.value?.image, "acme/flows:1");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("compile --json returns the result object and the version is stable", async () => {
  const out = mkdtempSync(join(tmpdir(), "tsflyte-compile-"));
  try {
    const args = [join(root, "examples/spend.ts"), "-o", out, "--format", "json", "--json", "-p", "acme", "-d", "staging"];
    const result = (await Compile.run(args, root)) as CompileResult;
    const second = (await Compile.run(args, root)) as CompileResult;
    assert.equal(result.project, "acme");
    assert.equal(result.domain, "staging");
    assert.equal(result.files.length, 5);
    assert.deepEqual(result.files[2], { file: "02_examples.spend.calculateSpend_2.json", kind: "workflow", name: "examples.spend.calculateSpend" });
    assert.equal(second.version, result.version);
    assert.deepEqual(Object.keys(result).sort(), ["domain", "files", "outDir", "project", "version"]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("compile of a module that fails to load exits 2, names the file, and writes nothing", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-compile-bad-"));
  try {
    writeFileSync(join(dir, "package.json"), '{"type":"module"}');
    mkdirSync(join(dir, "flows"));
    writeFileSync(join(dir, "flows/broken.ts"), 'export const x: number = ;\n');
    const out = join(dir, "out");
    const { stderr, exitCode } = await captureStderr(() => Compile.run([join(dir, "flows"), "-o", out], root));
    assert.equal(exitCode, 2);
    assert.match(stderr, /Error: compile failed with 1 problem:\n {2}flows\/broken\.ts:1:\d+ {2}flows\/broken\.ts: failed to load: Unexpected ";"/);
    assert.doesNotMatch(stderr, /\n\s+at /);
    assert.throws(() => readdirSync(out), /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
