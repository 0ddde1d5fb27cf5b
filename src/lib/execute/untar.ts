// Reads a code bundle archive: POSIX ustar (what buildCodeBundle writes) or pax/GNU tar, optionally gzipped (what
// flytekit's fast registration uploads). Never writes outside the target folder, and never follows links.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";

const block = 512;

/** Thrown for an archive that is not a readable tar; the caller reports it as a failure to get the code. */
export class TarError extends Error {}

export interface TarEntry {
  /** POSIX path inside the archive, without a leading "./". */
  path: string;
  type: "file" | "directory";
  contents: Uint8Array;
}

/** The regular files and directories of an archive; links, devices and FIFOs are skipped. */
export function readTar(archive: Uint8Array): TarEntry[] {
  const bytes = archive[0] === 0x1f && archive[1] === 0x8b ? gunzipSync(archive) : archive;
  const entries: TarEntry[] = [];
  let longName: string | undefined;
  let offset = 0;
  while (offset + block <= bytes.length) {
    const header = bytes.subarray(offset, offset + block);
    if (header.every((b) => b === 0)) break; // the end-of-archive blocks
    checkChecksum(header, offset);
    const size = readSize(header, offset);
    const type = String.fromCharCode(header[156] || 0x30);
    const start = offset + block;
    if (start + size > bytes.length) throw new TarError(`the archive ends inside an entry (at byte ${offset})`);
    const data = bytes.subarray(start, start + size);
    offset = start + Math.ceil(size / block) * block;
    if (type === "x") {
      longName = paxPath(data) ?? longName; // applies to the next entry only
      continue;
    }
    if (type === "L") {
      longName = text(data);
      continue;
    }
    if (type === "g") continue;
    const name = longName ?? joinName(text(header.subarray(345, 500)), text(header.subarray(0, 100)));
    longName = undefined;
    if (type !== "0" && type !== "5" && type !== "7") continue;
    entries.push({ path: safePath(name), type: type === "5" ? "directory" : "file", contents: data });
  }
  return entries;
}

/** Writes the archive's files under `folder` (created if missing). */
export function extractTar(archive: Uint8Array, folder: string): number {
  const entries = readTar(archive);
  mkdirSync(folder, { recursive: true });
  let files = 0;
  for (const entry of entries) {
    if (entry.path === "") continue;
    const target = join(folder, ...entry.path.split("/"));
    if (entry.type === "directory") {
      mkdirSync(target, { recursive: true });
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, entry.contents);
    files++;
  }
  return files;
}

function checkChecksum(header: Uint8Array, offset: number): void {
  const recorded = parseOctal(header.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < block; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  if (recorded !== sum) throw new TarError(`not a tar archive, or a damaged one (bad header checksum at byte ${offset})`);
}

function readSize(header: Uint8Array, offset: number): number {
  const field = header.subarray(124, 136);
  if (field[0] & 0x80) {
    // GNU base-256 for sizes of 8 GiB and more.
    let size = 0;
    for (let i = 1; i < field.length; i++) size = size * 256 + field[i];
    return size;
  }
  const size = parseOctal(field);
  if (!Number.isFinite(size)) throw new TarError(`bad entry size at byte ${offset}`);
  return size;
}

function parseOctal(field: Uint8Array): number {
  const digits = text(field).trim();
  return digits === "" ? 0 : parseInt(digits, 8);
}

function text(field: Uint8Array): string {
  const end = field.indexOf(0);
  return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString("utf8");
}

function joinName(prefix: string, name: string): string {
  return prefix ? `${prefix}/${name}` : name;
}

/** The `path` record of a pax extended header: lines of `<length> <key>=<value>\n`. */
function paxPath(data: Uint8Array): string | undefined {
  const records = Buffer.from(data).toString("utf8");
  let path: string | undefined;
  for (let at = 0; at < records.length; ) {
    const space = records.indexOf(" ", at);
    const length = parseInt(records.slice(at, space), 10);
    if (space < 0 || !Number.isFinite(length) || length <= 0) break;
    const record = records.slice(space + 1, at + length - 1);
    if (record.startsWith("path=")) path = record.slice(5);
    at += length;
  }
  return path;
}

/**
 * A relative POSIX path that stays inside the target folder. A leading "/" is dropped, as tar does (macOS tar writes
 * a "/" folder entry into pyflyte's packages); ".." and backslashes make the archive unusable.
 */
function safePath(name: string): string {
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..") || name.includes("\\") || name.includes("\0")) {
    throw new TarError(`the archive has an entry outside its root: ${JSON.stringify(name)}`);
  }
  return parts.join("/");
}
