// Loads a task for tsflyte-execute from its TypeScript module. The module's own files are bundled with esbuild into
// one cached .mjs (per content: a code bundle's digest, or the hashes of the files it reads); every package import
// stays an import, resolved to a file: `tsflyte` to the tsflyte running this, any other package from the importing
// folder, the working directory or tsflyte's own node_modules. Imported once per process and kept; never runs the task.
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type { Message, OnResolveResult, Plugin } from "esbuild";
import { describeValue } from "../errors.js";
import { classifyTaskError } from "../engine/task-error.js";
import { packageRoot, runningFromSource } from "../package-root.js";
import { definitionOf, type TaskDefinition } from "../sdk/entity.js";
import { tsflyteVersion } from "../version.js";
import { ExecuteFailure, systemFailure, userFailure } from "./failure.js";
import { ownImportMeta } from "../compiler/own-import-meta.js";
import { digestSources, sha256, sourcesUnchanged, type SourceDigest } from "../compiler/source-digests.js";

export interface TaskModuleRequest {
  /** The folder `module` is relative to: the extracted code bundle, or the working directory. */
  codeDir: string;
  module: string;
  exportName: string;
  /** The code bundle's digest. Its files never change, so what was compiled from them is never checked again. */
  bundleDigest?: string;
  /** The attempt's working directory: packages the code does not find next to itself are looked up here. */
  cwd: string;
  /** Where compiled modules are kept (`<cacheDir>/modules`). */
  cacheDir: string;
}

/** Bump when the compiled output would differ for the same sources, so old cache entries are not reused. */
const compileFormat = 1;

interface InputFile {
  path: string;
  /** size and mtime when it was imported: a warm process re-checks content only when these change. */
  signature: string;
}

interface ImportedModule {
  exports: Record<string, unknown>;
  /** The project files it was compiled from; undefined for a code bundle, whose files never change. */
  inputs?: InputFile[];
}

/** Modules imported by this process, by code bundle (or working directory) and module path. */
const imported = new Map<string, ImportedModule>();
/** How often importing each compiled file threw: the next import asks for a fresh evaluation. */
const failedImports = new Map<string, number>();

/** The task `exportName` of `module`; an ExecuteFailure classified for error.pb when it cannot be had. */
export async function loadTaskDefinition(request: TaskModuleRequest): Promise<TaskDefinition> {
  const exports = await loadModule(request);
  return findTask(exports, request.module, request.exportName);
}

/** The exports of a module of the code (compiled and imported once per process, as a task's module is). */
export async function loadModule(request: TaskModuleRequest): Promise<Record<string, unknown>> {
  const entry = resolve(request.codeDir, request.module);
  const key = `${request.bundleDigest ?? `cwd:${request.cwd}`}\0${entry}`;
  const known = imported.get(key);
  if (known && (!known.inputs || known.inputs.every((input) => signatureOf(input.path) === input.signature))) return known.exports;
  if (!isFile(entry)) {
    const where = request.bundleDigest ? "the code bundle" : `the working directory ${request.cwd}`;
    throw userFailure("ModuleNotFound", `no module ${request.module} in ${where} (looked for ${entry})`);
  }
  let compiled = await compiledModule(entry, request, false);
  let exports: Record<string, unknown>;
  try {
    exports = await importCompiled(compiled.file);
  } catch (error) {
    // A package the cached output points at has moved (reinstalled, upgraded): resolve the imports again, once.
    if (errorCode(error) !== "ERR_MODULE_NOT_FOUND") throw importFailure(error, request.module);
    compiled = await compiledModule(entry, request, true);
    try {
      exports = await importCompiled(compiled.file);
    } catch (again) {
      throw importFailure(again, request.module);
    }
  }
  const inputs = request.bundleDigest ? undefined : compiled.inputs.map((path) => ({ path, signature: signatureOf(path) }));
  imported.set(key, { exports, inputs });
  return exports;
}

