// The type engine: every t.* type gives its Flyte LiteralType, converts values both ways, and rejects bad values
// naming the variable, the expected type and what was given. Never relies on a value being coerced silently.
import { test } from "node:test";
import assert from "node:assert/strict";
import { create, toJson } from "@bufbuild/protobuf";
import { z } from "zod";
import * as v from "valibot";
import { LiteralSchema } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { LiteralTypeSchema, SchemaType_SchemaColumn_SchemaColumnType } from "../../../src/lib/idl/gen/flyteidl/core/types_pb.js";
import { t, type AnyType } from "../../../src/lib/types/types.js";
import { FlyteDirectory, FlyteFile, StructuredDataset } from "../../../src/lib/types/values.js";
import { isCastable, describeLiteralType } from "../../../src/lib/types/compat.js";
import { parseDuration } from "../../../src/lib/types/duration.js";
import { TypeMismatchError, UserError } from "../../../src/lib/errors.js";

const Employee = z.object({ name: z.string(), pay: z.number() });

function roundTrip(type: AnyType, value: unknown): unknown {
  return type.fromLiteral(type.toLiteral(value, "x"), "x");
}
const lt = (type: AnyType) => toJson(LiteralTypeSchema, type.literalType());
const lit = (type: AnyType, value: unknown) => toJson(LiteralSchema, type.toLiteral(value, "x"));

test("simple types map to Flyte simple types and round-trip", () => {
  assert.deepEqual(lt(t.int()), { simple: "INTEGER" });
  assert.deepEqual(lt(t.float()), { simple: "FLOAT" });
  assert.deepEqual(lt(t.string()), { simple: "STRING" });
  assert.deepEqual(lt(t.boolean()), { simple: "BOOLEAN" });
  assert.deepEqual(lt(t.datetime()), { simple: "DATETIME" });
  assert.deepEqual(lt(t.duration()), { simple: "DURATION" });
  assert.equal(roundTrip(t.int(), 42), 42);
  assert.deepEqual(lit(t.int(), 42), { scalar: { primitive: { integer: "42" } } });
  assert.equal(roundTrip(t.float(), 0.5), 0.5);
  assert.equal(roundTrip(t.string(), "é"), "é");
  assert.equal(roundTrip(t.boolean(), false), false);
  const when = new Date("2026-11-26T01:02:03.456Z");
  assert.deepEqual(roundTrip(t.datetime(), when), when);
  assert.equal(roundTrip(t.duration(), 1500), 1500);
  assert.equal(roundTrip(t.duration(), "1h30m"), 5_400_000);
});

test("a bad value names the variable, the expected type and what was given", () => {
  assert.throws(() => t.int().toLiteral("3", "scalar"), (e: unknown) => {
    assert.ok(e instanceof TypeMismatchError);
    assert.equal(e.message, 'scalar: expected int, got string "3"');
    return true;
  });
  assert.throws(() => t.int().toLiteral(1.5, "n"), /n: expected int, got number 1.5 \(not a safe integer\)/);
  assert.throws(() => t.datetime().toLiteral(new Date("nope"), "when"), /when: expected datetime, got Date Invalid Date/);
  assert.throws(() => t.list(t.int()).toLiteral([1, "2"], "xs"), /xs\[1\]: expected int, got string "2"/);
  assert.throws(() => t.map(t.int()).toLiteral({ a: true }, "m"), /m\.a: expected int, got boolean true/);
  assert.throws(() => t.enum(["a", "b"]).toLiteral("c", "e"), /e: expected enum\(a\|b\), got string "c"/);
  assert.throws(() => t.duration().toLiteral("soon", "d"), /d: expected duration/);
});

test("integers beyond 2^53 are refused rather than rounded", () => {
  const big = t.int().toLiteral(2n ** 60n, "x");
  assert.throws(() => t.int().fromLiteral(big, "x"), /beyond Number.MAX_SAFE_INTEGER/);
});

test("lists and maps nest", () => {
  const type = t.list(t.map(t.list(t.int())));
  assert.deepEqual(lt(type), { collectionType: { mapValueType: { collectionType: { simple: "INTEGER" } } } });
  assert.deepEqual(roundTrip(type, [{ a: [1, 2] }, {}]), [{ a: [1, 2] }, {}]);
  assert.equal(type.name, "list<map<string, list<int>>>");
});

