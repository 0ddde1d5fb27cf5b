// Packs the project files a workflow needs into a byte-reproducible tar, and derives content-hash versions.
// Never let the machine, clock, user or file order leak into the bytes: the same sources must give the same version.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { CompileError, UserError, type CompileProblem } from "../errors.js";
import { packageRoot } from "../package-root.js";

export interface BundleFile {
  /** POSIX path relative to the project root. */
  path: string;
  contents: Buffer;
}

export interface CodeBundle {
  projectRoot: string;
  files: BundleFile[];
  tar: Buffer;
  /** Hex md5 of `tar`. */
  md5: string;
}

/**
 * Bundles the entry files, the project sources they import statically, and the package manifest(s).
 * Packages from node_modules are left out: the image installs them from package.json.
 */
export async function buildCodeBundle(projectRoot: string, entryFiles: string[]): Promise<CodeBundle> {
  const root = resolve(projectRoot);
  const entries = entryFiles.map((file) => resolve(root, file));
  for (const entry of entries) {
    if (!isInsideProject(root, entry)) {
      throw new UserError(
        `${entry} is outside the project root ${root}`,
        "Run tsflyte from the project that holds the workflow, or pass --project-root.",
      );
    }
  }
  const imported = await findImportedSources(root, entries);
  if (imported.outside.length) throw new CompileError(imported.outside);
  const paths = new Set<string>([...entries, ...imported.files]);
  for (const manifest of ["package.json", "package-lock.json"]) {
    if (existsSync(join(root, manifest))) paths.add(join(root, manifest));
  }
  const files = [...paths]
    .map((file) => ({ path: toPosix(relative(root, file)), contents: readFileSync(file) }))
    .sort((a, b) => byCodePoint(a.path, b.path));
  const tar = writeTar(files);
  return { projectRoot: root, files, tar, md5: createHash("md5").update(tar).digest("hex") };
}

/**
 * A version that changes exactly when the code or the settings that shape the registered entities change.
 * md5 is for identity here, not security; 22 url-safe base64 characters are its whole 128 bits.
 */
export function contentVersion(bundleMd5: string, settings: Record<string, unknown>): string {
  return createHash("md5")
    .update(bundleMd5)
    .update("\n")
    .update(canonicalJson(settings))
    .digest("base64url")
    .slice(0, 22);
}

/**
 * The project files reachable by static imports, as esbuild resolves them (tsconfig paths, .js → .ts, …), and every
 * import of a file outside the project root: such a file would be missing from the bundle, so the task could not
 * load where it runs. tsflyte's own files are provided by the tsflyte that runs the task, like its package.
 * An import esbuild cannot resolve is not ours to judge here: loading reports it; the bundle falls back.
 */
async function findImportedSources(root: string, entries: string[]): Promise<{ files: string[]; outside: CompileProblem[] }> {
  if (entries.length === 0) return { files: [], outside: [] };
  const { build } = await import("esbuild");
  let inputs: Record<string, { imports: { path: string; original?: string; external?: boolean }[] }>;
  try {
    const result = await build({
      entryPoints: entries,
      absWorkingDir: root,
      // Required for several entry points; nothing is written.
      outdir: join(root, ".tsflyte-bundle-scan"),
      bundle: true,
      write: false,
      metafile: true,
      platform: "node",
      format: "esm",
      packages: "external",
      logLevel: "silent",
    });
    inputs = result.metafile.inputs;
  } catch {
    return { files: [], outside: [] };
  }
  const files: string[] = [];
  const outside: CompileProblem[] = [];
  for (const [input, { imports }] of Object.entries(inputs)) {
    // Namespaced inputs such as "<define:...>" are not files.
    if (input.includes(":")) continue;
    const file = resolve(root, input);
    if (isInsideProject(root, file) && existsSync(file)) files.push(file);
    for (const imported of imports) {
      if (imported.external || imported.path.includes(":")) continue;
      const target = resolve(root, imported.path);
      if (isInsideProject(root, target) || isInside(packageRoot, target) || target.split(sep).includes("node_modules")) continue;
      const importer = toPosix(relative(root, file));
      const specifier = imported.original ?? imported.path;
      outside.push({
        entity: importer,
        location: importLocation(file, importer, specifier),
        message:
          `imports "${specifier}" (${target}) from outside the project root ${root}, so the task could not load it where it runs; ` +
          "move the file into the project, make it a package the project depends on, or put the package.json in a folder above both " +
          "(the project root is the nearest folder with a package.json)",
      });
    }
  }
  return { files, outside };
}

/** `<importer>:line:col` of the first place the specifier is written in the importer. */
function importLocation(file: string, importer: string, specifier: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  for (const quote of ['"', "'", "`"]) {
    const at = text.indexOf(`${quote}${specifier}${quote}`);
    if (at === -1) continue;
    const before = text.slice(0, at).split("\n");
    return `${importer}:${before.length}:${before[before.length - 1].length + 1}`;
  }
  return undefined;
}

/** Inside the project and not an installed package. */
export function isInsideProject(root: string, file: string): boolean {
  return isInside(root, file) && !relative(root, file).split(sep).includes("node_modules");
}

function isInside(folder: string, file: string): boolean {
  const rel = relative(folder, file);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** JSON with object keys sorted at every depth, so settings written in any order hash the same. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? "null";
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object" || typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return value;
  }
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort(byCodePoint)) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

const block = 512;

/**
 * A POSIX ustar archive with every machine-specific field fixed (mode 0644, owner 0, mtime 0, no names), so
 * identical files give identical bytes everywhere. Regular files only: extractors create parent folders.
 */
export function writeTar(files: BundleFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(tarHeader(file.path, file.contents.length));
    parts.push(file.contents);
    const padding = (block - (file.contents.length % block)) % block;
    if (padding) parts.push(Buffer.alloc(padding));
  }
  parts.push(Buffer.alloc(2 * block));
  return Buffer.concat(parts);
}

function tarHeader(path: string, size: number): Buffer {
  const { name, prefix } = splitTarPath(path);
  const header = Buffer.alloc(block);
  header.write(name, 0, 100, "utf8");
  writeOctal(header, 100, 8, 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, 0);
  header.write("        ", 148, 8, "ascii"); // the checksum is computed with its own field as spaces
  header.write("0", 156, 1, "ascii");
  header.write("ustar\0", 257, 6, "ascii");
  header.write("00", 263, 2, "ascii");
  writeOctal(header, 329, 8, 0);
  writeOctal(header, 337, 8, 0);
  header.write(prefix, 345, 155, "utf8");
  let checksum = 0;
  for (const byte of header) checksum += byte;
  header.write(`${checksum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");
  return header;
}

/** Fits a path into ustar's 100-byte name and 155-byte prefix, split at a slash. */
function splitTarPath(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: "" };
  for (let cut = path.indexOf("/"); cut !== -1; cut = path.indexOf("/", cut + 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  throw new UserError(`${path}: path is too long for the code bundle`, "Keep project paths under 255 bytes.");
}

/** Octal digits, zero-padded to fill the field but its final NUL. */
function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  header.write(`${value.toString(8).padStart(length - 1, "0")}\0`, offset, length, "ascii");
}

function toPosix(path: string): string {
  return sep === "/" ? path : path.split(sep).join("/");
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
