// Gets the code bundle named by `--code-bundle` into a local folder, once per content: downloaded, hashed, and
// extracted to a temp folder that is renamed into the cache, so concurrent workers never see half a bundle.
// Never extracts in place and never trusts a folder that is not named by the hash of its archive.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { BlobStore } from "../storage/blob-store.js";
import { systemFailure } from "./failure.js";
import { extractTar } from "./untar.js";

export interface CodeBundleFolder {
  /** Where the bundle's files are; the task's module is resolved against it. */
  dir: string;
  /** sha256 (base64url, 32 characters) of the archive: the bundle's identity for every cache. */
  digest: string;
}

interface Known extends CodeBundleFolder {
  /** size, mtime and inode of the archive when it is on this machine's disk; re-read when they change. */
  signature?: string;
}

/** Bundles this process has seen, by URI: a warm worker reads each archive once, not once per attempt. */
const known = new Map<string, Known>();
let tempSeq = 0;

export async function codeBundleFolder(store: BlobStore, uri: string, cacheDir: string): Promise<CodeBundleFolder> {
  const local = store.localPath(uri);
  const signature = local ? fileSignature(local) : undefined;
  const seen = known.get(uri);
  if (seen && seen.signature === signature && existsSync(seen.dir)) return seen;
  let archive: Uint8Array;
  try {
    archive = await store.read(uri);
  } catch (e) {
    throw systemFailure("CodeBundleUnavailable", `could not read the code bundle ${uri}`, e);
  }
  const digest = createHash("sha256").update(archive).digest("base64url").slice(0, 32);
  const bundles = join(cacheDir, "bundles");
  const dir = join(bundles, digest);
  if (!existsSync(dir)) {
    const temp = join(bundles, `.${digest}.tmp-${process.pid}-${tempSeq++}`);
    try {
      mkdirSync(bundles, { recursive: true, mode: 0o700 });
      extractTar(archive, temp);
      publish(temp, dir);
    } catch (e) {
      rmSync(temp, { recursive: true, force: true });
      throw systemFailure("CodeBundleUnavailable", `could not extract the code bundle ${uri} into ${bundles}`, e);
    }
  }
  const entry: Known = { dir, digest, signature };
  known.set(uri, entry);
  return entry;
}

/** Renames the extracted folder into place; if another process got there first, its identical copy wins. */
function publish(temp: string, dir: string): void {
  try {
    renameSync(temp, dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if ((code === "ENOTEMPTY" || code === "EEXIST") && existsSync(dir)) {
      rmSync(temp, { recursive: true, force: true });
      return;
    }
    throw e;
  }
}

function fileSignature(path: string): string | undefined {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? `${st.size}:${st.mtimeMs}:${st.ino}` : undefined;
}
