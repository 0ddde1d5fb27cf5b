// Checks a Literal against the LiteralType it is declared with, as FlyteAdmin does for execution inputs and launch
// plan defaults, naming the value, the expected type and what was given. Never coerces: an int is not a float.
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { LiteralSchema, type Literal } from "../../idl/gen/flyteidl/core/literals_pb.js";
import { BlobType_BlobDimensionality, LiteralTypeSchema, SimpleType, type LiteralType } from "../../idl/gen/flyteidl/core/types_pb.js";
import { describeLiteralType, isCastable } from "../../types/compat.js";

/** Why `literal` is not a value of `type`, or undefined when it is. `at` names the value: `input "x"`. */
export function literalMismatch(literal: Literal, type: LiteralType, at: string): string | undefined {
  const expected = describeLiteralType(type);
  const given = () => describeLiteral(literal);
  const v = literal.value;
  if (v.case === "offloadedMetadata") {
    const inferred = v.value.inferredType;
    if (inferred && isCastable(inferred, type)) return undefined;
    return `${at}: expected ${expected}, got an offloaded ${inferred ? describeLiteralType(inferred) : "value of unknown type"}`;
  }
  const t = type.type;
  switch (t.case) {
    case "unionType":
      return unionMismatch(literal, type, at);
    case "simple":
      return simpleMatches(literal, t.value) ? undefined : `${at}: expected ${expected}, got ${given()}`;
    case "enumType": {
      const s = primitiveOf(literal);
      if (s?.case !== "stringValue") return `${at}: expected ${expected}, got ${given()}`;
      if (!t.value.values.includes(s.value)) return `${at}: ${JSON.stringify(s.value)} is not one of ${t.value.values.map((x) => JSON.stringify(x)).join(", ")}`;
      return undefined;
    }
    case "collectionType": {
      if (v.case !== "collection") return `${at}: expected ${expected}, got ${given()}`;
      for (const [i, item] of v.value.literals.entries()) {
        const problem = literalMismatch(item, t.value, `${at}[${i}]`);
        if (problem) return problem;
      }
      return undefined;
    }
    case "mapValueType": {
      if (v.case !== "map") return `${at}: expected ${expected}, got ${given()}`;
      for (const [key, item] of Object.entries(v.value.literals)) {
        const problem = literalMismatch(item, t.value, `${at}.${key}`);
        if (problem) return problem;
      }
      return undefined;
    }
    case "blob": {
      const blob = v.case === "scalar" && v.value.value.case === "blob" ? v.value.value.value : undefined;
      if (!blob) return `${at}: expected ${expected}, got ${given()}`;
      const actual = blob.metadata?.type;
      if (!blob.uri) return `${at}: the ${expected} has no uri`;
      if (actual && actual.dimensionality !== t.value.dimensionality) return `${at}: expected ${expected}, got ${given()}`;
      if (actual && actual.format && t.value.format && actual.format !== t.value.format) {
        return `${at}: expected ${expected}, got a file of format "${actual.format}"`;
      }
      return undefined;
    }
    case "structuredDatasetType": {
      if (v.case === "scalar" && v.value.value.case === "schema") return tableMismatch(literal, type, at);
      const sd = v.case === "scalar" && v.value.value.case === "structuredDataset" ? v.value.value.value : undefined;
      if (!sd) return `${at}: expected ${expected}, got ${given()}`;
      const format = sd.metadata?.structuredDatasetType?.format ?? "";
      if (format && t.value.format && format !== t.value.format) return `${at}: expected ${expected}, got a dataframe of format "${format}"`;
      return undefined;
    }
    case "schema":
      return tableMismatch(literal, type, at);
    default:
      return `${at}: its declared type is empty, so no value can match it`;
  }
}

/**
 * A schema or dataframe literal for a schema input, or a schema literal for a dataframe input: it needs a URI, and the
 * type it carries must cast to the input's, as propeller's compiler casts between schemas and dataframes.
 */
function tableMismatch(literal: Literal, type: LiteralType, at: string): string | undefined {
  const s = literal.value.case === "scalar" ? literal.value.value.value : undefined;
  let carried: LiteralType | undefined;
  if (s?.case === "schema") {
    if (!s.value.uri) return `${at}: the schema has no uri`;
    carried = create(LiteralTypeSchema, { type: { case: "schema", value: s.value.type ?? {} } });
  } else if (s?.case === "structuredDataset") {
    if (!s.value.uri) return `${at}: the dataframe has no uri`;
    carried = create(LiteralTypeSchema, { type: { case: "structuredDatasetType", value: s.value.metadata?.structuredDatasetType ?? {} } });
  } else {
    return `${at}: expected ${describeLiteralType(type)}, got ${describeLiteral(literal)}`;
  }
  return isCastable(carried, type) ? undefined : `${at}: expected ${describeLiteralType(type)}, got a ${describeLiteralType(carried)}`;
}

