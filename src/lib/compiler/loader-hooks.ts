// Node module customization hooks that let `tsflyte` import a user's TypeScript modules in-process: synchronous
// ones for `module.registerHooks()` (in-thread, Node ≥ 22.15), and asynchronous ones for `module.register()`'s hooks
// thread on older Nodes. Never touch SDK state here, and never change how non-TypeScript files load.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createRequire, type LoadHook, type ResolveHook } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Message, TransformOptions } from "esbuild";

const typeScriptFile = /\.(ts|tsx|mts)$/;
const declarationFile = /\.d\.(ts|mts|cts)$/;
const knownExtension = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs|json|node|wasm)$/;

type Resolved = { url: string; format?: string | null; shortCircuit?: boolean };
type Loaded = { format?: string | null; source?: string | ArrayBuffer | Uint8Array; shortCircuit?: boolean };
type Context = { parentURL?: string; [key: string]: unknown };
/** The in-thread hooks of `module.registerHooks()`; @types/node 20 does not know them yet. */
export interface SyncHooks {
  resolve(specifier: string, context: Context, nextResolve: (specifier: string, context?: Context) => Resolved): Resolved;
  load(url: string, context: Context, nextLoad: (url: string, context?: Context) => Loaded): Loaded;
}

/** Where TypeScript would find a path import Node could not, or undefined to keep Node's own error. */
function typeScriptResolution(specifier: string, parentURL: string | undefined, error: unknown): string | undefined {
  if (!isNotFound(error) || !parentURL?.startsWith("file:") || !isPathLike(specifier)) return undefined;
  const wanted = new URL(specifier, parentURL);
  if (wanted.protocol !== "file:") return undefined;
  const suffix = wanted.search + wanted.hash;
  for (const candidate of typeScriptCandidates(fileURLToPath(withoutQuery(wanted)))) {
    if (isFile(candidate)) return pathToFileURL(candidate).href + suffix;
  }
  return undefined;
}

/** The TypeScript file a URL names, or undefined for anything Node loads itself. */
function typeScriptPath(url: string): string | undefined {
  if (!url.startsWith("file:")) return undefined;
  const path = fileURLToPath(withoutQuery(new URL(url)));
  return typeScriptFile.test(path) && !declarationFile.test(path) ? path : undefined;
}

/** A TypeScript file's text, how esbuild transpiles it, and the cached result if there is one. */
function prepare(path: string) {
  const text = readFileSync(path, "utf8");
  // An inline source map, named by absolute path, so stack traces show the .ts line.
  const options: TransformOptions = { loader: path.endsWith(".tsx") ? "tsx" : "ts", format: "esm", target: "node20", sourcemap: "inline", sourcefile: path };
  const cached = transpileCache(path, text, options);
  return { text, options, cached, hit: cached?.read() };
}

function moduleSource(code: string): Loaded & { format: "module"; source: string } {
  return { format: "module", source: code, shortCircuit: true };
}

export const syncHooks: SyncHooks = {
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      const found = typeScriptResolution(specifier, context.parentURL, error);
      if (found === undefined) throw error;
      return nextResolve(found, context);
    }
  },
  load(url, context, nextLoad) {
    const path = typeScriptPath(url);
    if (!path) return nextLoad(url, context);
    const { text, options, cached, hit } = prepare(path);
    if (hit !== undefined) return moduleSource(hit);
    try {
      // esbuild's synchronous API runs its service for this call; a warm cache never pays for it.
      const { transformSync } = createRequire(import.meta.url)("esbuild") as typeof import("esbuild");
      const { code } = transformSync(text, options);
      cached?.write(code);
      return moduleSource(code);
    } catch (error) {
      throw toSyntaxError(error, url);
    }
  },
};

/** Tries TypeScript's import conventions only after Node (and any earlier hooks, such as tsx's) gave up. */
export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const found = typeScriptResolution(specifier, context.parentURL, error);
    if (found === undefined) throw error;
    return nextResolve(found, context);
  }
};

