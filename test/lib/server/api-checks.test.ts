// The control-plane API's pure parts, checked directly: the literal-vs-LiteralType checker over every t.* type,
// union tagging, deterministic spec digests and their differences, the filter syntax, names, paths and queries.
import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { clone, create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { TaskSpecSchema } from "../../../src/lib/idl/gen/flyteidl/admin/task_pb.js";
import { LiteralSchema, type Literal } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { LiteralTypeSchema, SchemaType_SchemaColumn_SchemaColumnType } from "../../../src/lib/idl/gen/flyteidl/core/types_pb.js";
import { t } from "../../../src/lib/types/types.js";
import { FlyteFile } from "../../../src/lib/types/values.js";
import { ApiError } from "../../../src/lib/server/api/api-error.js";
import { literalMismatch, withUnionTags } from "../../../src/lib/server/api/literal-check.js";
import { canonicalSpec, jsonDifferences } from "../../../src/lib/server/api/spec-digest.js";
import { executionFilters, nodeFilters, parseFilters } from "../../../src/lib/server/api/list-filters.js";
import { checkExecutionName, checkRelativePath, generateExecutionName } from "../../../src/lib/server/api/resource-names.js";
import { QueryParams, decodePathSegments } from "../../../src/lib/server/api/router.js";
import { taskTemplateProblems } from "../../../src/lib/compiler/registration-rules.js";

const Point = z.object({ x: z.number(), y: z.number() });
const types = {
  int: t.int(),
  float: t.float(),
  string: t.string(),
  boolean: t.boolean(),
  datetime: t.datetime(),
  duration: t.duration(),
  ints: t.list(t.int()),
  scores: t.map(t.float()),
  point: t.struct(Point),
  color: t.enum(["red", "green"]),
  maybe: t.optional(t.string()),
  either: t.union(t.int(), t.string()),
  report: t.file({ format: "csv" }),
  images: t.directory(),
  table: t.dataframe({ columns: { name: t.string() } }),
  nested: t.list(t.map(t.list(t.int()))),
};
const values: Record<keyof typeof types, unknown> = {
  int: 7,
  float: 2.5,
  string: "text",
  boolean: true,
  datetime: new Date("2026-01-02T03:04:05Z"),
  duration: "90s",
  ints: [1, 2],
  scores: { a: 1.5 },
  point: { x: 1, y: 2 },
  color: "green",
  maybe: null,
  either: "two",
  report: new FlyteFile("s3://bucket/r.csv"),
  images: "s3://bucket/images",
  table: "s3://bucket/table.parquet",
  nested: [{ a: [1] }],
};

test("every t.* value passes its own declared type and no unrelated one, with a message naming both", () => {
  const names = Object.keys(types) as (keyof typeof types)[];
  for (const name of names) {
    const literal = types[name].toLiteral(values[name], name);
    assert.equal(literalMismatch(literal, types[name].literalType(), `input "${name}"`), undefined, name);
  }
  const problem = literalMismatch(types.string.toLiteral("x", "s"), types.int.literalType(), 'input "n"');
  assert.equal(problem, 'input "n": expected int, got string "x"');
  assert.equal(literalMismatch(types.int.toLiteral(3, "i"), types.float.literalType(), "f"), "f: expected float, got int 3");
  assert.equal(literalMismatch(types.string.toLiteral("blue", "c"), types.color.literalType(), "c"), 'c: "blue" is not one of "red", "green"');
  assert.equal(literalMismatch(types.ints.toLiteral([1, 2], "l"), types.scores.literalType(), "m"), "m: expected map<string, float>, got a list of 2");
  assert.equal(
    literalMismatch(t.list(t.string()).toLiteral(["a"], "l"), types.ints.literalType(), "xs"),
    'xs[0]: expected int, got string "a"',
  );
  assert.equal(literalMismatch(t.map(t.int()).toLiteral({ k: 1 }, "m"), types.scores.literalType(), "m"), "m.k: expected float, got int 1");
  assert.match(literalMismatch(t.file({ format: "json" }).toLiteral("s3://b/x.json", "f"), types.report.literalType(), "f")!, /expected file\(csv\), got a file of format "json"/);
  assert.match(literalMismatch(types.images.toLiteral("s3://b/d", "d"), types.report.literalType(), "f")!, /expected file\(csv\), got directory s3:\/\/b\/d/);
  assert.equal(literalMismatch(types.int.toLiteral(1, "i"), types.either.literalType(), "e"), undefined);
  assert.match(literalMismatch(types.boolean.toLiteral(true, "b"), types.either.literalType(), "e")!, /e: expected int \| string, got boolean true/);
  assert.match(literalMismatch(create(LiteralSchema, {}), types.int.literalType(), "x")!, /expected int, got an empty literal/);
  // A datetime no date type can hold is refused, as FlyteAdmin refuses it.
  const farFuture = create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "datetime", value: { seconds: 999_999_999_999n, nanos: 0 } } } } } } });
  assert.match(literalMismatch(farFuture, types.datetime.literalType(), "when")!, /expected datetime/);
  const fine = create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "datetime", value: timestampFromMs(0) } } } } } });
  assert.equal(literalMismatch(fine, types.datetime.literalType(), "when"), undefined);
});

