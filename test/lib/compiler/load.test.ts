// Covers loading user modules: TypeScript through our hooks, once-only evaluation, per-file problems, paths.
// Must never share state between tests: each writes its own temp project and its own globalThis counter.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { UserError } from "../../../src/lib/errors.js";
import { collectModuleFiles, findProjectRoot, loadModules } from "../../../src/lib/compiler/load.js";

const repoRoot = path.resolve(fileURLToPath(import.meta.url), "../../../..");
const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh project folder with an ESM package.json and the given files. */
function writeProject(files: Record<string, string>, packageJson: object = { name: "demo", type: "module" }): string {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "tsflyte-load-")));
  tempDirs.push(root);
  fs.writeFileSync(path.join(root, "package.json"), JSON.stringify(packageJson));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  return root;
}

const counters = globalThis as unknown as Record<string, number | undefined>;

describe("loadModules", () => {
  test("loads a typed TS module that imports siblings via ./b.js and extensionless ./c", async () => {
    const root = writeProject({
      "a.ts": [
        'import { double } from "./b.js";',
        'import { base, type Base } from "./c";',
        "const value: Base = base;",
        "export const answer: number = double(value);",
      ].join("\n"),
      "b.ts": "export function double(n: number): number {\n  return n * 2;\n}\n",
      "c.ts": "export type Base = number;\nexport const base: Base = 21;\n",
    });
    const result = await loadModules([root]);
    assert.deepEqual(result.problems, []);
    assert.equal(result.projectRoot, root);
    assert.deepEqual(
      result.modules.map((m) => m.relPath),
      ["a.ts", "b.ts", "c.ts"],
    );
    const a = result.modules[0];
    assert.equal(a.file, path.join(root, "a.ts"));
    assert.equal(a.exports.answer, 42);
    assert.equal(typeof result.modules[1].exports.double, "function");
  });

  test("runs a module's top-level code once when two others import it", async () => {
    const root = writeProject({
      "shared.ts": "const g = globalThis as any;\ng.__tsflyteSharedCount = (g.__tsflyteSharedCount ?? 0) + 1;\nexport const shared = 1;\n",
      "one.ts": 'import { shared } from "./shared.js";\nexport const one = shared;\n',
      "two.ts": 'import { shared } from "./shared";\nexport const two = shared;\n',
    });
    const result = await loadModules([root]);
    assert.deepEqual(result.problems, []);
    assert.equal(result.modules.length, 3);
    assert.equal(counters.__tsflyteSharedCount, 1);
  });

  test("reports a module that throws with its path and message, and still loads the others", async () => {
    const root = writeProject({
      "flows/bad.ts": "interface Config { ok: boolean }\nconst config: Config = { ok: false };\nif (!config.ok) {\n  throw new Error(\"no credentials\");\n}\n",
      "flows/good.ts": "export const good: string = 'yes';\n",
      "zlast.ts": "export const last = true;\n",
    });
    const result = await loadModules([root]);
    assert.deepEqual(
      result.modules.map((m) => m.relPath),
      ["flows/good.ts", "zlast.ts"],
    );
    assert.equal(result.problems.length, 1);
    const [problem] = result.problems;
    assert.equal(problem.file, path.join(root, "flows/bad.ts"));
    assert.match(problem.message, /^flows\/bad\.ts: no credentials \(at flows\/bad\.ts:4:\d+\)$/);
    assert.ok(problem.error instanceof Error);
    assert.equal(problem.error.message, "no credentials");
  });

  test("names the imported module that threw when the importer fails with it", async () => {
    const root = writeProject({
      "entry.ts": 'import "./lib/throws.js";\nexport const entry = 1;\n',
      "lib/throws.ts": "export {};\nthrow new TypeError(\"bad wiring\");\n",
    });
    const result = await loadModules([path.join(root, "entry.ts")]);
    assert.equal(result.modules.length, 0);
    assert.match(result.problems[0].message, /^entry\.ts: bad wiring \(at lib\/throws\.ts:2:\d+\)$/);
  });

  test("reports syntax errors in .ts and .js modules with their positions", async () => {
    const root = writeProject({
      "broken.ts": "export const fine: number = 1;\nconst = 2;\n",
      "broken-js.js": "export const fine = 1;\nlet let = 2;\n",
      "ok.ts": "export const ok = true;\n",
    });
    const result = await loadModules([root]);
    assert.deepEqual(
      result.modules.map((m) => m.relPath),
      ["ok.ts"],
    );
    const messages = result.problems.map((p) => p.message);
    assert.equal(messages.length, 2);
    assert.match(messages[0], /^broken-js\.js: .+ \(at broken-js\.js:2:\d+\)$/);
    assert.match(messages[1], /^broken\.ts: .+ \(at broken\.ts:2:\d+\)$/);
    assert.ok(result.problems.every((p) => p.error instanceof SyntaxError));
  });

  test("reports an import of a missing package as a problem of the importing file", async () => {
    const root = writeProject({ "needs.ts": 'import "not-installed-anywhere";\n' });
    const result = await loadModules([root]);
    assert.equal(result.problems.length, 1);
    assert.match(result.problems[0].message, /^needs\.ts: .*not-installed-anywhere/);
  });

  test("maps stack traces of errors thrown by a loaded .ts module to the .ts file and line", async () => {
    const root = writeProject({
      "task.ts": [
        "interface Input {",
        "  name: string;",
        "}",
        "type Unused = { a: number };",
        "export function run(input: Input): string {",
        "  if (input.name === '') {",
        "    throw new Error('empty name');",
        "  }",
        "  return input.name;",
        "}",
      ].join("\n"),
    });
    const result = await loadModules([root]);
    const run = result.modules[0].exports.run as (input: { name: string }) => string;
    assert.throws(
      () => run({ name: "" }),
      (error: Error) => {
        const firstFrame = error.stack?.split("\n")[1] ?? "";
        assert.ok(firstFrame.includes(`${path.join(root, "task.ts")}:7:`), firstFrame);
        return true;
      },
    );
  });

  test("rejects a missing path with a UserError naming it", async () => {
    const root = writeProject({});
    const missing = path.join(root, "nope.ts");
    await assert.rejects(loadModules([missing]), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.ok(error.message.includes(missing), error.message);
      return true;
    });
  });

  test("uses the given project root for relative paths", async () => {
    const root = writeProject({ "pkg/wf.ts": "export const wf = 1;\n", "pkg/package.json": "{}" });
    const nested = await loadModules([path.join(root, "pkg/wf.ts")]);
    assert.equal(nested.projectRoot, path.join(root, "pkg"));
    assert.equal(nested.modules[0].relPath, "wf.ts");
    const explicit = await loadModules([path.join(root, "pkg/wf.ts")], { projectRoot: root });
    assert.equal(explicit.modules[0].relPath, "pkg/wf.ts");
  });

  test("works from the build without tsx: .js → .ts, extensionless, folder index and .mjs → .mts imports", async () => {
    // Compile our source files into a package laid out like an installed tsflyte, then load a project in a
    // plain node process.
    const pkg = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "tsflyte-dist-")));
    tempDirs.push(pkg);
    fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name: "tsflyte", type: "module" }));
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(pkg, "node_modules"), "junction");
    const dist = path.join(pkg, "dist");
    await build({
      entryPoints: ["errors.ts", "package-root.ts", "compiler/load.ts", "compiler/loader-hooks.ts"].map((f) => path.join(repoRoot, "src/lib", f)),
      outbase: path.join(repoRoot, "src/lib"),
      outdir: path.join(dist, "lib"),
      format: "esm",
      platform: "node",
      logLevel: "silent",
    });
    const root = writeProject({
      "main.ts": [
        'import { b } from "./b.js";',
        'import { c } from "./c";',
        'import { idx } from "./lib";',
        'import { m } from "./m.mjs";',
        'import { x } from "./x.js";',
        "export const all: string = [b, c, idx, m, x].join(',');",
      ].join("\n"),
      "b.ts": "export const b: string = 'b';\n",
      "c.ts": "const g = globalThis as any;\ng.__count = (g.__count ?? 0) + 1;\nexport const c: string = 'c';\n",
      "again.ts": 'import { c } from "./c.js";\nexport const again = c;\n',
      "lib/index.ts": "export const idx: string = 'idx';\n",
      "m.mts": "export const m: string = 'm';\n",
      "x.tsx": "export const x: string = 'x';\n",
      "thrower.ts": "type T = string;\nconst t: T = 'x';\nthrow new Error(t + ' thrown');\n",
    });
    const script = [
      `const { loadModules } = await import(${JSON.stringify(path.join(dist, "lib/compiler/load.js"))});`,
      `const result = await loadModules([${JSON.stringify(root)}]);`,
      "console.log(JSON.stringify({",
      "  modules: result.modules.map((m) => m.relPath),",
      "  all: result.modules.find((m) => m.relPath === 'main.ts')?.exports.all,",
      "  problems: result.problems.map((p) => p.message),",
      "  count: globalThis.__count,",
      "}));",
    ].join("\n");
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", cwd: root });
    assert.equal(child.status, 0, child.stderr);
    const output = JSON.parse(child.stdout) as { modules: string[]; all: string; problems: string[]; count: number };
    assert.equal(output.all, "b,c,idx,m,x");
    assert.deepEqual(output.modules, ["again.ts", "b.ts", "c.ts", "lib/index.ts", "m.mts", "main.ts", "x.tsx"]);
    assert.deepEqual(output.problems, ["thrower.ts: x thrown (at thrower.ts:3:7)"]);
    assert.equal(output.count, 1);
  });
});

