// Covers turning what a user types — flags after `run FILE ENTITY` and an inputs file — into typed input values,
// and the one error that lists every problem. Must never share temp folders or depend on the clock or the cwd.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, describe, test } from "node:test";
import { z } from "zod";
import { UserError } from "../../../src/lib/errors.js";
import { t, type AnyType } from "../../../src/lib/types/types.js";
import { FlyteDirectory, FlyteFile, StructuredDataset } from "../../../src/lib/types/values.js";
import {
  InputsError,
  InputValueError,
  convertFileValue,
  convertInputValue,
  describeInputs,
  formatDuration,
  inputFlagNames,
  inputsJsonSchema,
  kebabCase,
  parseInputArgs,
  readInputsFile,
  resolveInputs,
  type ConvertOptions,
} from "../../../src/lib/inputs/index.js";

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder holding the given files (a name ending in `/` is a folder). */
function workspace(files: Record<string, string> = {}): string {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "tsflyte-inputs-")));
  tempDirs.push(root);
  for (const [name, text] of Object.entries(files)) {
    const full = path.join(root, name);
    if (name.endsWith("/")) {
      fs.mkdirSync(full, { recursive: true });
      continue;
    }
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, text);
  }
  return root;
}

const uri = (dir: string, name: string) => pathToFileURL(path.join(dir, name)).href;
const clock = () => new Date("2026-03-15T22:30:00.000Z");

/** The message of what `fn` throws, asserting it is an error of `kind`. */
function thrown(fn: () => unknown, kind: abstract new (...args: any[]) => Error = UserError): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof kind, `expected ${kind.name}, got ${String(e)}`);
    return (e as Error).message;
  }
  assert.fail("expected an error");
}

const Employee = z.object({ name: z.string(), pay: z.number() });

/** One input of every type. */
const every = {
  count: t.int(),
  ratio: t.float(),
  label: t.string(),
  verbose: t.boolean(),
  since: t.datetime(),
  timeout: t.duration(),
  sizes: t.list(t.int()),
  limits: t.map(t.duration()),
  emp: t.list(t.struct(Employee)),
  mode: t.enum(["fast", "slow"]),
  maxRows: t.optional(t.int()),
  key: t.union(t.int(), t.string()),
  report: t.file(),
  outDir: t.directory(),
  table: t.dataframe(),
};

function everyExpected(dir: string): Record<string, unknown> {
  return {
    count: -4,
    ratio: 2,
    label: "hello world",
    verbose: true,
    since: new Date("2026-01-31T12:00:00.000Z"),
    timeout: 5_400_000,
    sizes: [1, 2, 3],
    limits: { fetch: 90_000, parse: 3_600_000 },
    emp: [{ name: "a", pay: 10 }],
    mode: "slow",
    maxRows: 100,
    key: "k-1",
    report: new FlyteFile(uri(dir, "report.txt")),
    outDir: new FlyteDirectory(uri(dir, "out")),
    table: new StructuredDataset(uri(dir, "spend.parquet"), "parquet"),
  };
}

const dataFiles = { "report.txt": "r", "out/": "", "spend.parquet": "PAR1", "spend.csv": "a,b\n", "rows.arrow": "ARROW1" };

describe("flag names", () => {
  test("an input answers to its name, a camelCase one also to kebab-case; booleans are switches", () => {
    assert.equal(kebabCase("maxRows"), "max-rows");
    assert.equal(kebabCase("parseHTTPResponse"), "parse-http-response");
    assert.equal(kebabCase("rowsV2"), "rows-v2");
    assert.deepEqual(inputFlagNames({ maxRows: t.int(), name: t.string(), dryRun: t.boolean(), maybe: t.optional(t.boolean()) }), {
      maxRows: { names: ["maxRows", "max-rows"], boolean: false },
      name: { names: ["name"], boolean: false },
      dryRun: { names: ["dryRun", "dry-run"], boolean: true },
      maybe: { names: ["maybe"], boolean: true },
    });
  });

  test("every clash is named in one error: same kebab name, a --no- switch, a reserved flag", () => {
    const message = thrown(() =>
      inputFlagNames(
        { maxRows: t.int(), "max-rows": t.int(), cache: t.boolean(), noCache: t.string(), project: t.string(), "a=b": t.int() },
        ["--project", "domain", "-p"],
      ),
    );
    assert.equal(
      message,
      [
        "the inputs cannot all be flags:",
        '  input "a=b" cannot be a flag: rename it without spaces, "=" or a leading "-"',
        '  inputs "maxRows" and "max-rows" both answer to --max-rows; rename one of them',
        '  inputs "cache" and "noCache" both answer to --no-cache; rename one of them',
        "  input \"project\" would answer to --project, which is run's own flag; rename the input",
      ].join("\n"),
    );
    // A short flag such as -p never clashes with an input p.
    assert.deepEqual(inputFlagNames({ p: t.int() }, ["-p"]), { p: { names: ["p"], boolean: false } });
  });
});