test("union values: tagged ones are checked against their variant; bare ones are accepted and then tagged", () => {
  const either = types.either.literalType();
  const tagged = types.either.toLiteral(5, "e");
  assert.equal(literalMismatch(tagged, either, "e"), undefined);
  // A tagged union claiming the int variant but holding a string is caught.
  const lying = clone(LiteralSchema, tagged);
  const union = (lying.value.value as { value: { value: { value: Literal } } }).value.value;
  union.value = types.string.toLiteral("five", "e");
  assert.match(literalMismatch(lying, either, "e")!, /e: expected int, got string "five"/);

  const bare = types.string.toLiteral("two", "e");
  assert.equal(literalMismatch(bare, either, "e"), undefined);
  const wrapped = withUnionTags(bare, either);
  assert.equal(wrapped.value.case === "scalar" && wrapped.value.value.value.case === "union" ? wrapped.value.value.value.value.type?.structure?.tag : "", "string");
  assert.equal(types.either.fromLiteral(wrapped, "e"), "two");
  const inList = withUnionTags(t.list(t.string()).toLiteral(["a"], "l"), t.list(types.either).literalType());
  assert.deepEqual(t.list(types.either).fromLiteral(inList, "l"), ["a"]);
  // Already tagged values and other types are left as they are.
  assert.equal(withUnionTags(tagged, either), tagged);
  const plain = types.int.toLiteral(1, "i");
  assert.equal(withUnionTags(plain, types.int.literalType()), plain);
});

test("spec digests: equal specs give equal bytes whatever their map order; differences name field paths", () => {
  const spec = (order: "ab" | "ba", image = "img:1") =>
    create(TaskSpecSchema, {
      template: {
        type: "typescript-task",
        interface: { inputs: { variables: order === "ab" ? { a: { description: "A" }, b: { description: "B" } } : { b: { description: "B" }, a: { description: "A" } } } },
        custom: order === "ab" ? { x: 1, y: { p: 1, q: 2 } } : { y: { q: 2, p: 1 }, x: 1 },
        config: order === "ab" ? { k1: "v1", k2: "v2" } : { k2: "v2", k1: "v1" },
        target: { case: "container", value: { image } },
      },
    });
  const one = canonicalSpec(TaskSpecSchema, spec("ab"));
  const two = canonicalSpec(TaskSpecSchema, spec("ba"));
  assert.equal(one.digest, two.digest);
  assert.deepEqual(one.bytes, two.bytes);
  const other = canonicalSpec(TaskSpecSchema, spec("ab", "img:2"));
  assert.notEqual(other.digest, one.digest);
  assert.deepEqual(jsonDifferences(one.json, other.json), [{ path: "template.container.image", before: "img:1", after: "img:2" }]);
});

test("filters: FlyteAdmin's syntax mapped onto the store's fields; workflow filters kept for the API", () => {
  const parsed = parseFilters("eq(phase,FAILED)+gte(created_at, 2026-01-01T00:00:00Z)+value_in(name,a;b)+eq(launch_plan.name,lp)+eq(workflow.version,v1)+eq(mode,3)");
  assert.deepEqual(parsed[1], { op: "gte", field: "created_at", values: ["2026-01-01T00:00:00Z"] });
  const mapped = executionFilters(parsed);
  assert.deepEqual(mapped.store, [
    { field: "phase", op: "eq", value: "FAILED" },
    { field: "created_at", op: "gte", value: Date.parse("2026-01-01T00:00:00Z") },
    { field: "name", op: "value_in", value: ["a", "b"] },
    { field: "launch_name", op: "eq", value: "lp" },
    { field: "launch_kind", op: "value_in", value: ["launchPlan", "workflow"] },
    { field: "mode", op: "eq", value: "RELAUNCH" },
  ]);
  assert.deepEqual(mapped.workflow, [{ op: "eq", field: "workflow.version", values: ["v1"] }]);
  assert.deepEqual(parseFilters(""), []);
  assert.throws(() => parseFilters("eq(phase,)"), /empty value|not of the form/);
  assert.throws(() => executionFilters(parseFilters("gt(workflow.name,a)")), /workflow\.name takes eq, ne, contains or value_in/);
  const keep = nodeFilters(parseFilters("ne(phase,SUCCEEDED)+contains(node_id,n1)"));
  assert.equal(keep({ phase: "RUNNING", node_id: "n1-0-n0" }), true);
  assert.equal(keep({ phase: "SUCCEEDED", node_id: "n1" }), false);
});

