// Acceptance: a fresh project that installs tsflyte from a packed clone type-checks the spend example, and
// `tsflyte compile` emits entities that decode with the strict codecs. Never writes outside its temp dirs.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { equals, fromBinary, fromJson, toBinary, type DescMessage, type JsonValue, type Message } from "@bufbuild/protobuf";
import { TaskSpecSchema, type TaskSpec } from "../../src/lib/idl/gen/flyteidl/admin/task_pb.js";
import { WorkflowSpecSchema, type WorkflowSpec } from "../../src/lib/idl/gen/flyteidl/admin/workflow_pb.js";
import { LaunchPlanSchema, type LaunchPlan } from "../../src/lib/idl/gen/flyteidl/admin/launch_plan_pb.js";
import { z } from "zod";
import { t } from "../../src/index.js";
import { literalMapToPlain } from "../../src/lib/types/plain.js";
import { contractArgs, readResult, removeTempDirs, sandbox, writeInputs } from "../lib/execute/support.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  removeTempDirs();
});

function tempDir(prefix: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  tempDirs.push(dir);
  return dir;
}

// `npm test` exports its own npm_* settings (npm_config_local_prefix among them); a nested npm must not see the
// repository as its project, so only the settings that say how to reach the registry are passed on.
const registrySettings = new Set(["npm_config_registry", "npm_config_cache", "npm_config_userconfig", "npm_config_cafile"]);
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) || registrySettings.has(key.toLowerCase())),
);
delete childEnv.INIT_CWD;

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...childEnv, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function assertExit(result: RunResult, code: number, what: string): void {
  assert.equal(result.code, code, `${what} exited ${result.code}, expected ${code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
}

/** Paths of every message in the tree that kept fields its schema does not know. */
function unknownFieldPaths(value: unknown, path = "$"): string[] {
  if (typeof value !== "object" || value === null || value instanceof Uint8Array) return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => unknownFieldPaths(item, `${path}[${i}]`));
  const record = value as Record<string, unknown>;
  const own = Array.isArray(record.$unknown) && record.$unknown.length > 0 ? [path] : [];
  return [...own, ...Object.entries(record).flatMap(([key, v]) => (key === "$unknown" ? [] : unknownFieldPaths(v, `${path}.${key}`)))];
}

/** Decodes protobuf bytes and insists nothing was left over: no unknown fields, and re-encoding gives the same bytes. */
function decodeStrictBinary<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array, file: string): Message {
  const message = fromBinary(schema, bytes);
  assert.deepEqual(unknownFieldPaths(message), [], `${file}: fields unknown to ${schema.typeName}`);
  assert.deepEqual(Buffer.from(toBinary(schema, message)), Buffer.from(bytes), `${file}: re-encoding as ${schema.typeName} changes the bytes`);
  return message;
}

const schemaBySuffix: Record<string, DescMessage> = { "1": TaskSpecSchema, "2": WorkflowSpecSchema, "3": LaunchPlanSchema };

/** `NN_<name>_<suffix>.<ext>` → its entity name and schema. */
function parsePackagedName(file: string, ext: "pb" | "json"): { name: string; schema: DescMessage } {
  const match = new RegExp(`^\\d+_(.+)_([123])\\.${ext}$`).exec(file);
  assert.ok(match, `${file} is not named NN_<name>_<1|2|3>.${ext}`);
  return { name: match[1], schema: schemaBySuffix[match[2]] };
}

interface DecodedPackage {
  tasks: Map<string, TaskSpec>;
  workflows: Map<string, WorkflowSpec>;
  launchPlans: Map<string, LaunchPlan>;
}

/** Sorts decoded messages by kind, checking that each file's name is the entity's own name. */
function collect(entries: { file: string; name: string; message: Message }[]): DecodedPackage {
  const decoded: DecodedPackage = { tasks: new Map(), workflows: new Map(), launchPlans: new Map() };
  for (const { file, name, message } of entries) {
    if (message.$typeName === TaskSpecSchema.typeName) {
      const spec = message as TaskSpec;
      assert.equal(spec.template?.id?.name, name, `${file} holds task ${spec.template?.id?.name}`);
      decoded.tasks.set(name, spec);
    } else if (message.$typeName === WorkflowSpecSchema.typeName) {
      const spec = message as WorkflowSpec;
      assert.equal(spec.template?.id?.name, name, `${file} holds workflow ${spec.template?.id?.name}`);
      decoded.workflows.set(name, spec);
    } else {
      const plan = message as LaunchPlan;
      assert.equal(plan.id?.name, name, `${file} holds launch plan ${plan.id?.name}`);
      decoded.launchPlans.set(name, plan);
    }
  }
  return decoded;
}

function checkSpendPackage(decoded: DecodedPackage): void {
  assert.deepEqual([...decoded.tasks.keys()].sort(), ["workflows.spend.payMultiplier", "workflows.spend.totalSpend"]);
  assert.deepEqual([...decoded.workflows.keys()], ["workflows.spend.calculateSpend"]);
  assert.deepEqual([...decoded.launchPlans.keys()].sort(), ["nightly_spend", "workflows.spend.calculateSpend"]);
  for (const [name, spec] of decoded.tasks) {
    const target = spec.template?.target;
    assert.equal(target?.case, "container", `${name} runs in a container`);
    const args = target?.case === "container" ? target.value.args : [];
    const exportName = name.split(".").pop()!;
    assert.deepEqual(args.slice(-3), ["--", "workflows/spend.ts", exportName], `${name} container args: ${args.join(" ")}`);
  }
  assert.equal(decoded.workflows.get("workflows.spend.calculateSpend")?.template?.nodes.length, 2);
  for (const plan of decoded.launchPlans.values()) {
    assert.equal(plan.spec?.workflowId?.name, "workflows.spend.calculateSpend", `launch plan ${plan.id?.name} launches the workflow`);
  }
}

describe("a fresh project installing tsflyte from the clone", { timeout: 10 * 60_000 }, () => {
  let packedFiles: string[] = [];
  let app = "";
  let imageBin = "";

  before(async () => {
    assert.ok(
      existsSync(join(root, "dist/index.js")),
      "dist/index.js is missing: run `npm run build` before this test (it packs the existing build with --ignore-scripts)",
    );
    const packDir = tempDir("tsflyte-pack-");
    // --ignore-scripts: prepack would rebuild, and the test suite runs after `npm run build` already.
    const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", packDir], root);
    assertExit(packed, 0, "npm pack");
    const [summary] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    packedFiles = summary.files.map((f) => f.path);
    const tarball = join(packDir, summary.filename);
    assert.ok(existsSync(tarball), `npm pack reported ${summary.filename}, which is not in ${packDir}`);

    app = tempDir("tsflyte-fresh-");
    writeFileSync(join(app, "package.json"), `${JSON.stringify({ name: "fresh-app", version: "0.0.0", private: true, type: "module" }, null, 2)}\n`);
    // The project's install and the image's, side by side: each builds its own native modules.
    const [installed, bin] = await Promise.all([
      run("npm", ["install", tarball, "zod@4", "typescript@5.9", "--no-audit", "--no-fund", "--prefer-offline"], app),
      buildImageFromDockerfile(tarball),
    ]);
    assertExit(installed, 0, "npm install");
    imageBin = bin;
    mkdirSync(join(app, "workflows"));
    copyFileSync(join(root, "examples/spend.ts"), join(app, "workflows/spend.ts"));
    const compilerOptions = { strict: true, target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", noEmit: true };
    writeFileSync(join(app, "tsconfig.json"), `${JSON.stringify({ compilerOptions, include: ["workflows"] }, null, 2)}\n`);
  });

  test("the package holds the build, the CLI and its manifest, and no sources or tests", () => {
    for (const file of ["dist/index.js", "dist/index.d.ts", "bin/run.js", "oclif.manifest.json", "package.json"]) {
      assert.ok(packedFiles.includes(file), `${file} is not in the package`);
    }
    const unwanted = packedFiles.filter((f) => f.startsWith("src/") || f.startsWith("test/") || /\.(test|spec)\.[cm]?[jt]s$|\.types\.ts$/.test(f));
    assert.deepEqual(unwanted, [], "sources or tests in the package");
  });

  test("the example type-checks against the installed package", async () => {
    assertExit(await run("npx", ["--no", "--", "tsc", "--noEmit", "--pretty", "false"], app), 0, "tsc --noEmit");
  });

  test("a string bound to the int input scalar fails tsc at that line", async () => {
    const source = readFileSync(join(root, "examples/spend.ts"), "utf8");
    const call = "payMultiplier({ rows: emp, scalar })";
    assert.ok(source.includes(call), `examples/spend.ts no longer contains ${call}; update this test`);
    const broken = source.replace(call, 'payMultiplier({ rows: emp, scalar: "2" })');
    const line = broken.split("\n").findIndex((l) => l.includes('scalar: "2"')) + 1;
    mkdirSync(join(app, "broken"));
    writeFileSync(join(app, "broken/spend.ts"), broken);
    writeFileSync(join(app, "tsconfig.broken.json"), JSON.stringify({ extends: "./tsconfig.json", include: ["broken"] }));
    const checked = await run("npx", ["--no", "--", "tsc", "--noEmit", "--pretty", "false", "-p", "tsconfig.broken.json"], app);
    assert.notEqual(checked.code, 0, `tsc accepted a string for an int input\n${checked.stdout}${checked.stderr}`);
    const errors = checked.stdout.split("\n").filter((l) => /: error TS\d+:/.test(l));
    assert.ok(errors.length > 0, `tsc failed without reporting an error\n${checked.stdout}${checked.stderr}`);
    for (const error of errors) assert.match(error, new RegExp(`^broken/spend\\.ts\\(${line},\\d+\\): error TS`), `an error away from line ${line}:\n${checked.stdout}`);
  });

  let binaryPackage: DecodedPackage | undefined;

  test("tsflyte compile writes protobuf files that decode strictly", async () => {
    assertExit(await run("npx", ["--no", "--", "tsflyte", "compile", "workflows", "-o", "out"], app), 0, "tsflyte compile");
    const files = readdirSync(join(app, "out")).sort();
    assert.equal(files.length, 5, `out holds ${files.join(", ")}`);
    binaryPackage = collect(
      files.map((file) => {
        const { name, schema } = parsePackagedName(file, "pb");
        return { file, name, message: decodeStrictBinary(schema, readFileSync(join(app, "out", file)), file) };
      }),
    );
    checkSpendPackage(binaryPackage);
  });

  test("tsflyte compile --format json writes JSON that decodes strictly to the same entities", async () => {
    assertExit(await run("npx", ["--no", "--", "tsflyte", "compile", "workflows", "-o", "out-json", "--format", "json"], app), 0, "tsflyte compile --format json");
    const files = readdirSync(join(app, "out-json")).sort();
    assert.equal(files.length, 5, `out-json holds ${files.join(", ")}`);
    const entries = files.map((file) => {
      const { name, schema } = parsePackagedName(file, "json");
      // fromJson's defaults reject unknown fields.
      return { file, name, message: fromJson(schema, JSON.parse(readFileSync(join(app, "out-json", file), "utf8")) as JsonValue) };
    });
    const jsonPackage = collect(entries);
    checkSpendPackage(jsonPackage);
    if (binaryPackage) {
      for (const { file, name, message } of entries) {
        const schema = parsePackagedName(file, "json").schema;
        const kind = schema === TaskSpecSchema ? "tasks" : schema === WorkflowSpecSchema ? "workflows" : "launchPlans";
        const twin = binaryPackage[kind].get(name);
        assert.ok(twin && equals(schema, message, twin as Message), `${file} differs from its protobuf twin`);
      }
    }
  });

  test("the Dockerfile's steps, run as written, give an image whose tsflyte-execute runs a task by the pod contract", async () => {
    const version = await run(join(imageBin, "tsflyte"), ["--version"], app);
    assertExit(version, 0, "tsflyte --version");
    assert.match(version.stdout, /^tsflyte\/0\.1\.0 /);
    const box = sandbox("tsflyte-image-task-");
    const rows = t.list(t.struct(z.object({ name: z.string(), pay: z.number() })));
    const at = writeInputs(box, "n1", { rows: [rows, [{ name: "ada", pay: 120 }, { name: "grace", pay: 95.5 }]] });
    const executed = await run(join(imageBin, "tsflyte-execute"), contractArgs(at, "workflows/spend.ts", "totalSpend"), app, box.env);
    assertExit(executed, 0, "tsflyte-execute");
    const result = readResult(at.outputPrefix);
    assert.equal(result.error, undefined, JSON.stringify(result.error));
    assert.deepEqual(literalMapToPlain(result.outputs!), { total: 215.5, count: 2 });
  });
});

/**
 * Runs the repository's Dockerfile as written, with no Docker engine: each COPY and RUN acts on a folder standing in
 * for the image's root, with npm's global prefix (/usr/local in Node's images) inside it, and a build context that
 * holds what `npm pack` made. Returns the image's bin folder.
 */
async function buildImageFromDockerfile(tarball: string): Promise<string> {
  const image = tempDir("tsflyte-image-");
  const context = tempDir("tsflyte-context-");
  copyFileSync(tarball, join(context, basename(tarball)));
  const steps = readFileSync(join(root, "Dockerfile"), "utf8")
    .split("\n")
    .filter((line) => line.trim() && !line.startsWith("#"))
    .map((line) => /^(\w+)\s+(.*)$/.exec(line.trim())!.slice(1) as [string, string]);
  assert.deepEqual(steps.map(([instruction]) => instruction), ["FROM", "COPY", "RUN"], "the Dockerfile's instructions changed; update this test");
  assert.match(steps[0][1], /^node:(22|24|26)-slim$/, "the base image is an official Node image of a supported version");
  const inImage = (path: string) => path.replace(/(^|\s)\/(tmp|usr)\//g, `$1${image}/$2/`);
  const [sources, destination] = steps[1][1].split(/\s+/);
  mkdirSync(inImage(destination), { recursive: true });
  const glob = new RegExp(`^${sources.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
  for (const file of readdirSync(context).filter((f) => glob.test(f))) copyFileSync(join(context, file), join(inImage(destination), file));
  const prefix = join(image, "usr", "local");
  const installed = await run("bash", ["-c", inImage(steps[2][1])], image, { npm_config_prefix: prefix, npm_config_prefer_offline: "true" });
  assertExit(installed, 0, `RUN ${steps[2][1]}`);
  assert.deepEqual(readdirSync(join(image, "tmp")), [], "the RUN step leaves no package behind in /tmp");
  return join(prefix, "bin");
}
