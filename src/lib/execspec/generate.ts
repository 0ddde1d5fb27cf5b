// Writes flytectl's execution spec YAML for a registered task or launch plan: defaults and typed placeholders,
// descriptions as line comments. Never reads or writes a file and never contacts a server: text in, text out.
import { Document, isCollection, isMap, isScalar, isSeq, type Node, type Pair, type Scalar } from "yaml";
import { UserError } from "../errors.js";
import { BlobType_BlobDimensionality, SimpleType, type LiteralType } from "../idl/gen/flyteidl/core/types_pb.js";
import { typeFromLiteralType } from "../types/from-literal-type.js";
import { literalToPlain } from "../types/plain.js";
import type { SpecEntity } from "./entity.js";

export interface GenerateOptions {
  /** The clock behind datetime placeholders; tests pin it. */
  now?: () => Date;
}

/**
 * The spec text, keys in flytectl's order. An input takes its launch plan default (as a plain value) when it has
 * one, else a placeholder of its type that reads back as a valid value: 0, 0.0, "", false, now, 1s, {},
 * /tmp/somepath, /tmp/somedir (a directory or a legacy schema), /tmp/somepath.parquet, {message: ""} for an error,
 * an enum's first value, null for an optional, a union's first variant, [placeholder] for a list,
 * {itemKey: placeholder} for a map. Throws a UserError for an input without a default whose type tsflyte cannot
 * convert.
 */
export function generateExecutionSpec(entity: SpecEntity, options: GenerateOptions = {}): string {
  const now = options.now ?? (() => new Date());
  const inputs: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(entity.inputs)) {
    if (variable.default) {
      inputs[name] = literalToPlain(variable.default);
      continue;
    }
    try {
      typeFromLiteralType(variable.type);
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`input ${name} of ${entity.name}: ${e.message}`, e.hint);
      throw e;
    }
    inputs[name] = placeholder(variable.type, now);
  }

  // flytectl reads these files as YAML 1.1, where a bare yes, on or 2026-01-31 is not a string; quote those.
  const doc = new Document({
    iamRoleARN: "",
    inputs,
    envs: {},
    kubeServiceAcct: "",
    targetDomain: "",
    targetProject: "",
    [entity.kind === "task" ? "task" : "workflow"]: entity.name,
    version: entity.version,
  }, { compat: "yaml-1.1" });
  const inputsNode = doc.get("inputs", true);
  if (isMap(inputsNode)) {
    for (const pair of inputsNode.items as Pair<Scalar, Node>[]) {
      const variable = entity.inputs[String(pair.key.value)];
      markFloats(pair.value, variable.type);
      // pyflyte describes every variable by its own name; flytectl leaves such a comment out, and so does this.
      if (variable.description && variable.description !== pair.key.value) describe(pair, variable.description);
    }
  }
  return doc.toString({ lineWidth: 0 });
}

function placeholder(lt: LiteralType, now: () => Date): unknown {
  const type = lt.type;
  switch (type.case) {
    case "simple":
      switch (type.value) {
        case SimpleType.INTEGER:
        case SimpleType.FLOAT:
          return 0;
        case SimpleType.STRING:
          return "";
        case SimpleType.BOOLEAN:
          return false;
        case SimpleType.DATETIME:
          return now().toISOString().replace(/\.000Z$/, "Z");
        case SimpleType.DURATION:
          return "1s";
        case SimpleType.STRUCT:
          return schemaPlaceholder(lt.metadata, 0);
        case SimpleType.ERROR:
          return { message: "" };
        default:
          return null;
      }
    case "collectionType":
      return [placeholder(type.value, now)];
    case "mapValueType":
      return { itemKey: placeholder(type.value, now) };
    case "enumType":
      return type.value.values[0];
    case "blob":
      return type.value.dimensionality === BlobType_BlobDimensionality.MULTIPART ? "/tmp/somedir" : "/tmp/somepath";
    case "structuredDatasetType":
      return `/tmp/somepath.${["csv", "arrow"].includes(type.value.format) ? type.value.format : "parquet"}`;
    case "schema":
      // A legacy schema is a folder of parquet files.
      return "/tmp/somedir";
    case "unionType": {
      const variants = type.value.variants;
      const isOptional = variants.length === 2 && variants.some(isNone);
      return isOptional || variants.length === 0 ? null : placeholder(variants[0], now);
    }
    default:
      return null;
  }
}

/**
 * A struct's placeholder from the JSON Schema registered with it: each property with a placeholder of its own type
 * (its default or first enum value when it has one), so the user sees the fields to fill. `{}` when there is no schema.
 */
function schemaPlaceholder(schema: unknown, depth: number): unknown {
  if (typeof schema !== "object" || schema === null || depth > 8) return {};
  const s = schema as { type?: unknown; properties?: Record<string, unknown>; items?: unknown; enum?: unknown[]; default?: unknown; const?: unknown };
  if (s.default !== undefined) return s.default;
  if (s.const !== undefined) return s.const;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
  switch (type) {
    case "string":
      return "";
    case "integer":
    case "number":
      return 0;
    case "boolean":
      return false;
    case "array":
      return s.items ? [schemaPlaceholder(s.items, depth + 1)] : [];
    default:
      return s.properties ? Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, schemaPlaceholder(v, depth + 1)])) : {};
  }
}

function isNone(lt: LiteralType): boolean {
  return lt.type.case === "simple" && lt.type.value === SimpleType.NONE;
}

/** Writes whole-number floats as `0.0`, so a reader sees a float is wanted; YAML reads either back as a number. */
function markFloats(node: Node | null, lt: LiteralType): void {
  const type = lt.type;
  if (isScalar(node) && typeof node.value === "number") {
    if (isFloat(lt) || (type.case === "unionType" && onlyNumberVariantIsFloat(type.value.variants))) node.minFractionDigits = 1;
  } else if (isSeq(node) && type.case === "collectionType") {
    for (const item of node.items) markFloats(item as Node, type.value);
  } else if (isMap(node) && type.case === "mapValueType") {
    for (const pair of node.items) markFloats(pair.value as Node, type.value);
  } else if (type.case === "unionType") {
    const others = type.value.variants.filter((v) => !isNone(v));
    if (others.length === 1) markFloats(node, others[0]);
  }
}

function isFloat(lt: LiteralType): boolean {
  return lt.type.case === "simple" && lt.type.value === SimpleType.FLOAT;
}

function onlyNumberVariantIsFloat(variants: LiteralType[]): boolean {
  const isInt = (v: LiteralType) => v.type.case === "simple" && v.type.value === SimpleType.INTEGER;
  return variants.some(isFloat) && !variants.some(isInt);
}

// A comment after a block list or mapping lands below it, so a non-empty one carries it on the key's line.
function describe(pair: Pair<Scalar, Node>, description: string): void {
  const text = ` ${description.replace(/\s+/g, " ").trim()}`;
  const value = pair.value;
  if (isCollection(value) && value.items.length > 0) pair.key.comment = text;
  else if (value) {
    // An empty `{}` or `[]` is written in flow style only if asked to; block style would push the comment below.
    if (isCollection(value)) value.flow = true;
    value.comment = text;
  }
}
