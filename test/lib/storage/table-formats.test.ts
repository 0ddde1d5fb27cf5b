// Table codecs: Arrow tables survive Parquet and Arrow IPC with their column types, nulls and exact timestamps;
// CSV parses by RFC 4180. Never compares through a lossy path: values are compared row by row, types by name.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DateDay,
  Float32,
  Int16,
  Int32,
  Int8,
  Table,
  TimestampMicrosecond,
  TimestampNanosecond,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  makeVector,
  tableFromArrays,
  vectorFromArray,
} from "apache-arrow";
import { parquetWriteBuffer } from "hyparquet-writer";
import { UserError } from "../../../src/lib/errors.js";
import { decodeTable, encodeTable, parseCsv, tableFormat, tableFormatOfName } from "../../../src/lib/storage/table-formats.js";

const rows = (table: Table) => table.toArray().map((r) => ({ ...r.toJSON() }));
const types = (table: Table) => table.schema.fields.map((f) => `${f.name}:${f.type}`);

test("integers of every width, floats, dates and timestamps keep their types and values through Parquet", async () => {
  const table = new Table({
    i8: vectorFromArray([-128, 127, null], new Int8()),
    i16: vectorFromArray([-3, 300, 4], new Int16()),
    i32: vectorFromArray([1, null, 3], new Int32()),
    u8: vectorFromArray([0, 255, 1], new Uint8()),
    u16: vectorFromArray([65535, 0, 1], new Uint16()),
    u32: vectorFromArray([4294967295, 0, null], new Uint32()),
    u64: vectorFromArray([2n ** 64n - 1n, 0n, 5n] as unknown as number[], new Uint64()),
    f32: vectorFromArray([0.5, -2, null], new Float32()),
    day: vectorFromArray([new Date("2026-03-01T00:00:00Z"), null, new Date(0)], new DateDay()),
    utc: vectorFromArray([1700000000123.456, null, 0], new TimestampMicrosecond("UTC")),
    ns: vectorFromArray([1, 2, 3], new TimestampNanosecond()),
  });
  const back = await decodeTable(encodeTable(table, "parquet", "t"), "parquet", "t");
  assert.deepEqual(types(back), [
    "i8:Int8",
    "i16:Int16",
    "i32:Int32",
    "u8:Uint8",
    "u16:Uint16",
    "u32:Uint32",
    "u64:Uint64",
    "f32:Float32",
    "day:Date32<DAY>",
    "utc:Timestamp<MICROSECOND, UTC>",
    "ns:Timestamp<NANOSECOND>",
  ]);
  assert.deepEqual(rows(back), rows(table));
  const raw = (t: Table, name: string) => t.getChild(name)!.toArray() as BigInt64Array;
  assert.deepEqual(raw(back, "utc"), raw(table, "utc"), "microseconds are kept exactly");
});

test("zero rows and all-null columns round-trip; nullability follows the Arrow field", async () => {
  const empty = new Table({ id: makeVector(new Int32Array(0)), name: vectorFromArray([], new Utf8()) });
  const back = await decodeTable(encodeTable(empty, "parquet", "t"), "parquet", "t");
  assert.equal(back.numRows, 0);
  assert.deepEqual(types(back), ["id:Int32", "name:Utf8"]);
  const nulls = new Table({ s: vectorFromArray([null, null], new Utf8()), n: makeVector(Int32Array.from([1, 2])) });
  const back2 = await decodeTable(encodeTable(nulls, "parquet", "t"), "parquet", "t");
  assert.deepEqual(rows(back2), [{ s: null, n: 1 }, { s: null, n: 2 }]);
  assert.deepEqual(back2.schema.fields.map((f) => f.nullable), [true, false]);
});

test("Arrow IPC keeps the table exactly", async () => {
  const table = tableFromArrays({ a: Int32Array.from([1, 2]), b: ["x", "y"] });
  const back = await decodeTable(encodeTable(table, "arrow", "t"), "arrow", "t");
  assert.deepEqual(rows(back), rows(table));
});

test("Parquet written elsewhere: plain strings, JSON and legacy timestamp annotations read as Arrow columns", async () => {
  const bytes = parquetWriteBuffer({
    columnData: [
      { name: "s", data: ["a", null] },
      { name: "j", data: [{ k: 1 }, null] },
      { name: "ts", data: [new Date(1000), new Date(2000)] },
    ],
    schema: [
      { name: "root", num_children: 3 },
      { name: "s", type: "BYTE_ARRAY", repetition_type: "OPTIONAL" },
      { name: "j", type: "BYTE_ARRAY", converted_type: "JSON", repetition_type: "OPTIONAL" },
      { name: "ts", type: "INT64", converted_type: "TIMESTAMP_MILLIS", repetition_type: "REQUIRED" },
    ],
  });
  const table = await decodeTable(new Uint8Array(bytes), "parquet", "t");
  assert.deepEqual(types(table), ["s:Utf8", "j:Utf8", "ts:Timestamp<MILLISECOND, UTC>"]);
  assert.deepEqual(rows(table), [
    { s: "a", j: '{"k":1}', ts: 1000 },
    { s: null, j: null, ts: 2000 },
  ]);
});

test("CSV: quotes, escaped quotes, newlines in fields, blank lines, BOM; clear errors otherwise", () => {
  const table = parseCsv('\uFEFFid,text\n1,"a, ""quoted""\nline"\n\n2.5,plain\n', "in");
  assert.deepEqual(types(table), ["id:Float64", "text:Utf8"]);
  assert.deepEqual(rows(table), [
    { id: 1, text: 'a, "quoted"\nline' },
    { id: 2.5, text: "plain" },
  ]);
  assert.throws(() => parseCsv("a,b\n1\n", "in"), (e: unknown) => e instanceof UserError && e.message === "in: CSV row 2 has 1 fields, the header has 2");
  assert.throws(() => parseCsv('a\n"open\n', "in"), /ends inside a quoted field/);
  assert.throws(() => parseCsv("a,a\n1,2\n", "in"), /names column "a" twice/);
  assert.throws(() => parseCsv("", "in"), /empty/);
});

test("format names: extensions and declared formats", () => {
  assert.equal(tableFormatOfName("x/00000.parquet"), "parquet");
  assert.equal(tableFormatOfName("data.CSV"), "csv");
  assert.equal(tableFormatOfName("00000"), undefined);
  assert.equal(tableFormat("", "x"), "parquet");
  assert.throws(() => tableFormat("orc", "out"), /out: tables stored as "orc" cannot be read or written/);
});
