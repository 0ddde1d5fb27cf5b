// Write-behind for the file store: `put` records bytes in memory; a worker thread writes them in call order.
// Never loses a queued write: pending writes keep the process alive and process.exit() finishes them first.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { UserError } from "../errors.js";

/**
 * Writes one blob: makes missing folders (remembering the ones it made or found), writes a temporary file next to
 * the target and renames it over the target, so a crash never leaves half a file under the real name. Kept as
 * source text because the same code runs in the worker thread (where it is evaluated) and, when the worker is
 * not up yet or gone, on the caller's thread.
 */
const blobWriterSource = String.raw`
function makeBlobWriter(fs, path, fileURLToPath, tag, knownDirs) {
  let seq = 0;
  function ensureDir(dir) {
    if (knownDirs.has(dir)) return;
    const missing = [];
    for (let d = dir; !knownDirs.has(d); ) {
      missing.push(d);
      const parent = path.dirname(d);
      if (parent === d) break;
      d = parent;
    }
    for (let i = missing.length - 1; i >= 0; i--) {
      try { fs.mkdirSync(missing[i]); } catch (e) { if (e.code !== "EEXIST") throw e; }
      knownDirs.add(missing[i]);
    }
  }
  // URIs the engine builds are plain "file:///a/b" (no escapes, dot segments, query or fragment): their path is the
  // rest of the string. Parsing them as URLs costs more than the write itself in a fresh thread.
  const plainFileUri = /^file:\/\/\/[^%?#\\\s]*$/;
  function toPath(uri) {
    if (path.sep === "/" && plainFileUri.test(uri) && !uri.includes("/.")) return uri.slice(7);
    const url = new URL(uri);
    if (url.protocol !== "file:" || url.search || url.hash) throw new Error("not a plain file:// URI");
    return fileURLToPath(url);
  }
  return function write(uri, bytes) {
    const file = toPath(uri);
    const slash = file.lastIndexOf(path.sep);
    const dir = file.slice(0, slash) || path.sep;
    const tmp = dir + path.sep + "." + file.slice(slash + 1) + ".tmp-" + tag + "-" + seq++;
    try {
      ensureDir(dir);
      try {
        fs.writeFileSync(tmp, bytes);
      } catch (e) {
        // A partial temp file (a full disk) would keep the space from every later write.
        try { fs.unlinkSync(tmp); } catch {}
        if (e.code !== "ENOENT" && e.code !== "ENOTDIR") throw e;
        knownDirs.clear(); // a folder was removed since it was made: find out again
        ensureDir(dir);
        try { fs.writeFileSync(tmp, bytes); } catch (again) { try { fs.unlinkSync(tmp); } catch {} throw again; }
      }
      try { fs.renameSync(tmp, file); } catch (e) { try { fs.unlinkSync(tmp); } catch {} throw e; }
    } catch (e) {
      if (e && typeof e.message === "string") e.message = e.message.split(tmp).join(file);
      throw e;
    }
  };
}`;

// Slots of the control array shared with the worker: the caller asks it to stop, it says when it is mid-write,
// and how many writes (by global index) are on disk. This is what lets process.exit() take over safely.
const STOP = 0;
const BUSY = 1;
const DONE = 2;

const workerSource = `${blobWriterSource}
const { parentPort, workerData, threadId } = require("node:worker_threads");
const write = makeBlobWriter(require("node:fs"), require("node:path"), require("node:url").fileURLToPath,
  process.pid + "-" + threadId, new Set(workerData.knownDirs));
const control = new Int32Array(workerData.control);
parentPort.on("message", (batch) => {
  const failures = [];
  let offset = 0;
  for (let k = 0; k < batch.uris.length; k++) {
    const index = batch.start + k;
    const bytes = new Uint8Array(batch.data, offset, batch.lengths[k]);
    offset += batch.lengths[k];
    Atomics.store(control, ${BUSY}, 1);
    if (Atomics.load(control, ${STOP}) === 1) {
      Atomics.store(control, ${BUSY}, 0);
      Atomics.notify(control, ${BUSY});
      return;
    }
    try {
      write(batch.uris[k], bytes);
    } catch (e) {
      failures.push({ index, uri: batch.uris[k], message: e && e.message ? e.message : String(e) });
    }
    Atomics.store(control, ${DONE}, index + 1);
    Atomics.store(control, ${BUSY}, 0);
    Atomics.notify(control, ${BUSY});
  }
  parentPort.postMessage({ end: batch.start + batch.uris.length, failures });
});
parentPort.postMessage({ ready: true });
`;

