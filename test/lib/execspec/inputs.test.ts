// Covers turning a spec's inputs into literals against a registered interface: the generate → parse → convert round
// trip for every type, uploads of local paths, and every input problem at its file:line:col. Must never upload for real.
import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { create, equals } from "@bufbuild/protobuf";
import { z } from "zod";
import {
  ExecutionSpecError,
  generateExecutionSpec,
  parseExecutionSpec,
  specInputsToLiterals,
  type SpecEntity,
  type SpecVariable,
} from "../../../src/lib/execspec/index.js";
import { LiteralSchema, type Literal, type LiteralMap } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { LiteralTypeSchema, SchemaType_SchemaColumn_SchemaColumnType, SimpleType } from "../../../src/lib/idl/gen/flyteidl/core/types_pb.js";
import { t, type AnyType } from "../../../src/lib/types/types.js";
import { FlyteFile } from "../../../src/lib/types/values.js";

const now = () => new Date("2026-01-31T12:00:00.000Z");

function variables(inputs: Record<string, AnyType>, options: { keepDefaults?: boolean } = {}): Record<string, SpecVariable> {
  const keep = options.keepDefaults ?? true;
  return Object.fromEntries(
    Object.entries(inputs).map(([name, type]) => {
      const variable: SpecVariable = { type: type.literalType(), required: !(keep && type.hasDefault) };
      if (type.description) variable.description = type.description;
      if (keep && type.hasDefault) variable.default = type.toLiteral(type.defaultValue, name);
      return [name, variable];
    }),
  );
}

function task(inputs: Record<string, AnyType>): SpecEntity {
  return { kind: "task", name: "my.module.t1", version: "v1", inputs: variables(inputs) };
}

/** A fake store: records each upload and returns where it would have put the file. */
function recordingUpload() {
  const calls: [string, string][] = [];
  const upload = async (localPath: string, input: string) => {
    calls.push([localPath, input]);
    return `s3://bucket/${input}/${path.basename(localPath)}`;
  };
  return { calls, upload };
}

const noUpload = async (): Promise<string> => assert.fail("nothing should be uploaded");

async function specOf(text: string) {
  return parseExecutionSpec(text, "spec.yaml");
}

/** The message lines of the ExecutionSpecError that converting `text`'s inputs must throw. */
async function problemLines(
  text: string,
  inputs: Record<string, SpecVariable>,
  options?: Parameters<typeof specInputsToLiterals>[2],
): Promise<string[]> {
  const spec = await specOf(text);
  try {
    await specInputsToLiterals(spec, inputs, options);
  } catch (e) {
    assert.ok(e instanceof ExecutionSpecError, `an ExecutionSpecError, got ${String(e)}`);
    return e.message.split("\n");
  }
  assert.fail("the inputs converted");
}

function assertLiteral(map: LiteralMap, name: string, want: Literal): void {
  assert.ok(map.literals[name], `${name} is in the map`);
  assert.ok(equals(LiteralSchema, map.literals[name], want), `${name}: literal as the declared type makes it`);
}

