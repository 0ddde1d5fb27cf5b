// Covers rebuilding t.* types from registered LiteralTypes: same LiteralType, same literals, pyflyte's union tags
// kept, and a clear error for what cannot be converted. Must never depend on a server: LiteralTypes are built here.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, equals } from "@bufbuild/protobuf";
import { z } from "zod";
import { UserError } from "../../../src/lib/errors.js";
import { LiteralSchema, type Literal } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { LiteralTypeSchema, SchemaType_SchemaColumn_SchemaColumnType, SimpleType, type LiteralType } from "../../../src/lib/idl/gen/flyteidl/core/types_pb.js";
import { typeFromLiteralType } from "../../../src/lib/types/from-literal-type.js";
import { acceptsNone, t, type AnyType } from "../../../src/lib/types/types.js";
import { FlyteDirectory } from "../../../src/lib/types/values.js";

const Point = z.object({ x: z.number(), y: z.number(), label: z.string().optional() });
const Nested = z.object({ name: z.string(), tags: z.array(z.string()), inner: z.object({ n: z.number() }) });

/** Each declared type with sample values that its toLiteral accepts. */
const cases: [string, AnyType, unknown[]][] = [
  ["int", t.int(), [0, -7, 2 ** 40]],
  ["float", t.float(), [0, 2.5, -1e-3]],
  ["string", t.string(), ["", "héllo"]],
  ["boolean", t.boolean(), [true, false]],
  ["datetime", t.datetime(), [new Date("2026-01-31T12:00:00.250Z")]],
  ["duration", t.duration(), [1500, "1h30m"]],
  ["list<int>", t.list(t.int()), [[], [1, 2, 3]]],
  ["list<list<string>>", t.list(t.list(t.string())), [[["a"], []]]],
  ["map<float>", t.map(t.float()), [{}, { a: 1.5 }]],
  ["map<list<int?>>", t.map(t.list(t.optional(t.int()))), [{ a: [1, null] }]],
  ["enum", t.enum(["red", "green"]), ["green"]],
  ["file", t.file(), ["s3://bucket/a.txt"]],
  ["file(csv)", t.file({ format: "csv" }), ["s3://bucket/a.csv"]],
  ["directory", t.directory(), ["s3://bucket/dir"]],
  ["dataframe", t.dataframe(), ["s3://bucket/t.parquet"]],
  ["dataframe with columns", t.dataframe({ format: "csv", columns: { a: t.int(), b: t.list(t.string()) } }), ["s3://b/t.csv"]],
  ["optional<int>", t.optional(t.int()), [null, 3]],
  ["optional<struct>", t.optional(t.struct(Point)), [null, { x: 1, y: 2 }]],
  ["optional<list<file>>", t.optional(t.list(t.file())), [null, ["s3://b/1", "s3://b/2"]]],
  ["union<int, string>", t.union(t.int(), t.string()), [3, "three"]],
  ["union<float, struct, file>", t.union(t.float(), t.struct(Point), t.file()), [1.5, { x: 0, y: 0 }, "s3://b/f"]],
  ["struct (zod)", t.struct(Point), [{ x: 1, y: 2, label: "p" }]],
  ["struct named", t.struct(Point, { name: "Point" }), [{ x: 1, y: 2 }]],
  ["nested struct (zod)", t.struct(Nested), [{ name: "n", tags: ["a"], inner: { n: 1 } }]],
  ["list<struct>", t.list(t.struct(Point)), [[{ x: 1, y: 2 }]]],
];

describe("typeFromLiteralType rebuilds every t.* kind", () => {
  for (const [label, original, samples] of cases) {
    test(label, () => {
      const rebuilt = typeFromLiteralType(original.literalType());
      assert.ok(equals(LiteralTypeSchema, rebuilt.literalType(), original.literalType()), "same LiteralType");
      assert.equal(acceptsNone(rebuilt), acceptsNone(original));
      for (const sample of samples) {
        const want = original.toLiteral(sample, "x");
        const got = rebuilt.toLiteral(sample, "x");
        assert.ok(equals(LiteralSchema, got, want), `same literal for ${JSON.stringify(sample)}`);
      }
    });
  }
});

