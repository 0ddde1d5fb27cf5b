// Imports one workflow module for `tsflyte run` without Node's loader-hooks thread: its TypeScript graph is
// bundled once with esbuild (packages stay imports) into the project's node_modules/.cache, and reused while
// every source file hashes the same. Never changes what the code sees: import.meta and stack lines stay its own.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type { BuildOptions, Plugin } from "esbuild";
import { tsflyteVersion } from "../version.js";
import { ownImportMeta } from "./own-import-meta.js";
import { digestSources, sha256, sourcesUnchanged, type SourceDigest } from "./source-digests.js";

interface Manifest {
  /** Every source file of the project the bundle holds, with the sha256 of its content. */
  inputs: SourceDigest[];
}

/** Why a module could not be loaded: esbuild's syntax error with its place, or what the module threw. */
export class EntryLoadError extends Error {
  constructor(
    message: string,
    /** Where esbuild found a syntax error: an absolute path, line and 1-based column. */
    readonly at: { file: string; line: number; column: number } | undefined,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

/** The folder the bundles go to, or undefined when the project has no node_modules (then the hooks are used). */
function cacheFolder(file: string): string | undefined {
  for (let folder = dirname(file); ; folder = dirname(folder)) {
    if (existsSync(join(folder, "node_modules"))) return join(folder, "node_modules", ".cache", "tsflyte", "run");
    if (dirname(folder) === folder) return undefined;
  }
}


/** The export that carries, in a bundle of several project modules, each module's namespace by absolute path. */
const projectModulesExport = "__tsflyteProjectModules";

export interface PrebuiltModule {
  exports: Record<string, unknown>;
  /** The namespace of every other project module in the bundle, by absolute path. */
  projectModules: Map<string, Record<string, unknown>>;
}

/**
 * Imports `file` from a bundle of its project-local module graph, building the bundle when a source changed.
 * Returns undefined when bundling does not apply (no node_modules to cache in); the caller then uses the hooks.
 */
export async function importPrebuilt(file: string): Promise<PrebuiltModule | undefined> {
  const entry = resolve(file);
  const folder = cacheFolder(entry);
  if (!folder) return undefined;
  const key = sha256(`${entry}\0${tsflyteVersion}\0${esbuildVersion()}`).slice(0, 32);
  const out = join(folder, `${key}.mjs`);
  const manifestPath = join(folder, `${key}.json`);
  let manifest: Manifest | undefined;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as Manifest;
  } catch {
    manifest = undefined;
  }
  if (!manifest || !existsSync(out) || !sourcesUnchanged(manifest.inputs)) await bundle(entry, out, manifestPath);
  // Stack traces of the user's code point at the .ts lines through the bundle's inline source map.
  process.setSourceMapsEnabled(true);
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(out).href)) as Record<string, unknown>;
  } catch (error) {
    // A package that resolves from the project but not from node_modules/.cache (a package importing itself by
    // name) fails while linking, before any of the module ran: the hooks load it as Node would.
    if ((error as { code?: unknown } | null)?.code === "ERR_MODULE_NOT_FOUND") return undefined;
    throw new EntryLoadError(error instanceof Error ? error.message : String(error), undefined, error);
  }
  const { [projectModulesExport]: modules, ...exports } = namespace;
  return { exports, projectModules: new Map(Object.entries((modules ?? {}) as Record<string, Record<string, unknown>>)) };
}

function esbuildVersion(): string {
  try {
    const manifest = join(dirname(new URL(import.meta.resolve("esbuild")).pathname), "..", "package.json");
    return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

async function bundle(entry: string, out: string, manifestPath: string): Promise<void> {
  const { build } = await import("esbuild");
  const options = {
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    // Resolve imports as Node does when `compile` loads the same module (tsconfig `paths` are not Node's).
    tsconfigRaw: {},
    write: false,
    outfile: out,
    sourcemap: "inline",
    metafile: true,
    logLevel: "silent",
    plugins: [ownImportMeta, selfReference(entry)],
  } satisfies BuildOptions;
  let result;
  let graph: string[];
  try {
    result = await build({ ...options, entryPoints: [entry] });
    graph = Object.keys(result.metafile.inputs);
    // The entity names of what the entry calls from other project modules come from those modules' exports, so a
    // graph of several modules is bundled again from an entry that also exports every module's namespace. The
    // entry's own import comes first, so the modules still run in the order it imports them.
    const others = graph
      .map((p) => (isAbsolute(p) ? p : resolve(p)))
      .filter((p) => p !== entry && !p.split(sep).includes("node_modules") && /\.(ts|tsx|mts|js|mjs)$/.test(p) && existsSync(p));
    if (others.length) {
      const entryExports = Object.values(result.metafile.outputs)[0]?.exports ?? [];
      const contents = [
        `export * from ${JSON.stringify(entry)};`,
        ...(entryExports.includes("default") ? [`export { default } from ${JSON.stringify(entry)};`] : []),
        ...others.map((p, i) => `import * as m${i} from ${JSON.stringify(p)};`),
        `export const ${projectModulesExport} = { ${others.map((p, i) => `${JSON.stringify(p)}: m${i}`).join(", ")} };`,
      ].join("\n");
      result = await build({ ...options, stdin: { contents, resolveDir: dirname(entry), sourcefile: "tsflyte-run-entry.mjs", loader: "js" } });
    }
  } catch (error) {
    const first = (error as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors?.[0];
    if (!first) throw error;
    const at = first.location ? { file: resolve(first.location.file), line: first.location.line, column: first.location.column + 1 } : undefined;
    throw new EntryLoadError(first.text, at, error);
  }
  const base = process.cwd();
  const inputs = digestSources(
    graph
      .map((p) => (isAbsolute(p) ? p : resolve(base, p)))
      .filter((p) => !p.split(sep).includes("node_modules")),
  );
  mkdirSync(dirname(out), { recursive: true });
  // Written then renamed: another tsflyte bundling the same module at the same moment never sees half a file.
  const temp = `.${process.pid}.tmp`;
  writeFileSync(out + temp, result.outputFiles[0].contents);
  renameSync(out + temp, out);
  writeFileSync(manifestPath + temp, JSON.stringify({ inputs } satisfies Manifest));
  renameSync(manifestPath + temp, manifestPath);
}

/**
 * In tsflyte's own repository the examples import "tsflyte" by the package's own name, which Node resolves only
 * from inside the package, not from node_modules/.cache: point those imports at this tsflyte's files.
 */
function selfReference(entry: string): Plugin {
  return {
    name: "tsflyte-self-reference",
    setup(b) {
      b.onResolve({ filter: /^tsflyte(\/.*)?$/ }, (args) => {
        if (projectPackageName(entry) !== "tsflyte") return undefined;
        return { path: import.meta.resolve(args.path), external: true };
      });
    },
  };
}

function projectPackageName(file: string): string | undefined {
  for (let folder = dirname(file); dirname(folder) !== folder; folder = dirname(folder)) {
    const manifest = join(folder, "package.json");
    if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name;
  }
  return undefined;
}

