// Turns Flyte literals into plain JSON-able values for display (`get execution --details`, error traces),
// without knowing their declared types. Never use it to hand values to user code: that goes through the type engine.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Duration } from "@bufbuild/protobuf/wkt";
import type { Literal, LiteralMap, Primitive, Scalar } from "../idl/gen/flyteidl/core/literals_pb.js";

/** A literal as a plain value: numbers, strings, booleans, null, arrays and objects only. */
export function literalToPlain(literal: Literal): unknown {
  switch (literal.value.case) {
    case "scalar":
      return scalarToPlain(literal.value.value);
    case "collection":
      return literal.value.value.literals.map(literalToPlain);
    case "map":
      return literalMapToPlain(literal.value.value);
    case "offloadedMetadata":
      // The value itself lives elsewhere; say so rather than passing the URI off as a string value.
      return { offloaded: literal.value.value.uri };
    default:
      return null;
  }
}

/** Every entry of a LiteralMap (what inputs.pb and outputs.pb hold) as a plain value, keys in sorted order. */
export function literalMapToPlain(map: LiteralMap): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(map.literals).sort()) out[name] = literalToPlain(map.literals[name]);
  return out;
}

function scalarToPlain(scalar: Scalar): unknown {
  const v = scalar.value;
  switch (v.case) {
    case "primitive":
      return primitiveToPlain(v.value.value);
    case "blob":
      return v.value.uri;
    case "structuredDataset":
      return v.value.uri;
    case "schema":
      return v.value.uri;
    case "generic":
      return v.value;
    case "union":
      return v.value.value ? literalToPlain(v.value.value) : null;
    case "noneType":
      return null;
    case "binary":
      return Buffer.from(v.value.value).toString("base64");
    case "error":
      return v.value.failedNodeId ? { message: v.value.message, failedNodeId: v.value.failedNodeId } : { message: v.value.message };
    default:
      return null;
  }
}

function primitiveToPlain(p: Primitive["value"]): unknown {
  switch (p.case) {
    case "integer":
      return bigintToPlain(p.value);
    case "floatValue":
    case "stringValue":
    case "boolean":
      return p.value;
    case "datetime":
      return timestampDate(p.value).toISOString();
    case "duration":
      return formatProtoDuration(p.value);
    default:
      return null;
  }
}

/** A number when it is exact, else the decimal string (JSON has no 64-bit integers). */
function bigintToPlain(value: bigint): number | string {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value.toString();
}

const units: [string, bigint][] = [
  ["h", 3_600_000_000_000n],
  ["m", 60_000_000_000n],
  ["s", 1_000_000_000n],
];

/**
 * A duration in the compact form `parseDuration` reads back: "1h30m", "1m30s", "250ms", "2s500ms", "0s".
 * Sub-millisecond remainders show as fractional milliseconds ("1.5ms").
 */
export function formatProtoDuration(d: Duration): string {
  let nanos = d.seconds * 1_000_000_000n + BigInt(d.nanos);
  if (nanos === 0n) return "0s";
  const sign = nanos < 0n ? "-" : "";
  if (nanos < 0n) nanos = -nanos;
  let text = "";
  for (const [unit, size] of units) {
    const count = nanos / size;
    if (count > 0n) text += `${count}${unit}`;
    nanos %= size;
  }
  if (nanos > 0n) {
    const ms = nanos / 1_000_000n;
    const rest = nanos % 1_000_000n;
    text += rest === 0n ? `${ms}ms` : `${ms}.${rest.toString().padStart(6, "0").replace(/0+$/, "")}ms`;
  }
  return sign + text;
}
