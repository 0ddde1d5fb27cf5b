// Rebuilds a t.* type from a Flyte LiteralType registered on a server, so an entity known only by its interface
// converts inputs like one declared in code. Never guesses at a type it cannot convert: that is a UserError.
import { clone, create, type JsonObject } from "@bufbuild/protobuf";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { LiteralSchema, type Literal } from "../idl/gen/flyteidl/core/literals_pb.js";
import {
  BlobType_BlobDimensionality,
  LiteralTypeSchema,
  SimpleType,
  type LiteralType,
} from "../idl/gen/flyteidl/core/types_pb.js";
import { UserError } from "../errors.js";
import { describeLiteralType } from "./compat.js";
import { FlyteType, OptionalType, UnionType, t, type AnyType } from "./types.js";
import { FlyteDirectory } from "./values.js";

/**
 * The t.* type for a registered LiteralType: simple types, list, map, enum, file, directory, dataframe,
 * optional (a union of NONE and one type), union, struct (any JSON object; the LiteralType's `metadata` is
 * kept as its JSON Schema), pyflyte's legacy schema (a folder by URI) and error (`{message, failedNodeId}`).
 * Throws a UserError naming the type for NONE on its own and BINARY.
 */
export function typeFromLiteralType(lt: LiteralType, description?: string): AnyType {
  const type = build(lt, []);
  return description ? type.describe(description) : type;
}

const simpleTypes: Partial<Record<SimpleType, () => AnyType>> = {
  [SimpleType.INTEGER]: t.int,
  [SimpleType.FLOAT]: t.float,
  [SimpleType.STRING]: t.string,
  [SimpleType.BOOLEAN]: t.boolean,
  [SimpleType.DATETIME]: t.datetime,
  [SimpleType.DURATION]: t.duration,
};

// `outer` names the enclosing types, so an unsupported type deep in a map of lists says where it is.
function build(lt: LiteralType, outer: string[]): AnyType {
  const type = lt.type;
  switch (type.case) {
    case "simple": {
      if (type.value === SimpleType.STRUCT) return anyObjectStruct(lt.metadata);
      if (type.value === SimpleType.ERROR) return new RegisteredErrorType();
      const make = simpleTypes[type.value];
      if (make) return make();
      throw unsupported(lt, outer);
    }
    case "collectionType":
      return t.list(build(type.value, [...outer, "list"]));
    case "mapValueType":
      return t.map(build(type.value, [...outer, "map"]));
    case "enumType": {
      const values = type.value.values;
      if (values.length === 0) throw unsupported(lt, outer, "an enum must have at least one value");
      return t.enum(values as [string, ...string[]]);
    }
    case "blob":
      return type.value.dimensionality === BlobType_BlobDimensionality.MULTIPART
        ? t.directory()
        : t.file({ format: type.value.format });
    case "structuredDatasetType": {
      const columns: Record<string, AnyType> = {};
      for (const column of type.value.columns) {
        if (!column.literalType) throw unsupported(lt, outer, `column ${column.name} has no type`);
        columns[column.name] = build(column.literalType, [...outer, `dataframe column ${column.name}`]);
      }
      return t.dataframe({ format: type.value.format, columns });
    }
    case "unionType":
      return buildUnion(lt, type.value.variants, outer);
    case "schema":
      return new RegisteredSchemaType(lt);
    default:
      throw unsupported(lt, outer);
  }
}

function buildUnion(lt: LiteralType, variants: LiteralType[], outer: string[]): AnyType {
  const others = variants.filter((v) => !isNone(v));
  if (others.length === 0) throw unsupported(lt, outer, "a union needs a variant other than NONE");
  if (variants.length < 2) throw unsupported(lt, outer, "a union needs two or more variants");
  const inside = [...outer, "union"];
  if (others.length === 1 && variants.length === 2) return new RegisteredOptionalType(build(others[0], inside), lt);
  const built = variants.map((v) => (isNone(v) ? new NoneVariantType() : build(v, inside)));
  const names = built.map((v) => v.name);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) throw unsupported(lt, outer, `two variants are both ${twice}, so a value cannot choose between them`);
  return new RegisteredUnionType(built, lt);
}

