// Describes an entity's inputs for people and editors: the rows of `run FILE ENTITY --help` and a JSON Schema for
// its inputs file. Pure data; never renders text for a terminal, never reads a file.
import { acceptsNone, type AnyType } from "../types/types.js";
import { kebabCase } from "./flags.js";
import { isBooleanInput, shapeOf } from "./shape.js";

/** One input in `--help`. */
export interface InputHelpRow {
  input: string;
  /** Every spelling: `--maxRows, --max-rows`; `--[no-]dryRun, --[no-]dry-run` for a switch. */
  flag: string;
  /** `type.name`, e.g. `list<int>`. */
  type: string;
  /** False when the input has a default or is optional. */
  required: boolean;
  /** The default as one would write it: JSON, with datetimes in ISO 8601 and durations like `90s`; `null` for an optional. */
  default?: string;
  description?: string;
}

/** The help rows of the inputs, in declaration order. Does not check for flag clashes, so help always shows. */
export function describeInputs(inputs: Record<string, AnyType>): InputHelpRow[] {
  return Object.entries(inputs).map(([input, type]) => {
    const alias = kebabCase(input);
    const names = alias === input ? [input] : [input, alias];
    const prefix = isBooleanInput(type) ? "--[no-]" : "--";
    const row: InputHelpRow = {
      input,
      flag: names.map((n) => prefix + n).join(", "),
      type: type.name,
      required: !type.hasDefault && !acceptsNone(type),
    };
    if (type.hasDefault) row.default = renderDefault(type, type.defaultValue);
    else if (acceptsNone(type)) row.default = "null";
    if (type.description) row.description = type.description;
    return row;
  });
}

// On the command line a datetime, duration or path is written bare; everything else as JSON.
function renderDefault(type: AnyType, value: unknown): string {
  const json = toJsonValue(type, value);
  const shape = shapeOf(type);
  const kind = shape.kind === "optional" ? shapeOf(shape.inner).kind : shape.kind;
  const bare = ["datetime", "duration", "file", "directory", "dataframe", "schema"].includes(kind);
  return bare && typeof json === "string" ? json : JSON.stringify(json);
}

/** A value of `type` as plain JSON the way a user writes it: ISO datetimes, `1h30m` durations, URIs. */
function toJsonValue(type: AnyType, value: unknown): unknown {
  const shape = shapeOf(type);
  switch (shape.kind) {
    case "datetime":
      return value instanceof Date ? value.toISOString() : value;
    case "duration":
      return typeof value === "number" ? formatDuration(value) : value;
    case "list":
      return Array.isArray(value) ? value.map((v) => toJsonValue(shape.element, v)) : value;
    case "map":
      return typeof value === "object" && value !== null
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonValue(shape.valueType, v)]))
        : value;
    case "optional":
      return value === null || value === undefined ? null : toJsonValue(shape.inner, value);
    case "union": {
      const variant = shape.variants.find((v) => accepts(v, value));
      return variant ? toJsonValue(variant, value) : value;
    }
    case "file":
    case "directory":
    case "dataframe":
    case "schema":
      return typeof value === "object" && value !== null && "uri" in value ? (value as { uri: string }).uri : value;
    default:
      return value === undefined ? null : JSON.parse(JSON.stringify(value)) as unknown;
  }
}

function accepts(type: AnyType, value: unknown): boolean {
  try {
    type.toLiteral(value, "default");
    return true;
  } catch {
    return false;
  }
}

const durationUnits: [string, number][] = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
];

/** Milliseconds as parseDuration reads them back: 90000 → `1m30s`, 5400000 → `1h30m`, 250 → `250ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let text = "";
  for (const [unit, size] of durationUnits) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      text += `${n}${unit}`;
      rest -= n * size;
    }
  }
  if (rest > 0) text += `${Number(rest.toFixed(3))}ms`;
  return text;
}

export interface InputsSchemaOptions {
  title?: string;
  description?: string;
}

/**
 * A JSON Schema (draft 2020-12) for this entity's inputs file: one property per input, `required` for inputs
 * without a default that are not optional, nothing else allowed. Editors use it to complete and check the file.
 */
export function inputsJsonSchema(inputs: Record<string, AnyType>, options: InputsSchemaOptions = {}): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const [name, type] of Object.entries(inputs)) {
    properties[name] = schemaOf(type, name);
    if (!type.hasDefault && !acceptsNone(type)) required.push(name);
  }
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    ...(options.title ? { title: options.title } : {}),
    ...(options.description ? { description: options.description } : {}),
    type: "object",
    properties,
    required,
    additionalProperties: false,
  };
}

function schemaOf(type: AnyType, path: string): Record<string, unknown> {
  const schema = baseSchema(type, path);
  if (type.description) schema.description = type.description;
  if (type.hasDefault) schema.default = toJsonValue(type, type.defaultValue);
  return schema;
}

const amount = String.raw`\d+(?:\.\d+)?`;
const durationPattern =
  String.raw`^\s*(?:(?:${amount}(?:ms|s|m|h|d))+|P(?=\d|T\d)(?:${amount}D)?(?:T(?:${amount}H)?(?:${amount}M)?(?:${amount}S)?)?)\s*$`;

function baseSchema(type: AnyType, path: string): Record<string, unknown> {
  const shape = shapeOf(type);
  switch (shape.kind) {
    case "int":
      return { type: "integer" };
    case "float":
      return { type: "number" };
    case "string":
      return { type: "string" };
    case "boolean":
      return { type: "boolean" };
    case "datetime":
      return { type: "string", format: "date-time" };
    case "duration":
      return { type: "string", pattern: durationPattern, description: "a duration such as 90s, 1h30m or PT1H30M" };
    case "list":
      return { type: "array", items: schemaOf(shape.element, `${path}/items`) };
    case "map":
      return { type: "object", additionalProperties: schemaOf(shape.valueType, `${path}/values`) };
    case "struct":
      return structSchema(shape.jsonSchema, path);
    case "enum":
      return { type: "string", enum: [...shape.values] };
    case "optional":
      return { anyOf: [schemaOf(shape.inner, path), { type: "null" }] };
    case "union":
      return { anyOf: shape.variants.map((v, i) => schemaOf(v, `${path}/${i}`)) };
    case "file":
      return { type: "string", description: "a local file path or a URI" };
    case "directory":
      return { type: "string", description: "a local folder path or a URI" };
    case "dataframe":
      return { type: "string", description: "a .parquet, .arrow or .csv path, or a URI" };
    case "schema":
      return { type: "string", description: "a local folder of parquet files, or a URI" };
    case "error":
      return {
        type: "object",
        properties: { message: { type: "string" }, failedNodeId: { type: "string" } },
        required: ["message"],
        additionalProperties: false,
      };
    default:
      return {};
  }
}

// A struct's schema was written to stand alone: its `$ref`s ("#", "#/$defs/…") point at its own root. Giving it
// an `$id` makes it a resource of its own, so those references still resolve once it is nested in the inputs schema.
function structSchema(jsonSchema: Record<string, unknown> | undefined, path: string): Record<string, unknown> {
  if (!jsonSchema) return { type: "object" };
  const copy = structuredClone(jsonSchema);
  delete copy.$schema;
  if (hasLocalRef(copy) && !("$id" in copy)) copy.$id = `urn:tsflyte:input:${path}`;
  return copy;
}

function hasLocalRef(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasLocalRef);
  if (typeof node !== "object" || node === null) return false;
  return Object.entries(node).some(([key, value]) => (key === "$ref" && typeof value === "string" && value.startsWith("#")) || hasLocalRef(value));
}