describe("parseInputArgs", () => {
  const inputs = { count: t.int(), delta: t.int(), maxRows: t.int(), dryRun: t.boolean(), cache: t.boolean(), quiet: t.boolean(), label: t.string() };

  test("--name value, --name=value, kebab aliases, --x, --no-x, --x=false; the rest is left in order", () => {
    const parsed = parseInputArgs(
      ["--count", "3", "--delta", "-4", "--max-rows=10", "--dry-run", "--no-cache", "--quiet=false", "--label=", "--project", "p", "pos", "--", "--count", "9"],
      inputs,
      ["project", "domain"],
    );
    assert.deepEqual(parsed, {
      raw: { count: "3", delta: "-4", maxRows: "10", dryRun: true, cache: false, quiet: "false", label: "" },
      flags: { count: "--count", delta: "--delta", maxRows: "--max-rows", dryRun: "--dry-run", cache: "--no-cache", quiet: "--quiet", label: "--label" },
      rest: ["--project", "p", "pos", "--", "--count", "9"],
      problems: [],
    });
    assert.deepEqual(resolveInputs({ inputs, ...parsed }), {
      count: 3, delta: -4, maxRows: 10, dryRun: true, cache: false, quiet: false, label: "",
    });
  });

  test("unknown flags get a suggestion, a missing value and a repeated input are problems too", () => {
    const parsed = parseInputArgs(
      ["--cuont", "3", "--projct", "x", "--label", "--count", "1", "--maxRows", "1", "--max-rows", "2", "--no-cache=yes", "--zzz"],
      inputs,
      ["project"],
    );
    assert.deepEqual(parsed.raw, { count: "1", maxRows: "1" });
    assert.deepEqual(parsed.rest, []);
    const all = "inputs are: --count, --delta, --maxRows, --dryRun, --cache, --quiet, --label";
    assert.deepEqual(parsed.problems, [
      { input: "cuont", where: "--cuont", message: `unknown input; ${all}; did you mean --count?` },
      { input: "projct", where: "--projct", message: `unknown input; ${all}; did you mean --project?` },
      { input: "label", where: "--label", message: "--label needs a value; write --label VALUE, or --label=VALUE when the value starts with --" },
      { input: "maxRows", where: "--max-rows", message: "given twice (--maxRows and --max-rows); give it once" },
      { input: "cache", where: "--no-cache", message: "--no-cache takes no value; write --cache=yes instead" },
      { input: "zzz", where: "--zzz", message: `unknown input; ${all}` },
    ]);
  });
});

