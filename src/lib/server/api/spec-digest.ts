// Registered specs as deterministic bytes with a digest, so that an identical re-register is recognised, and the
// field paths where two specs differ, so that a conflicting one is explained. Never changes what a spec means.
import { createHash } from "node:crypto";
import { fromJson, toBinary, toJson, type DescMessage, type JsonValue, type MessageShape } from "@bufbuild/protobuf";

/**
 * The spec's bytes with every map and Struct key in sorted order: protobuf-es writes maps in insertion order, so two
 * equal specs built in different orders would otherwise give different bytes.
 */
export function canonicalSpec<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): { bytes: Uint8Array; digest: string; json: JsonValue } {
  const json = sortKeys(toJson(schema, message));
  const bytes = toBinary(schema, fromJson(schema, json));
  return { bytes, digest: createHash("sha256").update(bytes).digest("hex"), json };
}

function sortKeys(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const sorted: Record<string, JsonValue> = {};
    for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key]);
    return sorted;
  }
  return value;
}

export interface Difference {
  /** `template.container.image`, `template.nodes[1].inputs[0]`. */
  path: string;
  before?: JsonValue;
  after?: JsonValue;
}

/** Where two JSON values differ, leaves first found first; at most `limit` of them. */
export function jsonDifferences(before: JsonValue | undefined, after: JsonValue | undefined, limit = 8): Difference[] {
  const found: Difference[] = [];
  walk(before, after, "", found, limit);
  return found;
}

function walk(a: JsonValue | undefined, b: JsonValue | undefined, path: string, found: Difference[], limit: number): void {
  if (found.length >= limit) return;
  if (isObject(a) && isObject(b)) {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      walk(a[key], b[key], path ? `${path}.${key}` : key, found, limit);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(a[i], b[i], `${path}[${i}]`, found, limit);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) found.push({ path: path || "(the whole spec)", before: a, after: b });
}

function isObject(v: JsonValue | undefined): v is { [k: string]: JsonValue } {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** `template.container.image: "a:1" → "a:2"`, one line per difference, values shortened. */
export function describeDifferences(differences: Difference[]): string {
  const show = (v: JsonValue | undefined) => {
    if (v === undefined) return "(absent)";
    const text = JSON.stringify(v);
    return text.length > 80 ? `${text.slice(0, 80)}…` : text;
  };
  return differences.map((d) => `  ${d.path}: ${show(d.before)} → ${show(d.after)}`).join("\n");
}