test("the description is kept", () => {
  const type = typeFromLiteralType(t.int().literalType(), "how many");
  assert.equal(type.description, "how many");
  assert.equal(typeFromLiteralType(t.int().literalType()).description, undefined);
});

test("a rebuilt struct accepts any JSON object, keeps the JSON Schema, and rejects what is not an object", () => {
  const original = t.struct(Point);
  const rebuilt = typeFromLiteralType(original.literalType());
  assert.deepEqual((rebuilt as unknown as { jsonSchema: unknown }).jsonSchema, original.jsonSchema);
  // The server-side struct does not know the schema's rules; the task checks them.
  const loose = rebuilt.toLiteral({ anything: [1, "two"] }, "p");
  assert.equal(loose.value.case, "scalar");
  assert.throws(() => rebuilt.toLiteral([1], "p"), UserError);
  assert.throws(() => rebuilt.toLiteral("text", "p"), UserError);
  const bare = typeFromLiteralType(create(LiteralTypeSchema, { type: { case: "simple", value: SimpleType.STRUCT } }));
  assert.equal(bare.name, "struct");
  assert.deepEqual(bare.fromLiteral(bare.toLiteral({ a: 1 }, "s"), "s"), { a: 1 });
});

function simple(value: SimpleType, tag?: string): LiteralType {
  return create(LiteralTypeSchema, { type: { case: "simple", value }, ...(tag ? { structure: { tag } } : {}) });
}

function union(...variants: LiteralType[]): LiteralType {
  return create(LiteralTypeSchema, { type: { case: "unionType", value: { variants } } });
}

function storedTag(literal: Literal): string | undefined {
  const v = literal.value;
  assert.equal(v.case, "scalar");
  assert.equal(v.value.value.case, "union");
  return v.value.value.value.type?.structure?.tag;
}

describe("unions registered by pyflyte keep their own variant tags", () => {
  test("Union[int, str]: the literal stores the registered variant, so flytekit finds it by tag", () => {
    const lt = union(simple(SimpleType.INTEGER, "int"), simple(SimpleType.STRING, "str"));
    const type = typeFromLiteralType(lt);
    assert.ok(equals(LiteralTypeSchema, type.literalType(), lt));
    assert.equal(type.name, "int | string");
    assert.equal(storedTag(type.toLiteral(3, "x")), "int");
    assert.equal(storedTag(type.toLiteral("a", "x")), "str");
    assert.equal(type.fromLiteral(type.toLiteral("a", "x"), "x"), "a");
  });

  test("Optional[str] with NONE first: null and a value each store their registered variant", () => {
    const lt = union(simple(SimpleType.NONE, "none"), simple(SimpleType.STRING, "str"));
    const type = typeFromLiteralType(lt);
    assert.ok(acceptsNone(type));
    assert.equal(type.name, "string?");
    assert.equal(storedTag(type.toLiteral(null, "x")), "none");
    assert.equal(storedTag(type.toLiteral("a", "x")), "str");
    assert.equal(type.fromLiteral(type.toLiteral(null, "x"), "x"), null);
  });

  test("Optional[Union[int, str]]: NONE as one variant of three", () => {
    const lt = union(simple(SimpleType.INTEGER, "int"), simple(SimpleType.STRING, "str"), simple(SimpleType.NONE, "none"));
    const type = typeFromLiteralType(lt);
    assert.ok(acceptsNone(type));
    assert.equal(storedTag(type.toLiteral(1, "x")), "int");
    assert.equal(storedTag(type.toLiteral("1", "x")), "str");
    assert.equal(storedTag(type.toLiteral(null, "x")), "none");
    assert.throws(() => type.toLiteral(true, "x"), UserError);
  });
});

