// Acceptance: a fresh project that installs tsflyte from a packed clone type-checks the spend example, and
// `tsflyte compile` emits entities that decode with the strict codecs. Never writes outside its temp dirs.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { equals, fromBinary, fromJson, toBinary, type DescMessage, type JsonValue, type Message } from "@bufbuild/protobuf";
import { TaskSpecSchema, type TaskSpec } from "../../src/lib/idl/gen/flyteidl/admin/task_pb.js";
import { WorkflowSpecSchema, type WorkflowSpec } from "../../src/lib/idl/gen/flyteidl/admin/workflow_pb.js";
import { LaunchPlanSchema, type LaunchPlan } from "../../src/lib/idl/gen/flyteidl/admin/launch_plan_pb.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
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

function run(command: string, args: string[], cwd: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...childEnv, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
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
    const installed = await run("npm", ["install", tarball, "zod@4", "typescript@5.9", "--no-audit", "--no-fund", "--prefer-offline"], app);
    assertExit(installed, 0, "npm install");
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
});