test("names, paths and query parameters", () => {
  for (let i = 0; i < 200; i++) {
    const name = generateExecutionName();
    assert.match(name, /^a[a-z0-9]{19}$/);
    checkExecutionName(name);
  }
  assert.throws(() => checkExecutionName("a".repeat(64)), (e: unknown) => e instanceof ApiError && e.status === 400);
  assert.deepEqual(checkRelativePath("pre/fix/file.zip", "filename"), ["pre", "fix", "file.zip"]);
  for (const bad of ["", "a//b", "../x", "a/./b", "a\\b", "a?b", "a#b", "a%2e", "x\u0001"]) assert.throws(() => checkRelativePath(bad, "filename"), ApiError, bad);
  assert.deepEqual(decodePathSegments("/api/v1/tasks/p/d/a%20b/"), ["api", "v1", "tasks", "p", "d", "a b"]);
  assert.throws(() => decodePathSegments("/api/%2e%2e/x"), /not allowed/);
  const query = new QueryParams("?sortBy.key=name&filters=eq(a,b)+eq(c,d)&limit=5&q=a+b");
  assert.equal(query.get("sort_by.key"), "name");
  assert.equal(query.getKeepingPlus("filters"), "eq(a,b)+eq(c,d)");
  assert.equal(query.get("q"), "a b");
  assert.throws(() => query.allowOnly(["limit", "filters", "sort_by.key"]), /unknown query parameter "q"; this endpoint takes limit, filters, sort_by\.key/);
});

test("legacy schema values: a schema or parquet dataframe literal whose columns cast, with a URI", () => {
  const { INTEGER, STRING } = SchemaType_SchemaColumn_SchemaColumnType;
  const schemaType = (...columns: [string, SchemaType_SchemaColumn_SchemaColumnType][]) =>
    create(LiteralTypeSchema, { type: { case: "schema", value: { columns: columns.map(([name, type]) => ({ name, type })) } } });
  const schemaLiteral = (uri: string, ...columns: [string, SchemaType_SchemaColumn_SchemaColumnType][]) =>
    create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "schema", value: { uri, type: { columns: columns.map(([name, type]) => ({ name, type })) } } } } } });
  const xy = schemaType(["x", INTEGER], ["y", STRING]);
  assert.equal(literalMismatch(schemaLiteral("s3://b/s", ["x", INTEGER], ["y", STRING]), xy, "df"), undefined);
  assert.equal(literalMismatch(schemaLiteral("s3://b/s", ["x", INTEGER], ["y", STRING]), schemaType(["x", INTEGER]), "df"), undefined);
  assert.equal(literalMismatch(schemaLiteral("s3://b/s", ["x", STRING]), xy, "df"), "df: expected schema{x: int, y: string}, got a schema{x: string}");
  assert.equal(literalMismatch(schemaLiteral(""), xy, "df"), "df: the schema has no uri");
  assert.equal(literalMismatch(types.int.toLiteral(3, "i"), xy, "df"), "df: expected schema{x: int, y: string}, got int 3");
  // Across the two table types, as propeller's compiler casts them.
  assert.equal(literalMismatch(t.dataframe({ columns: { x: t.int(), y: t.string() } }).toLiteral("s3://b/t.parquet", "d"), xy, "df"), undefined);
  assert.equal(literalMismatch(schemaLiteral("s3://b/s", ["name", STRING]), types.table.literalType(), "df"), undefined);
  assert.match(literalMismatch(schemaLiteral("s3://b/s", ["name", INTEGER]), types.table.literalType(), "df")!, /df: expected dataframe\{name: string\}, got a schema\{name: int\}/);
});

test("task templates: FlyteAdmin's rules on type, interface, image and Kubernetes quantities", () => {
  const template = create(TaskSpecSchema, {
    template: {
      type: "",
      metadata: { runtime: { version: "" } },
      target: {
        case: "container",
        value: {
          image: "img",
          resources: {
            requests: [{ name: 2, value: "0.5" }, { name: 1, value: "500m" }, { name: 1, value: "1" }],
            limits: [{ name: 2, value: "1" }, { name: 1, value: "250m" }],
          },
        },
      },
    },
  }).template!;
  assert.deepEqual(taskTemplateProblems(template), [
    "template.type is required",
    "template.metadata.runtime.version is required when runtime is set",
    "template.interface is required",
    "container.resources.requests.gpu must be a whole number, got 0.5",
    "container.resources.requests sets cpu twice",
    "gpu requests (0.5) must equal gpu limits (1)",
    "cpu requests are greater than its limits; raise the limit or lower the request",
  ]);
});