describe("pyflyte's legacy schema and its error type", () => {
  const schema = (...columns: [string, SchemaType_SchemaColumn_SchemaColumnType][]) =>
    create(LiteralTypeSchema, { type: { case: "schema", value: { columns: columns.map(([name, type]) => ({ name, type })) } } });

  test("a schema is a folder by URI; its literal carries the registered columns and reads back as a FlyteDirectory", () => {
    const lt = schema(["x", SchemaType_SchemaColumn_SchemaColumnType.INTEGER], ["y", SchemaType_SchemaColumn_SchemaColumnType.STRING]);
    const type = typeFromLiteralType(lt);
    assert.equal(type.name, "schema{x: int, y: string}");
    assert.ok(equals(LiteralTypeSchema, type.literalType(), lt));
    const literal = type.toLiteral("s3://bucket/schema", "df");
    const v = literal.value.case === "scalar" ? literal.value.value.value : undefined;
    assert.equal(v?.case, "schema");
    assert.equal(v?.value.uri, "s3://bucket/schema");
    assert.deepEqual(v?.value.type?.columns.map((c) => [c.name, c.type]), [["x", 0], ["y", 2]]);
    const back = type.fromLiteral(literal, "df") as unknown;
    assert.ok(back instanceof FlyteDirectory);
    assert.equal(back.uri, "s3://bucket/schema");
    assert.throws(() => type.toLiteral(3, "df"), (e: unknown) => e instanceof UserError && /df: expected schema\{x: int, y: string\}, got number 3/.test(e.message));
    assert.equal(typeFromLiteralType(schema()).name, "schema");
  });

  test("an error is {message, failedNodeId}; a bare string is its message; other fields are refused", () => {
    const type = typeFromLiteralType(simple(SimpleType.ERROR));
    assert.equal(type.name, "error");
    const literal = type.toLiteral({ message: "boom", failedNodeId: "n1" }, "err");
    assert.equal(literal.value.case === "scalar" ? literal.value.value.value.case : undefined, "error");
    assert.deepEqual(type.fromLiteral(literal, "err"), { message: "boom", failedNodeId: "n1" });
    assert.deepEqual(type.fromLiteral(type.toLiteral("just a message", "err"), "err"), { message: "just a message" });
    assert.throws(() => type.toLiteral({ message: "x", node: "n1" }, "err"), (e: unknown) => e instanceof UserError && /"node" is not a field of an error/.test(e.message));
    assert.throws(() => type.toLiteral(3, "err"), UserError);
  });

  test("Optional[FlyteError] (a failure node's input) is an optional error that keeps pyflyte's tags", () => {
    const lt = union(simple(SimpleType.ERROR, "FlyteError"), simple(SimpleType.NONE, "none"));
    const type = typeFromLiteralType(lt);
    assert.ok(acceptsNone(type));
    assert.equal(type.name, "error?");
    assert.equal(storedTag(type.toLiteral(null, "err")), "none");
    assert.equal(storedTag(type.toLiteral({ message: "boom" }, "err")), "FlyteError");
  });
});

describe("types tsflyte cannot convert are UserErrors naming the type", () => {
  const unsupported: [string, LiteralType, RegExp][] = [
    ["NONE alone", simple(SimpleType.NONE), /NONE/],
    ["BINARY", simple(SimpleType.BINARY), /BINARY/],
    ["a list of BINARY", create(LiteralTypeSchema, { type: { case: "collectionType", value: simple(SimpleType.BINARY) } }), /BINARY \(inside list\)/],
    ["an empty enum", create(LiteralTypeSchema, { type: { case: "enumType", value: { values: [] } } }), /at least one value/],
    ["a union of NONE only", union(simple(SimpleType.NONE), simple(SimpleType.NONE)), /other than NONE/],
    ["a union with one variant", union(simple(SimpleType.INTEGER)), /two or more/],
    ["a union of the same type twice", union(simple(SimpleType.INTEGER, "a"), simple(SimpleType.INTEGER, "b")), /both int/],
    ["an empty LiteralType", create(LiteralTypeSchema, {}), /empty LiteralType/],
  ];
  for (const [label, lt, message] of unsupported) {
    test(label, () => {
      assert.throws(() => typeFromLiteralType(lt), (e: unknown) => e instanceof UserError && message.test(e.message));
    });
  }
});
