// Binary LiteralMaps for the record, each Literal encoded once: a node's output literal is the next node's input, so
// the bytes are reused instead of encoding the same value twice. Never changes what protobuf-es would write.
import { toBinary } from "@bufbuild/protobuf";
import { LiteralSchema, type Literal, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";

// Literals are never mutated once made, so their bytes can be kept as long as the literal lives.
const encoded = new WeakMap<Literal, Uint8Array>();
const utf8 = new TextEncoder();

function literalBytes(literal: Literal): Uint8Array {
  let bytes = encoded.get(literal);
  if (!bytes) encoded.set(literal, (bytes = toBinary(LiteralSchema, literal)));
  return bytes;
}

function varintLength(n: number): number {
  let length = 1;
  while (n >= 0x80) {
    n >>>= 7;
    length++;
  }
  return length;
}

function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[at++] = n;
  return at;
}

/**
 * `toBinary(LiteralMapSchema, map)`, byte for byte: field 1 is `map<string, Literal>`, each entry a length-delimited
 * message of key (field 1) and value (field 2), in the map's insertion order as protobuf-es writes them.
 */
export function encodeLiteralMap(map: LiteralMap): Uint8Array {
  const entries: { key: Uint8Array; value: Uint8Array; length: number }[] = [];
  let total = 0;
  for (const name in map.literals) {
    const key = utf8.encode(name);
    const value = literalBytes(map.literals[name]);
    const length = 1 + varintLength(key.length) + key.length + 1 + varintLength(value.length) + value.length;
    entries.push({ key, value, length });
    total += 1 + varintLength(length) + length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const { key, value, length } of entries) {
    out[at++] = 0x0a; // field 1, length-delimited
    at = writeVarint(out, at, length);
    out[at++] = 0x0a; // entry key
    at = writeVarint(out, at, key.length);
    out.set(key, at);
    at += key.length;
    out[at++] = 0x12; // entry value
    at = writeVarint(out, at, value.length);
    out.set(value, at);
    at += value.length;
  }
  return out;
}

/**
 * `create(LiteralMapSchema, { literals })` without its reflective walk, for the engine's hot path: a LiteralMap is its
 * type name and its one field, exactly the object create() makes (checked in test/lib/engine/literal-bytes.test.ts).
 */
export function literalMapOf(literals: Record<string, Literal>): LiteralMap {
  return { $typeName: "flyteidl.core.LiteralMap", literals } as LiteralMap;
}
