// Offloading task data: files, directories and tables move into the blob store with stable content hashes and come
// back as FlyteFile, FlyteDirectory and Arrow tables. Never fakes the store: a real FileBlobStore in a temp dir.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { toJson } from "@bufbuild/protobuf";
import { Bool, Field, Int32, List, Table, TimestampMillisecond, Utf8, makeTable, makeVector, tableFromArrays, tableFromJSON, vectorFromArray } from "apache-arrow";
import { LiteralSchema, type Literal, type LiteralMap } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { literalMapToValues, typeNeedsData, valuesToLiteralMap } from "../../../src/lib/engine/offload.js";
import { TypeMismatchError, UserError } from "../../../src/lib/errors.js";
import { FileBlobStore } from "../../../src/lib/storage/file-store.js";
import { encodeTable } from "../../../src/lib/storage/table-formats.js";
import { t, type AnyType } from "../../../src/lib/types/types.js";
import { FlyteDirectory, FlyteFile, StructuredDataset } from "../../../src/lib/types/values.js";

const sha256 = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

interface Fixture {
  dir: string;
  store: FileBlobStore;
  rawPrefix: string;
}

function withStore(fn: (f: Fixture) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsflyte-offload-"));
    const store = new FileBlobStore(path.join(dir, "store"));
    try {
      await fn({ dir, store, rawPrefix: `${store.baseUri}/raw/p-d-e/n0/0` });
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

function blob(literal: Literal): { uri: string; format: string } {
  const json = toJson(LiteralSchema, literal) as { scalar?: { blob?: { uri: string; metadata?: { type?: { format?: string } } } } };
  return { uri: json.scalar!.blob!.uri, format: json.scalar?.blob?.metadata?.type?.format ?? "" };
}

function dataset(literal: Literal): { uri: string; format: string; columns: string[] } {
  const v = literal.value;
  assert.ok(v.case === "scalar" && v.value.value.case === "structuredDataset", "a structured dataset literal");
  const sd = v.value.value.value;
  return {
    uri: sd.uri,
    format: sd.metadata?.structuredDatasetType?.format ?? "",
    columns: sd.metadata?.structuredDatasetType?.columns.map((c) => c.name) ?? [],
  };
}

/** Rows of a table as plain objects, for comparing values. */
const rows = (table: Table) => table.toArray().map((r) => ({ ...r.toJSON() }));

async function roundTrip(f: Fixture, types: Record<string, AnyType>, values: Record<string, unknown>): Promise<{ map: LiteralMap; back: Record<string, unknown> }> {
  const map = await valuesToLiteralMap(types, values, { store: f.store, rawPrefix: f.rawPrefix, at: "output" });
  const back = await literalMapToValues(types, map, { store: f.store, at: "input" });
  return { map, back };
}

test("typeNeedsData finds files, directories and tables through lists, maps, optionals and unions", () => {
  for (const type of [t.int(), t.string(), t.list(t.float()), t.map(t.optional(t.boolean())), t.union(t.int(), t.string())]) {
    assert.equal(typeNeedsData(type), false, type.name);
  }
  for (const type of [
    t.file(),
    t.directory(),
    t.dataframe(),
    t.list(t.file()),
    t.map(t.list(t.dataframe())),
    t.optional(t.dataframe()),
    t.union(t.int(), t.file()),
  ]) {
    assert.equal(typeNeedsData(type), true, type.name);
  }
  const big = t.list(t.map(t.int()));
  assert.equal(typeNeedsData(big), typeNeedsData(big), "cached answer is stable");
});

test(
  "a local file output is uploaded under the raw prefix with the sha256 of its content",
  withStore(async (f) => {
    const local = path.join(f.dir, "report 1.csv");
    fs.writeFileSync(local, "a,b\n1,2\n");
    const { map, back } = await roundTrip(f, { report: t.file({ format: "csv" }), n: t.int() }, { report: local, n: 3 });
    const report = map.literals.report;
    assert.deepEqual(blob(report), { uri: `${f.rawPrefix}/0/report%201.csv`, format: "csv" });
    assert.equal(report.hash, sha256("a,b\n1,2\n"));
    assert.equal(map.literals.n.hash, "");
    assert.ok(back.report instanceof FlyteFile);
    assert.equal(fs.readFileSync(f.store.localPath((back.report as FlyteFile).uri)!, "utf8"), "a,b\n1,2\n");
    assert.equal(back.n, 3);
  }),
);

test(
  "the same content gives the same hash wherever it is, also for a file already in the store",
  withStore(async (f) => {
    const a = path.join(f.dir, "a.bin");
    const b = path.join(f.dir, "sub", "b.bin");
    fs.mkdirSync(path.dirname(b));
    fs.writeFileSync(a, "same bytes");
    fs.writeFileSync(b, "same bytes");
    const map = await valuesToLiteralMap({ a: t.file(), b: t.file() }, { a: FlyteFile.from(a), b: pathToFileURL(b).href }, f);
    assert.equal(map.literals.a.hash, map.literals.b.hash);
    assert.equal(map.literals.a.hash, sha256("same bytes"));
    // passing the stored file on (as a task would) keeps its URI and recomputes the same hash
    const stored = blob(map.literals.a).uri;
    const again = await valuesToLiteralMap({ f: t.file() }, { f: new FlyteFile(stored) }, { ...f, rawPrefix: `${f.store.baseUri}/raw/other` });
    assert.equal(blob(again.literals.f).uri, stored);
    assert.equal(again.literals.f.hash, map.literals.a.hash);
    await assert.rejects(
      valuesToLiteralMap({ f: t.file() }, { f: path.join(f.dir, "missing.txt") }, { ...f, at: "output" }),
      (e: unknown) => e instanceof UserError && /^output f: no file at .*missing\.txt$/.test(e.message),
    );
  }),
);

test(
  "a directory is uploaded with its tree hash; equal trees hash equally",
  withStore(async (f) => {
    for (const name of ["one", "two"]) {
      fs.mkdirSync(path.join(f.dir, name, "nested"), { recursive: true });
      fs.writeFileSync(path.join(f.dir, name, "x.txt"), "x");
      fs.writeFileSync(path.join(f.dir, name, "nested", "y.txt"), "y");
    }
    const { map, back } = await roundTrip(f, { one: t.directory(), two: t.directory() }, { one: path.join(f.dir, "one"), two: FlyteDirectory.from(path.join(f.dir, "two")) });
    assert.equal(blob(map.literals.one).uri, `${f.rawPrefix}/0/one`);
    assert.equal(blob(map.literals.two).uri, `${f.rawPrefix}/1/two`);
    assert.match(map.literals.one.hash, /^[0-9a-f]{64}$/);
    assert.equal(map.literals.one.hash, map.literals.two.hash);
    assert.ok(back.one instanceof FlyteDirectory);
    assert.equal(fs.readFileSync(path.join(f.store.localPath((back.one as FlyteDirectory).uri)!, "nested", "y.txt"), "utf8"), "y");
    await assert.rejects(valuesToLiteralMap({ d: t.directory() }, { d: path.join(f.dir, "one", "x.txt") }, f), /is a file; declare it as t\.file\(\)/);
  }),
);

function sampleTable(): Table {
  return new Table({
    id: makeVector(Int32Array.from([1, 2, 3])),
    amount: makeVector(Float64Array.from([2.5, -1, 1e6])),
    big: makeVector(BigInt64Array.from([1n, 2n ** 40n, -3n])),
    name: vectorFromArray(["ann", null, "bé"], new Utf8()),
    ok: vectorFromArray([true, false, null], new Bool()),
    at: vectorFromArray([new Date("2026-01-02T03:04:05.678Z"), null, new Date(0)], new TimestampMillisecond()),
  });
}

test(
  "an Arrow table is stored as Parquet and read back with the same columns and values",
  withStore(async (f) => {
    const table = sampleTable();
    const type = t.dataframe({ columns: { id: t.int(), amount: t.float(), name: t.string() } });
    const { map, back } = await roundTrip(f, { spend: type }, { spend: table });
    const sd = dataset(map.literals.spend);
    assert.deepEqual(sd, { uri: `${f.rawPrefix}/0`, format: "parquet", columns: ["id", "amount", "name"] });
    await f.store.flush();
    const stored = fs.readFileSync(path.join(f.store.localPath(sd.uri)!, "00000.parquet"));
    assert.equal(map.literals.spend.hash, sha256(stored));
    const got = back.spend as Table;
    assert.deepEqual(got.schema.fields.map((x) => x.name), ["id", "amount", "big", "name", "ok", "at"]);
    assert.deepEqual(got.schema.fields.map((x) => String(x.type)), ["Int32", "Float64", "Int64", "Utf8", "Bool", "Timestamp<MILLISECOND>"]);
    assert.deepEqual(rows(got), rows(table));
    // the same table written again hashes the same
    const again = await valuesToLiteralMap({ spend: type }, { spend: sampleTable() }, { ...f, rawPrefix: `${f.store.baseUri}/raw/again` });
    assert.equal(again.literals.spend.hash, map.literals.spend.hash);
  }),
);

test(
  "format \"arrow\" stores Arrow IPC; tableFromJSON tables (dictionary strings, float numbers) round-trip",
  withStore(async (f) => {
    const table = tableFromJSON([
      { city: "Oslo", temp: -3.5 },
      { city: "Lima", temp: 18 },
    ]);
    const { map, back } = await roundTrip(f, { weather: t.dataframe({ format: "arrow", columns: { city: t.string(), temp: t.float() } }) }, { weather: table });
    assert.equal(dataset(map.literals.weather).format, "arrow");
    assert.ok(await f.store.exists(`${f.rawPrefix}/0/00000.arrow`));
    assert.deepEqual(rows(back.weather as Table), rows(table));
    const parquet = await roundTrip(f, { weather: t.dataframe() }, { weather: table });
    assert.deepEqual(rows(parquet.back.weather as Table), rows(table));
  }),
);

test(
  "a CSV file given as a dataframe becomes a stored table: whole numbers as ints unless declared float, the rest strings",
  withStore(async (f) => {
    const csv = path.join(f.dir, "people.csv");
    fs.writeFileSync(csv, 'name,age,note\r\nAnn,41,"likes ""tea"", cake"\r\nBob,,\r\n');
    const { map, back } = await roundTrip(f, { people: t.dataframe({ columns: { age: t.float() } }) }, { people: new StructuredDataset(csv) });
    const sd = dataset(map.literals.people);
    assert.equal(sd.format, "parquet");
    assert.ok(await f.store.exists(`${sd.uri}/00000.parquet`));
    const table = back.people as Table;
    assert.deepEqual(table.schema.fields.map((x) => `${x.name}:${x.type}`), ["name:Utf8", "age:Float64", "note:Utf8"]);
    assert.deepEqual(rows(table), [
      { name: "Ann", age: 41, note: 'likes "tea", cake' },
      { name: "Bob", age: null, note: null },
    ]);
  }),
);

test(
  "a local Parquet file given as a StructuredDataset is uploaded as is, hashed by its bytes",
  withStore(async (f) => {
    const bytes = encodeTable(sampleTable(), "parquet", "x");
    const local = path.join(f.dir, "input.parquet");
    fs.writeFileSync(local, bytes);
    const { map, back } = await roundTrip(f, { t: t.dataframe() }, { t: local });
    assert.equal(map.literals.t.hash, sha256(bytes));
    assert.deepEqual(fs.readFileSync(path.join(f.store.localPath(`${f.rawPrefix}/0`)!, "00000.parquet")), Buffer.from(bytes));
    assert.deepEqual(rows(back.t as Table), rows(sampleTable()));
  }),
);

test(
  "a dataset folder of several Parquet parts reads as one table",
  withStore(async (f) => {
    const folder = path.join(f.store.basePath, "raw", "flytekit-made");
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, "part-0.parquet"), encodeTable(tableFromArrays({ x: Int32Array.from([1, 2]) }), "parquet", "x"));
    fs.writeFileSync(path.join(folder, "part-1.parquet"), encodeTable(tableFromArrays({ x: Int32Array.from([3]) }), "parquet", "x"));
    fs.writeFileSync(path.join(folder, "_SUCCESS"), "");
    const type = t.dataframe();
    const map = await valuesToLiteralMap({ d: type }, { d: new StructuredDataset(pathToFileURL(folder).href, "parquet") }, f);
    assert.match(map.literals.d.hash, /^[0-9a-f]{64}$/);
    const back = await literalMapToValues({ d: type }, map, f);
    assert.deepEqual(rows(back.d as Table), [{ x: 1 }, { x: 2 }, { x: 3 }]);
  }),
);