describe("a generated spec, read back unchanged, gives valid literals for every type", () => {
  const types = {
    count: t.int(),
    ratio: t.float(),
    name: t.string(),
    dry: t.boolean(),
    since: t.datetime(),
    timeout: t.duration(),
    ids: t.list(t.int()),
    nested: t.list(t.map(t.float())),
    limits: t.map(t.int()),
    point: t.struct(z.object({ x: z.number().optional() })),
    color: t.enum(["red", "green"]),
    maybe: t.optional(t.int()),
    either: t.union(t.int(), t.string()),
    data: t.file(),
    csv: t.file({ format: "csv" }),
    folder: t.directory(),
    table: t.dataframe({ columns: { a: t.int() } }),
    files: t.list(t.file()),
    maybeFile: t.optional(t.file()),
  };
  const expected: { [K in keyof typeof types]: unknown } = {
    count: 0,
    ratio: 0,
    name: "",
    dry: false,
    since: now(),
    timeout: 1000,
    ids: [0],
    nested: [{ itemKey: 0 }],
    limits: { itemKey: 0 },
    point: { x: 0 },
    color: "red",
    maybe: null,
    either: 0,
    data: "s3://bucket/data/somepath",
    csv: "s3://bucket/csv/somepath",
    folder: "s3://bucket/folder/somedir",
    table: "s3://bucket/table/somepath.parquet",
    files: ["s3://bucket/files/somepath"],
    maybeFile: null,
  };

  test("placeholders of a task", async () => {
    const entity = task(types);
    const spec = await specOf(generateExecutionSpec(entity, { now }));
    const { calls, upload } = recordingUpload();
    const map = await specInputsToLiterals(spec, entity.inputs, { upload });
    assert.deepEqual(Object.keys(map.literals), Object.keys(types), "every input, in declaration order");
    for (const [name, type] of Object.entries(types)) {
      assertLiteral(map, name, type.toLiteral(expected[name as keyof typeof types], name));
      type.fromLiteral(map.literals[name], name);
    }
    assert.deepEqual(calls, [
      ["/tmp/somepath", "data"],
      ["/tmp/somepath", "csv"],
      ["/tmp/somedir", "folder"],
      ["/tmp/somepath.parquet", "table"],
      ["/tmp/somepath", "files"],
    ]);
  });

  const withDefaults = {
    region: t.string(),
    count: t.int().default(3),
    ratio: t.float().default(2),
    since: t.datetime().default(new Date("2025-12-24T18:30:00.500Z")),
    timeout: t.duration().default(5_400_000),
    ids: t.list(t.int()).default([1, 2]),
    opts: t.map(t.float()).default({ a: 1, b: 0.5 }),
    point: t.struct(z.object({ x: z.number(), tag: z.string() })).default({ x: 1.5, tag: "yes" }),
    maybe: t.optional(t.string()).default(null),
    either: t.union(t.int(), t.string()).default("x"),
    data: t.file().default(FlyteFile.from("s3://bucket/data.csv")),
    level: t.enum(["low", "high"]).default("high"),
  };
  const launchPlan: SpecEntity = { kind: "launchPlan", name: "my.lp", version: "v1", inputs: variables(withDefaults) };

  test("a launch plan's defaults, left as written, are left to the server", async () => {
    const spec = await specOf(generateExecutionSpec(launchPlan, { now }));
    assert.equal(spec.kind, "launchPlan");
    const map = await specInputsToLiterals(spec, launchPlan.inputs, { upload: noUpload });
    assert.deepEqual(Object.keys(map.literals), ["region"]);
  });

  test("each default as written converts back to the same literal", async () => {
    const spec = await specOf(generateExecutionSpec(launchPlan, { now }));
    const map = await specInputsToLiterals(spec, variables(withDefaults, { keepDefaults: false }), { upload: noUpload });
    for (const [name, type] of Object.entries(withDefaults)) {
      if (name === "region") continue;
      assertLiteral(map, name, launchPlan.inputs[name].default!);
      assert.ok(type.hasDefault);
    }
  });

  test("an edited default is converted and sent", async () => {
    const text = generateExecutionSpec(launchPlan, { now }).replace("count: 3", "count: 4");
    const map = await specInputsToLiterals(await specOf(text), launchPlan.inputs, { upload: noUpload });
    assert.deepEqual(Object.keys(map.literals), ["region", "count"]);
    assertLiteral(map, "count", t.int().toLiteral(4, "count"));
  });
});

describe("inputs left out", () => {
  test("an optional input given nowhere is sent as null; one with a default is left out", async () => {
    const inputs = variables({ maybe: t.optional(t.int()), n: t.int().default(1) });
    const map = await specInputsToLiterals(await specOf("task: t\ninputs: {}\n"), inputs);
    assert.deepEqual(Object.keys(map.literals), ["maybe"]);
    assertLiteral(map, "maybe", t.optional(t.int()).toLiteral(null, "maybe"));
  });

  test("a missing required input names itself and its type, at the inputs key", async () => {
    const inputs = variables({ x: t.int(), words: t.list(t.string()), given: t.string() });
    assert.deepEqual(await problemLines("task: t\ninputs:\n  given: a\n", inputs), [
      "spec.yaml:2:1: inputs.x: missing required input x (int); add it under inputs:",
      "spec.yaml:2:1: inputs.words: missing required input words (list<string>); add it under inputs:",
    ]);
    assert.deepEqual(await problemLines("task: t\n", variables({ x: t.int() })), [
      "spec.yaml:1:1: inputs.x: missing required input x (int); add it under inputs:",
    ]);
  });

  test("an input the server marks as not required is left out", async () => {
    const inputs: Record<string, SpecVariable> = { x: { type: t.int().literalType(), required: false } };
    const map = await specInputsToLiterals(await specOf("task: t\n"), inputs);
    assert.deepEqual(map.literals, {});
  });
});

