// The blob store on this machine's disk: `file://` URIs are paths, metadata writes go through a write-behind queue
// (see write-behind.ts), uploads and downloads are awaited copies. Never writes a file in place: temp name + rename.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { copyFile, mkdir, realpath, rename, stat, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { threadId } from "node:worker_threads";
import { UserError } from "../errors.js";
import type { BlobStore } from "./blob-store.js";
import { directoryDigest, hashDirectory, hashFile, listFiles, mapLimited } from "./content-hash.js";
import { fileUriToPath, isFileUri, joinUri, pathToFileUri } from "./file-uri.js";
import { WriteBehindQueue, type WriteOwner } from "./write-behind.js";

const copyConcurrency = 16;
let tempSeq = 0;

export class FileBlobStore implements BlobStore {
  readonly baseUri: string;
  /** The store's folder on disk. */
  readonly basePath: string;
  private readonly queue: WriteBehindQueue;
  /** Set on a writer's view (see `writer`): whose failed writes its flush reports. */
  private readonly owner?: WriteOwner;

  /** `base`: a `file://` URI or an absolute path; the folder is created if missing. */
  constructor(base: string, shared?: { queue: WriteBehindQueue; owner: WriteOwner }) {
    const path = isFileUri(base) ? fileUriToPath(base) : resolve(base);
    try {
      if (!shared) mkdirSync(path, { recursive: true });
    } catch (e) {
      throw new UserError(`cannot create the blob store folder ${path}: ${(e as Error).message}`);
    }
    this.basePath = path.replace(/(.)\/+$/, "$1");
    this.baseUri = pathToFileUri(this.basePath);
    this.queue = shared?.queue ?? new WriteBehindQueue([this.basePath]);
    this.owner = shared?.owner;
  }

  /** A view sharing this store's queue whose flush reports only the writes put through it (one per execution). */
  writer(): FileBlobStore {
    return new FileBlobStore(this.basePath, { queue: this.queue, owner: {} });
  }

  put(uri: string, bytes: Uint8Array): void {
    if (!isFileUri(uri)) throw new UserError(`${uri}: the file blob store only writes file:// URIs (base ${this.baseUri})`);
    this.queue.put(uri, bytes, this.owner);
  }

  send(): void {
    this.queue.sendPending();
  }

  flush(): Promise<void> {
    return this.queue.flush(this.owner);
  }

