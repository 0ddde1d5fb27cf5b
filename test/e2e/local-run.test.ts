// Acceptance: `tsflyte run` takes an entity's inputs of every type from flags and from YAML or JSON files, lists
// them with --help, and refuses bad ones all at once without recording anything. Drives the built CLI; never the real home.
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { stringify as toYaml } from "yaml";
import { LocalCli, assertExit, repoRoot, type RunJson } from "../fixtures/local/cli.js";

const cli = new LocalCli("inputs");
after(() => cli.cleanup());

const fixture = "test/fixtures/local/all-inputs.ts";

/** What echoInputs returns: each input's runtime type and value, and what it found in its file, folder and table. */
interface Echo {
  kinds: Record<string, string>;
  values: Record<string, unknown>;
  report: { uri: string; text: string };
  images: { uri: string; files: string[] };
  table: { rows: number; columns: string[] };
}

async function echo(args: string[]): Promise<Echo> {
  const result = await cli.json<RunJson>(["run", fixture, "echoInputs", ...args, "--json"]);
  assert.equal(result.phase, "SUCCEEDED");
  return JSON.parse(result.outputs?.o0 as string) as Echo;
}

describe("tsflyte run: inputs", { concurrency: true }, () => {
  let data = "";
  let report = "";
  let images = "";
  const tables: Record<"csv" | "parquet" | "arrow", string> = { csv: join(repoRoot, "examples/data/orders.csv"), parquet: "", arrow: "" };

  before(async () => {
    data = cli.tempDir("tsflyte-inputs-data-");
    report = join(data, "report.txt");
    writeFileSync(report, "quarterly numbers\n");
    images = join(data, "images");
    mkdirSync(images);
    for (const name of ["b.png", "a.png"]) writeFileSync(join(images, name), name);
    // A .parquet and an .arrow file as tsflyte itself writes them: the stored outputs of a task that returns tables.
    const made = await cli.json<RunJson>(["run", fixture, "makeTables", "--rows", "3", "--json"]);
    for (const format of ["parquet", "arrow"] as const) {
      const folder = fileURLToPath(made.outputs?.[format] as string);
      const file = readdirSync(folder).find((f) => f.endsWith(`.${format}`));
      assert.ok(file, `the ${format} output ${folder} holds no .${format} file`);
      tables[format] = join(folder, file);
    }
  });

  const flags = () => [
    "--count", "3",
    "--ratio", "2.5",
    "--label", "two words",
    "--dry-run",
    "--when", "2024-05-01T12:30:00+02:00",
    "--pause", "1h30m",
    "--ints", "[1, 2, 3]",
    "--scores", '{"a": 1.5, "b": 2}',
    "--point", '{"x": 1, "y": -2, "label": "p"}',
    "--color", "green",
    "--note", "hi",
    "--id-or-name", "42",
    "--report", report,
    "--images", images,
    "--max-rows", "5",
  ];

  test("every type from flags arrives typed, a camelCase input through its kebab alias, defaults filled in", async () => {
    const got = await echo([...flags(), "--table", tables.csv]);
    assert.deepEqual(got.kinds, {
      count: "number",
      ratio: "number",
      label: "string",
      dryRun: "boolean",
      when: "Date",
      pause: "number",
      ints: "array",
      scores: "object",
      point: "object",
      color: "string",
      note: "string",
      idOrName: "number",
      maxRows: "number",
      greeting: "string",
    });
    assert.deepEqual(got.values, {
      count: 3,
      ratio: 2.5,
      label: "two words",
      dryRun: true,
      when: "2024-05-01T10:30:00.000Z",
      pause: 90 * 60_000,
      ints: [1, 2, 3],
      scores: { a: 1.5, b: 2 },
      point: { x: 1, y: -2, label: "p" },
      color: "green",
      note: "hi",
      idOrName: 42,
      maxRows: 5,
      greeting: "hello",
    });
    // The file and the folder were uploaded into the local blob store, and the task reads them there.
    const dataPrefix = `file://${cli.home}/data/`;
    assert.ok(got.report.uri.startsWith(dataPrefix), `report ${got.report.uri} is not under ${dataPrefix}`);
    assert.equal(got.report.text, "quarterly numbers\n");
    assert.ok(got.images.uri.startsWith(dataPrefix), `images ${got.images.uri} is not under ${dataPrefix}`);
    assert.deepEqual(got.images.files, ["a.png", "b.png"]);
    assert.deepEqual(got.table, { rows: 6, columns: ["id", "customer", "amount", "country"] });
  });

  for (const format of ["parquet", "arrow"] as const) {
    test(`a dataframe from a .${format} file`, async () => {
      const got = await echo([...flags(), "--table", tables[format]]);
      assert.deepEqual(got.table, { rows: 3, columns: ["id", "name"] });
    });
  }

  test("datetimes as ISO 8601, now and today; durations as 90s, 1h30m and PT1H", async () => {
    const startedAt = Date.now();
    const result = await cli.json<RunJson>([
      "run", fixture, "clock",
      "--iso", "2024-02-29T23:30:00-01:00",
      "--now", "now",
      "--today", "today",
      "--short", "90s",
      "--long", "1h30m",
      "--iso-duration", "PT1H",
      "--json",
    ]);
    const afterwards = Date.now();
    const got = JSON.parse(result.outputs?.o0 as string) as Record<string, string | number>;
    assert.equal(got.iso, "2024-03-01T00:30:00.000Z");
    const now = Date.parse(got.now as string);
    assert.ok(now >= startedAt - 1000 && now <= afterwards, `now = ${got.now} is not the time of the run`);
    const midnight = (ms: number) => new Date(Math.floor(ms / 86_400_000) * 86_400_000).toISOString();
    assert.ok([midnight(startedAt), midnight(afterwards)].includes(got.today as string), `today = ${got.today} is not midnight UTC today`);
    assert.deepEqual([got.short, got.long, got.isoDuration], [90_000, 90 * 60_000, 3_600_000]);
  });

  const fileInputs = () => ({
    count: 1,
    ratio: 0.5,
    label: "from the file",
    dryRun: true,
    when: "2024-05-01T00:00:00Z",
    pause: "90s",
    ints: [4, 5],
    scores: { x: 1 },
    point: { x: 3, y: 4, label: "file" },
    color: "blue",
    note: null,
    idOrName: "name-7",
    report,
    images,
    table: tables.parquet,
    maxRows: 7,
  });

  const fromFileExpected = {
    ratio: 0.5,
    label: "from the file",
    when: "2024-05-01T00:00:00.000Z",
    pause: 90_000,
    ints: [4, 5],
    scores: { x: 1 },
    point: { x: 3, y: 4, label: "file" },
    color: "blue",
    note: null,
    idOrName: "name-7",
    maxRows: 7,
    greeting: "hello",
  };

  test("inputs from a YAML file, with flags overriding it (--no-x among them)", async () => {
    const file = join(data, "inputs.yaml");
    writeFileSync(file, toYaml(fileInputs()));
    const got = await echo(["--inputs-file", file, "--count", "9", "--no-dry-run"]);
    assert.deepEqual(got.values, { ...fromFileExpected, count: 9, dryRun: false });
    assert.equal(got.kinds.idOrName, "string");
    assert.equal(got.kinds.note, "null");
    assert.equal(got.kinds.when, "Date");
    assert.deepEqual(got.table, { rows: 3, columns: ["id", "name"] });
    assert.equal(got.report.text, "quarterly numbers\n");
  });

  test("inputs from a JSON file, with a flag overriding it", async () => {
    const file = join(data, "inputs.json");
    writeFileSync(file, JSON.stringify({ ...fileInputs(), table: tables.arrow }, null, 2));
    const got = await echo(["--inputs-file", file, "--ratio", "0.25"]);
    assert.deepEqual(got.values, { ...fromFileExpected, count: 1, dryRun: true, ratio: 0.25 });
    assert.deepEqual(got.table, { rows: 3, columns: ["id", "name"] });
  });

  test("run FILE ENTITY --help lists the inputs with their types, defaults and descriptions", async () => {
    const result = await cli.run(["run", fixture, "echoInputs", "--help"]);
    assertExit(result, 0);
    const out = result.stdout;
    assert.match(out, /echoes every input with its runtime type/);
    const row = (...cells: string[]) => new RegExp(`^\\s*${cells.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\s+")}\\s*$`, "m");
    assert.match(out, row("--count", "int", "(required)", "how many"));
    assert.match(out, row("--ratio", "float", "(required)"));
    assert.match(out, row("--[no-]dryRun, --[no-]dry-run", "boolean", "(required)", "only pretend"));
    assert.match(out, row("--when", "datetime", "(required)"));
    assert.match(out, row("--pause", "duration", "(required)"));
    assert.match(out, row("--ints", "list<int>", "(required)"));
    assert.match(out, row("--color", "enum(red|green|blue)", "(required)"));
    assert.match(out, row("--note", "string?", "null"));
    assert.match(out, row("--idOrName, --id-or-name", "int | string", "(required)"));
    assert.match(out, row("--table", "dataframe", "(required)"));
    assert.match(out, row("--maxRows, --max-rows", "int", "10", "rows at most"));
    assert.match(out, row("--greeting", "string", '"hello"', "what to say first"));
  });

  test("bad and missing inputs are reported together with names and types, exit 2, and nothing is recorded", async () => {
    const project = "e2e-bad-inputs";
    const args = [
      "run", fixture, "echoInputs", "-p", project,
      "--count", "1.5",
      "--ratio", "abc",
      "--when", "yesterday",
      "--pause", "5",
      "--color", "purple",
      "--point", '{"x": 1}',
      "--report", join(data, "missing.txt"),
      "--bogus", "1",
    ];
    const [text, json] = await Promise.all([cli.run(args), cli.run([...args, "--json"])]);
    assertExit(text, 2);
    assert.doesNotMatch(text.stdout, /^Execution /m, "no execution may start");
    for (const [input, type] of [
      ["count", "int"],
      ["ratio", "float"],
      ["when", "datetime"],
      ["pause", "duration"],
      ["color", "enum(red|green|blue)"],
      ["point", "struct{x, y, label}"],
      ["report", "file"],
      ["label", "string"],
      ["dryRun", "boolean"],
      ["table", "dataframe"],
    ]) {
      assert.ok(text.stderr.includes(`${input} (${type})`), `the error does not name ${input} (${type}):\n${text.stderr}`);
    }
    assert.match(text.stderr, /--bogus: unknown input/);
    assert.match(text.stderr, /^Error: \d+ problems with the inputs of test\.fixtures\.local\.all-inputs\.echoInputs:/m);

    assertExit(json, 2);
    const { error } = JSON.parse(json.stdout) as { error: { exitCode: number; problems: { input: string; type?: string; where: string }[] } };
    assert.equal(error.exitCode, 2);
    const named = new Map(error.problems.map((p) => [p.input, p]));
    for (const input of ["count", "ratio", "when", "pause", "color", "point", "report", "bogus", "label", "dryRun", "ints", "table"]) {
      assert.ok(named.has(input), `no problem reported for ${input}: ${json.stdout}`);
    }
    assert.equal(named.get("label")?.where, "missing");
    assert.equal(named.get("count")?.type, "int");

    // A table that cannot be read is found while the inputs are stored, before anything is recorded.
    const csv = join(data, "ragged.csv");
    writeFileSync(csv, "a,b\n1,2\n3\n");
    const ragged = await cli.run(["run", fixture, "echoInputs", "-p", project, ...flags(), "--table", csv]);
    assertExit(ragged, 2);
    assert.match(ragged.stderr, /table.*CSV row 3 has 1 fields, the header has 2/);
    assert.doesNotMatch(ragged.stdout, /^Execution /m);

    assert.deepEqual(await cli.list("-p", project), [], "a run with bad inputs recorded an execution");
  });

  test("hostile and odd inputs files: exit 2 with what is wrong, where (file:line:col) and what to do; nothing recorded", async () => {
    const project = "e2e-odd-inputs";
    const dir = cli.tempDir("tsflyte-odd-inputs-");
    const bomb = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
    for (const [name, prev] of [["b", "a"], ["c", "b"], ["d", "c"], ["e", "d"], ["f", "e"], ["g", "f"]]) bomb.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    const files: Record<string, string | Buffer> = {
      "bomb.yaml": `${bomb.join("\n")}\nrows: *g\n`,
      "proto.yaml": "rows: 3\n__proto__:\n  polluted: true\n",
      "big-number.yaml": "rows: 1e400\n",
      "utf16.yaml": Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("rows: 3\n", "utf16le")]),
      "deep.yaml": `rows: ${"[".repeat(20_000)}\n`,
      "empty.yaml": "",
      "braces.yaml": "{}\n",
      "large.yaml": `rows: 3\nnote: "${"x".repeat(3000)}"\n`,
    };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    const run = (name: string, env: NodeJS.ProcessEnv = {}) =>
      cli.start(["run", fixture, "makeTables", "-p", project, "--inputs-file", join(dir, name)], env).done;
    const [bombed, proto, big, utf16, deep, empty, braces, large, raised] = await Promise.all([
      run("bomb.yaml"),
      run("proto.yaml"),
      run("big-number.yaml"),
      run("utf16.yaml"),
      run("deep.yaml"),
      run("empty.yaml"),
      run("braces.yaml"),
      run("large.yaml", { TSFLYTE_MAX_FILE_SIZE: "2KiB" }),
      run("large.yaml", { TSFLYTE_MAX_FILE_SIZE: "1MiB" }),
    ]);
    for (const result of [bombed, proto, big, utf16, deep, empty, braces, large]) {
      assertExit(result, 2);
      assert.doesNotMatch(result.stderr, /This is a bug in tsflyte/);
    }
    assert.ok(bombed.stderr.includes(`${join(dir, "bomb.yaml")}:6:8: aliases here stand for more than 100,000 values in all (an alias bomb?)`), bombed.stderr);
    assert.ok(proto.stderr.includes(`${join(dir, "proto.yaml")}:2:1: unknown input "__proto__"; inputs are: rows`), proto.stderr);
    assert.ok(big.stderr.includes(`${join(dir, "big-number.yaml")}:1:7: rows (int) given 1e400: not an integer (1e400 overflows`), big.stderr);
    assert.match(utf16.stderr, /utf16\.yaml is UTF-16 \(little-endian\) text .*; tsflyte reads UTF-8\nHint: re-save the file as UTF-8/);
    assert.ok(deep.stderr.includes(`${join(dir, "deep.yaml")}:1:106: mappings and lists nest more than 100 levels deep here`), deep.stderr);
    // An empty file is read as {}: no inputs given, so the required one is missing, and the message says how to give it.
    for (const result of [empty, braces]) assert.match(result.stderr, /missing: rows \(int\): required; pass --rows VALUE or set rows in the inputs file/);
    assert.match(large.stderr, /large\.yaml is 2\.9 KiB, more than the 2 KiB tsflyte reads from a file\nHint: if the file is meant to be this large, raise the cap: TSFLYTE_MAX_FILE_SIZE=1MiB/);
    assertExit(raised, 2);
    assert.match(raised.stderr, /large\.yaml:2:1: unknown input "note"/, "with the cap raised the file is read");
    assert.deepEqual(await cli.list("-p", project), [], "a run with a bad inputs file recorded an execution");
  });

  test("an unknown entity lists what the file exports", async () => {
    const result = await cli.run(["run", fixture, "echoInput"]);
    assertExit(result, 2);
    assert.match(result.stderr, /test\/fixtures\/local\/all-inputs\.ts exports no task, workflow or launch plan named "echoInput"/);
    assert.match(result.stderr, /^\s+clock\s+\(task, test\.fixtures\.local\.all-inputs\.clock\)$/m);
    assert.match(result.stderr, /^\s+echoInputs\s+\(task, test\.fixtures\.local\.all-inputs\.echoInputs\)$/m);
    assert.match(result.stderr, /^\s+makeTables\s+\(task, test\.fixtures\.local\.all-inputs\.makeTables\)$/m);
  });

  test("a module that fails to load names its path and the original error", async () => {
    const dir = cli.tempDir(".tmp-e2e-load-", { inRepo: true });
    const rel = dir.slice(repoRoot.length + 1);
    writeFileSync(join(dir, "throws.ts"), 'import { task, t } from "tsflyte";\n\nif (!process.env.E2E_NO_SUCH_KEY) throw new Error("E2E_NO_SUCH_KEY is not set");\nexport const a = task({ inputs: {}, outputs: t.int() }, async () => 1);\n');
    writeFileSync(join(dir, "syntax.ts"), 'import { task, t } from "tsflyte";\nexport const x: number = ;\n');
    const [throws, syntax] = await Promise.all([cli.run(["run", join(dir, "throws.ts"), "a"]), cli.run(["run", join(dir, "syntax.ts"), "x"])]);
    assertExit(throws, 2);
    assert.ok(throws.stderr.includes(`${rel}/throws.ts failed to load: E2E_NO_SUCH_KEY is not set`), throws.stderr);
    assert.ok(throws.stderr.includes(`${rel}/throws.ts:3:`), `no line of the throw in:\n${throws.stderr}`);
    assertExit(syntax, 2);
    assert.ok(syntax.stderr.includes(`${rel}/syntax.ts failed to load:`), syntax.stderr);
    assert.ok(syntax.stderr.includes(`${rel}/syntax.ts:2:`), `no line of the syntax error in:\n${syntax.stderr}`);
  });
});
