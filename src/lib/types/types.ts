// The type engine: each `t.*` declaration is a runtime value that produces its Flyte LiteralType and converts
// JS values to and from Literals, and at the same time carries the static TypeScript type. Never does I/O.
import { create } from "@bufbuild/protobuf";
import { durationFromMs, durationMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { JsonObject } from "@bufbuild/protobuf";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { Table } from "apache-arrow";
import {
  BlobType_BlobDimensionality,
  LiteralTypeSchema,
  SimpleType,
  type LiteralType,
  type StructuredDatasetType_DatasetColumn,
} from "../idl/gen/flyteidl/core/types_pb.js";
import { LiteralSchema, type Literal } from "../idl/gen/flyteidl/core/literals_pb.js";
import { TypeMismatchError, UserError, describeValue } from "../errors.js";
import { parseDuration } from "./duration.js";
import { FlyteDirectory, FlyteFile, StructuredDataset } from "./values.js";

const typeBrand = Symbol.for("tsflyte.FlyteType");

/** True for any `t.*` declaration, also one made by a second copy of tsflyte. */
export function isFlyteType(value: unknown): value is AnyType {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[typeBrand] === true;
}

/**
 * A declared Flyte type. `T` is the JS value type; `K` names the Flyte type at the type level so that, e.g.,
 * an int output cannot be wired into a float input although both are `number` in TypeScript.
 */
export abstract class FlyteType<T = unknown, K extends string = string> {
  declare readonly __value: T;
  declare readonly __kind: K;
  readonly [typeBrand] = true;
  /** Whether `.default()` was called; `defaultValue` then holds the (validated) value. */
  hasDefault = false;
  defaultValue: unknown = undefined;
  description?: string;
  private cachedLiteralType?: LiteralType;

  /** Short human name of the type for messages, e.g. `list<int>`. */
  abstract get name(): string;
  protected abstract buildLiteralType(): LiteralType;
  /** Converts and validates a JS value; `at` names the variable for the error message. */
  abstract toLiteral(value: unknown, at: string): Literal;
  abstract fromLiteral(literal: Literal, at: string): T;

  literalType(): LiteralType {
    return (this.cachedLiteralType ??= this.buildLiteralType());
  }

  /** A copy of this type with a default value, which makes the input optional for callers. */
  default(value: T): this & { readonly __hasDefault: true } {
    this.toLiteral(value, "default value");
    const copy = this.copy();
    copy.hasDefault = true;
    copy.defaultValue = value;
    return copy as this & { readonly __hasDefault: true };
  }

  /** A copy of this type with a description, shown in `--help`, the IR and execution specs. */
  describe(text: string): this {
    const copy = this.copy();
    copy.description = text;
    return copy;
  }

  protected copy(): this {
    const copy = Object.create(Object.getPrototypeOf(this)) as this;
    Object.assign(copy, this);
    copy.cachedLiteralType = undefined;
    return copy;
  }

  protected mismatch(value: unknown, at: string, detail?: string): TypeMismatchError {
    return new TypeMismatchError(at, this.name, describeValue(value), detail);
  }

  protected literalMismatch(literal: Literal, at: string): TypeMismatchError {
    return new TypeMismatchError(at, this.name, `literal ${literalCase(literal)}`);
  }
}

/** Whether a value of this type may be absent: a union with NONE, such as `t.optional(T)`. */
export function acceptsNone(type: AnyType): boolean {
  const lt = type.literalType().type;
  return lt.case === "unionType" && lt.value.variants.some((v) => v.type.case === "simple" && v.type.value === SimpleType.NONE);
}

/** Any declared type, whatever its value type. */
export type AnyType = FlyteType<any, string>;
/** The JS value type of a declared type. */
export type ValueOf<X> = X extends FlyteType<infer T, any> ? T : never;
/** The type-level Flyte kind of a declared type. */
export type KindOf<X> = X extends FlyteType<any, infer K> ? K : never;

function literalCase(literal: Literal): string {
  const v = literal.value;
  if (v.case !== "scalar") return v.case ?? "empty";
  const s = v.value.value;
  if (s.case === "primitive") return `${s.value.value.case ?? "empty"}`;
  return s.case ?? "empty";
}

function simpleType(simple: SimpleType): LiteralType {
  return create(LiteralTypeSchema, { type: { case: "simple", value: simple } });
}

function primitive(value: PrimitiveValue): Literal {
  return create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "primitive", value: { value } } } } });
}