test(
  "a declared column missing from the table, or of another kind, is a TypeMismatchError naming it",
  withStore(async (f) => {
    const type = t.dataframe({ columns: { id: t.int(), total: t.float() } });
    await assert.rejects(
      valuesToLiteralMap({ spend: type }, { spend: tableFromArrays({ id: Int32Array.from([1]) }) }, { ...f, at: "output" }),
      (e: unknown) => {
        assert.ok(e instanceof TypeMismatchError);
        assert.equal(e.message, 'output spend: expected dataframe{id: int, total: float}, got a table with columns id (missing column "total")');
        return true;
      },
    );
    await assert.rejects(
      valuesToLiteralMap({ spend: type }, { spend: tableFromJSON([{ id: 1.5, total: 2 }]) }, f),
      /column "id" holds Arrow Float64, declared int/,
    );
  }),
);

test(
  "a column type Parquet cannot hold is reported with the column's name",
  withStore(async (f) => {
    const listColumn = vectorFromArray([[1], [2, 3]], new List(new Field("item", new Int32(), true)));
    const table = makeTable({ id: Int32Array.from([1, 2]) }).assign(new Table({ tags: listColumn }));
    await assert.rejects(
      valuesToLiteralMap({ d: t.dataframe() }, { d: table }, f),
      (e: unknown) => e instanceof UserError && /column "tags" has Arrow type List<Int32>, which cannot be stored as Parquet/.test(e.message),
    );
    // the same table is fine as Arrow IPC
    const { back } = await roundTrip(f, { d: t.dataframe({ format: "arrow" }) }, { d: table });
    assert.equal((back.d as Table).numRows, 2);
  }),
);

