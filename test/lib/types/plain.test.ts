// Type-free display of literals: every literal kind becomes a plain JSON value.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { LiteralMapSchema, LiteralSchema, type Literal } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { BlobType_BlobDimensionality } from "../../../src/lib/idl/gen/flyteidl/core/types_pb.js";
import { formatProtoDuration, literalMapToPlain, literalToPlain } from "../../../src/lib/types/plain.js";
import { parseDuration } from "../../../src/lib/types/duration.js";

function scalar(value: Record<string, unknown>): Literal {
  return create(LiteralSchema, { value: { case: "scalar", value: { value } } } as never);
}

function primitive(value: Record<string, unknown>): Literal {
  return scalar({ case: "primitive", value: { value } });
}

test("primitives: integers (safe and not), floats, strings, booleans, datetimes, durations", () => {
  assert.equal(literalToPlain(primitive({ case: "integer", value: 42n })), 42);
  assert.equal(literalToPlain(primitive({ case: "integer", value: -7n })), -7);
  assert.equal(literalToPlain(primitive({ case: "integer", value: 2n ** 60n })), "1152921504606846976");
  assert.equal(literalToPlain(primitive({ case: "floatValue", value: 1.5 })), 1.5);
  assert.equal(literalToPlain(primitive({ case: "stringValue", value: "hi" })), "hi");
  assert.equal(literalToPlain(primitive({ case: "boolean", value: false })), false);
  assert.equal(
    literalToPlain(primitive({ case: "datetime", value: timestampFromDate(new Date("2024-05-01T12:00:00.250Z")) })),
    "2024-05-01T12:00:00.250Z",
  );
  assert.equal(literalToPlain(primitive({ case: "duration", value: durationFromMs(5_400_000) })), "1h30m");
  assert.equal(literalToPlain(primitive({ case: "duration", value: durationFromMs(250) })), "250ms");
});

test("durations print compactly and read back with parseDuration", () => {
  for (const ms of [0, 1, 250, 1_000, 1_500, 90_000, 5_400_000, 86_400_000 + 1]) {
    const text = formatProtoDuration(durationFromMs(ms));
    assert.equal(parseDuration(text), ms, text);
  }
  assert.equal(formatProtoDuration(durationFromMs(90_000)), "1m30s");
  assert.equal(formatProtoDuration(durationFromMs(2_500)), "2s500ms");
  assert.equal(formatProtoDuration(durationFromMs(0)), "0s");
  assert.equal(formatProtoDuration({ seconds: 0n, nanos: 1_500_000 } as never), "1.5ms");
  assert.equal(formatProtoDuration({ seconds: -90n, nanos: 0 } as never), "-1m30s");
});

test("blobs, structured datasets and schemas show their URI", () => {
  const blob = scalar({
    case: "blob",
    value: { uri: "file:///data/raw/a.csv", metadata: { type: { format: "csv", dimensionality: BlobType_BlobDimensionality.SINGLE } } },
  });
  assert.equal(literalToPlain(blob), "file:///data/raw/a.csv");
  assert.equal(literalToPlain(scalar({ case: "structuredDataset", value: { uri: "s3://b/t.parquet" } })), "s3://b/t.parquet");
  assert.equal(literalToPlain(scalar({ case: "schema", value: { uri: "s3://b/schema" } })), "s3://b/schema");
});

test("generic structs are plain JSON; unions their inner value; none is null", () => {
  assert.deepEqual(literalToPlain(scalar({ case: "generic", value: { a: 1, b: [true, null, "x"], c: { d: 2.5 } } })), {
    a: 1,
    b: [true, null, "x"],
    c: { d: 2.5 },
  });
  assert.equal(literalToPlain(scalar({ case: "union", value: { value: primitive({ case: "integer", value: 3n }) } })), 3);
  assert.equal(literalToPlain(scalar({ case: "union", value: { value: scalar({ case: "noneType", value: {} }) } })), null);
  assert.equal(literalToPlain(scalar({ case: "noneType", value: {} })), null);
});

test("binary is base64; an error literal is its message", () => {
  assert.equal(literalToPlain(scalar({ case: "binary", value: { value: new Uint8Array([0, 1, 255]), tag: "msgpack" } })), "AAH/");
  assert.deepEqual(literalToPlain(scalar({ case: "error", value: { message: "boom" } })), { message: "boom" });
  assert.deepEqual(literalToPlain(scalar({ case: "error", value: { message: "boom", failedNodeId: "n2" } })), {
    message: "boom",
    failedNodeId: "n2",
  });
});

test("collections are arrays and maps objects, nested", () => {
  const list = create(LiteralSchema, {
    value: { case: "collection", value: { literals: [primitive({ case: "integer", value: 1n }), primitive({ case: "integer", value: 2n })] } },
  });
  const map = create(LiteralSchema, {
    value: { case: "map", value: { literals: { xs: list, name: primitive({ case: "stringValue", value: "a" }) } } },
  });
  assert.deepEqual(literalToPlain(list), [1, 2]);
  assert.deepEqual(literalToPlain(map), { name: "a", xs: [1, 2] });
});

test("offloaded literals say where they are; an empty literal is null", () => {
  const offloaded = create(LiteralSchema, { value: { case: "offloadedMetadata", value: { uri: "s3://b/big.pb", sizeBytes: 10n } } });
  assert.deepEqual(literalToPlain(offloaded), { offloaded: "s3://b/big.pb" });
  assert.equal(literalToPlain(create(LiteralSchema)), null);
  assert.equal(literalToPlain(scalar({ case: undefined })), null);
  assert.equal(literalToPlain(primitive({ case: undefined })), null);
});

test("a LiteralMap becomes an object with sorted keys", () => {
  const map = create(LiteralMapSchema, {
    literals: { year: primitive({ case: "integer", value: 2024n }), emp: primitive({ case: "stringValue", value: "ann" }) },
  });
  const plain = literalMapToPlain(map);
  assert.deepEqual(plain, { emp: "ann", year: 2024 });
  assert.deepEqual(Object.keys(plain), ["emp", "year"]);
  assert.deepEqual(literalMapToPlain(create(LiteralMapSchema)), {});
});
