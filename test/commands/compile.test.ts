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
import { WorkflowSpecSchema } from "../../src/lib/idl/gen/flyteidl/admin/workflow_pb.js";
import { LaunchPlanSchema } from "../../src/lib/idl/gen/flyteidl/admin/launch_plan_pb.js";
import { readTar } from "../../src/lib/execute/untar.js";
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

test("a project id or version FlyteAdmin would refuse stops compile, before anything is written; a URL-safe version passes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-compile-target-"));
  try {
    const out = join(dir, "out");
    const badProject = await captureStderr(() => Compile.run([join(root, "examples/spend.ts"), "-o", out, "-p", "ML_Team"], root));
    assert.equal(badProject.exitCode, 2);
    assert.match(badProject.stderr, /project: the project "ML_Team" is not a valid project id: use at most 63 lowercase letters/);
    const badVersion = await captureStderr(() => Compile.run([join(root, "examples/spend.ts"), "-o", out, "--version", ".."], root));
    assert.equal(badVersion.exitCode, 2);
    assert.match(badVersion.stderr, /version: the version "\.\." must be URL-safe/);
    assert.throws(() => readdirSync(out), /ENOENT/);
    const tilde = (await Compile.run([join(root, "examples/spend.ts"), "-o", out, "--version", "v1~rc.2", "--json"], root)) as CompileResult;
    assert.equal(tilde.version, "v1~rc.2");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("compile -o X.tgz writes pyflyte package's archive: entities left for the registrar, tasks pointed at the code bundle", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-compile-tgz-"));
  try {
    const file = join(dir, "flyte-package.tgz");
    const result = (await Compile.run([join(root, "examples/spend.ts"), "-o", file, "--image", "acme/flows:1", "-p", "acme"], root)) as CompileResult;
    assert.deepEqual({ project: result.project, domain: result.domain, version: result.version }, { project: "", domain: "", version: "" });
    assert.match(result.codeBundle ?? "", /^fast[0-9a-f]{32}\.tar\.gz$/);
    assert.match(renderCompileResult(result), /Packaged 5 entities into .*flyte-package\.tgz, project, domain and version left to the registrar\nRegister it with: tsflyte register files .*flyte-package\.tgz --version V$/);
    const entries = readTar(readFileSync(file));
    assert.deepEqual(entries.map((e) => e.path), [...result.files.map((f) => f.file), result.codeBundle]);
    const task = fromBinary(TaskSpecSchema, entries[0].contents).template!;
    assert.deepEqual([task.id?.project, task.id?.domain, task.id?.version, task.id?.name], ["", "", "", "examples.spend.payMultiplier"]);
    const args = task.target.case === "container" ? task.target.value.args : [];
    assert.equal(args[args.indexOf("--code-bundle") + 1], "{{ .remote_package_path }}");
    const workflow = fromBinary(WorkflowSpecSchema, entries[2].contents).template!;
    const ref = workflow.nodes[0].target.case === "taskNode" ? workflow.nodes[0].target.value.reference.value : undefined;
    assert.deepEqual([ref?.project, ref?.domain, ref?.version], ["", "", ""], "references are left for the registrar too");
    const plan = fromBinary(LaunchPlanSchema, entries[3].contents);
    assert.deepEqual([plan.id?.project, plan.spec?.workflowId?.project, plan.spec?.workflowId?.version], ["", "", ""]);
    // The bundle holds the module the tasks import.
    const bundle = readTar(entries[5].contents).map((e) => e.path);
    assert.ok(bundle.includes("examples/spend.ts"), bundle.join(", "));

    const versioned = (await Compile.run([join(root, "examples/spend.ts"), "-o", file, "--version", "v3", "--json"], root)) as CompileResult;
    assert.equal(versioned.version, "v3");
    const kept = fromBinary(TaskSpecSchema, readTar(readFileSync(file))[0].contents).template!.id!;
    assert.deepEqual([kept.project, kept.version], ["", "v3"], "a given --version is written; project and domain stay the registrar's");

    const json = await captureStderr(() => Compile.run([join(root, "examples/spend.ts"), "-o", file, "--format", "json"], root));
    assert.equal(json.exitCode, 2);
    assert.match(json.stderr, /a package archive \(.*flyte-package\.tgz\) holds \.pb files/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