test(
  "lists and maps of files, optional and union values carry their data",
  withStore(async (f) => {
    const paths = ["a.txt", "b.txt", "c.txt"].map((name, i) => {
      const p = path.join(f.dir, name);
      fs.writeFileSync(p, `content ${i}`);
      return p;
    });
    const types = {
      files: t.list(t.file()),
      byName: t.map(t.file()),
      maybe: t.optional(t.dataframe()),
      table: t.optional(t.dataframe()),
      either: t.union(t.int(), t.file()),
      count: t.union(t.int(), t.file()),
    };
    const { map, back } = await roundTrip(f, types, {
      files: [paths[0], paths[1]],
      byName: { c: paths[2] },
      maybe: null,
      table: tableFromArrays({ v: Float64Array.from([0.5]) }),
      either: paths[0],
      count: 7,
    });
    const files = map.literals.files.value;
    assert.ok(files.case === "collection");
    assert.deepEqual(files.value.literals.map((l) => blob(l).uri), [`${f.rawPrefix}/0/a.txt`, `${f.rawPrefix}/1/b.txt`]);
    assert.deepEqual(files.value.literals.map((l) => l.hash), [sha256("content 0"), sha256("content 1")]);
    assert.deepEqual((back.files as FlyteFile[]).map((x) => x instanceof FlyteFile && fs.readFileSync(f.store.localPath(x.uri)!, "utf8")), ["content 0", "content 1"]);
    assert.equal(fs.readFileSync(f.store.localPath((back.byName as Record<string, FlyteFile>).c.uri)!, "utf8"), "content 2");
    assert.equal(back.maybe, null);
    assert.deepEqual(rows(back.table as Table), [{ v: 0.5 }]);
    assert.ok(back.either instanceof FlyteFile);
    assert.equal(fs.readFileSync(f.store.localPath(back.either.uri)!, "utf8"), "content 0");
    assert.equal(back.count, 7);
  }),
);

test(
  "every bad value is reported together, each named",
  withStore(async (f) => {
    await assert.rejects(
      valuesToLiteralMap({ a: t.file(), b: t.dataframe(), c: t.int() }, { a: 42, b: "", c: "x" }, { ...f, at: "output" }),
      (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, /output a: expected file, got number 42/);
        assert.match(e.message, /output b: expected dataframe/);
        assert.match(e.message, /output c: expected int/);
        return true;
      },
    );
    const empty = await valuesToLiteralMap({}, {}, f);
    await assert.rejects(literalMapToValues({ x: t.int() }, empty, { ...f, at: "input" }), /input x: no value/);
    assert.deepEqual(await literalMapToValues({ x: t.optional(t.dataframe()) }, empty, f), { x: null }, "an absent optional is null");
  }),
);
