// Records an execution's rows in the metadata store, coalesced: the latest state of each row is written in one
// transaction per turn of the event loop. Never reorders a row's states, and never drops a write on the way out.
import type { MetadataStore, StoreWrite } from "../store/records.js";

export class Recorder {
  private pending = new Map<string, StoreWrite>();
  private scheduled = false;
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(private readonly store: MetadataStore | undefined) {}

  /** Queues a row's latest state. The row is read when the batch is taken, so its latest state is written. */
  record(write: StoreWrite): void {
    if (!this.store) return;
    const row = write.row as unknown as Record<string, unknown>;
    const key =
      write.table === "execution"
        ? `e`
        : write.table === "node"
          ? `n\0${row.nodeId as string}`
          : write.table === "task"
            ? `t\0${row.nodeId as string}\0${row.attempt as number}`
            : `c\0${row.key as string}`;
    this.pending.set(key, write);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => void this.drain());
    }
  }

  private drain(): Promise<void> {
    this.scheduled = false;
    if (!this.store || this.pending.size === 0) return this.writing;
    // Copied now, so a row that changes while an asynchronous store writes it keeps the state it had here.
    const batch = Array.from(this.pending.values(), (w) => ({ table: w.table, row: { ...w.row } }) as StoreWrite);
    this.pending.clear();
    const store = this.store;
    this.writing = this.writing.then(() => store.write(batch)).catch((e: unknown) => {
      this.failure ??= e;
    });
    return this.writing;
  }

  /** Writes everything recorded so far; rejects with the first write that failed. */
  async flush(): Promise<void> {
    await this.drain();
    if (this.failure) throw this.failure;
  }
}