  async write(uri: string, bytes: Uint8Array): Promise<void> {
    if (!isFileUri(uri)) throw new UserError(`${uri}: the file blob store only writes file:// URIs (base ${this.baseUri})`);
    const target = fileUriToPath(uri);
    const tmp = tempName(target);
    try {
      // Off the calling thread: creating a folder and a file can take milliseconds on a slow disk, and a server
      // writing for many requests at once must not stall them all.
      await mkdir(dirname(target), { recursive: true });
      await writeFile(tmp, bytes);
      await rename(tmp, target);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Writes everything queued before returning, on the calling thread: for a SIGINT/SIGTERM handler that is about to
   * end the process (a normal exit and `process.exit()` need nothing). Throws a UserError if a write failed.
   */
  flushSync(): void {
    this.queue.flushSync();
  }

  /** Flushes, then stops the writer thread; the store takes no more writes. A writer's view only flushes its own. */
  close(): Promise<void> {
    return this.owner ? this.flush() : this.queue.close();
  }

  async read(uri: string): Promise<Uint8Array> {
    const queued = this.queue.queued(uri);
    if (queued) return queued;
    const path = fileUriToPath(uri);
    try {
      // Synchronously: what the engine reads is mostly a small inputs.pb or outputs.pb, which the page cache holds,
      // and a round trip through libuv's thread pool costs far more than the read (a cached re-run reads one per node).
      return readFileSync(path);
    } catch (e) {
      throw missingOr(e, uri);
    }
  }

  async exists(uri: string): Promise<boolean> {
    if (this.queue.queued(uri)) return true;
    try {
      await stat(fileUriToPath(uri));
      return true;
    } catch (e) {
      if (isErrno(e, "ENOENT") || isErrno(e, "ENOTDIR")) return false;
      throw e;
    }
  }

  async uploadFile(localPath: string, uri: string): Promise<{ sha256: string; size: number }> {
    const source = resolve(localPath);
    const target = fileUriToPath(uri);
    const sourceStat = await stat(source).catch((e: unknown) => {
      throw isErrno(e, "ENOENT") ? new UserError(`no file at ${source} to upload`) : e;
    });
    if (!sourceStat.isFile()) throw new UserError(`${source} is not a file; upload a directory as a directory`);
    if ((await realpathOrSelf(target)) === (await realpath(source))) return hashFile(source);
    await mkdir(dirname(target), { recursive: true });
    const tmp = tempName(target);
    const hash = createHash("sha256");
    let size = 0;
    try {
      await pipeline(
        createReadStream(source),
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(tmp),
      );
      await rename(tmp, target);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw new UserError(`could not upload ${source} to ${uri}: ${(e as Error).message}`);
    }
    return { sha256: hash.digest("hex"), size };
  }

  async uploadDirectory(localPath: string, uri: string): Promise<{ sha256: string; files: number }> {
    const source = resolve(localPath);
    const sourceStat = await stat(source).catch((e: unknown) => {
      throw isErrno(e, "ENOENT") ? new UserError(`no directory at ${source} to upload`) : e;
    });
    if (!sourceStat.isDirectory()) throw new UserError(`${source} is not a directory`);
    const target = fileUriToPath(uri);
    if ((await realpathOrSelf(target)) === (await realpath(source))) return hashDirectory(source);
    const files = await listFiles(source);
    const entries = await mapLimited(files, copyConcurrency, async (rel) => ({
      relativePath: rel,
      sha256: (await this.uploadFile(join(source, rel), joinUri(uri, rel))).sha256,
    }));
    if (files.length === 0) await mkdir(target, { recursive: true });
    return { sha256: directoryDigest(entries), files: files.length };
  }

  async downloadFile(uri: string, localPath: string): Promise<void> {
    const target = resolve(localPath);
    await mkdir(dirname(target), { recursive: true });
    const queued = this.queue.queued(uri);
    if (queued) {
      await writeFile(target, queued);
      return;
    }
    const source = fileUriToPath(uri);
    if (source === target) return;
    try {
      await copyFile(source, target);
    } catch (e) {
      throw missingOr(e, uri);
    }
  }

  async downloadDirectory(uri: string, localPath: string): Promise<void> {
    const source = fileUriToPath(uri);
    const target = resolve(localPath);
    const sourceStat = await stat(source).catch(() => undefined);
    const queued = this.queue.queuedUnder(`${uri.replace(/\/+$/, "")}/`);
    if (!sourceStat?.isDirectory() && queued.length === 0) {
      throw new UserError(sourceStat ? `${uri} is a file, not a directory` : `no data at ${uri}`);
    }
    await mkdir(target, { recursive: true });
    if (sourceStat?.isDirectory() && source !== target) {
      const files = await listFiles(source);
      await mapLimited(files, copyConcurrency, async (rel) => {
        const to = join(target, ...rel.split("/"));
        await mkdir(dirname(to), { recursive: true });
        await copyFile(join(source, ...rel.split("/")), to);
      });
    }
    for (const [blobUri, bytes] of queued) {
      const to = join(target, fileUriToPath(blobUri).slice(source.length + 1));
      await mkdir(dirname(to), { recursive: true });
      await writeFile(to, bytes);
    }
  }

  localPath(uri: string): string | undefined {
    return isFileUri(uri) ? fileUriToPath(uri) : undefined;
  }
}

function tempName(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${threadId}-${tempSeq++}`);
}

async function realpathOrSelf(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

function isErrno(e: unknown, code: string): boolean {
  return typeof e === "object" && e !== null && (e as NodeJS.ErrnoException).code === code;
}

function missingOr(e: unknown, uri: string): unknown {
  if (isErrno(e, "ENOENT") || isErrno(e, "ENOTDIR")) return new UserError(`no data at ${uri}`);
  if (isErrno(e, "EISDIR")) return new UserError(`${uri} is a directory, not a single blob`);
  return e;
}