type PrimitiveValue =
  | { case: "integer"; value: bigint }
  | { case: "floatValue"; value: number }
  | { case: "stringValue"; value: string }
  | { case: "boolean"; value: boolean }
  | { case: "datetime"; value: ReturnType<typeof timestampFromDate> }
  | { case: "duration"; value: ReturnType<typeof durationFromMs> };

function readPrimitive(literal: Literal): PrimitiveValue | undefined {
  const v = literal.value;
  if (v.case !== "scalar" || v.value.value.case !== "primitive") return undefined;
  return v.value.value.value.value as PrimitiveValue | undefined;
}

export class IntType extends FlyteType<number, "int"> {
  get name() {
    return "int";
  }
  protected buildLiteralType() {
    return simpleType(SimpleType.INTEGER);
  }
  toLiteral(value: unknown, at: string): Literal {
    if (typeof value === "bigint") return primitive({ case: "integer", value });
    if (typeof value !== "number" || !Number.isSafeInteger(value)) {
      throw this.mismatch(value, at, typeof value === "number" ? "not a safe integer" : undefined);
    }
    return primitive({ case: "integer", value: BigInt(value) });
  }
  fromLiteral(literal: Literal, at: string): number {
    const p = readPrimitive(literal);
    if (p?.case !== "integer") throw this.literalMismatch(literal, at);
    const n = Number(p.value);
    if (!Number.isSafeInteger(n)) throw new TypeMismatchError(at, "int", `${p.value}`, "beyond Number.MAX_SAFE_INTEGER");
    return n;
  }
}

export class FloatType extends FlyteType<number, "float"> {
  get name() {
    return "float";
  }
  protected buildLiteralType() {
    return simpleType(SimpleType.FLOAT);
  }
  toLiteral(value: unknown, at: string): Literal {
    if (typeof value !== "number") throw this.mismatch(value, at);
    return primitive({ case: "floatValue", value });
  }
  fromLiteral(literal: Literal, at: string): number {
    const p = readPrimitive(literal);
    if (p?.case === "floatValue") return p.value;
    if (p?.case === "integer") return Number(p.value);
    throw this.literalMismatch(literal, at);
  }
}

export class StringType extends FlyteType<string, "string"> {
  get name() {
    return "string";
  }
  protected buildLiteralType() {
    return simpleType(SimpleType.STRING);
  }
  toLiteral(value: unknown, at: string): Literal {
    if (typeof value !== "string") throw this.mismatch(value, at);
    return primitive({ case: "stringValue", value });
  }
  fromLiteral(literal: Literal, at: string): string {
    const p = readPrimitive(literal);
    if (p?.case !== "stringValue") throw this.literalMismatch(literal, at);
    return p.value;
  }
}

export class BooleanType extends FlyteType<boolean, "boolean"> {
  get name() {
    return "boolean";
  }
  protected buildLiteralType() {
    return simpleType(SimpleType.BOOLEAN);
  }
  toLiteral(value: unknown, at: string): Literal {
    if (typeof value !== "boolean") throw this.mismatch(value, at);
    return primitive({ case: "boolean", value });
  }
  fromLiteral(literal: Literal, at: string): boolean {
    const p = readPrimitive(literal);
    if (p?.case !== "boolean") throw this.literalMismatch(literal, at);
    return p.value;
  }
}

/** What a failed node's error is as a value: the input a workflow's failure node receives it on (`err`). */
export interface FlyteErrorValue {
  /** The unique id of the node that failed first. */
  failedNodeId: string;
  message: string;
}