async function importCompiled(file: string): Promise<Record<string, unknown>> {
  // Node records a module's source map only if this is on when the module is compiled: stacks then show .ts lines.
  process.setSourceMapsEnabled(true);
  const failures = failedImports.get(file) ?? 0;
  // Node caches a module whose evaluation threw, error and all: a retry in this process needs another URL.
  const url = pathToFileURL(file).href + (failures ? `?retry=${failures}` : "");
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    failedImports.set(file, failures + 1);
    throw error;
  }
}

/** What importing the compiled module threw: a link error is the code's and permanent; anything it threw, as thrown. */
function importFailure(error: unknown, module: string): ExecuteFailure {
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error ? error.stack : undefined;
  const code = errorCode(error);
  if (error instanceof SyntaxError || (typeof code === "string" && code.startsWith("ERR_"))) {
    return userFailure("ModuleLoadFailed", `${module} could not be loaded: ${message}`, { stack });
  }
  const classified = classifyTaskError(error);
  return new ExecuteFailure({ ...classified, thrown: undefined, message: `${module} threw while it was imported: ${classified.message}` });
}

function findTask(exports: Record<string, unknown>, module: string, exportName: string): TaskDefinition {
  const value = exports[exportName];
  const def = definitionOf(value);
  if (def?.kind === "task") return def;
  const names = Object.keys(exports).sort();
  const tasks = names.filter((name) => definitionOf(exports[name])?.kind === "task");
  const others = names.filter((name) => !tasks.includes(name));
  const has = [
    tasks.length ? `tasks ${tasks.join(", ")}` : "no tasks",
    others.length ? `and ${others.length === 1 ? "" : "the "}other export${others.length === 1 ? "" : "s"} ${others.join(", ")}` : "",
  ]
    .filter(Boolean)
    .join(" ");
  const what = !(exportName in exports)
    ? `has no export named "${exportName}"`
    : `exports "${exportName}" as ${def ? `a ${def.kind}` : describeValue(value)}, which is not a task`;
  throw userFailure("TaskNotFound", `${module} ${what}; it exports ${has}`);
}

// ── compiling ──────────────────────────────────────────────────────────────────────────────────────────────

interface Manifest {
  /** The compiled file, in the same folder. */
  out: string;
  /** The project files it was compiled from, with the sha256 of their content. */
  inputs: SourceDigest[];
}

/** The compiled file of `entry`, built unless the cache holds one made from the same content. */
async function compiledModule(entry: string, request: TaskModuleRequest, rebuild: boolean): Promise<{ file: string; inputs: string[] }> {
  const folder = join(request.cacheDir, "modules");
  // Resolved package paths depend on where packages were looked up, so those places are part of the key.
  const key = sha256(
    JSON.stringify([compileFormat, entry, request.bundleDigest ?? "", request.cwd, packageRoot, runningFromSource, tsflyteVersion, esbuildVersion()]),
  ).slice(0, 32);
  const manifestPath = join(folder, `${key}.json`);
  if (!rebuild) {
    const manifest = readManifest(manifestPath);
    if (manifest && existsSync(join(folder, manifest.out)) && (request.bundleDigest || sourcesUnchanged(manifest.inputs))) {
      return { file: join(folder, manifest.out), inputs: manifest.inputs.map((i) => i.path) };
    }
  }
  const { code, inputs } = await bundle(entry, request, join(folder, `${key}.mjs`));
  const out = `${key}-${sha256(code).slice(0, 16)}.mjs`;
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writeAtomically(join(folder, out), code);
    writeAtomically(manifestPath, JSON.stringify({ out, inputs } satisfies Manifest));
  } catch (e) {
    throw systemFailure("CacheUnavailable", `could not write the compiled module to ${folder}`, e);
  }
  return { file: join(folder, out), inputs: inputs.map((i) => i.path) };
}