function isNone(lt: LiteralType): boolean {
  return lt.type.case === "simple" && lt.type.value === SimpleType.NONE;
}

/**
 * A union literal records the variant type it holds, and Flyte (flytekit's union transformer, propeller's type
 * checks) picks the variant by that type's `structure.tag`. A registered union may come from pyflyte, whose tags
 * ("str", "none") differ from tsflyte's names, so the stored type must be the registered variant, not a rebuilt one.
 */
function storeRegisteredVariant(literal: Literal, builtNames: readonly string[], registered: LiteralType): Literal {
  const v = literal.value;
  if (v.case !== "scalar" || v.value.value.case !== "union") return literal;
  const union = v.value.value.value;
  const index = builtNames.indexOf(union.type?.structure?.tag ?? "");
  const variants = registered.type.case === "unionType" ? registered.type.value.variants : [];
  if (index >= 0 && variants[index]) union.type = clone(LiteralTypeSchema, variants[index]);
  return literal;
}

class RegisteredOptionalType extends OptionalType<AnyType> {
  private readonly variantNames: string[];
  constructor(
    inner: AnyType,
    private readonly registered: LiteralType,
  ) {
    super(inner);
    // The registered variants in their own order, named as OptionalType tags them.
    const variants = registered.type.case === "unionType" ? registered.type.value.variants : [];
    this.variantNames = variants.map((v) => (isNone(v) ? "none" : inner.name));
  }
  protected override buildLiteralType(): LiteralType {
    return clone(LiteralTypeSchema, this.registered);
  }
  override toLiteral(value: unknown, at: string): Literal {
    return storeRegisteredVariant(super.toLiteral(value, at), this.variantNames, this.registered);
  }
}

class RegisteredUnionType extends UnionType<readonly AnyType[]> {
  constructor(
    variants: readonly AnyType[],
    private readonly registered: LiteralType,
  ) {
    super(variants);
  }
  protected override buildLiteralType(): LiteralType {
    return clone(LiteralTypeSchema, this.registered);
  }
  override toLiteral(value: unknown, at: string): Literal {
    return storeRegisteredVariant(
      super.toLiteral(value, at),
      this.variants.map((v) => v.name),
      this.registered,
    );
  }
}

/** NONE as one variant of a wider union (pyflyte's `Optional[Union[int, str]]`); never a type on its own. */
class NoneVariantType extends FlyteType<null, "none"> {
  get name() {
    return "none";
  }
  protected buildLiteralType(): LiteralType {
    return create(LiteralTypeSchema, { type: { case: "simple", value: SimpleType.NONE }, structure: { tag: "none" } });
  }
  toLiteral(value: unknown, at: string): Literal {
    if (value !== null && value !== undefined) throw this.mismatch(value, at);
    return create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "noneType", value: {} } } } });
  }
  fromLiteral(literal: Literal, at: string): null {
    const v = literal.value;
    if (v.case !== "scalar" || v.value.value.case !== "noneType") throw this.literalMismatch(literal, at);
    return null;
  }
}

/**
 * pyflyte's legacy FlyteSchema: a folder of parquet files, given and read as a folder path or URI. Its literal
 * carries the registered column types, so a task reading it knows them.
 */
class RegisteredSchemaType extends FlyteType<FlyteDirectory, "schema"> {
  constructor(private readonly registered: LiteralType) {
    super();
  }
  get name() {
    return describeLiteralType(this.registered);
  }
  protected buildLiteralType(): LiteralType {
    return clone(LiteralTypeSchema, this.registered);
  }
  toLiteral(value: unknown, at: string): Literal {
    const dir = value instanceof FlyteDirectory ? value : typeof value === "string" && value ? FlyteDirectory.from(value) : undefined;
    if (!dir) throw this.mismatch(value, at, "give a folder path or a URI");
    const columns = this.registered.type.case === "schema" ? this.registered.type.value.columns : [];
    return create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "schema", value: { uri: dir.uri, type: { columns } } } } } });
  }
  fromLiteral(literal: Literal, at: string): FlyteDirectory {
    const v = literal.value;
    if (v.case !== "scalar" || v.value.value.case !== "schema") throw this.literalMismatch(literal, at);
    return new FlyteDirectory(v.value.value.value.uri);
  }
}