export class ErrorType extends FlyteType<FlyteErrorValue, "error"> {
  get name() {
    return "error";
  }
  protected buildLiteralType() {
    return simpleType(SimpleType.ERROR);
  }
  toLiteral(value: unknown, at: string): Literal {
    const v = value as Partial<FlyteErrorValue> | null;
    if (typeof v !== "object" || v === null || typeof v.failedNodeId !== "string" || typeof v.message !== "string") {
      throw this.mismatch(value, at, "an error is { failedNodeId: string, message: string }");
    }
    return create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "error", value: { failedNodeId: v.failedNodeId, message: v.message } } } } });
  }
  fromLiteral(literal: Literal, at: string): FlyteErrorValue {
    const v = literal.value;
    if (v.case !== "scalar" || v.value.value.case !== "error") throw this.literalMismatch(literal, at);
    return { failedNodeId: v.value.value.value.failedNodeId, message: v.value.value.value.message };
  }
}

export class DatetimeType extends FlyteType<Date, "datetime"> {
  get name() {
    return "datetime";
  }
  protected buildLiteralType() {
    return simpleType(SimpleType.DATETIME);
  }
  toLiteral(value: unknown, at: string): Literal {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw this.mismatch(value, at, "give a valid Date");
    // Protobuf timestamps, and so FlyteAdmin, take years 1 to 9999 only.
    const year = value.getUTCFullYear();
    if (year < 1 || year > 9999) throw this.mismatch(value, at, "outside the years 1 to 9999 that Flyte takes");
    return primitive({ case: "datetime", value: timestampFromDate(value) });
  }
  fromLiteral(literal: Literal, at: string): Date {
    const p = readPrimitive(literal);
    if (p?.case !== "datetime") throw this.literalMismatch(literal, at);
    return timestampDate(p.value);
  }
}

/** A duration; its JS value is a number of milliseconds (a string such as "90s" is accepted too). */
export class DurationType extends FlyteType<number, "duration"> {
  get name() {
    return "duration";
  }
  protected buildLiteralType() {
    return simpleType(SimpleType.DURATION);
  }
  toLiteral(value: unknown, at: string): Literal {
    if (typeof value !== "number" && typeof value !== "string") throw this.mismatch(value, at, "give milliseconds or a string like \"90s\"");
    let ms: number;
    try {
      ms = parseDuration(value, at);
    } catch {
      throw this.mismatch(value, at, "give milliseconds or a string like \"90s\", \"1h30m\", \"PT1H\"");
    }
    return primitive({ case: "duration", value: durationFromMs(ms) });
  }
  fromLiteral(literal: Literal, at: string): number {
    const p = readPrimitive(literal);
    if (p?.case !== "duration") throw this.literalMismatch(literal, at);
    return durationMs(p.value);
  }
}

export class ListType<E extends AnyType> extends FlyteType<ValueOf<E>[], `list<${KindOf<E>}>`> {
  constructor(readonly element: E) {
    super();
    if (!isFlyteType(element)) throw new UserError(`t.list(...) takes a t.* type, got ${describeValue(element)}`);
  }
  get name() {
    return `list<${this.element.name}>`;
  }
  protected buildLiteralType() {
    return create(LiteralTypeSchema, { type: { case: "collectionType", value: this.element.literalType() } });
  }
  toLiteral(value: unknown, at: string): Literal {
    if (!Array.isArray(value)) throw this.mismatch(value, at);
    const literals = value.map((item, i) => this.element.toLiteral(item, `${at}[${i}]`));
    return create(LiteralSchema, { value: { case: "collection", value: { literals } } });
  }
  fromLiteral(literal: Literal, at: string): ValueOf<E>[] {
    if (literal.value.case !== "collection") throw this.literalMismatch(literal, at);
    return literal.value.value.literals.map((l, i) => this.element.fromLiteral(l, `${at}[${i}]`));
  }
}