type BlobWriter = (uri: string, bytes: Uint8Array) => void;
type MakeBlobWriter = (
  fsModule: typeof fs,
  pathModule: typeof path,
  toPath: typeof fileURLToPath,
  tag: string,
  knownDirs: Set<string>,
) => BlobWriter;
// The same writer the worker evaluates, for writes done on this thread.
const makeBlobWriter = new Function(`${blobWriterSource}\nreturn makeBlobWriter;`)() as MakeBlobWriter;

/** Writes queued before the worker is up are done on the caller's thread at `flush` if there are at most this many. */
const SYNC_DRAIN_LIMIT = 256;
/**
 * The first writes of a process are done on the caller's thread at the end of their turn of the event loop: a
 * short run (one task) never pays for starting the writer thread. Past this many, the thread takes over.
 */
const MAIN_THREAD_WRITES = 64;

/**
 * Who queued a write, so that a failure is reported to its writer only (one execution's full disk is not another's
 * error). Writes without one belong to the store's own `flush`.
 */
export type WriteOwner = object;

interface QueuedWrite {
  index: number;
  uri: string;
  bytes: Uint8Array;
  owner?: WriteOwner;
}

interface WriteFailure {
  index: number;
  uri: string;
  message: string;
  owner?: WriteOwner;
}

interface Waiter {
  upto: number;
  owner?: WriteOwner;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** `flushSync` and the exit hook report every failure, whoever's. */
const anyOwner: WriteOwner = {};

interface WriterThread {
  worker: Worker;
  control: Int32Array;
  ready: boolean;
  stopping: boolean;
}

/** Queues with writes not yet on disk; the exit hook finishes them. */
const busyQueues = new Set<WriteBehindQueue>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const queue of [...busyQueues]) queue.finishOnThisThread(true);
  });
}

export class WriteBehindQueue {
  private nextIndex = 0;
  /** Every write below this index is on disk (or failed and is listed in `failures`). */
  private doneIndex = 0;
  private unsent: QueuedWrite[] = [];
  private inflight: QueuedWrite[][] = [];
  /** The latest queued write of each URI not yet on disk: what `read` must see. */
  private readonly latest = new Map<string, QueuedWrite>();
  private failures: WriteFailure[] = [];
  /** An owner's first failed write, reported by each of its later flushes too: what it recorded is incomplete. */
  private readonly failedOwners = new WeakMap<WriteOwner, UserError>();
  private waiters: Waiter[] = [];
  private thread?: WriterThread;
  private sendScheduled = false;
  private mainThreadWrites = 0;
  private closed = false;
  private localWriter?: BlobWriter;
  private readonly knownDirs: string[];
  private readonly sendNow = () => this.send();

  /** `knownDirs`: folders that exist already (the store's base), so the writer does not probe them. */
  constructor(knownDirs: string[]) {
    this.knownDirs = knownDirs;
  }

  /** Records a write; the caller must not change `bytes` afterwards. A failure is reported to `owner`'s flush only. */
  put(uri: string, bytes: Uint8Array, owner?: WriteOwner): void {
    if (this.closed) throw new Error(`the blob store is closed; cannot write ${uri}`);
    const write: QueuedWrite = { index: this.nextIndex++, uri, bytes, owner };
    this.latest.set(uri, write);
    this.unsent.push(write);
    if (this.nextIndex - this.doneIndex === 1) this.becameBusy();
    if ((!this.thread || this.thread.ready) && !this.sendScheduled) {
      this.sendScheduled = true;
      setImmediate(this.sendNow);
    }
  }

  /** The bytes of the latest write to `uri` that is not on disk yet. */
  queued(uri: string): Uint8Array | undefined {
    return this.latest.get(uri)?.bytes;
  }