describe("convertInputValue", () => {
  const convert = (type: AnyType, text: string, options: ConvertOptions = {}) => convertInputValue(type, text, "x", options);
  const reason = (type: AnyType, text: string, options: ConvertOptions = {}) => {
    try {
      convert(type, text, options);
    } catch (e) {
      assert.ok(e instanceof InputValueError, String(e));
      return e.reason;
    }
    assert.fail(`${text} was accepted`);
  };

  test("int takes whole numbers only, within the safe range", () => {
    assert.equal(convert(t.int(), "3"), 3);
    assert.equal(convert(t.int(), "-4"), -4);
    assert.equal(convert(t.int(), "+7"), 7);
    assert.equal(reason(t.int(), "3.5"), "not a whole number; write digits such as 3 or -4");
    assert.equal(reason(t.int(), "abc"), "not a whole number; write digits such as 3 or -4");
    assert.equal(reason(t.int(), ""), "not a whole number; write digits such as 3 or -4");
    assert.equal(reason(t.int(), "9007199254740993"), "outside the safe integer range ±9007199254740991");
    const error = thrown(() => convert(t.int(), "3.5"), InputValueError);
    assert.equal(error, "x: expected int, got '3.5'; not a whole number; write digits such as 3 or -4");
  });

  test("float, string and boolean", () => {
    assert.equal(convert(t.float(), "2.5"), 2.5);
    assert.equal(convert(t.float(), "-1"), -1);
    assert.equal(convert(t.float(), "1e-3"), 0.001);
    assert.equal(reason(t.float(), "two"), "not a number; write one such as 2.5, -1, 1e-3");
    assert.equal(reason(t.float(), "Infinity"), "not a number; write one such as 2.5, -1, 1e-3");
    assert.equal(convert(t.string(), " as is "), " as is ");
    for (const word of ["true", "1", "yes", "YES"]) assert.equal(convert(t.boolean(), word), true);
    for (const word of ["false", "0", "no"]) assert.equal(convert(t.boolean(), word), false);
    assert.equal(reason(t.boolean(), "maybe"), "not a boolean; write true/false, yes/no or 1/0");
  });

  test("datetime: ISO 8601 (UTC unless an offset is given), now, today = midnight UTC", () => {
    const at = (text: string) => (convert(t.datetime(), text, { now: clock }) as Date).toISOString();
    assert.equal(at("2026-01-31T12:00:00Z"), "2026-01-31T12:00:00.000Z");
    assert.equal(at("2026-01-31T12:00:00"), "2026-01-31T12:00:00.000Z");
    assert.equal(at("2026-01-31 12:00"), "2026-01-31T12:00:00.000Z");
    assert.equal(at("2026-01-31T12:00:00.123456+05:30"), "2026-01-31T06:30:00.123Z");
    assert.equal(at("2026-01-31"), "2026-01-31T00:00:00.000Z");
    assert.equal(at("now"), "2026-03-15T22:30:00.000Z");
    assert.equal(at("today"), "2026-03-15T00:00:00.000Z");
    const wanted = "not a date-time; write ISO 8601 such as 2026-01-31T12:00:00Z or 2026-01-31, or now or today";
    assert.equal(reason(t.datetime(), "2026-02-30"), wanted);
    assert.equal(reason(t.datetime(), "2026-01-31T24:00:00Z"), wanted);
    assert.equal(reason(t.datetime(), "yesterday"), wanted);
  });

  test("duration: 90s, 1h30m, ISO PT1H, in milliseconds", () => {
    assert.equal(convert(t.duration(), "90s"), 90_000);
    assert.equal(convert(t.duration(), "1h30m"), 5_400_000);
    assert.equal(convert(t.duration(), "PT1H"), 3_600_000);
    assert.equal(reason(t.duration(), "1500"), "not a duration; write 90s, 10m, 1h30m, 250ms or ISO 8601 PT1H30M");
  });

  test("lists, maps and structs are JSON; nested datetimes, durations and files are converted", () => {
    const dir = workspace(dataFiles);
    assert.deepEqual(convert(t.list(t.int()), "[1, 2]"), [1, 2]);
    assert.deepEqual(convert(t.list(t.datetime()), '["2026-01-31", "now"]', { now: clock }), [
      new Date("2026-01-31T00:00:00Z"),
      clock(),
    ]);
    assert.deepEqual(convert(t.map(t.duration()), '{"a": "90s", "b": "PT1H"}'), { a: 90_000, b: 3_600_000 });
    assert.deepEqual(convert(t.list(t.file()), '["report.txt", "s3://b/k"]', { cwd: dir }), [
      new FlyteFile(uri(dir, "report.txt")),
      new FlyteFile("s3://b/k"),
    ]);
    assert.deepEqual(convert(t.struct(Employee), '{"name": "a", "pay": 10}'), { name: "a", pay: 10 });
    assert.equal(
      reason(t.list(t.int()), '[{"a":1,}]'),
      `not valid JSON: expected a "quoted" property name, found "}" at column 9; quote the whole value for the shell, e.g. '[1, 2]'`,
    );
    assert.equal(
      reason(t.map(t.int()), '{"a": 1'),
      `not valid JSON: expected "," or "}", found the end of the text at column 8; quote the whole value for the shell, e.g. '{"key": "value"}'`,
    );
    assert.equal(
      reason(t.list(t.int()), "[1,\n 2,"),
      `not valid JSON: expected a value (a "string", a number, true, false, null, [ or {), found the end of the text at line 2, column 4; quote the whole value for the shell, e.g. '[1, 2]'`,
    );
    assert.equal(
      reason(t.list(t.struct(Employee)), "[{name:a}]"),
      `not valid JSON: expected a "quoted" property name, found "n" at column 3; quote the whole value for the shell, e.g. '[1, 2]'`,
    );
    assert.equal(reason(t.list(t.int()), '{"a": 1}'), "a mapping, where a list is needed");
    // Nested past what tsflyte reads (a struct of 20,000 levels overflowed the stack: "This is a bug"); brackets in
    // strings do not count.
    const deep = `{"a": ${'{"a": '.repeat(20_000)}1${"}".repeat(20_001)}`;
    assert.equal(reason(t.struct(Employee), deep), "lists and objects nest more than 100 levels deep at column 601; tsflyte reads at most 100 levels");
    assert.deepEqual(convert(t.list(t.string()), `["${"[".repeat(500)}"]`), ["[".repeat(500)]);
    const nested = thrown(() => convert(t.list(t.int()), "[1, 2.5]"), InputValueError);
    assert.equal(nested, "x[1]: expected int, got 2.5; not a whole number; this input takes an int such as 3 or -4");
  });

  test("enum, optional and union", () => {
    assert.equal(convert(t.enum(["fast", "slow"]), "slow"), "slow");
    assert.equal(reason(t.enum(["fast", "slow"]), "medium"), "not one of the values; write one of fast, slow");
    assert.equal(convert(t.optional(t.int()), "null"), null);
    assert.equal(convert(t.optional(t.int()), "None"), null);
    assert.equal(convert(t.optional(t.int()), "5"), 5);
    assert.equal(reason(t.optional(t.int()), "five"), "not a whole number; write digits such as 3 or -4");
    assert.equal(convert(t.union(t.int(), t.string()), "5"), 5);
    assert.equal(convert(t.union(t.int(), t.string()), "five"), "five");
    assert.deepEqual(convert(t.union(t.int(), t.list(t.int())), "[5]"), [5]);
    assert.equal(
      reason(t.union(t.int(), t.list(t.int())), "five"),
      "no variant takes it (as int: not a whole number; write digits such as 3 or -4; " +
        `as list<int>: not valid JSON: expected a value (a "string", a number, true, false, null, [ or {), found "f" at column 1; ` +
        "quote the whole value for the shell, e.g. '[1, 2]')",
    );
  });

  test("file, directory and dataframe: local paths must exist, URIs of any scheme are taken as they are", () => {
    const dir = workspace(dataFiles);
    const cwd = { cwd: dir };
    assert.deepEqual(convert(t.file(), "report.txt", cwd), new FlyteFile(uri(dir, "report.txt")));
    assert.deepEqual(convert(t.file(), uri(dir, "report.txt"), cwd), new FlyteFile(uri(dir, "report.txt")));
    assert.deepEqual(convert(t.file(), "gs://bucket/a.txt", cwd), new FlyteFile("gs://bucket/a.txt"));
    assert.equal(
      reason(t.file(), "missing.txt", cwd),
      `${path.join(dir, "missing.txt")} does not exist (resolved from ${dir}); check the path, or give a URI such as s3://bucket/key`,
    );
    assert.equal(reason(t.file(), "out", cwd), `${path.join(dir, "out")} is a folder; this input takes one file`);
    assert.deepEqual(convert(t.directory(), "out", cwd), new FlyteDirectory(uri(dir, "out")));
    assert.equal(reason(t.directory(), "report.txt", cwd), `${path.join(dir, "report.txt")} is not a folder; this input takes a directory`);
    assert.deepEqual(convert(t.dataframe(), "spend.parquet", cwd), new StructuredDataset(uri(dir, "spend.parquet"), "parquet"));
    assert.deepEqual(convert(t.dataframe(), "rows.arrow", cwd), new StructuredDataset(uri(dir, "rows.arrow"), "arrow"));
    assert.deepEqual(convert(t.dataframe(), "spend.csv", cwd), new StructuredDataset(uri(dir, "spend.csv"), "csv"));
    assert.deepEqual(convert(t.dataframe(), "s3://b/t.parquet", cwd), new StructuredDataset("s3://b/t.parquet", "parquet"));
    assert.deepEqual(convert(t.dataframe(), "s3://b/table", cwd), new StructuredDataset("s3://b/table", undefined));
    assert.equal(
      reason(t.dataframe(), "gone.parquet", cwd),
      `${path.join(dir, "gone.parquet")} does not exist (resolved from ${dir}); check the path, or give a URI such as s3://bucket/key`,
    );
    assert.equal(
      reason(t.dataframe(), "report.txt", cwd),
      "not a table file; give a .parquet, .arrow or .csv path, or a URI such as s3://bucket/table.parquet",
    );
  });
});