describe("problems with given inputs", () => {
  test("an unknown input suggests the nearest name, or lists the inputs", async () => {
    const inputs = variables({ count: t.int(), label: t.string() });
    assert.deepEqual(await problemLines("task: t\ninputs:\n  count: 1\n  label: a\n  cuont: 2\n  zzz: 3\n", inputs), [
      'spec.yaml:5:3: inputs.cuont: unknown input "cuont"; did you mean "count"?',
      'spec.yaml:6:3: inputs.zzz: unknown input "zzz"; the inputs are: count, label',
    ]);
    assert.deepEqual(await problemLines("task: t0\ninputs:\n  x: 1\n", {}), [
      'spec.yaml:3:3: inputs.x: unknown input "x"; t0 takes no inputs',
    ]);
  });

  test("a type mismatch names the input, its type and what was found, where it was written", async () => {
    const inputs = variables({ x: t.int(), flag: t.boolean(), when: t.datetime(), every: t.duration() });
    const lines = await problemLines("task: t\ninputs:\n  x: abc\n  flag: 1\n  when: soon\n  every: 90\n", inputs);
    assert.equal(lines.length, 4);
    assert.match(lines[0], /^spec\.yaml:3:3: inputs\.x: expected int, found string "abc"; /);
    assert.match(lines[1], /^spec\.yaml:4:3: inputs\.flag: expected boolean, found number 1; /);
    assert.match(lines[2], /^spec\.yaml:5:3: inputs\.when: expected datetime, found string "soon"; not a date-time/);
    assert.match(lines[3], /^spec\.yaml:6:3: inputs\.every: expected duration, found number 90; a bare number has no unit/);
  });

  test("a mismatch deep inside a value points at the item", async () => {
    const inputs = variables({ xs: t.list(t.int()), m: t.map(t.list(t.float())), p: t.struct(z.object({})) });
    const lines = await problemLines("task: t\ninputs:\n  xs:\n    - 1\n    - b\n  m:\n    k: [1, x]\n  p: [1]\n", inputs);
    assert.match(lines[0], /^spec\.yaml:5:7: inputs\.xs\[1\]: expected int, found string "b"; /);
    assert.match(lines[1], /^spec\.yaml:7:12: inputs\.m\.k\[1\]: expected float, found string "x"; /);
    assert.match(lines[2], /^spec\.yaml:8:3: inputs\.p: expected struct\{\}, found array \[1\]; /);
  });

  test("a value for a type tsflyte cannot convert is a problem; its default written back is not", async () => {
    const binary = create(LiteralTypeSchema, { type: { case: "simple", value: SimpleType.BINARY } });
    const blob = create(LiteralSchema, {
      value: { case: "scalar", value: { value: { case: "binary", value: { value: new Uint8Array([1, 2]), tag: "msgpack" } } } },
    });
    const inputs: Record<string, SpecVariable> = { raw: { type: binary, required: false, default: blob } };
    const map = await specInputsToLiterals(await specOf("workflow: lp\ninputs:\n  raw: AQI=\n"), inputs);
    assert.deepEqual(map.literals, {});
    const lines = await problemLines("workflow: lp\ninputs:\n  raw: other\n", inputs);
    assert.match(lines[0], /^spec\.yaml:3:3: inputs\.raw: tsflyte cannot convert values of the Flyte type BINARY/);
  });
});

