// Tells which kind of t.* type an input is, from its Flyte LiteralType rather than `instanceof`, so types made by
// a second copy of tsflyte in the user's project are understood too. Never converts or checks values.
import { BlobType_BlobDimensionality, SimpleType } from "../idl/gen/flyteidl/core/types_pb.js";
import type { AnyType } from "../types/types.js";

/** The kind of a declared type, with the parts needed to look inside it. */
export type TypeShape =
  | { kind: "int" | "float" | "string" | "boolean" | "datetime" | "duration" | "file" | "directory" | "dataframe" | "schema" | "error" }
  | { kind: "struct"; jsonSchema?: Record<string, unknown> }
  | { kind: "list"; element: AnyType }
  | { kind: "map"; valueType: AnyType }
  | { kind: "enum"; values: readonly string[] }
  | { kind: "optional"; inner: AnyType }
  | { kind: "union"; variants: readonly AnyType[] }
  | { kind: "unknown" };

const simpleKinds: Partial<Record<SimpleType, TypeShape["kind"]>> = {
  [SimpleType.INTEGER]: "int",
  [SimpleType.FLOAT]: "float",
  [SimpleType.STRING]: "string",
  [SimpleType.BOOLEAN]: "boolean",
  [SimpleType.DATETIME]: "datetime",
  [SimpleType.DURATION]: "duration",
  [SimpleType.ERROR]: "error",
};

export function shapeOf(type: AnyType): TypeShape {
  const lt = type.literalType().type;
  const parts = type as unknown as Record<string, unknown>;
  switch (lt.case) {
    case "simple": {
      if (lt.value === SimpleType.STRUCT) {
        const schema = parts.jsonSchema;
        return { kind: "struct", jsonSchema: isRecord(schema) ? schema : undefined };
      }
      const kind = simpleKinds[lt.value];
      return kind ? ({ kind } as TypeShape) : { kind: "unknown" };
    }
    case "collectionType":
      return { kind: "list", element: parts.element as AnyType };
    case "mapValueType":
      return { kind: "map", valueType: parts.valueType as AnyType };
    case "enumType":
      return { kind: "enum", values: lt.value.values };
    case "unionType":
      if (parts.inner) return { kind: "optional", inner: parts.inner as AnyType };
      return { kind: "union", variants: parts.variants as AnyType[] };
    case "blob":
      return { kind: lt.value.dimensionality === BlobType_BlobDimensionality.MULTIPART ? "directory" : "file" };
    case "structuredDatasetType":
      return { kind: "dataframe" };
    case "schema":
      return { kind: "schema" };
    default:
      return { kind: "unknown" };
  }
}

/** Whether the input is switched by a bare `--x` / `--no-x`: a boolean, or an optional one. */
export function isBooleanInput(type: AnyType): boolean {
  const shape = shapeOf(type);
  if (shape.kind === "optional") return shapeOf(shape.inner).kind === "boolean";
  return shape.kind === "boolean";
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
