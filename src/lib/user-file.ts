// Reads the files a user writes for tsflyte (execution specs, inputs files, the config file) within a size cap,
// as UTF-8 text. Never interprets their content, and never loads a parser: the config path runs on every command.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { UserError } from "./errors.js";

/** Raises (or lowers) the cap on the size of a file a user gives: bytes, or a size such as `16MiB`. */
export const maxFileSizeVariable = "TSFLYTE_MAX_FILE_SIZE";

/**
 * 4 MiB: a spec with 100,000 environment variables or an inputs file with 50,000 records fits, and YAML reads it in a
 * few seconds. Parsing YAML costs ~1 s per MiB here, so a larger file is far more likely a mistake than an input.
 */
export const defaultMaxFileSize = 4 * 1024 * 1024;

/**
 * How deep mappings and lists may nest in a file (the top level counts as 1). Deeper values would exhaust the stack
 * of the YAML reader and of every check after it; no real input comes near this.
 */
export const maxNestingDepth = 100;

const units: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3 };

/** The cap in bytes: $TSFLYTE_MAX_FILE_SIZE if set, else 4 MiB. A value that is not a size is refused by name. */
export function maxFileSize(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[maxFileSizeVariable]?.trim();
  if (!raw) return defaultMaxFileSize;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw);
  const unit = m ? units[m[2].toLowerCase()] : undefined;
  const bytes = m && unit ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!(bytes > 0)) {
    throw new UserError(`${maxFileSizeVariable}=${JSON.stringify(raw)} is not a size`, `write bytes or a size such as 16MiB, or unset it for the default ${formatSize(defaultMaxFileSize)}`);
  }
  return bytes;
}

/** `12.5 MiB`, `512 KiB`, `300 bytes`. */
export function formatSize(bytes: number): string {
  if (bytes >= 1024 ** 2) return `${+(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/**
 * Refuses a file of `bytes` over the cap. `what` names the file in the message (`execution spec file spec.yaml`); the
 * message says how big it is, the cap, and how to raise it.
 */
export function checkFileSize(bytes: number, what: string, env: NodeJS.ProcessEnv = process.env): void {
  const cap = maxFileSize(env);
  if (bytes <= cap) return;
  throw new UserError(
    `${what} is ${formatSize(bytes)}, more than the ${formatSize(cap)} tsflyte reads from a file`,
    `if the file is meant to be this large, raise the cap: ${maxFileSizeVariable}=${Math.ceil(bytes / 1024 ** 2)}MiB`,
  );
}

/**
 * The text of the file at `path`, read only after its size passed the cap. A UTF-8 byte order mark is dropped; a
 * UTF-16 or UTF-32 one, or NUL bytes, are refused with what to do. Errors from reading (missing file, a folder) are
 * thrown as they come, for the caller to word.
 */
export function readUserFile(path: string, what: string, env: NodeJS.ProcessEnv = process.env): string {
  const fd = openSync(path, "r");
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${path}'`), { code: "EISDIR" });
    // A regular file is refused before it is read; a pipe (/dev/stdin) as soon as it has given too much.
    if (stats.isFile()) checkFileSize(stats.size, what, env);
    const cap = maxFileSize(env);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(stats.size - total, 0) || 65536, cap + 1 - total));
      const n = chunk.length === 0 ? 0 : readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > cap) checkFileSize(total, what, env);
    }
    return decodeUserText(Buffer.concat(chunks, total), what);
  } finally {
    closeSync(fd);
  }
}

const byteOrderMarks: [bytes: number[], encoding: string][] = [
  // UTF-32 LE starts like UTF-16 LE, so it is tried first.
  [[0xff, 0xfe, 0x00, 0x00], "UTF-32 (little-endian)"],
  [[0x00, 0x00, 0xfe, 0xff], "UTF-32 (big-endian)"],
  [[0xff, 0xfe], "UTF-16 (little-endian)"],
  [[0xfe, 0xff], "UTF-16 (big-endian)"],
];

/** `bytes` as UTF-8 text without a byte order mark; a file in another Unicode encoding is refused with what to do. */
export function decodeUserText(bytes: Uint8Array, what: string): string {
  for (const [mark, encoding] of byteOrderMarks) {
    if (mark.every((b, i) => bytes[i] === b)) {
      throw new UserError(`${what} is ${encoding} text (it starts with a ${encoding.split(" ")[0]} byte order mark); tsflyte reads UTF-8`, "re-save the file as UTF-8");
    }
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    throw new UserError(
      `${what} holds a NUL byte at offset ${nul}: it is not UTF-8 text (UTF-16 without a byte order mark looks like this)`,
      "re-save the file as UTF-8",
    );
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
