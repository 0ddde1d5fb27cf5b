// Imports a user's workflow modules into this process, once each, and collects per-file load problems.
// Never compiles or inspects what the modules export, and never lets one broken module stop the others.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import * as nodeModule from "node:module";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Message } from "esbuild";
import { UserError } from "../errors.js";
import { packageRoot, runningFromSource } from "../package-root.js";
import { syncHooks, type SyncHooks } from "./loader-hooks.js";

export interface LoadedModule {
  /** Absolute path. */
  file: string;
  /** POSIX path relative to the project root. */
  relPath: string;
  exports: Record<string, unknown>;
}

export interface ModuleLoadProblem {
  file: string;
  error: unknown;
  /** `<relPath>: <original message>`, then ` (at <relPath>:<line>:<col>)` when a user frame is known. */
  message: string;
  relPath: string;
  /** The original error's message alone. */
  reason: string;
  /** `<relPath>:<line>:<col>` of the first user frame, when known. */
  location?: string;
}

export interface LoadResult {
  projectRoot: string;
  modules: LoadedModule[];
  problems: ModuleLoadProblem[];
}

const moduleExtension = /\.(ts|tsx|mts|js|mjs)$/;
const skippedFile = /\.d\.(ts|mts)$|\.(test|spec)\.[^/\\]+$/;
const skippedFolders = new Set(["node_modules", "dist", "build"]);

/** The nearest folder at or above `start` (a file's folder, or a folder) holding a package.json. */
export function findProjectRoot(start: string): string {
  const absolute = resolve(start);
  const first = isDirectory(absolute) ? absolute : dirname(absolute);
  for (let folder = first; ; folder = dirname(folder)) {
    if (existsSync(join(folder, "package.json"))) return folder;
    if (dirname(folder) === folder) return first;
  }
}

/** Module files named by `paths`: files as given, folders searched for source files; sorted and absolute. */
export function collectModuleFiles(paths: string[]): string[] {
  const found = new Set<string>();
  for (const given of paths) {
    const absolute = resolve(given);
    const stats = statSync(absolute, { throwIfNoEntry: false });
    if (!stats) {
      throw new UserError(`${given}: no such file or folder`, "Check the path; it is resolved from the current folder.");
    }
    if (stats.isDirectory()) walk(absolute, found);
    else if (moduleExtension.test(absolute)) found.add(absolute);
    else throw new UserError(`${given}: not a TypeScript or JavaScript module`, "Give .ts, .tsx, .mts, .js or .mjs files, or folders that hold them.");
  }
  return [...found].sort(byCodePoint);
}

function walk(folder: string, found: Set<string>): void {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    // Dot-entries are tool config (.eslintrc.js, .git), never workflow code.
    if (entry.name.startsWith(".")) continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!skippedFolders.has(entry.name)) walk(path, found);
    } else if (moduleExtension.test(entry.name) && !skippedFile.test(entry.name) && isFile(path)) {
      found.add(path);
    }
  }
}

/**
 * Imports every module under `paths` in sorted order. All share one module graph, so a module that others
 * import still runs its top-level code exactly once and its tasks are registered once.
 */
export async function loadModules(paths: string[], options: { projectRoot?: string } = {}): Promise<LoadResult> {
  const files = collectModuleFiles(paths);
  const projectRoot = resolve(options.projectRoot ?? findProjectRoot(paths[0] ?? process.cwd()));
  registerLoaderHooks();
  // Node records a module's source map only if this is on when the module is compiled.
  process.setSourceMapsEnabled(true);
  const modules: LoadedModule[] = [];
  const problems: ModuleLoadProblem[] = [];
  for (const file of files) {
    const relPath = toPosix(relative(projectRoot, file));
    try {
      const exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      modules.push({ file, relPath, exports });
    } catch (error) {
      problems.push({ file, error, relPath, ...(await describeLoadError(error, file, relPath, projectRoot)) });
    }
  }
  return { projectRoot, modules, problems };
}

