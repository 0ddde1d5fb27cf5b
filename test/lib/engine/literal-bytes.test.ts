// The engine's LiteralMap shortcuts against protobuf-es itself: the same bytes as toBinary, the same object as create.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { encodeLiteralMap, literalMapOf } from "../../../src/lib/engine/literal-bytes.js";
import { t } from "../../../src/lib/types/types.js";

const types = { n: t.int(), s: t.string(), xs: t.list(t.float()), m: t.map(t.int()), b: t.boolean(), big: t.string() };
const values = { n: -7, s: "héllo wörld ✓", xs: [0.5, 1e300, -0], m: { a: 1, zz: 2 }, b: true, big: "x".repeat(70_000) };

function literals() {
  return Object.fromEntries(Object.entries(types).map(([name, type]) => [name, type.toLiteral(values[name as keyof typeof values], name)]));
}

test("encodeLiteralMap writes exactly what toBinary writes, also for long values (multi-byte lengths) and again from its cache", () => {
  const map = create(LiteralMapSchema, { literals: literals() });
  const expected = toBinary(LiteralMapSchema, map);
  assert.deepEqual(encodeLiteralMap(map), expected);
  assert.deepEqual(encodeLiteralMap(map), expected, "the second encoding, from the cached literal bytes");
  assert.deepEqual(fromBinary(LiteralMapSchema, encodeLiteralMap(map)), map);
  assert.deepEqual(encodeLiteralMap(create(LiteralMapSchema, {})), toBinary(LiteralMapSchema, create(LiteralMapSchema, {})));
});

test("literalMapOf is the object create(LiteralMapSchema) makes", () => {
  const given = literals();
  assert.deepStrictEqual(literalMapOf(given), create(LiteralMapSchema, { literals: given }));
  assert.deepEqual(toBinary(LiteralMapSchema, literalMapOf(given)), toBinary(LiteralMapSchema, create(LiteralMapSchema, { literals: given })));
});
