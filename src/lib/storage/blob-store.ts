// The blob store contract: bytes by URI (`file://` now, `s3://` with Kubernetes). Inputs, outputs, errors and
// logs live here in Flyte's layout (see layout.ts); offloaded files, directories and tables under raw prefixes.

export interface BlobStore {
  /** The root every path of this store starts with, e.g. `file:///home/me/.tsflyte/data`. No trailing slash. */
  readonly baseUri: string;
  /**
   * Queues a write and returns at once; writes to one URI land in call order and `read` sees queued writes.
   * Errors surface from `flush`. This keeps slow file creation off the engine's critical path.
   */
  put(uri: string, bytes: Uint8Array): void;
  /**
   * Hands queued writes to the writer now rather than at the end of this turn of the event loop, without
   * waiting: a task about to run on this thread may block it, and the data before it must not wait for that.
   */
  send(): void;
  /** Resolves when every queued write is on disk; rejects with the first write that failed. */
  flush(): Promise<void>;
  /**
   * Writes one blob now, past the queue, and resolves once it is in place (temp name + rename): for a request that must not answer
   * before its data is stored and should not wait for everyone else's queued writes. Never for a URI with queued writes.
   */
  write(uri: string, bytes: Uint8Array): Promise<void>;
  /** The bytes at `uri`; a UserError naming the URI when there are none. */
  read(uri: string): Promise<Uint8Array>;
  exists(uri: string): Promise<boolean>;
  /** Copies a local file into the store at `uri`; resolves to the sha256 (hex) of its content. */
  uploadFile(localPath: string, uri: string): Promise<{ sha256: string; size: number }>;
  /** Copies a local directory tree under `uri`; resolves to a sha256 over its sorted relative paths and contents. */
  uploadDirectory(localPath: string, uri: string): Promise<{ sha256: string; files: number }>;
  /** Copies the blob at `uri` to a local file (creating folders). */
  downloadFile(uri: string, localPath: string): Promise<void>;
  /** Copies every blob under `uri` to a local directory (creating folders). */
  downloadDirectory(uri: string, localPath: string): Promise<void>;
  /** A local path for `uri` when the store is on this machine's disk (file://), so tasks can read in place. */
  localPath(uri: string): string | undefined;
  /**
   * The same store for one writer (one execution of many in a process): its `flush` waits for every queued write as
   * usual but rejects only for the writes `put` through it. A store whose queue serves one writer may omit it.
   */
  writer?(): BlobStore;
}

/** `blobs` for one writer of many: its flushes report only its own failed writes (see BlobStore.writer). */
export function blobsForOneWriter(blobs: BlobStore): BlobStore {
  return blobs.writer?.() ?? blobs;
}
