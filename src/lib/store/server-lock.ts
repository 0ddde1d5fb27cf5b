// One `tsflyte serve` per SQLite file: an OS lock on a file beside the database, held while the server runs, and a
// row naming the holder. Never blocks a local `tsflyte run` on the same file, and never trusts a holder that is gone.
import { hostname } from "node:os";
import Database from "better-sqlite3";
import { UserError } from "../errors.js";

export interface ServerLock {
  /** Records where the holder listens, for the message a second server gets. */
  setEndpoint(url: string): void;
  /** Lets the next server start; also happens by itself when this process ends, however it ends. */
  release(): void;
}

interface HolderRow {
  host: string;
  pid: number;
  since: number;
  endpoint: string | null;
}

/**
 * Takes the server lock of the SQLite database at `path` (already opened and migrated), or throws a UserError naming
 * the server that holds it. The lock is SQLite's own exclusive lock on `<path>.serve-lock`: a POSIX record lock, which
 * the kernel drops when its process ends — a `kill -9`ed holder never blocks the next start, and a live one cannot be
 * taken for dead (no pid to reuse, no clock to trust). A local `tsflyte run` never takes it.
 */
export function lockSqliteForServer(path: string): ServerLock {
  const lockPath = `${path}.serve-lock`;
  let lockDb: Database.Database;
  try {
    lockDb = new Database(lockPath);
    lockDb.pragma("busy_timeout = 0");
  } catch (err) {
    throw new UserError(`Cannot open the server lock file ${lockPath}: ${(err as Error).message}.`, "Check that you may write to the database's folder.");
  }
  try {
    // Held, uncommitted, for as long as the server runs; nothing is ever written to this file.
    lockDb.exec("BEGIN EXCLUSIVE");
  } catch (err) {
    lockDb.close();
    if ((err as { code?: string }).code?.startsWith("SQLITE_BUSY")) throw heldBy(path);
    throw err;
  }
  const db = new Database(path);
  db.pragma("busy_timeout = 5000");
  try {
    db.prepare("INSERT INTO server_lock (id, host, pid, since, endpoint) VALUES (1, ?, ?, ?, NULL) ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, since = excluded.since, endpoint = NULL")
      .run(hostname(), process.pid, Date.now());
  } catch (err) {
    db.close();
    lockDb.close();
    throw err;
  }
  let released = false;
  return {
    setEndpoint(url: string) {
      db.prepare("UPDATE server_lock SET endpoint = ? WHERE id = 1").run(url);
    },
    release() {
      if (released) return;
      released = true;
      db.close();
      lockDb.close();
    },
  };
}

function heldBy(path: string): UserError {
  let holder: HolderRow | undefined;
  try {
    const db = new Database(path, { readonly: true });
    try {
      db.pragma("busy_timeout = 5000");
      holder = db.prepare("SELECT host, pid, since, endpoint FROM server_lock WHERE id = 1").get() as HolderRow | undefined;
    } finally {
      db.close();
    }
  } catch {
    // The holder is named when its row can be read; the refusal stands either way.
  }
  const who = holder
    ? `tsflyte serve (pid ${holder.pid} on ${holder.host}, since ${new Date(holder.since).toISOString()}${holder.endpoint ? `, listening on ${holder.endpoint}` : ""})`
    : "another tsflyte serve";
  return new UserError(
    `The SQLite database ${path} is in use by ${who}. A SQLite database serves one server at a time.`,
    "Stop that server first, give this one its own --db, or share a PostgreSQL database (--db postgres://…) between several servers.",
  );
}