describe("findProjectRoot", () => {
  test("finds the nearest package.json from a file or a folder, walking up", () => {
    const root = writeProject({ "packages/inner/package.json": "{}", "packages/inner/src/deep/wf.ts": "", "loose/wf.ts": "" });
    assert.equal(findProjectRoot(path.join(root, "packages/inner/src/deep/wf.ts")), path.join(root, "packages/inner"));
    assert.equal(findProjectRoot(path.join(root, "packages/inner/src/deep")), path.join(root, "packages/inner"));
    assert.equal(findProjectRoot(path.join(root, "packages/inner")), path.join(root, "packages/inner"));
    assert.equal(findProjectRoot(path.join(root, "loose/wf.ts")), root);
  });

  test("falls back to the start folder when no package.json is above it", () => {
    const bare = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "tsflyte-bare-")));
    tempDirs.push(bare);
    fs.writeFileSync(path.join(bare, "wf.ts"), "");
    assert.equal(findProjectRoot(path.join(bare, "wf.ts")), bare);
    assert.equal(findProjectRoot(bare), bare);
  });
});

describe("collectModuleFiles", () => {
  test("walks folders for source files, skipping tests, declarations, builds and dependencies", () => {
    const root = writeProject({
      "src/b.ts": "",
      "src/a.mts": "",
      "src/view.tsx": "",
      "src/plain.js": "",
      "src/plain.mjs": "",
      "src/types.d.ts": "",
      "src/a.test.ts": "",
      "src/a.spec.js": "",
      "src/notes.md": "",
      "src/data.json": "{}",
      "src/nested/c.ts": "",
      "src/node_modules/dep/index.js": "",
      "src/dist/out.js": "",
      "src/build/out.js": "",
      "src/.cache/x.ts": "",
      "other.test.ts": "",
    });
    const files = collectModuleFiles([path.join(root, "src"), path.join(root, "other.test.ts")]);
    assert.deepEqual(
      files.map((f) => path.relative(root, f).split(path.sep).join("/")),
      ["other.test.ts", "src/a.mts", "src/b.ts", "src/nested/c.ts", "src/plain.js", "src/plain.mjs", "src/view.tsx"],
    );
    assert.ok(files.every((f) => path.isAbsolute(f)));
  });

  test("resolves relative paths and drops duplicates", () => {
    const root = writeProject({ "wf.ts": "" });
    const files = collectModuleFiles([path.relative(process.cwd(), path.join(root, "wf.ts")), root]);
    assert.deepEqual(files, [path.join(root, "wf.ts")]);
  });

  test("throws a UserError naming a path that does not exist", () => {
    assert.throws(
      () => collectModuleFiles(["definitely/not/here.ts"]),
      (error: unknown) => error instanceof UserError && error.message.includes("definitely/not/here.ts"),
    );
  });
});

test("a file named directly that is not a module is refused with what to give instead", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsflyte-notmodule-"));
  try {
    const readme = path.join(dir, "README.md");
    fs.writeFileSync(readme, "# hi\n");
    assert.throws(
      () => collectModuleFiles([readme]),
      (e: unknown) => e instanceof UserError && /README\.md: not a TypeScript or JavaScript module/.test(e.message) && /\.ts, \.tsx/.test(e.hint ?? ""),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