describe("convertFileValue", () => {
  const reason = (type: AnyType, value: unknown) => {
    try {
      convertFileValue(type, value, "x");
    } catch (e) {
      assert.ok(e instanceof InputValueError, String(e));
      return e.reason;
    }
    assert.fail(`${String(value)} was accepted`);
  };

  test("natural values stay as they are; an int is a fine float, a float is not an int", () => {
    assert.equal(convertFileValue(t.float(), 3, "x"), 3);
    assert.equal(convertFileValue(t.int(), 3, "x"), 3);
    assert.equal(reason(t.int(), 3.5), "not a whole number; this input takes an int such as 3 or -4");
    assert.equal(reason(t.int(), "3"), "a string, where a number is needed; write it without quotes");
    assert.equal(reason(t.float(), "-2.5e3"), "a string, where a number is needed; write it without quotes");
    // `scalar: two` in YAML has no quotes to take away.
    assert.equal(reason(t.int(), "two"), "a string, where a number is needed; write a whole number such as 3 or -4");
    assert.equal(reason(t.float(), "2,5"), "a string, where a number is needed; write a number such as 2.5 or -1");
    assert.equal(reason(t.string(), 1.5), 'a number, where a string is needed; put it in quotes: "1.5"');
    assert.equal(reason(t.boolean(), "yes"), "a string, where a boolean is needed; write true or false");
    assert.equal(reason(t.boolean(), "true"), "a string, where a boolean is needed; write it without quotes");
    assert.equal(reason(t.duration(), 1500), 'a bare number has no unit; write "1500ms", "90s" or "1h30m"');
    assert.equal(convertFileValue(t.duration(), "90s", "x"), 90_000);
    assert.deepEqual(convertFileValue(t.datetime(), "today", "x", { now: clock }), new Date("2026-03-15T00:00:00Z"));
    assert.equal(convertFileValue(t.optional(t.int()), null, "x"), null);
  });
});

describe("readInputsFile", () => {
  test("YAML values, with the file:line:col of each value and key", () => {
    const dir = workspace({ "inputs.yaml": "# inputs\ncount: 3\nemp:\n  - name: a\n    pay: 10\nwhen: 2026-01-31\nflag: yes\n" });
    assert.deepEqual(readInputsFile("inputs.yaml", dir), {
      path: "inputs.yaml",
      values: { count: 3, emp: [{ name: "a", pay: 10 }], when: "2026-01-31", flag: "yes" },
      locations: { count: "inputs.yaml:2:8", emp: "inputs.yaml:4:3", when: "inputs.yaml:6:7", flag: "inputs.yaml:7:7" },
      keyLocations: { count: "inputs.yaml:2:1", emp: "inputs.yaml:3:1", when: "inputs.yaml:6:1", flag: "inputs.yaml:7:1" },
      paths: {
        count: "inputs.yaml:2:8",
        emp: "inputs.yaml:4:3",
        "emp[0]": "inputs.yaml:4:5",
        "emp[0].name": "inputs.yaml:4:11",
        "emp[0].pay": "inputs.yaml:5:10",
        when: "inputs.yaml:6:7",
        flag: "inputs.yaml:7:7",
      },
      sources: {},
    });
  });

  test("a problem deep inside an input points at its own line, not its input's", () => {
    const Order = z.object({ item: z.string(), qty: z.number() });
    const inputs = { order: t.struct(Order), orders: t.list(t.struct(Order)), sizes: t.list(t.int()), limits: t.map(t.duration()) };
    const dir = workspace({
      "nested.yaml": [
        "order:",
        "  item: tea",
        "  qty: many",
        "orders:",
        "  - item: tea",
        "    qty: 1",
        "  - item: cake",
        "sizes: [1, 2, \"3\"]",
        "limits:",
        "  fetch: 90s",
        "  parse: soon",
        "",
      ].join("\n"),
    });
    let error: unknown;
    try {
      resolveInputs({ inputs, file: readInputsFile("nested.yaml", dir), cwd: dir });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof InputsError);
    assert.deepEqual(
      error.problems.map((p) => p.where),
      // order.qty's value; the second order, which lacks qty; the third size; limits.parse's value.
      ["nested.yaml:3:8", "nested.yaml:7:5", "nested.yaml:8:15", "nested.yaml:11:10"],
    );
    assert.match(error.problems[0].message, /order\.qty: Invalid input: expected number, received string/);
    assert.match(error.problems[2].message, /^sizes\[2\]: expected int, got "3"; a string, where a number is needed; write it without quotes$/);
  });

  test("a syntax error, a duplicate key, a list at the top and a missing file say where", () => {
    const dir = workspace({
      "bad.yaml": "a: 1\nb: [1,\nc: 3\n",
      "twice.yaml": "a: 1\na: 2\n",
      "list.yaml": "- a\n- b\n",
      "bad.json": '{"a": 1,\n "b": }\n',
      "empty.yaml": "",
    });
    assert.equal(
      thrown(() => readInputsFile("bad.yaml", dir)),
      "bad.yaml:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]\n\nb: [1,\nc: 3\n^",
    );
    assert.equal(thrown(() => readInputsFile("twice.yaml", dir)), "twice.yaml:2:1: the key a is written twice; keep one");
    assert.equal(
      thrown(() => readInputsFile("bad.json", dir)),
      'bad.json:2:7: expected a value (a "string", a number, true, false, null, [ or {), found "}"',
    );
    assert.equal(
      thrown(() => readInputsFile("list.yaml", dir)),
      "list.yaml:1:1: the inputs file holds a list; its top level must be a mapping of input names to values",
    );
    assert.equal(thrown(() => readInputsFile("nope.yaml", dir)), `inputs file nope.yaml does not exist (resolved from ${dir})`);
    assert.deepEqual(readInputsFile("empty.yaml", dir).values, {});
  });
});

