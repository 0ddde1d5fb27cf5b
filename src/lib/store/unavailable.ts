// Tells a store that is down for a while (connection refused or reset, PostgreSQL shutting down, SQLite busy, disk
// full, I/O error) from a request that is wrong, and waits it out with backoff. Never retries a wrong request.
import { UserError } from "../errors.js";

const unavailableBrand = Symbol.for("tsflyte.StoreUnavailableError");

/** The metadata store cannot answer now, but may once it is back: the same request can be sent again later. */
export class StoreUnavailableError extends UserError {
  readonly [unavailableBrand] = true;
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = "StoreUnavailableError";
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[unavailableBrand] === true;
  }
}

/**
 * Socket errors of a database server that is not (or no longer) there; ENOENT is a Unix socket that is missing. Only
 * the PostgreSQL store reads them so (as StoreUnavailableError): elsewhere the same codes mean other things.
 */
export const unreachableSocketCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "ENOENT",
]);

/**
 * PostgreSQL SQLSTATEs of a server going away or not accepting work yet: 57P01 admin shutdown, 57P02 crash shutdown,
 * 57P03 cannot connect now (starting up), 53300 too many connections, and every connection exception (class 08).
 */
export function isUnavailablePostgresCode(code: string): boolean {
  return code === "57P01" || code === "57P02" || code === "57P03" || code === "53300" || code.startsWith("08");
}

/** SQLite's codes for a file that is locked, full or failing to read or write: each may clear up by itself. */
function isUnavailableSqliteCode(code: string): boolean {
  return code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_FULL") || code.startsWith("SQLITE_IOERR") || code.startsWith("SQLITE_LOCKED");
}

/** Whether `error` says the store is down for now, rather than that the request was wrong. */
export function isStoreUnavailable(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return false;
  // pg's errors carry the server's SQLSTATE (its connection errors become StoreUnavailableError in the store).
  if (/^[0-9A-Z]{5}$/.test(code) && isUnavailablePostgresCode(code)) return true;
  return error.name === "SqliteError" && isUnavailableSqliteCode(code);
}

export interface RetryOptions {
  /** Stops waiting: the last error is thrown. */
  signal?: AbortSignal;
  /** Told once when an outage starts and once when it ends. */
  log?: (line: string) => void;
  /** What is being retried, for the log ("execution p/d/x"). */
  what?: string;
  /** Told of an error that is not retried, before it is thrown. */
  onError?: (error: unknown) => void;
}

const firstDelayMs = 250;
const maxDelayMs = 5_000;

/**
 * Runs `operation` until it succeeds, waiting 0.25 s, 0.5 s, … up to 5 s between tries while it fails because the
 * store is unavailable. Any other error, and the last one once `signal` fires, is thrown as it is.
 */
export async function retryWhileUnavailable<T>(operation: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  let delay = firstDelayMs;
  let failingSince: number | undefined;
  for (;;) {
    try {
      const result = await operation();
      if (failingSince !== undefined) {
        options.log?.(`the database is back after ${((Date.now() - failingSince) / 1000).toFixed(1)} s${options.what ? `; ${options.what} goes on` : ""}`);
      }
      return result;
    } catch (error) {
      if (!isStoreUnavailable(error) || options.signal?.aborted) {
        options.onError?.(error);
        throw error;
      }
      if (failingSince === undefined) {
        failingSince = Date.now();
        options.log?.(`the database is unavailable (${(error as Error).message})${options.what ? `; ${options.what} waits for it` : ""}, retrying with backoff`);
      }
      await sleep(delay, options.signal);
      delay = Math.min(delay * 2, maxDelayMs);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * `store` with every method retried while the store is unavailable: what the scheduler hands the engine, so an
 * outage pauses an execution (its attempts' records wait, in order) instead of failing it or leaving it stuck.
 */
export function retryingStore<Store extends object>(store: Store, options: RetryOptions): Store {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== "function" || property === "close") return value;
      return (...args: unknown[]) => retryWhileUnavailable(() => Promise.resolve((value as (...a: unknown[]) => unknown).apply(target, args)), options);
    },
  });
}