export class MapType<E extends AnyType> extends FlyteType<Record<string, ValueOf<E>>, `map<${KindOf<E>}>`> {
  constructor(readonly valueType: E) {
    super();
    if (!isFlyteType(valueType)) throw new UserError(`t.map(...) takes a t.* type, got ${describeValue(valueType)}`);
  }
  get name() {
    return `map<string, ${this.valueType.name}>`;
  }
  protected buildLiteralType() {
    return create(LiteralTypeSchema, { type: { case: "mapValueType", value: this.valueType.literalType() } });
  }
  toLiteral(value: unknown, at: string): Literal {
    if (!isPlainObject(value)) throw this.mismatch(value, at, "give an object with string keys");
    const literals: Record<string, Literal> = {};
    for (const key of Object.keys(value)) literals[key] = this.valueType.toLiteral(value[key], `${at}.${key}`);
    return create(LiteralSchema, { value: { case: "map", value: { literals } } });
  }
  fromLiteral(literal: Literal, at: string): Record<string, ValueOf<E>> {
    if (literal.value.case !== "map") throw this.literalMismatch(literal, at);
    const out: Record<string, ValueOf<E>> = {};
    for (const [key, l] of Object.entries(literal.value.value.literals)) out[key] = this.valueType.fromLiteral(l, `${at}.${key}`);
    return out;
  }
}

export interface StructOptions {
  /** The JSON Schema to record in the IR when the schema library cannot produce one itself. */
  jsonSchema?: Record<string, unknown>;
  /** A name for messages and pictures; defaults to the JSON Schema's `title`. */
  name?: string;
}

/** A structured value checked by any Standard Schema v1 (zod, valibot, arktype, …); stored as a JSON Struct. */
export class StructType<S extends StandardSchemaV1> extends FlyteType<StandardSchemaV1.InferOutput<S>, "struct"> {
  readonly jsonSchema: Record<string, unknown>;
  private readonly label?: string;
  constructor(
    readonly schema: S,
    options: StructOptions = {},
  ) {
    super();
    const standard = (schema as Partial<StandardSchemaV1> | undefined)?.["~standard"];
    if (!standard || typeof standard.validate !== "function") {
      throw new UserError(
        `t.struct(...) takes a Standard Schema v1 object (zod, valibot, arktype, …), got ${describeValue(schema)}`,
      );
    }
    this.jsonSchema = options.jsonSchema ?? deriveJsonSchema(standard);
    this.label = options.name ?? (typeof this.jsonSchema.title === "string" ? this.jsonSchema.title : undefined);
  }
  get name() {
    const props = this.jsonSchema.properties;
    if (this.label) return `struct ${this.label}`;
    return isPlainObject(props) ? `struct{${Object.keys(props).join(", ")}}` : "struct";
  }
  protected buildLiteralType() {
    return create(LiteralTypeSchema, {
      type: { case: "simple", value: SimpleType.STRUCT },
      metadata: this.jsonSchema as JsonObject,
    });
  }
  /** Validates with the schema and returns its output, or throws naming the failing paths. */
  validate(value: unknown, at: string): StandardSchemaV1.InferOutput<S> {
    const result = this.schema["~standard"].validate(value);
    if (result instanceof Promise) {
      throw new UserError(`${at}: the schema of ${this.name} validates asynchronously; tsflyte needs a synchronous schema`);
    }
    if (result.issues) {
      const paths = result.issues.map((i) => formatIssuePath(at, i.path));
      const issues = result.issues.map((i, n) => `${paths[n]}: ${i.message}`).join("; ");
      throw new TypeMismatchError(at, this.name, describeValue(value), issues, paths);
    }
    return result.value;
  }
  toLiteral(value: unknown, at: string): Literal {
    const checked = this.validate(value, at);
    const json = JSON.parse(JSON.stringify(checked ?? null)) as unknown;
    if (!isPlainObject(json)) throw this.mismatch(value, at, "a struct must be an object");
    return create(LiteralSchema, {
      value: { case: "scalar", value: { value: { case: "generic", value: json as JsonObject } } },
    });
  }
  fromLiteral(literal: Literal, at: string): StandardSchemaV1.InferOutput<S> {
    const v = literal.value;
    if (v.case !== "scalar" || v.value.value.case !== "generic") throw this.literalMismatch(literal, at);
    return this.validate(v.value.value.value, at);
  }
}

function formatIssuePath(at: string, path: StandardSchemaV1.Issue["path"]): string {
  if (!path || path.length === 0) return at;
  return path.reduce<string>((acc, seg) => {
    const key = typeof seg === "object" ? seg.key : seg;
    return typeof key === "number" ? `${acc}[${key}]` : `${acc}.${String(key)}`;
  }, at);
}