describe("resolveInputs", () => {
  const argv = [
    "--count", "-4", "--ratio", "2", "--label", "hello world", "--verbose", "--since", "2026-01-31T12:00:00Z",
    "--timeout", "1h30m", "--sizes", "[1,2,3]", "--limits", '{"fetch":"90s","parse":"PT1H"}',
    "--emp", '[{"name":"a","pay":10}]', "--mode", "slow", "--max-rows", "100", "--key", "k-1",
    "--report", "report.txt", "--out-dir", "out", "--table", "spend.parquet",
  ];

  test("every type from flags", () => {
    const dir = workspace(dataFiles);
    const parsed = parseInputArgs(argv, every, []);
    assert.deepEqual(resolveInputs({ inputs: every, ...parsed, cwd: dir }), everyExpected(dir));
  });

  test("every type from a YAML file and from a JSON file", () => {
    const yaml = [
      "count: -4",
      "ratio: 2",
      "label: hello world",
      "verbose: true",
      "since: 2026-01-31T12:00:00Z",
      "timeout: 1h30m",
      "sizes: [1, 2, 3]",
      "limits:",
      "  fetch: 90s",
      "  parse: PT1H",
      "emp:",
      "  - {name: a, pay: 10}",
      "mode: slow",
      "maxRows: 100",
      "key: k-1",
      "report: report.txt",
      "outDir: out",
      "table: spend.parquet",
    ].join("\n");
    const json = JSON.stringify({
      count: -4, ratio: 2.0, label: "hello world", verbose: true, since: "2026-01-31T12:00:00Z", timeout: "1h30m",
      sizes: [1, 2, 3], limits: { fetch: "90s", parse: "PT1H" }, emp: [{ name: "a", pay: 10 }], mode: "slow",
      maxRows: 100, key: "k-1", report: "report.txt", outDir: "out", table: "spend.parquet",
    }, null, 2);
    const dir = workspace({ ...dataFiles, "inputs.yaml": yaml, "inputs.json": json });
    for (const name of ["inputs.yaml", "inputs.json"]) {
      const file = readInputsFile(name, dir);
      assert.deepEqual(resolveInputs({ inputs: every, file, cwd: dir }), everyExpected(dir), name);
    }
  });

  test("a flag beats the file; inputs with defaults and optional ones may be left out", () => {
    const dir = workspace({ "inputs.yaml": "count: 1\nlabel: from file\n" });
    const inputs = {
      count: t.int(),
      label: t.string(),
      retries: t.int().default(3),
      maybe: t.optional(t.string()),
      dryRun: t.boolean().default(false),
    };
    const parsed = parseInputArgs(["--count", "2"], inputs, []);
    assert.deepEqual(resolveInputs({ inputs, ...parsed, file: readInputsFile("inputs.yaml", dir) }), { count: 2, label: "from file" });
  });

  test("structs are checked by their schema, and the JS value is returned, not a literal", () => {
    const inputs = { emp: t.list(t.struct(Employee)) };
    assert.deepEqual(resolveInputs({ inputs, raw: { emp: '[{"name":"a","pay":10}]' } }), { emp: [{ name: "a", pay: 10 }] });
    const message = thrown(() => resolveInputs({ inputs, raw: { emp: '[{"name":"a","pay":"ten"}]' } }), InputsError);
    assert.equal(
      message,
      "1 problem with the inputs:\n" +
        `  --emp: emp (list<struct{name, pay}>) given '[{"name":"a","pay":"ten"}]': emp[0]: expected struct{name, pay}, ` +
        `got object {"name":"a","pay":"ten"} (emp[0].pay: Invalid input: expected number, received string)`,
    );
  });

  test("every problem is reported together, one line each: name, type, what was given, where", () => {
    const dir = workspace({
      "inputs.yaml": ["count: 3.5", "when: yesterday", "max_rows: 1", "timeout: 1500", "report: gone.txt", "ok: fine"].join("\n"),
    });
    const inputs = {
      count: t.int(),
      when: t.datetime(),
      timeout: t.duration(),
      report: t.file(),
      table: t.dataframe(),
      emp: t.list(t.struct(Employee)),
      ok: t.string(),
      maxRows: t.optional(t.int()),
      mode: t.enum(["fast", "slow"]),
      key: t.union(t.int(), t.boolean()),
    };
    const parsed = parseInputArgs(
      ["--table", "missing.parquet", "--max-rows", "1.5", "--mode=medium", "--key", "x", "--projct", "p"],
      inputs,
      ["project"],
    );
    let error: unknown;
    try {
      resolveInputs({ inputs, ...parsed, file: readInputsFile("inputs.yaml", dir), cwd: dir, entity: "wf.main" });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof InputsError && error instanceof UserError);
    const names = "count, when, timeout, report, table, emp, ok, maxRows, mode, key";
    assert.deepEqual(error.message.split("\n"), [
      "11 problems with the inputs of wf.main:",
      `  --projct: unknown input; inputs are: --count, --when, --timeout, --report, --table, --emp, --ok, --maxRows, --mode, --key; did you mean --project?`,
      "  inputs.yaml:1:8: count (int) given 3.5: not a whole number; this input takes an int such as 3 or -4",
      '  inputs.yaml:2:7: when (datetime) given "yesterday": not a date-time; write ISO 8601 such as 2026-01-31T12:00:00Z or 2026-01-31, or now or today',
      '  inputs.yaml:4:10: timeout (duration) given 1500: a bare number has no unit; write "1500ms", "90s" or "1h30m"',
      `  inputs.yaml:5:9: report (file) given "gone.txt": ${path.join(dir, "gone.txt")} does not exist (resolved from ${dir}); check the path, or give a URI such as s3://bucket/key`,
      `  --table: table (dataframe) given 'missing.parquet': ${path.join(dir, "missing.parquet")} does not exist (resolved from ${dir}); check the path, or give a URI such as s3://bucket/key`,
      "  missing: emp (list<struct{name, pay}>): required; pass --emp VALUE or set emp in the inputs file",
      "  --max-rows: maxRows (int?) given '1.5': not a whole number; write digits such as 3 or -4",
      "  --mode: mode (enum(fast|slow)) given 'medium': not one of the values; write one of fast, slow",
      "  --key: key (int | boolean) given 'x': no variant takes it (as int: not a whole number; write digits such as 3 or -4; as boolean: not a boolean; write true/false, yes/no or 1/0)",
      `  inputs.yaml:3:1: unknown input "max_rows"; inputs are: ${names}; did you mean maxRows?`,
    ]);
    assert.equal(error.problems.length, 11);
    assert.deepEqual(error.problems[6], {
      input: "emp",
      type: "list<struct{name, pay}>",
      where: "missing",
      message: "required; pass --emp VALUE or set emp in the inputs file",
    });
    assert.equal(error.hint, "`tsflyte run FILE ENTITY --help` lists the inputs with their types");
  });
});