const hooksRegistered = Symbol.for("tsflyte.loaderHooksRegistered");

/**
 * Registers the TypeScript hooks once per thread, even if a second copy of this module is loaded: in-thread with
 * `module.registerHooks()` where Node has it (22.15 and later; `register()` is deprecated from Node 26), otherwise
 * with `module.register()`, whose hooks run on a thread of their own and so are a file of their own.
 */
function registerLoaderHooks(): void {
  const flags = globalThis as Record<symbol, unknown>;
  if (flags[hooksRegistered]) return;
  const { registerHooks } = nodeModule as { registerHooks?: (hooks: SyncHooks) => unknown };
  if (typeof registerHooks === "function") {
    registerHooks(syncHooks);
  } else {
    const hooks = runningFromSource ? join(packageRoot, "src/lib/compiler/loader-hooks.ts") : join(packageRoot, "dist/lib/compiler/loader-hooks.js");
    nodeModule.register(pathToFileURL(hooks));
  }
  flags[hooksRegistered] = true;
}

/** The message, the original reason and the user's `file:line:col` for an error thrown while importing `file`. */
export async function describeLoadError(
  error: unknown,
  file: string,
  relPath: string,
  projectRoot: string,
): Promise<{ message: string; reason: string; location?: string }> {
  const text = error instanceof Error ? error.message : String(error);
  let frame = firstUserFrame(error, projectRoot);
  if (!frame && error instanceof SyntaxError && /\.m?js$/.test(file)) {
    const at = await locateSyntaxError(file);
    if (at) frame = `${relPath}:${at}`;
  }
  return { message: `${relPath}: ${text}${frame ? ` (at ${frame})` : ""}`, reason: text, location: frame };
}

/**
 * Node 20 keeps an ES module's syntax-error position out of `error.stack`, so ask esbuild where it is.
 * When the error lies in a module this one imports, esbuild finds nothing here and no position is claimed.
 */
async function locateSyntaxError(file: string): Promise<string | undefined> {
  const { transform } = await import("esbuild");
  try {
    await transform(readFileSync(file, "utf8"), { loader: "js", format: "esm", sourcefile: file, logLevel: "silent" });
    return undefined;
  } catch (error) {
    const location = (error as { errors?: Message[] }).errors?.[0]?.location;
    return location ? `${location.line}:${location.column + 1}` : undefined;
  }
}

/** The first `file:line:col` in the error's stack that lies in the user's project, relative to its root. */
function firstUserFrame(error: unknown, projectRoot: string): string | undefined {
  const stack = (error as { stack?: unknown } | null)?.stack;
  if (typeof stack !== "string") return undefined;
  for (const match of stack.matchAll(/(file:\/\/[^\s()]+?|\/[^\s():]+?):(\d+)(?::(\d+))?(?=\)|\s|$)/g)) {
    const [, location, line, column] = match;
    const file = location.startsWith("file:") ? safeFileURLToPath(location) : location;
    if (!file) continue;
    if (ownLibraries.some((own) => isInside(own, file))) continue;
    const rel = relative(projectRoot, file);
    if (!isInside(projectRoot, file) || rel.split(sep).includes("node_modules")) continue;
    return `${toPosix(rel)}:${line}${column ? `:${column}` : ""}`;
  }
  return undefined;
}

/** tsflyte's own src/lib and dist: their frames are never the user's, even when examples sit in this repo. */
const ownLibraries = [join(packageRoot, "src", "lib"), join(packageRoot, "dist")];

function isInside(folder: string, file: string): boolean {
  const rel = relative(folder, file);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function safeFileURLToPath(url: string): string | undefined {
  try {
    return fileURLToPath(url);
  } catch {
    return undefined;
  }
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

function toPosix(path: string): string {
  return sep === "/" ? path : path.split(sep).join("/");
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