function deriveJsonSchema(standard: StandardSchemaV1.Props): Record<string, unknown> {
  const converter = (standard as { jsonSchema?: { input?: (o: { target: string }) => Record<string, unknown> } }).jsonSchema;
  if (converter?.input) return converter.input({ target: "draft-2020-12" });
  throw new UserError(
    `t.struct(...): the ${standard.vendor} schema cannot describe itself as JSON Schema`,
    `pass it yourself: t.struct(schema, { jsonSchema }) (for valibot: toJsonSchema from @valibot/to-json-schema)`,
  );
}

export class EnumType<V extends string> extends FlyteType<V, "enum"> {
  constructor(readonly values: readonly V[]) {
    super();
    if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== "string")) {
      throw new UserError(`t.enum([...]) takes a non-empty list of strings, got ${describeValue(values)}`);
    }
    if (new Set(values).size !== values.length) throw new UserError(`t.enum([...]) has duplicate values: ${values.join(", ")}`);
  }
  get name() {
    return `enum(${this.values.join("|")})`;
  }
  protected buildLiteralType() {
    return create(LiteralTypeSchema, { type: { case: "enumType", value: { values: [...this.values] } } });
  }
  toLiteral(value: unknown, at: string): Literal {
    if (typeof value !== "string" || !this.values.includes(value as V)) throw this.mismatch(value, at);
    return primitive({ case: "stringValue", value });
  }
  fromLiteral(literal: Literal, at: string): V {
    const p = readPrimitive(literal);
    if (p?.case !== "stringValue" || !this.values.includes(p.value as V)) throw this.literalMismatch(literal, at);
    return p.value as V;
  }
}

const noneVariant = () =>
  create(LiteralTypeSchema, { type: { case: "simple", value: SimpleType.NONE }, structure: { tag: "none" } });
const noneLiteral = () =>
  create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "noneType", value: {} } } } });

function tagged(type: AnyType): LiteralType {
  const lt = create(LiteralTypeSchema, type.literalType());
  lt.structure = { $typeName: "flyteidl.core.TypeStructure", tag: type.name, dataclassType: {} };
  return lt;
}

function unionLiteral(value: Literal, storedType: LiteralType): Literal {
  return create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "union", value: { value, type: storedType } } } } });
}

function readUnion(literal: Literal): { value?: Literal; type?: LiteralType } | undefined {
  const v = literal.value;
  if (v.case === "scalar" && v.value.value.case === "union") return v.value.value.value;
  return undefined;
}

function isNoneLiteral(literal: Literal | undefined): boolean {
  return literal?.value.case === "scalar" && literal.value.value.value.case === "noneType";
}

/** A value that may be absent: Flyte's union of the type and NONE. Its JS value is `T | null`. */
export class OptionalType<E extends AnyType> extends FlyteType<ValueOf<E> | null, `optional<${KindOf<E>}>`> {
  constructor(readonly inner: E) {
    super();
    if (!isFlyteType(inner)) throw new UserError(`t.optional(...) takes a t.* type, got ${describeValue(inner)}`);
  }
  get name() {
    return `${this.inner.name}?`;
  }
  protected buildLiteralType() {
    return create(LiteralTypeSchema, { type: { case: "unionType", value: { variants: [tagged(this.inner), noneVariant()] } } });
  }
  toLiteral(value: unknown, at: string): Literal {
    if (value === null || value === undefined) return unionLiteral(noneLiteral(), noneVariant());
    return unionLiteral(this.inner.toLiteral(value, at), tagged(this.inner));
  }
  fromLiteral(literal: Literal, at: string): ValueOf<E> | null {
    const union = readUnion(literal);
    const inner = union ? union.value : literal;
    if (!inner || isNoneLiteral(inner)) return null;
    return this.inner.fromLiteral(inner, at);
  }
}