describe("describeInputs and inputsJsonSchema", () => {
  const inputs = {
    emp: t.list(t.struct(Employee)).describe("the employees"),
    maxRows: t.int().default(100),
    dryRun: t.boolean().default(false),
    since: t.datetime().default(new Date("2026-01-31T00:00:00Z")),
    timeout: t.duration().default(90_000),
    waits: t.list(t.duration()).default([1_500, 5_400_000]),
    note: t.optional(t.string()),
    mode: t.enum(["fast", "slow"]).default("fast"),
    report: t.file(),
  };

  test("help rows: flags with alias and --[no-], type, required, default, description", () => {
    assert.deepEqual(describeInputs(inputs), [
      { input: "emp", flag: "--emp", type: "list<struct{name, pay}>", required: true, description: "the employees" },
      { input: "maxRows", flag: "--maxRows, --max-rows", type: "int", required: false, default: "100" },
      { input: "dryRun", flag: "--[no-]dryRun, --[no-]dry-run", type: "boolean", required: false, default: "false" },
      { input: "since", flag: "--since", type: "datetime", required: false, default: "2026-01-31T00:00:00.000Z" },
      { input: "timeout", flag: "--timeout", type: "duration", required: false, default: "1m30s" },
      { input: "waits", flag: "--waits", type: "list<duration>", required: false, default: '["1s500ms","1h30m"]' },
      { input: "note", flag: "--note", type: "string?", required: false, default: "null" },
      { input: "mode", flag: "--mode", type: "enum(fast|slow)", required: false, default: '"fast"' },
      { input: "report", flag: "--report", type: "file", required: true },
    ]);
    assert.equal(formatDuration(5_400_000), "1h30m");
    assert.equal(formatDuration(250), "250ms");
    assert.equal(formatDuration(0), "0s");
  });

  test("a per-entity JSON Schema from the types", () => {
    const schema = inputsJsonSchema(inputs, { title: "Inputs of wf.main" });
    const props = schema.properties as Record<string, Record<string, unknown>>;
    assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
    assert.equal(schema.title, "Inputs of wf.main");
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(schema.required, ["emp", "report"]);
    assert.deepEqual(props.emp, {
      type: "array",
      description: "the employees",
      items: {
        type: "object",
        properties: { name: { type: "string" }, pay: { type: "number" } },
        required: ["name", "pay"],
      },
    });
    assert.deepEqual(props.maxRows, { type: "integer", default: 100 });
    assert.deepEqual(props.dryRun, { type: "boolean", default: false });
    assert.deepEqual(props.since, { type: "string", format: "date-time", default: "2026-01-31T00:00:00.000Z" });
    assert.equal((props.timeout as { default: string }).default, "1m30s");
    const pattern = new RegExp(props.timeout.pattern as string);
    for (const ok of ["90s", "1h30m", "PT1H", "P1DT2H"]) assert.ok(pattern.test(ok), ok);
    for (const bad of ["90", "P", "soon"]) assert.ok(!pattern.test(bad), bad);
    assert.deepEqual(props.note, { anyOf: [{ type: "string" }, { type: "null" }] });
    assert.deepEqual(props.mode, { type: "string", enum: ["fast", "slow"], default: "fast" });
    assert.deepEqual(props.report, { type: "string", description: "a local file path or a URI" });
    assert.deepEqual(inputsJsonSchema({ m: t.map(t.float()), u: t.union(t.int(), t.string()) }).properties, {
      m: { type: "object", additionalProperties: { type: "number" } },
      u: { anyOf: [{ type: "integer" }, { type: "string" }] },
    });
  });

  test("a struct schema that refers to its own root keeps working when nested", () => {
    const Tree: z.ZodType<{ name: string; children: unknown[] }> = z.object({
      name: z.string(),
      get children() {
        return z.array(Tree);
      },
    });
    const props = inputsJsonSchema({ trees: t.list(t.struct(Tree)) }).properties as Record<string, Record<string, unknown>>;
    assert.deepEqual(props.trees.items, {
      $id: "urn:tsflyte:input:trees/items",
      type: "object",
      properties: { name: { type: "string" }, children: { type: "array", items: { $ref: "#" } } },
      required: ["name", "children"],
    });
  });

  test("the generic inputs-file schema is a draft 2020-12 object schema", () => {
    const file = new URL("../../../schemas/inputs-file.schema.json", import.meta.url);
    const schema = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
    assert.equal(schema.type, "object");
    assert.equal(typeof schema.title, "string");
    assert.equal(typeof schema.description, "string");
  });
});

