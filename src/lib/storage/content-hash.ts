// Content hashes of files and directory trees: the same bytes give the same hash wherever they are, which is what
// lets a cached result be reused across executions. Never hashes names of the enclosing folder or timestamps.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";

/** sha256 (hex) and size of one local file, streamed. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), size };
}

export function hashBytes(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** One file of a directory tree: its `/`-separated path relative to the root and its content hash. */
export interface TreeEntry {
  relativePath: string;
  sha256: string;
}

/**
 * The hash of a directory tree: sha256 over `<relative path> NUL <file sha256> LF` for every file, sorted by path.
 * Empty folders do not count; only files and where they sit.
 */
export function directoryDigest(entries: readonly TreeEntry[]): string {
  const hash = createHash("sha256");
  for (const e of [...entries].sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0))) {
    hash.update(`${e.relativePath}\0${e.sha256}\n`);
  }
  return hash.digest("hex");
}

/** Every file under `root` (following symbolic links, once each), as `/`-separated relative paths, sorted. */
export async function listFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  const seen = new Set<string>([await realpath(root)]);
  async function walk(dir: string, prefix: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await stat(full).catch(() => undefined);
        if (!target) continue; // a dangling link holds no data
        isDir = target.isDirectory();
        isFile = target.isFile();
        if (isDir) {
          const real = await realpath(full);
          if (seen.has(real)) continue;
          seen.add(real);
        }
      }
      if (isDir) await walk(full, rel);
      else if (isFile) files.push(rel);
    }
  }
  await walk(root, "");
  return files.sort();
}

/** The directory hash of a local tree (see directoryDigest) and how many files it holds. */
export async function hashDirectory(root: string): Promise<{ sha256: string; files: number }> {
  const files = await listFiles(root);
  const entries = await mapLimited(files, 16, async (rel) => ({ relativePath: rel, sha256: (await hashFile(join(root, rel))).sha256 }));
  return { sha256: directoryDigest(entries), files: files.length };
}

/** `Promise.all(items.map(fn))` with at most `limit` calls running, so big trees do not exhaust file handles. */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