async function bundle(entry: string, request: TaskModuleRequest, outfile: string): Promise<{ code: string; inputs: Manifest["inputs"] }> {
  const { build } = await import("esbuild");
  let result;
  try {
    result = await build({
      entryPoints: [entry],
      absWorkingDir: request.codeDir,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      // Resolve imports as Node does when the compiler loads the same module: tsconfig `paths` are not Node's.
      tsconfigRaw: {},
      // Node's resolution: no "module" condition or field.
      conditions: [],
      mainFields: ["main"],
      write: false,
      // Only names the output, so the inline source map's paths are right for the file written next to it.
      outfile,
      sourcemap: "inline",
      metafile: true,
      logLevel: "silent",
      plugins: [packageImports(request), ownImportMeta],
    });
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    if (!errors?.length) throw systemFailure("CompileFailed", `esbuild could not compile ${request.module}`, error);
    const lines = errors.slice(0, 5).map((m) => {
      const at = m.location ? `${toPosix(relative(request.codeDir, resolve(request.codeDir, m.location.file)))}:${m.location.line}:${m.location.column + 1}: ` : "";
      return `${at}${m.text}`;
    });
    throw userFailure("ModuleBuildFailed", `${request.module} does not compile:\n${lines.join("\n")}${errors.length > 5 ? `\n(and ${errors.length - 5} more)` : ""}`);
  }
  const inputs = digestSources(
    Object.keys(result.metafile.inputs)
      .map((p) => (isAbsolute(p) ? p : resolve(request.codeDir, p)))
      .filter((p) => existsSync(p)),
  );
  return { code: result.outputFiles[0].text, inputs };
}

/** Marks esbuild's own resolve calls made from inside the plugin, so the plugin does not answer itself. */
const innerResolve = Symbol("tsflyte-execute-inner-resolve");

/**
 * Every package import becomes an import of a file URL. The bundle has no node_modules, and the compiled file
 * lives in a cache folder where Node would find none: resolution happens here, where the places are known.
 */
function packageImports(request: TaskModuleRequest): Plugin {
  return {
    name: "tsflyte-execute-packages",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args): Promise<OnResolveResult | undefined> => {
        if (args.pluginData === innerResolve || isAbsolute(args.path)) return undefined;
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        if (/^tsflyte(\/|$)/.test(args.path)) return tsflyteImport(args.path);
        const places = [...new Set([args.resolveDir, request.cwd, packageRoot].filter(Boolean))];
        for (const resolveDir of places) {
          const found = await b.resolve(args.path, { kind: args.kind, resolveDir, importer: args.importer, pluginData: innerResolve });
          if (found.errors.length === 0 && isAbsolute(found.path)) return { path: pathToFileURL(found.path).href, external: true };
        }
        const looked = places.map((p) => toPosix(join(p, "node_modules"))).join(", ");
        return { errors: [{ text: `cannot find package "${args.path}" (looked in and above ${looked})` }] };
      });
    },
  };
}

/** `tsflyte` is always the tsflyte running this: one SDK, whatever version the project lists. */
function tsflyteImport(specifier: string): OnResolveResult {
  if (runningFromSource && specifier === "tsflyte") return { path: pathToFileURL(join(packageRoot, "src", "index.ts")).href, external: true };
  try {
    return { path: import.meta.resolve(specifier), external: true };
  } catch (error) {
    return { errors: [{ text: `"${specifier}" is not part of tsflyte ${tsflyteVersion}: ${(error as Error).message}` }] };
  }
}

// ── small helpers ──────────────────────────────────────────────────────────────────────────────────────────

let esbuildVersionCache: string | undefined;
function esbuildVersion(): string {
  if (esbuildVersionCache === undefined) {
    try {
      const manifest = createRequire(import.meta.url).resolve("esbuild/package.json");
      esbuildVersionCache = (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
    } catch {
      esbuildVersionCache = "unknown";
    }
  }
  return esbuildVersionCache;
}

function readManifest(path: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Manifest;
  } catch {
    return undefined;
  }
}

/** Written then renamed: a process reading the cache at the same moment never sees half a file. */
function writeAtomically(path: string, text: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

function signatureOf(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? `${st.size}:${st.mtimeMs}` : "missing";
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}


function errorCode(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

function toPosix(path: string): string {
  return sep === "/" ? path : path.split(sep).join("/");
}