/** A failure as a value (pyflyte's FlyteError, which a failure node's task receives): a message, maybe the failed node. */
export interface FlyteErrorValue {
  message: string;
  failedNodeId?: string;
}

class RegisteredErrorType extends FlyteType<FlyteErrorValue, "error"> {
  get name() {
    return "error";
  }
  protected buildLiteralType(): LiteralType {
    return create(LiteralTypeSchema, { type: { case: "simple", value: SimpleType.ERROR } });
  }
  toLiteral(value: unknown, at: string): Literal {
    const given = typeof value === "string" ? { message: value } : value;
    const fields = typeof given === "object" && given !== null && !Array.isArray(given) ? (given as Record<string, unknown>) : undefined;
    const extra = fields ? Object.keys(fields).find((k) => k !== "message" && k !== "failedNodeId") : undefined;
    if (!fields || typeof fields.message !== "string" || (fields.failedNodeId !== undefined && typeof fields.failedNodeId !== "string") || extra) {
      throw this.mismatch(value, at, extra ? `"${extra}" is not a field of an error; use message and failedNodeId` : "give {message: \"…\", failedNodeId: \"n0\"} or a message");
    }
    return create(LiteralSchema, {
      value: { case: "scalar", value: { value: { case: "error", value: { message: fields.message, failedNodeId: (fields.failedNodeId as string | undefined) ?? "" } } } },
    });
  }
  fromLiteral(literal: Literal, at: string): FlyteErrorValue {
    const v = literal.value;
    if (v.case !== "scalar" || v.value.value.case !== "error") throw this.literalMismatch(literal, at);
    const { message, failedNodeId } = v.value.value.value;
    return failedNodeId ? { message, failedNodeId } : { message };
  }
}

// The server knows a struct only by its JSON Schema; checking values against it is the task's business, as it is
// for a struct registered from code, so any JSON object is accepted and stored the same way.
function anyObjectStruct(metadata: JsonObject | undefined): AnyType {
  const anyObject: StandardSchemaV1<Record<string, unknown>> = {
    "~standard": {
      version: 1,
      vendor: "tsflyte",
      validate: (value) =>
        typeof value === "object" && value !== null && !Array.isArray(value)
          ? { value: value as Record<string, unknown> }
          : { issues: [{ message: "expected a mapping of fields" }] },
    },
  };
  return t.struct(anyObject, { jsonSchema: (metadata ?? {}) as Record<string, unknown> });
}

function unsupported(lt: LiteralType, outer: string[], why?: string): UserError {
  const where = outer.length ? ` (inside ${outer.join(" > ")})` : "";
  return new UserError(
    `tsflyte cannot convert values of the Flyte type ${rawName(lt)}${where}${why ? `: ${why}` : ""}`,
    "supported: int, float, str, bool, datetime, duration, struct, enum, list, map, file, directory, dataframe, schema, error, optional and union",
  );
}

function rawName(lt: LiteralType): string {
  const type = lt.type;
  switch (type.case) {
    case "simple":
      return SimpleType[type.value] ?? `simple type ${type.value}`;
    case "collectionType":
      return `list<${rawName(type.value)}>`;
    case "mapValueType":
      return `map<string, ${rawName(type.value)}>`;
    case "unionType":
      return type.value.variants.map(rawName).join(" | ") || "an empty union";
    case "enumType":
      return "enum";
    case "blob":
      return type.value.dimensionality === BlobType_BlobDimensionality.MULTIPART ? "directory" : "file";
    case "structuredDatasetType":
      return "dataframe";
    case "schema":
      return "schema";
    default:
      return "an empty LiteralType";
  }
}