  /** Queued writes not yet on disk whose URI starts with `prefix`. */
  queuedUnder(prefix: string): Array<[uri: string, bytes: Uint8Array]> {
    const out: Array<[string, Uint8Array]> = [];
    for (const [uri, w] of this.latest) if (uri.startsWith(prefix)) out.push([uri, w.bytes]);
    return out;
  }

  /** Posts what is queued to the worker at once; before the worker is ready, its ready message does this. */
  sendPending(): void {
    if (!this.thread || this.thread.ready) this.send();
  }

  /** Resolves once every write queued so far is on disk; rejects with the failures of `owner`'s writes among them. */
  flush(owner?: WriteOwner): Promise<void> {
    const upto = this.nextIndex;
    if (this.doneIndex < upto && !this.thread?.ready && this.inflight.length === 0 && this.unsent.length <= SYNC_DRAIN_LIMIT) {
      // The worker is still starting (it takes tens of milliseconds): a few writes are quicker done here.
      this.writeHere(this.unsent.splice(0));
    } else if (!this.thread || this.thread.ready) {
      this.send();
    }
    if (this.doneIndex >= upto) {
      const failed = this.takeFailures(upto, owner);
      return failed ? Promise.reject(failed) : Promise.resolve();
    }
    return new Promise((resolve, reject) => this.waiters.push({ upto, owner, resolve, reject }));
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.closed = true;
      const thread = this.thread;
      this.thread = undefined;
      if (thread) {
        thread.stopping = true;
        await thread.worker.terminate();
      }
    }
  }

  /** Finishes every queued write on this thread before returning (for signal handlers); throws like `flush`. */
  flushSync(): void {
    if (this.doneIndex < this.nextIndex) this.finishOnThisThread();
    const failed = this.takeFailures(this.nextIndex, anyOwner);
    if (failed) throw failed;
  }

  /**
   * Stops the worker between two writes and does the remaining ones on this thread, synchronously. Used when the
   * process exits with writes queued, when the worker died, and by `flushSync`.
   */
  finishOnThisThread(reportToStderr = false): void {
    const thread = this.thread;
    let onDisk = this.doneIndex;
    if (thread) {
      this.thread = undefined;
      thread.stopping = true;
      Atomics.store(thread.control, STOP, 1);
      const deadline = Date.now() + 10_000;
      while (Atomics.load(thread.control, BUSY) === 1 && Date.now() < deadline) Atomics.wait(thread.control, BUSY, 1, 100);
      onDisk = Math.max(onDisk, Atomics.load(thread.control, DONE));
      void thread.worker.terminate();
    }
    const remaining = [...this.inflight.flat(), ...this.unsent].filter((w) => w.index >= onDisk);
    this.inflight = [];
    this.unsent = [];
    this.writeHere(remaining);
    if (reportToStderr) for (const f of this.failures) process.stderr.write(`tsflyte: could not write ${f.uri}: ${f.message}\n`);
  }

  private becameBusy(): void {
    busyQueues.add(this);
    installExitHook();
    this.thread?.worker.ref();
  }

  private becameIdle(): void {
    busyQueues.delete(this);
    this.thread?.worker.unref();
  }

  private startThread(): void {
    const control = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
    const worker = new Worker(workerSource, { eval: true, workerData: { control: control.buffer, knownDirs: this.knownDirs } });
    const thread: WriterThread = { worker, control, ready: false, stopping: false };
    this.thread = thread;
    worker.on("message", (message: { ready?: true; end?: number; failures?: WriteFailure[] }) => {
      if (thread !== this.thread) return;
      if (message.ready) {
        thread.ready = true;
        this.send();
        return;
      }
      const batch = this.inflight.shift();
      if (batch) this.completed(batch, message.failures ?? []);
    });
    const died = (reason: string) => {
      if (thread.stopping || thread !== this.thread) return;
      process.emitWarning(`tsflyte: the blob writer thread stopped (${reason}); writing on the main thread`);
      this.finishOnThisThread();
    };
    worker.on("error", (e) => died(e.message));
    worker.on("exit", (code) => died(`exit code ${code}`));
  }

  private send(): void {
    this.sendScheduled = false;
    if (!this.thread && this.unsent.length > 0) {
      if (this.mainThreadWrites + this.unsent.length <= MAIN_THREAD_WRITES) {
        this.mainThreadWrites += this.unsent.length;
        this.writeHere(this.unsent.splice(0));
      } else {
        this.startThread(); // its ready message sends what is queued
      }
      return;
    }
    const thread = this.thread;
    if (!thread?.ready || this.unsent.length === 0) return;
    const batch = this.unsent;
    this.unsent = [];
    let total = 0;
    for (const w of batch) total += w.bytes.byteLength;
    // One buffer per batch, transferred: cloning many small views would copy each one's whole backing buffer.
    const data = new Uint8Array(total);
    const uris = new Array<string>(batch.length);
    const lengths = new Array<number>(batch.length);
    let offset = 0;
    for (let k = 0; k < batch.length; k++) {
      const w = batch[k];
      data.set(w.bytes, offset);
      offset += w.bytes.byteLength;
      uris[k] = w.uri;
      lengths[k] = w.bytes.byteLength;
    }
    this.inflight.push(batch);
    thread.worker.postMessage({ start: batch[0].index, uris, lengths, data: data.buffer }, [data.buffer]);
  }

  private writeHere(writes: QueuedWrite[]): void {
    this.localWriter ??= makeBlobWriter(fs, path, fileURLToPath, `${process.pid}-main`, new Set(this.knownDirs));
    const failures: WriteFailure[] = [];
    for (const w of writes) {
      try {
        this.localWriter(w.uri, w.bytes);
      } catch (e) {
        failures.push({ index: w.index, uri: w.uri, message: e instanceof Error ? e.message : String(e), owner: w.owner });
      }
    }
    this.completed(writes, failures, this.nextIndex);
  }

  private completed(batch: QueuedWrite[], failures: WriteFailure[], doneUpTo?: number): void {
    for (const w of batch) if (this.latest.get(w.uri) === w) this.latest.delete(w.uri);
    if (failures.length && batch.length) {
      // The writer thread reports indexes; who queued each write is known here.
      const byIndex = new Map(batch.map((w) => [w.index, w]));
      for (const f of failures) f.owner ??= byIndex.get(f.index)?.owner;
    }
    this.failures.push(...failures);
    const end = doneUpTo ?? (batch.length ? batch[batch.length - 1].index + 1 : this.doneIndex);
    this.doneIndex = Math.max(this.doneIndex, end);
    if (this.waiters.length) {
      const still: Waiter[] = [];
      for (const waiter of this.waiters) {
        if (waiter.upto > this.doneIndex) {
          still.push(waiter);
          continue;
        }
        const failed = this.takeFailures(waiter.upto, waiter.owner);
        if (failed) waiter.reject(failed);
        else waiter.resolve();
      }
      this.waiters = still;
    }
    if (this.doneIndex === this.nextIndex) this.becameIdle();
  }

  /**
   * The failures among `owner`'s writes below `upto` as one error. Without an owner each is reported once; an owner
   * (one execution) keeps getting its first one, so that whichever of its flushes comes next, it fails with it.
   */
  private takeFailures(upto: number, owner: WriteOwner | undefined): UserError | undefined {
    const isMine = (f: WriteFailure) => f.index < upto && (owner === anyOwner || f.owner === owner);
    const mine = this.failures.filter(isMine);
    const earlier = owner ? this.failedOwners.get(owner) : undefined;
    if (mine.length === 0) return earlier;
    this.failures = this.failures.filter((f) => !isMine(f));
    const [first] = mine;
    const more = mine.length > 1 ? ` (and ${mine.length - 1} more write${mine.length > 2 ? "s" : ""})` : "";
    const error = new UserError(
      `could not write ${first.uri}: ${first.message}${more}`,
      "check that the blob store folder is writable, has room, and that no file stands where a folder must be",
    );
    if (owner && owner !== anyOwner) this.failedOwners.set(owner, earlier ?? error);
    return earlier ?? error;
  }
}