test("structs carry their JSON Schema and are validated by their Standard Schema", () => {
  const type = t.struct(Employee);
  const json = lt(type) as { simple: string; metadata: { properties: Record<string, unknown> } };
  assert.equal(json.simple, "STRUCT");
  assert.deepEqual(Object.keys(json.metadata.properties), ["name", "pay"]);
  assert.deepEqual(roundTrip(type, { name: "a", pay: 1 }), { name: "a", pay: 1 });
  assert.deepEqual(lit(type, { name: "a", pay: 1 }), { scalar: { generic: { name: "a", pay: 1 } } });
  assert.throws(() => type.toLiteral({ name: "a", pay: "x" }, "rows[0]"), (e: unknown) => {
    assert.ok(e instanceof TypeMismatchError);
    assert.match(e.message, /^rows\[0\]: expected struct\{name, pay\}, got object .*\(rows\[0\]\.pay: .*expected number/);
    return true;
  });
});

test("a valibot struct needs its JSON Schema given, and says so", () => {
  const schema = v.object({ a: v.string() });
  assert.throws(() => t.struct(schema), (e: unknown) => e instanceof UserError && /valibot schema cannot describe itself/.test(e.message));
  const type = t.struct(schema, { jsonSchema: { type: "object", properties: { a: { type: "string" } }, title: "A" } });
  assert.equal(type.name, "struct A");
  assert.deepEqual(roundTrip(type, { a: "x" }), { a: "x" });
  assert.throws(() => type.toLiteral({ a: 1 }, "v"), /v: expected struct A/);
});

test("t.struct rejects something that is not a Standard Schema", () => {
  assert.throws(() => t.struct({ name: "string" } as never), /Standard Schema v1/);
});

test("optional values are a union with NONE", () => {
  const type = t.optional(t.int());
  assert.deepEqual(lt(type), {
    unionType: { variants: [{ simple: "INTEGER", structure: { tag: "int" } }, { simple: "NONE", structure: { tag: "none" } }] },
  });
  assert.equal(roundTrip(type, null), null);
  assert.equal(roundTrip(type, undefined), null);
  assert.equal(roundTrip(type, 4), 4);
  assert.equal(type.name, "int?");
});

test("a union value takes the first variant that accepts it and keeps its tag", () => {
  const type = t.union(t.int(), t.string());
  assert.deepEqual(lit(type, "x"), {
    scalar: { union: { value: { scalar: { primitive: { stringValue: "x" } } }, type: { simple: "STRING", structure: { tag: "string" } } } },
  });
  assert.equal(roundTrip(type, 3), 3);
  assert.throws(() => type.toLiteral(true, "u"), /u: expected int \| string, got boolean true \(no variant accepts it/);
  assert.throws(() => t.union(t.int(), t.int()), /the same type twice/);
});

test("files, directories and dataframes are blobs and structured datasets by URI", () => {
  assert.deepEqual(lt(t.file({ format: "csv" })), { blob: { format: "csv" } });
  assert.deepEqual(lt(t.directory()), { blob: { dimensionality: "MULTIPART" } });
  assert.deepEqual(lt(t.dataframe({ columns: { a: t.int() } })), {
    structuredDatasetType: { columns: [{ name: "a", literalType: { simple: "INTEGER" } }], format: "parquet" },
  });
  const file = roundTrip(t.file(), "s3://b/k.csv") as FlyteFile;
  assert.ok(file instanceof FlyteFile);
  assert.equal(file.uri, "s3://b/k.csv");
  assert.equal((roundTrip(t.file(), "/tmp/a.txt") as FlyteFile).uri, "file:///tmp/a.txt");
  assert.equal((roundTrip(t.directory(), new FlyteDirectory("s3://b/d/")) as FlyteDirectory).uri, "s3://b/d/");
  const ds = roundTrip(t.dataframe(), new StructuredDataset("s3://b/t.parquet")) as unknown as StructuredDataset;
  assert.equal(ds.uri, "s3://b/t.parquet");
  const fakeTable = { schema: {}, numRows: 0, getChild: () => null };
  assert.throws(() => t.dataframe().toLiteral(fakeTable, "table"), /table: an Arrow Table must be written to the blob store/);
});

test(".default() validates the value and .describe() records the text, each on a copy", () => {
  const base = t.int();
  const withDefault = base.default(3).describe("how many");
  assert.equal(base.hasDefault, false);
  assert.equal(withDefault.hasDefault, true);
  assert.equal(withDefault.defaultValue, 3);
  assert.equal(withDefault.description, "how many");
  assert.throws(() => t.int().default("3" as never), /default value: expected int, got string "3"/);
});

test("castability follows FlyteAdmin: no INTEGER into FLOAT, enum and string both ways, unions by variant", () => {
  const c = (a: AnyType, b: AnyType) => isCastable(a.literalType(), b.literalType());
  assert.equal(c(t.int(), t.int()), true);
  assert.equal(c(t.int(), t.float()), false);
  assert.equal(c(t.string(), t.int()), false);
  assert.equal(c(t.enum(["a"]), t.string()), true);
  assert.equal(c(t.string(), t.enum(["a"])), true);
  assert.equal(c(t.enum(["a"]), t.enum(["a", "b"])), true);
  assert.equal(c(t.enum(["c"]), t.enum(["a", "b"])), false);
  assert.equal(c(t.int(), t.optional(t.int())), true);
  assert.equal(c(t.optional(t.int()), t.int()), false);
  assert.equal(c(t.string(), t.union(t.int(), t.string())), true);
  assert.equal(c(t.list(t.int()), t.list(t.int())), true);
  assert.equal(c(t.list(t.int()), t.int()), false);
  assert.equal(c(t.struct(Employee), t.struct(Employee)), true);
  assert.equal(c(t.struct(Employee), t.struct(z.object({ other: z.string() }))), false);
  assert.equal(c(t.file({ format: "csv" }), t.file()), true);
  assert.equal(c(t.file(), t.directory()), false);
  assert.equal(describeLiteralType(t.optional(t.list(t.int())).literalType()), "list<int>?");
});

test("castability of pyflyte's legacy schema follows propeller: schema ↔ schema and ↔ parquet dataframes by columns", () => {
  const schema = (...columns: [string, SchemaType_SchemaColumn_SchemaColumnType][]) =>
    create(LiteralTypeSchema, { type: { case: "schema", value: { columns: columns.map(([name, type]) => ({ name, type })) } } });
  const { INTEGER, STRING, FLOAT } = SchemaType_SchemaColumn_SchemaColumnType;
  const typeOf = (type: AnyType) => type.literalType();
  const xy = schema(["x", INTEGER], ["y", STRING]);
  assert.equal(isCastable(xy, schema(["x", INTEGER])), true, "a subset of the columns");
  assert.equal(isCastable(schema(["x", INTEGER]), xy), false, "a column the upstream lacks");
  assert.equal(isCastable(xy, schema(["x", FLOAT])), false, "a column of another type");
  assert.equal(isCastable(schema(), xy), true, "no columns on one side takes anything");
  assert.equal(isCastable(xy, schema()), true);
  // flytesnacks' schema_compatibility_wf: a schema output into a dataframe{Age: int} input, and back.
  assert.equal(isCastable(schema(["Name", STRING], ["Age", INTEGER]), typeOf(t.dataframe({ columns: { Age: t.int() } }))), true);
  assert.equal(isCastable(schema(["Age", STRING]), typeOf(t.dataframe({ columns: { Age: t.int() } }))), false);
  assert.equal(isCastable(typeOf(t.dataframe({ columns: { x: t.int(), y: t.string() } })), xy), true);
  assert.equal(isCastable(typeOf(t.dataframe({ format: "csv" })), xy), false, "a schema is stored as parquet only");
  assert.equal(isCastable(xy, typeOf(t.dataframe({ format: "csv" }))), false);
  assert.equal(isCastable(xy, typeOf(t.int())), false);
  assert.equal(isCastable(typeOf(t.int()), xy), false);
  assert.equal(describeLiteralType(xy), "schema{x: int, y: string}");
  assert.equal(describeLiteralType(schema()), "schema");
});

test("durations parse in the spellings users write", () => {
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("PT1H30M"), 5_400_000);
  assert.equal(parseDuration("P1DT2H"), 93_600_000);
  assert.equal(parseDuration(10), 10);
  assert.throws(() => parseDuration("ten minutes", "timeout"), /timeout: "ten minutes" is not a duration; write "90s"/);
  assert.throws(() => parseDuration("PT"), /is not a duration/);
});
