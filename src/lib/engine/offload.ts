// Converts a task's values to and from Flyte literals when files, directories and tables are involved, moving their
// bytes between local disk, memory and the blob store. Never converts plain values itself: the t.* types do that.
import { create } from "@bufbuild/protobuf";
import type { Stats } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Table } from "apache-arrow";
import { LiteralMapSchema, LiteralSchema, type Literal, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import {
  BlobType_BlobDimensionality,
  SimpleType,
  type LiteralType,
  type StructuredDatasetType,
} from "../idl/gen/flyteidl/core/types_pb.js";
import { TypeMismatchError, UserError } from "../errors.js";
import type { BlobStore } from "../storage/blob-store.js";
import { hashBytes, hashDirectory, hashFile } from "../storage/content-hash.js";
import { fileUriToPath, isFileUri, joinUri } from "../storage/file-uri.js";
import { acceptsNone, type AnyType } from "../types/types.js";
import { StructuredDataset } from "../types/values.js";

/** Where offloaded data goes: `<rawPrefix>/<n>/…`, n counting the files, directories and tables of one call. */
export interface OffloadContext {
  store: BlobStore;
  rawPrefix: string;
  /** Names the values in messages, e.g. "output" gives "output total: …". */
  at?: string;
}

export interface LoadContext {
  store: BlobStore;
  at?: string;
}

// Parquet, Arrow and CSV code loads only when a table is involved.
type TableFormats = typeof import("../storage/table-formats.js");
let tableFormatsModule: Promise<TableFormats> | undefined;
const tableFormats = (): Promise<TableFormats> => (tableFormatsModule ??= import("../storage/table-formats.js"));

/** Uploads and hashes running at once, so a list of thousands of files does not exhaust file handles. */
const ioConcurrency = 16;

const needsDataCache = new WeakMap<AnyType, boolean>();

/**
 * Whether values of this type carry data held outside the literal: a file, directory or table anywhere inside
 * (through lists, maps, optionals and unions). When false, the type's own toLiteral/fromLiteral is all there is.
 */
export function typeNeedsData(type: AnyType): boolean {
  let needs = needsDataCache.get(type);
  if (needs === undefined) {
    needs = literalTypeNeedsData(type.literalType());
    needsDataCache.set(type, needs);
  }
  return needs;
}

function literalTypeNeedsData(lt: LiteralType): boolean {
  const t = lt.type;
  switch (t.case) {
    case "blob":
    case "structuredDatasetType":
      return true;
    case "collectionType":
    case "mapValueType":
      return literalTypeNeedsData(t.value);
    case "unionType":
      return t.value.variants.some(literalTypeNeedsData);
    default:
      return false;
  }
}

/**
 * Converts values (a task's outputs, or inputs given on the command line) to a LiteralMap: local files and
 * directories are uploaded, Arrow tables written as Parquet or Arrow IPC, CSV files converted; every file,
 * directory and table literal carries the sha256 of its content as `hash`. All problems are reported together.
 */
export async function valuesToLiteralMap(
  types: Record<string, AnyType>,
  values: Record<string, unknown>,
  ctx: OffloadContext,
): Promise<LiteralMap> {
  const offloader = new Offloader(ctx.store, ctx.rawPrefix.replace(/\/+$/, ""));
  const names = Object.keys(types);
  const settled = await Promise.allSettled(names.map((name) => offloader.convert(types[name], values[name], label(ctx.at, name))));
  const literals: Record<string, Literal> = {};
  const problems: unknown[] = [];
  settled.forEach((r, i) => {
    if (r.status === "fulfilled") literals[names[i]] = r.value;
    else problems.push(r.reason);
  });
  throwProblems(problems);
  return create(LiteralMapSchema, { literals });
}

/** Converts a LiteralMap (a task's inputs) to values: files and directories by URI, tables read into Arrow. */
export async function literalMapToValues(
  types: Record<string, AnyType>,
  literalMap: LiteralMap,
  ctx: LoadContext,
): Promise<Record<string, unknown>> {
  const loader = new Loader(ctx.store);
  const names = Object.keys(types);
  const settled = await Promise.allSettled(
    names.map((name) => {
      const at = label(ctx.at, name);
      const literal = literalMap.literals[name];
      if (!literal) {
        if (acceptsNone(types[name])) return Promise.resolve(null);
        return Promise.reject(new UserError(`${at}: no value (the literal map has ${Object.keys(literalMap.literals).join(", ") || "nothing"})`));
      }
      return loader.convert(types[name], literal, at);
    }),
  );
  const values: Record<string, unknown> = {};
  const problems: unknown[] = [];
  settled.forEach((r, i) => {
    if (r.status === "fulfilled") values[names[i]] = r.value;
    else problems.push(r.reason);
  });
  throwProblems(problems);
  return values;
}

function label(at: string | undefined, name: string): string {
  return at ? `${at} ${name}` : name;
}

function throwProblems(problems: unknown[]): void {
  if (problems.length === 0) return;
  if (problems.length === 1) throw problems[0];
  const messages = problems.map((p) => (p instanceof Error ? p.message : String(p)));
  if (problems.every((p) => p instanceof UserError)) throw new UserError(messages.join("; "));
  throw problems.find((p) => !(p instanceof UserError));
}

// --- values to literals --------------------------------------------------------------------------------------

class Offloader {
  /** The next `<n>` under the raw prefix; taken before the first await, so numbering follows the value's order. */
  private next = 0;
  private readonly io = new Limiter(ioConcurrency);

  constructor(
    private readonly store: BlobStore,
    private readonly rawPrefix: string,
  ) {}

  async convert(type: AnyType, value: unknown, at: string): Promise<Literal> {
    if (!typeNeedsData(type)) return type.toLiteral(value, at);
    const lt = type.literalType().type;
    switch (lt.case) {
      case "blob":
        return lt.value.dimensionality === BlobType_BlobDimensionality.MULTIPART ? this.directory(type, value, at) : this.file(type, value, at);
      case "structuredDatasetType":
        return this.dataframe(type, lt.value, value, at);
      case "collectionType": {
        if (!Array.isArray(value)) return type.toLiteral(value, at);
        const element = childType(type, "element");
        const literals = await Promise.all(value.map((v, i) => this.convert(element, v, `${at}[${i}]`)));
        return create(LiteralSchema, { value: { case: "collection", value: { literals } } });
      }
      case "mapValueType": {
        if (!isPlainObject(value)) return type.toLiteral(value, at);
        const valueType = childType(type, "valueType");
        const keys = Object.keys(value);
        const converted = await Promise.all(keys.map((k) => this.convert(valueType, value[k], `${at}.${k}`)));
        const literals: Record<string, Literal> = {};
        keys.forEach((k, i) => (literals[k] = converted[i]));
        return create(LiteralSchema, { value: { case: "map", value: { literals } } });
      }
      case "unionType": {
        const choice = chooseVariant(type, value);
        if (!choice) return type.toLiteral(value, at); // null for an optional, or the union's own mismatch message
        return unionLiteral(await this.convert(choice.type, value, at), choice.storedType);
      }
      default:
        return type.toLiteral(value, at);
    }
  }

  private async file(type: AnyType, value: unknown, at: string): Promise<Literal> {
    const n = this.next++;
    const literal = type.toLiteral(value, at);
    const blob = blobOf(literal);
    if (this.inStore(blob.uri)) {
      literal.hash = await this.io.run(() => this.hashStoredFile(blob.uri));
      return literal;
    }
    if (!isFileUri(blob.uri)) return literal; // another store's data: passed on as given
    const path = fileUriToPath(blob.uri);
    const st = await localStat(path, at, "file");
    if (!st.isFile()) throw new UserError(`${at}: ${path} is a directory; declare it as t.directory()`);
    const target = joinUri(`${this.rawPrefix}/${n}`, basename(path));
    const { sha256 } = await this.io.run(() => this.store.uploadFile(path, target));
    blob.uri = target;
    literal.hash = sha256;
    return literal;
  }

  private async directory(type: AnyType, value: unknown, at: string): Promise<Literal> {
    const n = this.next++;
    const literal = type.toLiteral(value, at);
    const blob = blobOf(literal);
    if (this.inStore(blob.uri)) {
      const local = this.store.localPath(blob.uri);
      if (local) {
        await localStat(local, at, "directory");
        literal.hash = (await this.io.run(() => hashDirectory(local))).sha256;
      }
      return literal;
    }
    if (!isFileUri(blob.uri)) return literal;
    const path = fileUriToPath(blob.uri);
    const st = await localStat(path, at, "directory");
    if (!st.isDirectory()) throw new UserError(`${at}: ${path} is a file; declare it as t.file()`);
    const target = joinUri(`${this.rawPrefix}/${n}`, basename(path) || "directory");
    const { sha256 } = await this.io.run(() => this.store.uploadDirectory(path, target));
    blob.uri = target;
    literal.hash = sha256;
    return literal;
  }

  private async dataframe(type: AnyType, declared: StructuredDatasetType, value: unknown, at: string): Promise<Literal> {
    const n = this.next++;
    const folder = `${this.rawPrefix}/${n}`;
    if (looksLikeArrowTable(value)) {
      const tf = await tableFormats();
      checkColumns(tf, type, declared, value, at);
      return this.storeTable(tf, type, value, storedFormat(tf, declared.format, at), folder, at);
    }
    const literal = type.toLiteral(value, at); // a StructuredDataset or a path; anything else is a mismatch
    const sd = datasetOf(literal);
    if (this.inStore(sd.uri)) {
      const local = this.store.localPath(sd.uri);
      if (local) {
        const st = await localStat(local, at, "table");
        literal.hash = st.isDirectory() ? (await hashDirectory(local)).sha256 : await this.hashStoredFile(sd.uri);
      }
      return literal;
    }
    if (!isFileUri(sd.uri)) return literal;
    const path = fileUriToPath(sd.uri);
    const st = await localStat(path, at, "table");
    const tf = await tableFormats();
    const recorded = sd.metadata?.structuredDatasetType?.format ?? "";
    if (st.isDirectory()) {
      const { sha256 } = await this.io.run(() => this.store.uploadDirectory(path, folder));
      return withHash(type.toLiteral(new StructuredDataset(folder, recorded || declared.format), at), sha256);
    }
    const fileFormat = tf.tableFormatOfName(path) ?? tf.tableFormat(recorded || declared.format, at);
    if (fileFormat === "csv") {
      // Tasks always get a table: CSV is parsed once here and stored in the declared format.
      const floats = new Set(
        declared.columns.filter((c) => c.literalType?.type.case === "simple" && c.literalType.type.value === SimpleType.FLOAT).map((c) => c.name),
      );
      const table = tf.parseCsv(await readFile(path, "utf8"), `${at} (${path})`, floats);
      checkColumns(tf, type, declared, table, at);
      return this.storeTable(tf, type, table, storedFormat(tf, declared.format, at), folder, at);
    }
    const target = `${folder}/00000.${tf.tableExtension(fileFormat)}`;
    const { sha256 } = await this.io.run(() => this.store.uploadFile(path, target));
    return withHash(type.toLiteral(new StructuredDataset(folder, fileFormat), at), sha256);
  }

  /** Writes a table as `<folder>/00000.<ext>`; the literal names the folder, as Flyte's structured datasets do. */
  private async storeTable(tf: TableFormats, type: AnyType, table: Table, format: "parquet" | "arrow", folder: string, at: string): Promise<Literal> {
    const bytes = tf.encodeTable(table, format, at);
    this.store.put(`${folder}/00000.${tf.tableExtension(format)}`, bytes);
    return withHash(type.toLiteral(new StructuredDataset(folder, format), at), hashBytes(bytes));
  }

  private inStore(uri: string): boolean {
    return uri.startsWith(`${this.store.baseUri}/`);
  }

  private async hashStoredFile(uri: string): Promise<string> {
    const local = this.store.localPath(uri);
    if (local) {
      try {
        return (await hashFile(local)).sha256;
      } catch {
        // not on disk (yet): the store may still hold it in its write queue
      }
    }
    return hashBytes(await this.store.read(uri));
  }
}

/** The variant a value goes to: the first that accepts it, as UnionType.toLiteral chooses. */
function chooseVariant(type: AnyType, value: unknown): { type: AnyType; storedType: LiteralType } | undefined {
  const lt = type.literalType().type;
  if (lt.case !== "unionType") return undefined;
  const inner = (type as { inner?: AnyType }).inner;
  if (inner) return value === null || value === undefined ? undefined : { type: inner, storedType: lt.value.variants[0] };
  const variants = (type as { variants?: readonly AnyType[] }).variants ?? [];
  const index = variants.findIndex((v) => accepts(v, value));
  return index < 0 ? undefined : { type: variants[index], storedType: lt.value.variants[index] };
}

/** Whether a value fits a type, without moving any data. */
function accepts(type: AnyType, value: unknown): boolean {
  if (!typeNeedsData(type)) return acceptsPurely(type, value);
  const lt = type.literalType().type;
  switch (lt.case) {
    case "structuredDatasetType":
      return looksLikeArrowTable(value) || acceptsPurely(type, value);
    case "collectionType":
      return Array.isArray(value) && value.every((v) => accepts(childType(type, "element"), v));
    case "mapValueType":
      return isPlainObject(value) && Object.values(value).every((v) => accepts(childType(type, "valueType"), v));
    case "unionType": {
      const inner = (type as { inner?: AnyType }).inner;
      if (inner) return value === null || value === undefined || accepts(inner, value);
      return ((type as { variants?: readonly AnyType[] }).variants ?? []).some((v) => accepts(v, value));
    }
    default:
      return acceptsPurely(type, value);
  }
}

function acceptsPurely(type: AnyType, value: unknown): boolean {
  try {
    type.toLiteral(value, "value");
    return true;
  } catch {
    return false;
  }
}

function storedFormat(tf: TableFormats, declared: string, at: string): "parquet" | "arrow" {
  const format = tf.tableFormat(declared, at);
  return format === "arrow" ? "arrow" : "parquet";
}

function checkColumns(tf: TableFormats, type: AnyType, declared: StructuredDatasetType, table: Table, at: string): void {
  const fields = table.schema.fields;
  const given = () => `a table with columns ${fields.map((f) => f.name).join(", ") || "(none)"}`;
  const declaredTypes = (type as { columns?: Record<string, AnyType> }).columns ?? {};
  for (const column of declared.columns) {
    const field = fields.find((f) => f.name === column.name);
    if (!field) throw new TypeMismatchError(at, type.name, given(), `missing column "${column.name}"`);
    const want = column.literalType ? columnKind(column.literalType) : undefined;
    if (!want) continue;
    const have = tf.arrowColumnKind(field.type);
    if (have !== want && !(want === "float" && have === "int")) {
      const wanted = declaredTypes[column.name]?.name ?? want;
      throw new TypeMismatchError(at, type.name, given(), `column "${column.name}" holds Arrow ${String(field.type)}, declared ${wanted}`);
    }
  }
}

function columnKind(lt: LiteralType): "int" | "float" | "string" | "boolean" | "datetime" | undefined {
  if (lt.type.case !== "simple") return undefined;
  switch (lt.type.value) {
    case SimpleType.INTEGER:
      return "int";
    case SimpleType.FLOAT:
      return "float";
    case SimpleType.STRING:
      return "string";
    case SimpleType.BOOLEAN:
      return "boolean";
    case SimpleType.DATETIME:
      return "datetime";
    default:
      return undefined;
  }
}

// --- literals to values --------------------------------------------------------------------------------------

class Loader {
  constructor(private readonly store: BlobStore) {}

  async convert(type: AnyType, literal: Literal, at: string): Promise<unknown> {
    if (!typeNeedsData(type)) return type.fromLiteral(literal, at);
    const lt = type.literalType().type;
    const v = literal.value;
    switch (lt.case) {
      case "structuredDatasetType":
        return this.table(type, lt.value, literal, at);
      case "collectionType": {
        if (v.case !== "collection") return type.fromLiteral(literal, at);
        const element = childType(type, "element");
        return Promise.all(v.value.literals.map((l, i) => this.convert(element, l, `${at}[${i}]`)));
      }
      case "mapValueType": {
        if (v.case !== "map") return type.fromLiteral(literal, at);
        const valueType = childType(type, "valueType");
        const entries = Object.entries(v.value.literals);
        const converted = await Promise.all(entries.map(([k, l]) => this.convert(valueType, l, `${at}.${k}`)));
        return Object.fromEntries(entries.map(([k], i) => [k, converted[i]]));
      }
      case "unionType": {
        const union = v.case === "scalar" && v.value.value.case === "union" ? v.value.value.value : undefined;
        const inner = (type as { inner?: AnyType }).inner;
        if (inner) {
          const held = union ? union.value : literal;
          if (!held || isNoneLiteral(held)) return null;
          return this.convert(inner, held, at);
        }
        const variants = (type as { variants?: readonly AnyType[] }).variants ?? [];
        if (!union?.value) return type.fromLiteral(literal, at);
        const tag = union.type?.structure?.tag;
        const variant = variants.find((x) => x.name === tag) ?? variants.find((x) => literalFits(x, union.value!));
        if (!variant) return type.fromLiteral(literal, at);
        return this.convert(variant, union.value, at);
      }
      default:
        // Files and directories stay where they are, named by URI; the task reads them in place.
        return type.fromLiteral(literal, at);
    }
  }

  private async table(type: AnyType, declared: StructuredDatasetType, literal: Literal, at: string): Promise<Table> {
    const v = literal.value;
    if (v.case !== "scalar" || v.value.value.case !== "structuredDataset") return type.fromLiteral(literal, at) as Table;
    const sd = v.value.value.value;
    const tf = await tableFormats();
    const format = tf.tableFormat(sd.metadata?.structuredDatasetType?.format || declared.format, at);
    const table = await this.readTable(tf, sd.uri, format, at);
    checkColumns(tf, type, declared, table, at);
    return table;
  }

  /** Reads a stored table: one file, or a dataset folder of `00000.<ext>` (tsflyte), `00000` (flytekit) or parts. */
  private async readTable(tf: TableFormats, uri: string, format: "parquet" | "arrow" | "csv", at: string): Promise<Table> {
    const named = tf.tableFormatOfName(uri.slice(uri.lastIndexOf("/") + 1));
    if (named) return tf.decodeTable(await this.store.read(uri), named, at);
    for (const name of [`00000.${tf.tableExtension(format)}`, "00000"]) {
      const part = `${uri}/${name}`;
      if (await this.store.exists(part)) return tf.decodeTable(await this.store.read(part), format, at);
    }
    const local = this.store.localPath(uri);
    const st = local ? await stat(local).catch(() => undefined) : undefined;
    if (local && st?.isDirectory()) {
      const names = (await readdir(local)).filter((name) => !name.startsWith(".") && !name.startsWith("_")).sort();
      const tables = await Promise.all(
        names.map(async (name) => tf.decodeTable(await readFile(join(local, name)), tf.tableFormatOfName(name) ?? format, at)),
      );
      return tf.concatTables(tables, at);
    }
    return tf.decodeTable(await this.store.read(uri), format, at);
  }
}

/** Whether a stored literal has the shape of a type's values (for unions stored without a tag). */
function literalFits(type: AnyType, literal: Literal): boolean {
  if (!typeNeedsData(type)) {
    try {
      type.fromLiteral(literal, "value");
      return true;
    } catch {
      return false;
    }
  }
  const lt = type.literalType().type;
  const v = literal.value;
  const scalar = v.case === "scalar" ? v.value.value : undefined;
  switch (lt.case) {
    case "blob":
      return scalar?.case === "blob" && (scalar.value.metadata?.type?.dimensionality ?? 0) === lt.value.dimensionality;
    case "structuredDatasetType":
      return scalar?.case === "structuredDataset";
    case "collectionType":
      return v.case === "collection";
    case "mapValueType":
      return v.case === "map";
    default:
      return scalar?.case === "union";
  }
}

// --- helpers -------------------------------------------------------------------------------------------------

function childType(type: AnyType, key: "element" | "valueType"): AnyType {
  const child = (type as unknown as Record<string, AnyType | undefined>)[key];
  if (!child) throw new Error(`tsflyte bug: ${type.name} has no ${key}`);
  return child;
}

function blobOf(literal: Literal): { uri: string } {
  const v = literal.value;
  if (v.case === "scalar" && v.value.value.case === "blob") return v.value.value.value;
  throw new Error("tsflyte bug: a file or directory type made a literal that is not a blob");
}

function datasetOf(literal: Literal) {
  const v = literal.value;
  if (v.case === "scalar" && v.value.value.case === "structuredDataset") return v.value.value.value;
  throw new Error("tsflyte bug: a dataframe type made a literal that is not a structured dataset");
}

function withHash(literal: Literal, sha256: string): Literal {
  literal.hash = sha256;
  return literal;
}

function unionLiteral(value: Literal, storedType: LiteralType): Literal {
  return create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "union", value: { value, type: storedType } } } } });
}

function isNoneLiteral(literal: Literal): boolean {
  return literal.value.case === "scalar" && literal.value.value.value.case === "noneType";
}

function looksLikeArrowTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && "schema" in value && "numRows" in value && "getChild" in value && "batches" in value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

async function localStat(path: string, at: string, what: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new UserError(`${at}: no ${what} at ${path}`);
    throw e;
  }
}

class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