describe("files, directories and dataframes", () => {
  const inputs = variables({ data: t.file(), dir: t.directory(), table: t.dataframe() });

  test("a local path without an upload function must be a URI", async () => {
    assert.deepEqual(await problemLines("task: t\ninputs:\n  data: data/x.csv\n  dir: s3://b/d\n  table: s3://b/t.parquet\n", inputs), [
      "spec.yaml:3:3: inputs.data: data/x.csv is a local path, but a URI is needed here, such as s3://bucket/key",
    ]);
  });

  test("a local path is uploaded, resolved from cwd, and its URI used", async () => {
    const { calls, upload } = recordingUpload();
    const spec = await specOf("task: t\ninputs:\n  data: data/x.csv\n  dir: /abs/folder\n  table: t.parquet\n");
    const map = await specInputsToLiterals(spec, inputs, { upload, cwd: "/work/project" });
    assert.deepEqual(calls, [
      ["/work/project/data/x.csv", "data"],
      ["/abs/folder", "dir"],
      ["/work/project/t.parquet", "table"],
    ]);
    assertLiteral(map, "data", t.file().toLiteral("s3://bucket/data/x.csv", "data"));
    assertLiteral(map, "dir", t.directory().toLiteral("s3://bucket/dir/folder", "dir"));
    assertLiteral(map, "table", t.dataframe().toLiteral("s3://bucket/table/t.parquet", "table"));
  });

  test("URIs are used as they are, even file:// ones that do not exist here", async () => {
    const spec = await specOf(
      "task: t\ninputs:\n  data: https://example.com/x.csv\n  dir: file:///opt/not/here\n  table: s3://b/t.parquet\n",
    );
    const map = await specInputsToLiterals(spec, inputs, { upload: noUpload });
    assertLiteral(map, "data", t.file().toLiteral("https://example.com/x.csv", "data"));
    assertLiteral(map, "dir", t.directory().toLiteral("file:///opt/not/here", "dir"));
    assertLiteral(map, "table", t.dataframe().toLiteral("s3://b/t.parquet", "table"));
  });

  test("in a union, a string goes to the first variant that takes it: `str | file` keeps a path a string", async () => {
    const union = variables({ u: t.union(t.string(), t.file()), v: t.union(t.int(), t.file()) });
    const { calls, upload } = recordingUpload();
    const map = await specInputsToLiterals(await specOf("task: t\ninputs:\n  u: /tmp/a\n  v: /tmp/b\n"), union, { upload });
    assert.deepEqual(calls, [["/tmp/b", "v"]]);
    assertLiteral(map, "u", t.union(t.string(), t.file()).toLiteral("/tmp/a", "u"));
    assertLiteral(map, "v", t.union(t.int(), t.file()).toLiteral("s3://bucket/v/b", "v"));
  });

  test("a failed upload is a problem at the value", async () => {
    const upload = async (p: string) => {
      throw new Error(`ENOENT: no such file ${p}`);
    };
    const lines = await problemLines("task: t\ninputs:\n  data: x.csv\n  dir: s3://b/d\n  table: s3://b/t.parquet\n", inputs, { upload, cwd: "/w" });
    assert.deepEqual(lines, ["spec.yaml:3:3: inputs.data: could not upload x.csv: ENOENT: no such file /w/x.csv"]);
  });

  test("nothing is uploaded while any input is wrong, and every problem is reported at once", async () => {
    const more = { ...inputs, n: variables({ n: t.int() }).n, files: variables({ files: t.list(t.file()) }).files };
    const lines = await problemLines(
      "task: t\ninputs:\n  data: x.csv\n  dir: d\n  table: s3://b/t.parquet\n  n: nope\n  files: [a, 3]\n  extra: 1\n",
      more,
      { upload: noUpload },
    );
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^spec\.yaml:6:3: inputs\.n: expected int, found string "nope"/);
    assert.match(lines[1], /^spec\.yaml:7:14: inputs\.files\[1\]: expected file, found number 3/);
    assert.match(lines[2], /^spec\.yaml:8:3: inputs\.extra: unknown input "extra"/);
  });
});