/** One of several types; a value takes the first variant that accepts it. */
export class UnionType<Es extends readonly AnyType[]> extends FlyteType<ValueOf<Es[number]>, "union"> {
  constructor(readonly variants: Es) {
    super();
    if (variants.length < 2 || !variants.every(isFlyteType)) throw new UserError("t.union(...) takes two or more t.* types");
    const names = variants.map((v) => v.name);
    if (new Set(names).size !== names.length) throw new UserError(`t.union(...) has the same type twice: ${names.join(", ")}`);
  }
  get name() {
    return this.variants.map((v) => v.name).join(" | ");
  }
  protected buildLiteralType() {
    return create(LiteralTypeSchema, { type: { case: "unionType", value: { variants: this.variants.map(tagged) } } });
  }
  toLiteral(value: unknown, at: string): Literal {
    const reasons: string[] = [];
    for (const variant of this.variants) {
      try {
        return unionLiteral(variant.toLiteral(value, at), tagged(variant));
      } catch (e) {
        reasons.push(e instanceof Error ? e.message : String(e));
      }
    }
    throw this.mismatch(value, at, `no variant accepts it: ${reasons.join("; ")}`);
  }
  fromLiteral(literal: Literal, at: string): ValueOf<Es[number]> {
    const union = readUnion(literal);
    if (!union?.value) throw this.literalMismatch(literal, at);
    const tag = union.type?.structure?.tag;
    const variant = this.variants.find((v) => v.name === tag);
    if (variant) return variant.fromLiteral(union.value, at);
    for (const v of this.variants) {
      try {
        return v.fromLiteral(union.value, at);
      } catch {
        // try the next variant
      }
    }
    throw this.literalMismatch(literal, at);
  }
}

function blobLiteral(uri: string, format: string, dimensionality: BlobType_BlobDimensionality): Literal {
  return create(LiteralSchema, {
    value: {
      case: "scalar",
      value: { value: { case: "blob", value: { uri, metadata: { type: { format, dimensionality } } } } },
    },
  });
}

/** A single file, by URI (`s3://…`, `file:///…`) or local path; a task receives a FlyteFile. */
export class FileType extends FlyteType<FlyteFile, "file"> {
  constructor(readonly format = "") {
    super();
  }
  get name() {
    return this.format ? `file(${this.format})` : "file";
  }
  protected buildLiteralType() {
    return create(LiteralTypeSchema, {
      type: { case: "blob", value: { format: this.format, dimensionality: BlobType_BlobDimensionality.SINGLE } },
    });
  }
  toLiteral(value: unknown, at: string): Literal {
    const file = value instanceof FlyteFile ? value : typeof value === "string" && value ? FlyteFile.from(value) : undefined;
    if (!file) throw this.mismatch(value, at, "give a path, a URI or a FlyteFile");
    return blobLiteral(file.uri, this.format, BlobType_BlobDimensionality.SINGLE);
  }
  fromLiteral(literal: Literal, at: string): FlyteFile {
    const v = literal.value;
    if (v.case !== "scalar" || v.value.value.case !== "blob") throw this.literalMismatch(literal, at);
    return new FlyteFile(v.value.value.value.uri);
  }
}

/** A directory of files (Flyte's multipart blob); a task receives a FlyteDirectory. */
export class DirectoryType extends FlyteType<FlyteDirectory, "directory"> {
  get name() {
    return "directory";
  }
  protected buildLiteralType() {
    return create(LiteralTypeSchema, {
      type: { case: "blob", value: { format: "", dimensionality: BlobType_BlobDimensionality.MULTIPART } },
    });
  }
  toLiteral(value: unknown, at: string): Literal {
    const dir =
      value instanceof FlyteDirectory ? value : typeof value === "string" && value ? FlyteDirectory.from(value) : undefined;
    if (!dir) throw this.mismatch(value, at, "give a path, a URI or a FlyteDirectory");
    return blobLiteral(dir.uri, "", BlobType_BlobDimensionality.MULTIPART);
  }
  fromLiteral(literal: Literal, at: string): FlyteDirectory {
    const v = literal.value;
    if (v.case !== "scalar" || v.value.value.case !== "blob") throw this.literalMismatch(literal, at);
    return new FlyteDirectory(v.value.value.value.uri);
  }
}

export interface DataFrameOptions {
  /** Declared columns; other columns are allowed but these must be present with these types. */
  columns?: Record<string, AnyType>;
  /** Storage format, "parquet" by default. */
  format?: string;
}

/**
 * A table (an Apache Arrow `Table` in tasks), Flyte's structured dataset. Until the engine has written a table
 * to the blob store it is referred to by a StructuredDataset (a URI); a bare Table cannot become a literal here.
 */
