// Type compatibility between an upstream output and a downstream input, on Flyte LiteralTypes, with the
// rules FlyteAdmin's compiler applies. Never loosens them: INTEGER into FLOAT is not castable.
import {
  BlobType_BlobDimensionality,
  SchemaType_SchemaColumn_SchemaColumnType as ColumnType,
  SimpleType,
  type LiteralType,
  type SchemaType,
  type StructuredDatasetType,
} from "../idl/gen/flyteidl/core/types_pb.js";

/** Whether a value of type `upstream` may be bound to an input of type `downstream`. */
export function isCastable(upstream: LiteralType, downstream: LiteralType): boolean {
  const up = upstream.type;
  const down = downstream.type;
  if (down.case === "unionType") {
    if (up.case === "unionType") return up.value.variants.every((v) => isCastable(v, downstream));
    return down.value.variants.some((v) => isCastable(upstream, v));
  }
  switch (down.case) {
    case "simple":
      if (up.case === "enumType" && down.value === SimpleType.STRING) return true;
      if (up.case !== "simple" || up.value !== down.value) return false;
      if (down.value === SimpleType.STRUCT) return sameJsonSchema(upstream.metadata, downstream.metadata);
      return true;
    case "enumType":
      if (up.case === "simple" && up.value === SimpleType.STRING) return true;
      return up.case === "enumType" && up.value.values.every((v) => down.value.values.includes(v));
    case "collectionType":
      return up.case === "collectionType" && isCastable(up.value, down.value);
    case "mapValueType":
      return up.case === "mapValueType" && isCastable(up.value, down.value);
    case "blob":
      return (
        up.case === "blob" &&
        up.value.dimensionality === down.value.dimensionality &&
        (up.value.format === "" || down.value.format === "" || up.value.format === down.value.format)
      );
    case "structuredDatasetType": {
      // As propeller's compiler: a dataframe input is nullable, and takes a legacy schema stored as parquet.
      if (up.case === "simple" && up.value === SimpleType.NONE) return true;
      if (up.case === "schema") return isParquet(down.value.format) && dataframeFromSchema(up.value, down.value);
      if (up.case !== "structuredDatasetType") return false;
      if (up.value.format && down.value.format && up.value.format.toLowerCase() !== down.value.format.toLowerCase()) return false;
      const upColumns = new Map(up.value.columns.map((c) => [c.name, c.literalType]));
      return down.value.columns.every((c) => {
        const upType = upColumns.get(c.name);
        return up.value.columns.length === 0 || (upType !== undefined && c.literalType !== undefined && isCastable(upType, c.literalType));
      });
    }
    case "schema":
      if (up.case === "schema") return schemaFromSchema(up.value, down.value);
      return up.case === "structuredDatasetType" && isParquet(up.value.format) && schemaFromDataframe(up.value, down.value);
    default:
      return false;
  }
}

// Flyte's legacy schema (pyflyte's FlyteSchema) is stored as parquet only.
function isParquet(format: string): boolean {
  return format === "" || format.toLowerCase() === "parquet";
}

/** Every downstream column is an upstream one of the same type; no columns on either side takes anything. */
function columnsCover<Up, Down>(up: Up[], down: Down[], name: (c: Up | Down) => string, matches: (u: Up, d: Down) => boolean): boolean {
  if (up.length === 0 || down.length === 0) return true;
  const byName = new Map(up.map((c) => [name(c), c]));
  return down.every((d) => {
    const u = byName.get(name(d));
    return u !== undefined && matches(u, d);
  });
}

function schemaFromSchema(up: SchemaType, down: SchemaType): boolean {
  return columnsCover(up.columns, down.columns, (c) => c.name, (u, d) => u.type === d.type);
}

function dataframeFromSchema(up: SchemaType, down: StructuredDatasetType): boolean {
  return columnsCover(up.columns, down.columns, (c) => c.name, (u, d) => columnMatches(u.type, d.literalType));
}

function schemaFromDataframe(up: StructuredDatasetType, down: SchemaType): boolean {
  return columnsCover(up.columns, down.columns, (c) => c.name, (u, d) => columnMatches(d.type, u.literalType));
}

const columnSimpleTypes: Record<ColumnType, SimpleType> = {
  [ColumnType.INTEGER]: SimpleType.INTEGER,
  [ColumnType.FLOAT]: SimpleType.FLOAT,
  [ColumnType.STRING]: SimpleType.STRING,
  [ColumnType.BOOLEAN]: SimpleType.BOOLEAN,
  [ColumnType.DATETIME]: SimpleType.DATETIME,
  [ColumnType.DURATION]: SimpleType.DURATION,
};

function columnMatches(column: ColumnType, type: LiteralType | undefined): boolean {
  return type?.type.case === "simple" && type.type.value === columnSimpleTypes[column];
}

function sameJsonSchema(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return true;
  return canonicalJson(a) === canonicalJson(b);
}

/** JSON with object keys sorted, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "bigint") return v.toString();
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
    }
    return v;
  });
}

const simpleNames: Record<number, string> = {
  [SimpleType.NONE]: "none",
  [SimpleType.INTEGER]: "int",
  [SimpleType.FLOAT]: "float",
  [SimpleType.STRING]: "string",
  [SimpleType.BOOLEAN]: "boolean",
  [SimpleType.DATETIME]: "datetime",
  [SimpleType.DURATION]: "duration",
  [SimpleType.BINARY]: "binary",
  [SimpleType.ERROR]: "error",
  [SimpleType.STRUCT]: "struct",
};

/** A short readable name of a LiteralType, matching the names `t.*` types give themselves. */
export function describeLiteralType(type: LiteralType | undefined): string {
  const v = type?.type;
  switch (v?.case) {
    case "simple":
      if (v.value === SimpleType.STRUCT && type?.metadata && typeof type.metadata.title === "string") return `struct ${type.metadata.title}`;
      if (v.value === SimpleType.STRUCT && type?.metadata?.properties && typeof type.metadata.properties === "object") {
        return `struct{${Object.keys(type.metadata.properties).join(", ")}}`;
      }
      return simpleNames[v.value] ?? "unknown";
    case "collectionType":
      return `list<${describeLiteralType(v.value)}>`;
    case "mapValueType":
      return `map<string, ${describeLiteralType(v.value)}>`;
    case "enumType":
      return `enum(${v.value.values.join("|")})`;
    case "blob":
      if (v.value.dimensionality === BlobType_BlobDimensionality.MULTIPART) return "directory";
      return v.value.format ? `file(${v.value.format})` : "file";
    case "structuredDatasetType":
      return v.value.columns.length
        ? `dataframe{${v.value.columns.map((c) => `${c.name}: ${describeLiteralType(c.literalType)}`).join(", ")}}`
        : "dataframe";
    case "schema":
      return v.value.columns.length
        ? `schema{${v.value.columns.map((c) => `${c.name}: ${simpleNames[columnSimpleTypes[c.type]] ?? "unknown"}`).join(", ")}}`
        : "schema";
    case "unionType": {
      const variants = v.value.variants;
      const none = variants.findIndex((x) => x.type.case === "simple" && x.type.value === SimpleType.NONE);
      if (variants.length === 2 && none >= 0) return `${describeLiteralType(variants[1 - none])}?`;
      return variants.map(describeLiteralType).join(" | ");
    }
    default:
      return "unknown";
  }
}