describe("pyflyte's legacy schema and error inputs", () => {
  const schemaType = create(LiteralTypeSchema, { type: { case: "schema", value: { columns: [{ name: "x", type: SchemaType_SchemaColumn_SchemaColumnType.INTEGER }] } } });
  const errorOrNone = create(LiteralTypeSchema, {
    type: {
      case: "unionType",
      value: {
        variants: [
          { type: { case: "simple", value: SimpleType.ERROR }, structure: { tag: "FlyteError" } },
          { type: { case: "simple", value: SimpleType.NONE }, structure: { tag: "none" } },
        ],
      },
    },
  });
  const inputs: Record<string, SpecVariable> = { df: { type: schemaType, required: true }, err: { type: errorOrNone, required: true } };
  const scalarOf = (literal: Literal | undefined) => (literal?.value.case === "scalar" ? literal.value.value.value : undefined);

  test("the generated placeholders read back: a schema folder is uploaded, an optional error is none", async () => {
    const text = generateExecutionSpec({ kind: "task", name: "t2", version: "v1", inputs }, { now });
    const { calls, upload } = recordingUpload();
    const map = await specInputsToLiterals(await specOf(text), inputs, { upload });
    assert.deepEqual(calls, [["/tmp/somedir", "df"]]);
    const df = scalarOf(map.literals.df);
    assert.equal(df?.case, "schema");
    assert.equal(df?.value.uri, "s3://bucket/df/somedir");
    assert.deepEqual(df?.value.type?.columns.map((c) => c.name), ["x"]);
    const err = scalarOf(map.literals.err);
    assert.equal(err?.case === "union" ? err.value.type?.structure?.tag : undefined, "none");
  });

  test("a schema given as a URI is used as it is; an error is a message and the failed node, tagged as pyflyte tags it", async () => {
    const spec = await specOf("task: t2\ninputs:\n  df: s3://bucket/schema\n  err: {message: boom, failedNodeId: n1}\n");
    const map = await specInputsToLiterals(spec, inputs, { upload: noUpload });
    const df = scalarOf(map.literals.df);
    assert.equal(df?.case === "schema" ? df.value.uri : undefined, "s3://bucket/schema");
    const err = scalarOf(map.literals.err);
    assert.equal(err?.case, "union");
    const inner = err?.case === "union" ? scalarOf(err.value.value) : undefined;
    assert.equal(err?.case === "union" ? err.value.type?.structure?.tag : undefined, "FlyteError");
    assert.deepEqual(inner?.case === "error" ? { message: inner.value.message, failedNodeId: inner.value.failedNodeId } : undefined, { message: "boom", failedNodeId: "n1" });
  });

  test("a wrong error value names the field", async () => {
    const lines = await problemLines("task: t2\ninputs:\n  df: s3://b/s\n  err: {msg: boom}\n", inputs);
    assert.match(lines[0], /^spec\.yaml:4:3: inputs\.err: .*"msg" is not a field of an error/);
  });
});

describe("structs against their registered JSON Schema", () => {
  test("a field missing or of the wrong type deep in a list of structs is reported where it is written", async () => {
    const inputs = variables({ emp: t.list(t.struct(z.object({ name: z.string(), pay: z.number() }))) });
    const lines = await problemLines("inputs:\n  emp:\n    - name: ada\n      pay: 120\n    - name: 3\n    - pay: 5\ntask: t\n", inputs);
    assert.deepEqual(lines, [
      `spec.yaml:5:7: inputs.emp[1]: missing "pay", which the struct's schema requires`,
      "spec.yaml:5:7: inputs.emp[1].name: must be string (from the struct's schema)",
      `spec.yaml:6:7: inputs.emp[2]: missing "name", which the struct's schema requires`,
    ]);
  });
});

describe("odd values in a spec's inputs", () => {
  test("a __proto__ input is unknown like any other, at its file:line:col, and touches no prototype", async () => {
    const lines = await problemLines("task: my.module.t1\ninputs:\n  n: 1\n  __proto__:\n    polluted: true\n", variables({ n: t.int() }));
    assert.deepEqual(lines, ['spec.yaml:4:3: inputs.__proto__: unknown input "__proto__"; the inputs are: n']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test("1e400, .inf and .nan for an int say how they were written", async () => {
    const text = "task: my.module.t1\ninputs:\n  a: 1e400\n  b: .inf\n  c: .nan\n  d: [1, -1e400]\n";
    assert.deepEqual(await problemLines(text, variables({ a: t.int(), b: t.int(), c: t.int(), d: t.list(t.int()) })), [
      "spec.yaml:3:3: inputs.a: expected int, found 1e400; not an integer (1e400 overflows: the largest number is about 1.8e308); write a whole number within ±9007199254740991",
      "spec.yaml:4:3: inputs.b: expected int, found .inf; not an integer (.inf is infinite); write a whole number within ±9007199254740991",
      "spec.yaml:5:3: inputs.c: expected int, found .nan; not an integer (.nan is not a number); write a whole number within ±9007199254740991",
      "spec.yaml:6:10: inputs.d[1]: expected int, found -1e400; not an integer (-1e400 overflows: the largest number is about 1.8e308); write a whole number within ±9007199254740991",
    ]);
  });
});