export class DataFrameType extends FlyteType<Table, "dataframe"> {
  readonly columns: Record<string, AnyType>;
  readonly format: string;
  constructor(options: DataFrameOptions = {}) {
    super();
    this.columns = options.columns ?? {};
    this.format = options.format ?? "parquet";
    for (const [col, type] of Object.entries(this.columns)) {
      if (!isFlyteType(type)) throw new UserError(`t.dataframe(...): column ${col} must be a t.* type, got ${describeValue(type)}`);
    }
  }
  get name() {
    const cols = Object.entries(this.columns).map(([n, ty]) => `${n}: ${ty.name}`);
    return cols.length ? `dataframe{${cols.join(", ")}}` : "dataframe";
  }
  protected buildLiteralType() {
    return create(LiteralTypeSchema, {
      type: { case: "structuredDatasetType", value: { format: this.format, columns: this.datasetColumns() } },
    });
  }
  private datasetColumns(): StructuredDatasetType_DatasetColumn[] {
    return Object.entries(this.columns).map(([name, type]) => ({
      $typeName: "flyteidl.core.StructuredDatasetType.DatasetColumn",
      name,
      literalType: type.literalType(),
    }));
  }
  toLiteral(value: unknown, at: string): Literal {
    if (value instanceof StructuredDataset || (typeof value === "string" && value)) {
      const ds = value instanceof StructuredDataset ? value : new StructuredDataset(value as string);
      return create(LiteralSchema, {
        value: {
          case: "scalar",
          value: {
            value: {
              case: "structuredDataset",
              value: {
                uri: ds.uri,
                metadata: {
                  structuredDatasetType: { format: ds.format ?? this.format, columns: this.datasetColumns() },
                },
              },
            },
          },
        },
      });
    }
    if (isArrowTable(value)) {
      throw new UserError(
        `${at}: an Arrow Table must be written to the blob store before it becomes a literal`,
        "refer to stored data with new StructuredDataset(uri), or let a task return the table",
      );
    }
    throw this.mismatch(value, at, "give an Arrow Table or a StructuredDataset(uri)");
  }
  /** The literal names stored data; the engine reads the table. Here a StructuredDataset stands for it. */
  fromLiteral(literal: Literal, at: string): Table {
    const v = literal.value;
    if (v.case !== "scalar" || v.value.value.case !== "structuredDataset") throw this.literalMismatch(literal, at);
    const sd = v.value.value.value;
    return new StructuredDataset(sd.uri, sd.metadata?.structuredDatasetType?.format || this.format) as unknown as Table;
  }
}

function isArrowTable(value: unknown): boolean {
  return typeof value === "object" && value !== null && "schema" in value && "numRows" in value && "getChild" in value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The authoring vocabulary of types: `t.int()`, `t.list(t.struct(schema))`, … */
export const t = {
  int: () => new IntType(),
  float: () => new FloatType(),
  string: () => new StringType(),
  boolean: () => new BooleanType(),
  /** A point in time; tasks receive a `Date`. */
  datetime: () => new DatetimeType(),
  /** A length of time; tasks receive milliseconds. */
  duration: () => new DurationType(),
  /** A failed node's error: the `err` input of a workflow's failure node (`workflow({ onFailure })`). */
  error: () => new ErrorType(),
  list: <E extends AnyType>(element: E) => new ListType(element),
  /** A map with string keys. */
  map: <E extends AnyType>(valueType: E) => new MapType(valueType),
  struct: <S extends StandardSchemaV1>(schema: S, options?: StructOptions) => new StructType(schema, options),
  enum: <const V extends string>(values: readonly [V, ...V[]]) => new EnumType<V>(values),
  optional: <E extends AnyType>(inner: E) => new OptionalType(inner),
  union: <const Es extends readonly [AnyType, AnyType, ...AnyType[]]>(...variants: Es) => new UnionType(variants),
  file: (options: { format?: string } = {}) => new FileType(options.format ?? ""),
  directory: () => new DirectoryType(),
  dataframe: (options?: DataFrameOptions) => new DataFrameType(options),
};