/** Transpiles TypeScript on the hooks thread of `module.register()`. */
export const load: LoadHook = async (url, context, nextLoad) => {
  const path = typeScriptPath(url);
  if (!path) return nextLoad(url, context);
  const { text, options, cached, hit } = prepare(path);
  if (hit !== undefined) return moduleSource(hit);
  try {
    const { transform } = await import("esbuild");
    const { code } = await transform(text, options);
    cached?.write(code);
    return moduleSource(code);
  } catch (error) {
    throw toSyntaxError(error, url);
  }
};

const esbuildVersion = (() => {
  try {
    const require = createRequire(import.meta.url);
    return (JSON.parse(readFileSync(require.resolve("esbuild/package.json"), "utf8")) as { version: string }).version;
  } catch {
    return undefined;
  }
})();

/**
 * Transpiled modules kept in the project's `node_modules/.cache/tsflyte`, keyed by esbuild's version, the
 * options, the path and the source. Never trusted without the key matching, and never fatal when unwritable.
 */
function transpileCache(path: string, source: string, options: TransformOptions): { read(): string | undefined; write(code: string): void } | undefined {
  if (!esbuildVersion) return undefined;
  const folder = nearestModulesCache(dirname(path));
  if (!folder) return undefined;
  const key = createHash("sha256").update(JSON.stringify([esbuildVersion, options])).update("\0").update(source).digest("base64url");
  const file = join(folder, `${key}.js`);
  return {
    read() {
      try {
        return readFileSync(file, "utf8");
      } catch {
        return undefined;
      }
    },
    write(code) {
      try {
        mkdirSync(folder, { recursive: true });
        const temp = `${file}.${process.pid}.tmp`;
        writeFileSync(temp, code);
        renameSync(temp, file);
      } catch {
        // A read-only project still runs; it only transpiles every time.
      }
    },
  };
}

function nearestModulesCache(start: string): string | undefined {
  for (let folder = start; ; folder = dirname(folder)) {
    if (existsSync(join(folder, "node_modules"))) return join(folder, "node_modules", ".cache", "tsflyte", "transpile");
    if (dirname(folder) === folder) return undefined;
  }
}

function withoutQuery(url: URL): URL {
  const bare = new URL(url);
  bare.search = "";
  bare.hash = "";
  return bare;
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "ERR_UNSUPPORTED_DIR_IMPORT";
}

function isPathLike(specifier: string): boolean {
  return (
    specifier.startsWith("./") ||
    specifier.startsWith("../") ||
    specifier === "." ||
    specifier === ".." ||
    specifier.startsWith("/") ||
    specifier.startsWith("file:")
  );
}

/** The files TypeScript would accept for an import that Node could not find, in the order tsc tries them. */
function typeScriptCandidates(path: string): string[] {
  if (path.endsWith(".js")) return [`${path.slice(0, -3)}.ts`, `${path.slice(0, -3)}.tsx`];
  if (path.endsWith(".mjs")) return [`${path.slice(0, -4)}.mts`];
  // A missing ./x.json or ./x.ts is simply missing; but ./x.config is extensionless to TypeScript.
  if (knownExtension.test(path)) return [];
  const base = path.replace(/[\\/]+$/, "");
  return [`${base}.ts`, `${base}.tsx`, `${base}.js`, join(base, "index.ts"), join(base, "index.js")];
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * esbuild's own error names its service internals; the user needs the message and the place in their file.
 * The stack is rewritten so the loader reports it as the first frame, like V8 does for a .js syntax error.
 */
function toSyntaxError(error: unknown, url: string): unknown {
  const first = (error as { errors?: Message[] } | null)?.errors?.[0];
  if (!first) return error;
  const where = first.location ? `${url}:${first.location.line}:${first.location.column + 1}` : url;
  const syntaxError = new SyntaxError(first.text);
  syntaxError.stack = `SyntaxError: ${first.text}\n    at ${where}`;
  return syntaxError;
}