function unionMismatch(literal: Literal, type: LiteralType, at: string): string | undefined {
  if (type.type.case !== "unionType") return undefined;
  const variants = type.type.value.variants;
  const v = literal.value;
  if (v.case === "scalar" && v.value.value.case === "union") {
    const { value: inner, type: stored } = v.value.value.value;
    if (!inner) return `${at}: the union value is empty`;
    if (!stored) return `${at}: the union value does not say which variant it is (Union.type is missing)`;
    const variant = variants.find((x) => x.structure?.tag && x.structure.tag === stored.structure?.tag && isCastable(stored, x)) ?? variants.find((x) => isCastable(stored, x));
    if (!variant) return `${at}: expected ${describeLiteralType(type)}, got a value of variant ${describeLiteralType(stored)}`;
    return literalMismatch(inner, variant, at);
  }
  // A plain value of one of the variants is accepted, as FlyteAdmin's castability check does.
  if (variants.some((variant) => literalMismatch(literal, variant, at) === undefined)) return undefined;
  return `${at}: expected ${describeLiteralType(type)}, got ${describeLiteral(literal)}`;
}

function primitiveOf(literal: Literal) {
  const v = literal.value;
  return v.case === "scalar" && v.value.value.case === "primitive" ? v.value.value.value.value : undefined;
}

function simpleMatches(literal: Literal, simple: SimpleType): boolean {
  const v = literal.value;
  if (v.case !== "scalar") return false;
  const scalar = v.value.value;
  const p = primitiveOf(literal);
  switch (simple) {
    case SimpleType.NONE:
      return scalar.case === "noneType";
    case SimpleType.INTEGER:
      return p?.case === "integer";
    case SimpleType.FLOAT:
      return p?.case === "floatValue";
    case SimpleType.STRING:
      return p?.case === "stringValue";
    case SimpleType.BOOLEAN:
      return p?.case === "boolean";
    case SimpleType.DATETIME:
      // FlyteAdmin refuses timestamps outside years 1–9999, which no language's date type can hold.
      return p?.case === "datetime" && p.value.seconds >= -62135596800n && p.value.seconds <= 253402300799n && p.value.nanos >= 0 && p.value.nanos < 1e9;
    case SimpleType.DURATION:
      return p?.case === "duration";
    case SimpleType.BINARY:
      return scalar.case === "binary";
    case SimpleType.ERROR:
      return scalar.case === "error";
    case SimpleType.STRUCT:
      // flytekit sends dataclasses as MessagePack in Binary; tsflyte and older clients as a Struct.
      return scalar.case === "generic" || scalar.case === "binary";
    default:
      return false;
  }
}

/** A short description of a literal for messages: `int 3`, `string "abc"`, `list of 2`, `none`. */
export function describeLiteral(literal: Literal): string {
  const v = literal.value;
  switch (v.case) {
    case "collection":
      return `a list of ${v.value.literals.length}`;
    case "map":
      return `a map of ${Object.keys(v.value.literals).length}`;
    case "offloadedMetadata":
      return "an offloaded value";
    case "scalar": {
      const s = v.value.value;
      switch (s.case) {
        case "primitive": {
          const p = s.value.value;
          switch (p.case) {
            case "integer":
              return `int ${p.value}`;
            case "floatValue":
              return `float ${p.value}`;
            case "stringValue":
              return `string ${JSON.stringify(p.value.length > 40 ? `${p.value.slice(0, 40)}…` : p.value)}`;
            case "boolean":
              return `boolean ${p.value}`;
            case "datetime":
              return `datetime ${safeIso(p.value)}`;
            case "duration":
              return "a duration";
            default:
              return "an empty primitive";
          }
        }
        case "noneType":
          return "none";
        case "blob":
          return `${s.value.metadata?.type?.dimensionality === BlobType_BlobDimensionality.MULTIPART ? "directory" : "file"} ${s.value.uri}`;
        case "structuredDataset":
          return `dataframe ${s.value.uri}`;
        case "generic":
          return "a struct";
        case "binary":
          return "binary data";
        case "union":
          return s.value.value ? describeLiteral(s.value.value) : "an empty union";
        case "error":
          return "an error";
        case "schema":
          return `schema ${s.value.uri}`;
        default:
          return "an empty scalar";
      }
    }
    default:
      return "an empty literal";
  }
}

function safeIso(ts: Parameters<typeof timestampDate>[0]): string {
  try {
    return timestampDate(ts).toISOString();
  } catch {
    return "(out of range)";
  }
}

/**
 * A literal that passed `literalMismatch`, with every value of a union type wrapped as a union literal of the
 * variant that accepts it (the first, as the SDK picks). FlyteAdmin accepts a bare value for a union input, but
 * tasks read union inputs by their variant tag, so inputs.pb must carry it.
 */
export function withUnionTags(literal: Literal, type: LiteralType): Literal {
  const t = type.type;
  const v = literal.value;
  if (t.case === "unionType") {
    if (v.case === "scalar" && v.value.value.case === "union") return literal;
    const variant = t.value.variants.find((x) => literalMismatch(literal, x, "") === undefined);
    if (!variant) return literal;
    return create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "union", value: { value: withUnionTags(literal, variant), type: variant } } } } });
  }
  if (t.case === "collectionType" && v.case === "collection") {
    const literals = v.value.literals.map((item) => withUnionTags(item, t.value));
    return create(LiteralSchema, { hash: literal.hash, metadata: literal.metadata, value: { case: "collection", value: { literals } } });
  }
  if (t.case === "mapValueType" && v.case === "map") {
    const literals: Record<string, Literal> = {};
    for (const [key, item] of Object.entries(v.value.literals)) literals[key] = withUnionTags(item, t.value);
    return create(LiteralSchema, { hash: literal.hash, metadata: literal.metadata, value: { case: "map", value: { literals } } });
  }
  return literal;
}
