// The source files a cached bundle was built from, with a digest of each: how `run`'s prebuilt bundles and
// tsflyte-execute's compiled tasks know a cache entry is still current. Never trusts times or sizes alone.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

export interface SourceDigest {
  path: string;
  sha256: string;
}

/** sha256 as url-safe base64: short enough for file names and manifests. */
export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("base64url");
}

export function digestSources(paths: readonly string[]): SourceDigest[] {
  return paths.map((path) => ({ path, sha256: sha256(readFileSync(path)) }));
}

/** Whether every source still has the content it was built from (a missing file counts as changed). */
export function sourcesUnchanged(sources: readonly SourceDigest[]): boolean {
  for (const source of sources) {
    let content: Buffer;
    try {
      content = readFileSync(source.path);
    } catch {
      return false;
    }
    if (sha256(content) !== source.sha256) return false;
  }
  return true;
}