describe("readInputsFile: hostile and odd files", () => {
  // Nine lists of nine aliases, seven deep: 9^7 values once written out.
  const aliasBomb = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]", ..."bcdefg".split("").map((name, i) => {
    const prev = "abcdefg"[i];
    return `${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`;
  }), "x: *g", ""].join("\n");

  test("an alias bomb is refused at the alias that crosses the budget, as a UserError with file:line:col", () => {
    const dir = workspace({ "bomb.yaml": aliasBomb });
    assert.match(thrown(() => readInputsFile("bomb.yaml", dir)), /^bomb\.yaml:6:8: aliases here stand for more than 100,000 values in all \(an alias bomb\?\)/);
  });

  test("aliases that never end, or that name no anchor, say so where they are written", () => {
    const dir = workspace({ "cycle.yaml": "x: 1\nnode: &n\n  next: *n\n", "unknown.yaml": "x: *nowhere\n" });
    assert.equal(thrown(() => readInputsFile("cycle.yaml", dir)), "cycle.yaml:3:9: the alias *n stands for a value that holds it, which would never end; write the value out instead");
    assert.equal(thrown(() => readInputsFile("unknown.yaml", dir)), "unknown.yaml:1:4: the alias *nowhere has no anchor &nowhere before it; define the anchor on the value it stands for");
    // Reuse within the budget is fine, and shares nothing the caller could see.
    const ok = workspace({ "reuse.yaml": "base: &b {item: tea, qty: 1}\norder: *b\n" });
    assert.deepEqual(readInputsFile("reuse.yaml", ok).values, { base: { item: "tea", qty: 1 }, order: { item: "tea", qty: 1 } });
  });

  test("a __proto__ key is an input name like any other: named with its file:line:col, no prototype touched", () => {
    const dir = workspace({ "proto.yaml": "count: 3\n__proto__:\n  polluted: yes\nlimits:\n  __proto__: 90s\n" });
    const file = readInputsFile("proto.yaml", dir);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(file.values), Object.prototype);
    assert.deepEqual(Object.keys(file.values), ["count", "__proto__", "limits"]);
    assert.equal(file.keyLocations.__proto__, "proto.yaml:2:1");
    const error = (() => {
      try {
        resolveInputs({ inputs: { count: t.int(), limits: t.map(t.duration()) }, file });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof InputsError);
    assert.deepEqual(error.problems.map((p) => `${p.where}: ${p.message}`), ['proto.yaml:2:1: unknown input "__proto__"; inputs are: count, limits']);
    // A map input keeps a __proto__ key as a key.
    const limits = resolveInputs({ inputs: { limits: t.map(t.duration()) }, file: { ...file, values: { limits: file.values.limits } } }).limits as Record<string, number>;
    assert.ok(Object.hasOwn(limits, "__proto__"));
    assert.equal(Object.getPrototypeOf(limits), Object.prototype);
  });

  test("1e400, .inf and .nan for an int or a float say what was written, at its file:line:col", () => {
    const dir = workspace({ "numbers.yaml": "big: 1e400\nforever: .inf\nnothing: .nan\nratio: -1e999\nsizes: [1, 1e309]\n" });
    const file = readInputsFile("numbers.yaml", dir);
    let error: unknown;
    try {
      resolveInputs({ inputs: { big: t.int(), forever: t.int(), nothing: t.int(), ratio: t.float(), sizes: t.list(t.int()) }, file });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof InputsError);
    assert.deepEqual(error.problems.map(renderLine), [
      "numbers.yaml:1:6: big (int) given 1e400: not an integer (1e400 overflows: the largest number is about 1.8e308); write a whole number within ±9007199254740991",
      "numbers.yaml:2:10: forever (int) given .inf: not an integer (.inf is infinite); write a whole number within ±9007199254740991",
      "numbers.yaml:3:10: nothing (int) given .nan: not an integer (.nan is not a number); write a whole number within ±9007199254740991",
      "numbers.yaml:4:8: ratio (float) given -1e999: not a finite number (-1e999 overflows: the largest number is about 1.8e308); write one such as 2.5, -1 or 1e-3",
      "numbers.yaml:5:12: sizes (list<int>) given [1,Infinity]: sizes[1]: expected int, got Infinity; not an integer (1e309 overflows: the largest number is about 1.8e308); write a whole number within ±9007199254740991",
    ]);
  });

  test("UTF-16 and UTF-32 files are refused by name; a UTF-8 byte order mark is simply read", () => {
    const dir = workspace();
    const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("count: 3\n", "utf16le")]);
    const utf16be = Buffer.from(utf16le.subarray(2).swap16());
    fs.writeFileSync(path.join(dir, "le.yaml"), utf16le);
    fs.writeFileSync(path.join(dir, "be.yaml"), Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be]));
    fs.writeFileSync(path.join(dir, "32.yaml"), Buffer.from([0xff, 0xfe, 0, 0, 0x63, 0, 0, 0]));
    fs.writeFileSync(path.join(dir, "nobom.yaml"), Buffer.from("count: 3\n", "utf16le"));
    fs.writeFileSync(path.join(dir, "bom8.yaml"), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("count: 3\n")]));
    assert.equal(thrown(() => readInputsFile("le.yaml", dir)), "inputs file le.yaml is UTF-16 (little-endian) text (it starts with a UTF-16 byte order mark); tsflyte reads UTF-8");
    assert.match(thrown(() => readInputsFile("be.yaml", dir)), /^inputs file be\.yaml is UTF-16 \(big-endian\) text/);
    assert.match(thrown(() => readInputsFile("32.yaml", dir)), /^inputs file 32\.yaml is UTF-32 \(little-endian\) text/);
    assert.match(thrown(() => readInputsFile("nobom.yaml", dir)), /^inputs file nobom\.yaml holds a NUL byte at offset 1: it is not UTF-8 text/);
    const bom8 = readInputsFile("bom8.yaml", dir);
    assert.deepEqual(bom8.values, { count: 3 });
    assert.equal(bom8.locations.count, "bom8.yaml:1:8");
  });

  test("nesting deeper than 100 levels is refused where it goes too deep, in YAML and in JSON", () => {
    const dir = workspace({
      "deep.yaml": `x: ${"[".repeat(20_000)}\n`,
      "deep.json": `{"x": ${"[".repeat(99)}1${"]".repeat(99)}, "y": ${"[".repeat(20_000)}${"]".repeat(20_000)}}`,
      "broken.json": `{"x": ${"[".repeat(20_000)}`,
      "blocks.yaml": `x:\n  ${"- ".repeat(150)}1\n`,
      "aliased.yaml": `a: &a ${"[".repeat(60)}1${"]".repeat(60)}\nb: &b ${"[".repeat(50)}*a${"]".repeat(50)}\n`,
      "fine.yaml": `x: ${"[".repeat(99)}1${"]".repeat(99)}\n`,
    });
    assert.equal(thrown(() => readInputsFile("deep.yaml", dir)), "deep.yaml:1:103: mappings and lists nest more than 100 levels deep here; tsflyte reads at most 100 levels");
    assert.match(thrown(() => readInputsFile("deep.json", dir)), /^deep\.json:1:\d+: mappings and lists nest more than 100 levels deep here/);
    assert.match(thrown(() => readInputsFile("broken.json", dir)), /^broken\.json:1:106: arrays and objects nest more than 100 levels deep here/);
    assert.match(thrown(() => readInputsFile("blocks.yaml", dir)), /^blocks\.yaml:2:\d+: mappings and lists nest more than 100 levels deep here/);
    assert.match(thrown(() => readInputsFile("aliased.yaml", dir)), /^aliased\.yaml:2:57: through the alias \*a, mappings and lists nest more than 100 levels deep/);
    let inner: unknown = readInputsFile("fine.yaml", dir).values.x;
    for (let depth = 1; depth < 99; depth++) inner = (inner as unknown[])[0];
    assert.deepEqual(inner, [1]);
  });

  test("a file over the size cap is refused before it is parsed, naming its size, the cap and how to raise it", () => {
    const dir = workspace({ "big.yaml": `count: 3\nnote: "${"x".repeat(5 * 1024 * 1024)}"\n`, "small.yaml": `count: 3\nnote: "${"x".repeat(2000)}"\n` });
    const saved = process.env.TSFLYTE_MAX_FILE_SIZE;
    try {
      delete process.env.TSFLYTE_MAX_FILE_SIZE;
      let error: unknown;
      try {
        readInputsFile("big.yaml", dir);
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof UserError);
      assert.equal(error.message, "inputs file big.yaml is 5 MiB, more than the 4 MiB tsflyte reads from a file");
      assert.equal(error.hint, "if the file is meant to be this large, raise the cap: TSFLYTE_MAX_FILE_SIZE=6MiB");
      process.env.TSFLYTE_MAX_FILE_SIZE = "1KiB";
      assert.match(thrown(() => readInputsFile("small.yaml", dir)), /^inputs file small\.yaml is 2 KiB, more than the 1 KiB tsflyte reads from a file$/);
      process.env.TSFLYTE_MAX_FILE_SIZE = "3KiB";
      assert.equal(readInputsFile("small.yaml", dir).values.count, 3);
      process.env.TSFLYTE_MAX_FILE_SIZE = "lots";
      assert.match(thrown(() => readInputsFile("big.yaml", dir)), /^TSFLYTE_MAX_FILE_SIZE="lots" is not a size$/);
    } finally {
      if (saved === undefined) delete process.env.TSFLYTE_MAX_FILE_SIZE;
      else process.env.TSFLYTE_MAX_FILE_SIZE = saved;
    }
  });

  test("an empty file, or one of only comments, means no inputs, the same as {}", () => {
    const dir = workspace({ "empty.yaml": "", "comments.yaml": "# nothing yet\n", "braces.yaml": "{}\n" });
    for (const name of ["empty.yaml", "comments.yaml", "braces.yaml"]) {
      const file = readInputsFile(name, dir);
      assert.deepEqual(file.values, {});
      assert.deepEqual(resolveInputs({ inputs: { n: t.int().default(1) }, file }), {});
      assert.throws(() => resolveInputs({ inputs: { n: t.int() }, file }), /missing: n \(int\): required; pass --n VALUE or set n in the inputs file/);
    }
  });
});

function renderLine(p: { where: string; input: string; type?: string; given?: string; message: string }): string {
  return `${p.where}: ${p.input} (${p.type}) given ${p.given}: ${p.message}`;
}
