// Golden tests for the execution spec `get task|launchplan NAME --execFile F` writes: key order, placeholders,
// launch plan defaults and description comments. Must never depend on the clock: `now` is pinned.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { z } from "zod";
import { UserError } from "../../../src/lib/errors.js";
import { generateExecutionSpec, type SpecEntity, type SpecVariable } from "../../../src/lib/execspec/index.js";
import { LiteralTypeSchema, SchemaType_SchemaColumn_SchemaColumnType, SimpleType, type LiteralType } from "../../../src/lib/idl/gen/flyteidl/core/types_pb.js";
import { t, type AnyType } from "../../../src/lib/types/types.js";
import { FlyteFile } from "../../../src/lib/types/values.js";

const now = () => new Date("2026-01-31T12:00:00.000Z");

/** The SpecVariables a CLI would build from a registered interface declared with these types. */
function variables(inputs: Record<string, AnyType>, required = true): Record<string, SpecVariable> {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, type]) => {
      const variable: SpecVariable = { type: type.literalType(), required: required && !type.hasDefault };
      if (type.description) variable.description = type.description;
      if (type.hasDefault) variable.default = type.toLiteral(type.defaultValue, name);
      return [name, variable];
    }),
  );
}

test("a task: placeholders for every type, descriptions as line comments, `task:` and the version", () => {
  const entity: SpecEntity = {
    kind: "task",
    name: "my.module.t1",
    version: "v2",
    inputs: variables({
      x: t.int().describe("how many rows"),
      rate: t.float().describe("a\n  multi-line   description"),
      name: t.string(),
      dry: t.boolean(),
      since: t.datetime(),
      timeout: t.duration(),
      weights: t.list(t.float()).describe("one per row"),
      limits: t.map(t.int()),
      point: t.struct(z.object({ x: z.number() })).describe("where to start"),
      color: t.enum(["red", "green"]),
      maybe: t.optional(t.int()).describe("may be left null"),
      either: t.union(t.string(), t.int()),
      data: t.file(),
      folder: t.directory(),
      table: t.dataframe(),
      tables: t.list(t.dataframe({ format: "csv" })),
      scores: t.optional(t.list(t.float())),
    }),
  };
  assert.equal(
    generateExecutionSpec(entity, { now }),
    `iamRoleARN: ""
inputs:
  x: 0 # how many rows
  rate: 0.0 # a multi-line description
  name: ""
  dry: false
  since: "2026-01-31T12:00:00Z"
  timeout: 1s
  weights: # one per row
    - 0.0
  limits:
    itemKey: 0
  point: # where to start
    x: 0
  color: red
  maybe: null # may be left null
  either: ""
  data: /tmp/somepath
  folder: /tmp/somedir
  table: /tmp/somepath.parquet
  tables:
    - /tmp/somepath.csv
  scores: null
envs: {}
kubeServiceAcct: ""
targetDomain: ""
targetProject: ""
task: my.module.t1
version: v2
`,
  );
});

test("a launch plan: `workflow:` names it, and defaults are written as plain values", () => {
  const entity: SpecEntity = {
    kind: "launchPlan",
    name: "my.module.wf_lp",
    version: "abc123",
    inputs: variables({
      region: t.string().describe("where to run"),
      count: t.int().default(3).describe("how many"),
      ratio: t.float().default(2),
      since: t.datetime().default(new Date("2025-12-24T18:30:00.500Z")),
      timeout: t.duration().default(5_400_000),
      ids: t.list(t.int()).default([1, 2]).describe("which ones"),
      opts: t.map(t.float()).default({ a: 1, b: 0.5 }),
      point: t.struct(z.object({ x: z.number(), tag: z.string() })).default({ x: 1.5, tag: "yes" }),
      maybe: t.optional(t.string()).default(null),
      data: t.file().default(FlyteFile.from("s3://bucket/data.csv")),
      level: t.enum(["low", "high"]).default("high"),
    }),
  };
  assert.equal(
    generateExecutionSpec(entity, { now }),
    `iamRoleARN: ""
inputs:
  region: "" # where to run
  count: 3 # how many
  ratio: 2.0
  since: "2025-12-24T18:30:00.500Z"
  timeout: 1h30m
  ids: # which ones
    - 1
    - 2
  opts:
    a: 1.0
    b: 0.5
  point:
    x: 1.5
    tag: "yes"
  maybe: null
  data: s3://bucket/data.csv
  level: high
envs: {}
kubeServiceAcct: ""
targetDomain: ""
targetProject: ""
workflow: my.module.wf_lp
version: abc123
`,
  );
});

test("an entity without inputs writes `inputs: {}`", () => {
  const text = generateExecutionSpec({ kind: "task", name: "t0", version: "1", inputs: {} }, { now });
  assert.match(text, /^inputs: \{\}$/m);
  assert.match(text, /^task: t0$/m);
  assert.match(text, /^version: "1"$/m, "a version that looks like a number stays a string");
});

test("datetime placeholders come from the clock, in UTC", () => {
  const text = generateExecutionSpec({
    kind: "task",
    name: "t",
    version: "v",
    inputs: variables({ when: t.datetime() }),
  }, { now: () => new Date("2026-03-01T08:09:10.123+02:00") });
  assert.match(text, /^ {2}when: "2026-03-01T06:09:10.123Z"$/m);
});

test("an input without a default whose type tsflyte cannot convert stops generation, naming the input", () => {
  const entity: SpecEntity = {
    kind: "task",
    name: "t",
    version: "v",
    inputs: { blob: { type: create(LiteralTypeSchema, { type: { case: "simple", value: SimpleType.BINARY } }), required: true } },
  };
  assert.throws(() => generateExecutionSpec(entity, { now }), (e: unknown) => e instanceof UserError && /input blob of t: .*BINARY/.test(e.message));
});

test("pyflyte's legacy schema and a union with ERROR (a failure node's input) get placeholders; name-only descriptions are left out", () => {
  const column = (name: string, type: SchemaType_SchemaColumn_SchemaColumnType) => ({ name, type });
  const tag = (lt: LiteralType, name: string) => create(LiteralTypeSchema, { type: lt.type, structure: { tag: name } });
  const simple = (value: SimpleType) => create(LiteralTypeSchema, { type: { case: "simple", value } });
  const schema = create(LiteralTypeSchema, { type: { case: "schema", value: { columns: [column("x", SchemaType_SchemaColumn_SchemaColumnType.INTEGER)] } } });
  const union = (...variants: LiteralType[]) => create(LiteralTypeSchema, { type: { case: "unionType", value: { variants } } });
  const entity: SpecEntity = {
    kind: "task",
    name: "core.type_system.typed_schema.t2",
    version: "v1",
    inputs: {
      // pyflyte describes each variable by its own name.
      schema: { type: schema, description: "schema", required: true },
      err: { type: union(tag(simple(SimpleType.ERROR), "FlyteError"), tag(simple(SimpleType.NONE), "none")), description: "err", required: true },
      either: { type: union(tag(simple(SimpleType.ERROR), "FlyteError"), tag(simple(SimpleType.INTEGER), "int")), required: true },
      failure: { type: simple(SimpleType.ERROR), description: "what failed", required: true },
    },
  };
  assert.equal(
    generateExecutionSpec(entity, { now }),
    `iamRoleARN: ""
inputs:
  schema: /tmp/somedir
  err: null
  either:
    message: ""
  failure: # what failed
    message: ""
envs: {}
kubeServiceAcct: ""
targetDomain: ""
targetProject: ""
task: core.type_system.typed_schema.t2
version: v1
`,
  );
});
