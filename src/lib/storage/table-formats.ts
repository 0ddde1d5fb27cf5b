// How tables are stored as bytes: Parquet (hyparquet, hyparquet-writer), Arrow IPC and CSV, to and from Arrow.
// Never converts a column silently into something else: a type it cannot store is a UserError naming the column.
import {
  Bool,
  DataType,
  DateDay,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimeUnit,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  makeData,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
  type Data,
  type Vector,
} from "apache-arrow";
import { parquetMetadata, parquetRead, parquetSchema, type SchemaElement } from "hyparquet";
import { parquetWriteBuffer, type ColumnSource, type SchemaElement as WriterSchemaElement } from "hyparquet-writer";
import { UserError } from "../errors.js";

export type StoredTableFormat = "parquet" | "arrow";
export type TableFormat = StoredTableFormat | "csv";

const extensions: Record<TableFormat, string> = { parquet: "parquet", arrow: "arrow", csv: "csv" };
const formatsByExtension: Record<string, TableFormat> = {
  parquet: "parquet",
  pq: "parquet",
  arrow: "arrow",
  ipc: "arrow",
  feather: "arrow",
  csv: "csv",
};

/** The file extension a format is stored under (`00000.parquet`). */
export function tableExtension(format: TableFormat): string {
  return extensions[format];
}

/** The format a file name's extension names, if it names one. */
export function tableFormatOfName(name: string): TableFormat | undefined {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? formatsByExtension[name.slice(dot + 1).toLowerCase()] : undefined;
}

/** A declared or recorded format name as one tsflyte reads; "" (Flyte's generic format) is Parquet. */
export function tableFormat(name: string, at: string): TableFormat {
  const lower = name.toLowerCase();
  if (lower === "") return "parquet";
  if (lower in extensions) return lower as TableFormat;
  throw new UserError(`${at}: tables stored as "${name}" cannot be read or written; use "parquet", "arrow" or "csv"`);
}

/** The Flyte kind of an Arrow column type, for checking declared columns. */
export function arrowColumnKind(type: DataType): "int" | "float" | "string" | "boolean" | "datetime" | "other" {
  if (DataType.isDictionary(type)) return arrowColumnKind(type.dictionary);
  if (DataType.isInt(type)) return "int";
  if (DataType.isFloat(type)) return "float";
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return "string";
  if (DataType.isBool(type)) return "boolean";
  if (DataType.isTimestamp(type) || DataType.isDate(type)) return "datetime";
  return "other";
}

export function encodeTable(table: Table, format: StoredTableFormat, at: string): Uint8Array {
  if (format === "arrow") return tableToIPC(table, "file");
  const columns = table.schema.fields.map((field, i) => parquetColumn(field, table.getChildAt(i)!, at));
  const buffer = parquetWriteBuffer({
    columnData: columns.map((c) => c.source),
    schema: [{ name: "root", num_children: columns.length }, ...columns.map((c) => c.element)],
  });
  return new Uint8Array(buffer);
}

export async function decodeTable(bytes: Uint8Array, format: TableFormat, at: string): Promise<Table> {
  try {
    if (format === "arrow") return tableFromIPC(bytes);
    if (format === "csv") return parseCsv(new TextDecoder().decode(bytes), at);
    return await readParquet(bytes, at);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${at}: cannot read the stored ${format} table: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Tables read from the files of one dataset folder, as one table; they must share a schema. */
export function concatTables(tables: Table[], at: string): Table {
  if (tables.length === 0) throw new UserError(`${at}: the dataset folder holds no table files`);
  const [first, ...rest] = tables;
  for (const t of rest) {
    if (!t.schema.fields.every((f, i) => first.schema.fields[i]?.name === f.name && String(first.schema.fields[i].type) === String(f.type))) {
      throw new UserError(`${at}: the files of the dataset have different columns`);
    }
  }
  return rest.length ? first.concat(...rest) : first;
}

// --- Parquet writing ---------------------------------------------------------------------------------------

interface ParquetColumn {
  source: ColumnSource;
  element: WriterSchemaElement;
}

const dayMs = 86_400_000;

function parquetColumn(field: Field, vector: Vector, at: string): ParquetColumn {
  const name = field.name;
  const type = field.type as DataType;
  const nullable = field.nullable || vector.nullCount > 0;
  const repetition_type = nullable ? "OPTIONAL" : "REQUIRED";
  const column = (element: Omit<WriterSchemaElement, "name" | "repetition_type">, data: ColumnSource["data"]): ParquetColumn => ({
    source: { name, data },
    element: { name, repetition_type, ...element },
  });
  const withNulls = (convert: (v: any) => unknown = (v) => v): unknown[] => {
    const out = new Array<unknown>(vector.length);
    for (let i = 0; i < vector.length; i++) {
      const v: unknown = vector.get(i);
      out[i] = v === null || v === undefined ? null : convert(v);
    }
    return out;
  };
  const primitive = (): ColumnSource["data"] => (vector.nullCount === 0 ? (vector.toArray() as ColumnSource["data"]) : (withNulls() as any[]));

  if (DataType.isBool(type)) return column({ type: "BOOLEAN" }, withNulls() as boolean[]);
  if (DataType.isInt(type)) {
    const { bitWidth, isSigned } = type;
    if (bitWidth === 64) {
      return isSigned
        ? column({ type: "INT64" }, primitive())
        : column({ type: "INT64", converted_type: "UINT_64", logical_type: { type: "INTEGER", bitWidth: 64, isSigned: false } }, primitive());
    }
    if (isSigned && bitWidth === 32) return column({ type: "INT32" }, primitive());
    const converted = `${isSigned ? "INT" : "UINT"}_${bitWidth}` as WriterSchemaElement["converted_type"];
    return column({ type: "INT32", converted_type: converted, logical_type: { type: "INTEGER", bitWidth, isSigned } }, primitive());
  }
  if (DataType.isFloat(type)) {
    // Float16 is stored raw as 16-bit words by Arrow; its values (numbers) are kept as 32-bit floats.
    if (type.precision === 0) return column({ type: "FLOAT" }, withNulls() as number[]);
    return column({ type: type.precision === 2 ? "DOUBLE" : "FLOAT" }, primitive());
  }
  if (arrowColumnKind(type) === "string") {
    return column({ type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" } }, withNulls(String) as string[]);
  }
  if (DataType.isTimestamp(type)) {
    // Raw values in the column's own unit, so no precision is lost; seconds become milliseconds.
    const raw = vector.toArray() as BigInt64Array;
    const scale = type.unit === TimeUnit.SECOND ? 1000n : 1n;
    const unit = type.unit === TimeUnit.MICROSECOND ? "MICROS" : type.unit === TimeUnit.NANOSECOND ? "NANOS" : "MILLIS";
    const data = new Array<bigint | null>(vector.length);
    for (let i = 0; i < vector.length; i++) data[i] = vector.isValid(i) ? BigInt(raw[i]) * scale : null;
    return column({ type: "INT64", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: Boolean(type.timezone), unit } }, data);
  }
  if (DataType.isDate(type)) {
    return column({ type: "INT32", converted_type: "DATE", logical_type: { type: "DATE" } }, withNulls((ms: number) => Math.floor(ms / dayMs)) as number[]);
  }
  throw new UserError(
    `${at}: column "${name}" has Arrow type ${String(type)}, which cannot be stored as Parquet`,
    "supported column types: integers, floats, strings, booleans, timestamps and dates; or declare format \"arrow\"",
  );
}

// --- Parquet reading ---------------------------------------------------------------------------------------

type ColumnValues = ArrayLike<unknown>;

async function readParquet(bytes: Uint8Array, at: string): Promise<Table> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const metadata = parquetMetadata(file);
  const root = parquetSchema(metadata);
  for (const child of root.children) {
    if (child.children.length) {
      throw new UserError(`${at}: column "${child.element.name}" of the stored table is nested, which tsflyte cannot read yet`);
    }
  }
  const chunks = new Map<string, Array<{ start: number; data: ColumnValues }>>();
  await parquetRead({
    file,
    metadata,
    // Raw values: Arrow takes timestamps in their own unit and dates as days.
    parsers: {
      timestampFromMilliseconds: (v: bigint) => v,
      timestampFromMicroseconds: (v: bigint) => v,
      timestampFromNanoseconds: (v: bigint) => v,
      dateFromDays: (v: number) => v,
      jsonFromBytes: (v: Uint8Array) => v && new TextDecoder().decode(v),
    } as any,
    onChunk: (chunk) => {
      const list = chunks.get(chunk.columnName) ?? [];
      list.push({ start: chunk.rowStart, data: chunk.columnData as ColumnValues });
      chunks.set(chunk.columnName, list);
    },
  });
  const numRows = Number(metadata.num_rows);
  const fields: Field[] = [];
  const datas: Data[] = [];
  for (const child of root.children) {
    const element = child.element;
    const parts = (chunks.get(element.name) ?? []).sort((a, b) => a.start - b.start);
    const values = parts.length === 1 ? parts[0].data : parts.flatMap((p) => Array.from(p.data));
    const data = arrowData(element, values, numRows, at);
    fields.push(new Field(element.name, data.type, element.repetition_type !== "REQUIRED"));
    datas.push(data);
  }
  const schema = new Schema(fields);
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: numRows, nullCount: 0, children: datas }));
  return new Table(schema, [batch]);
}

type NumericArrayConstructor =
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

function arrowData(element: SchemaElement, values: ColumnValues, length: number, at: string): Data {
  const { type, converted_type: ctype, logical_type: ltype } = element;
  const intWidth = ltype?.type === "INTEGER" ? ltype : intFromConverted(ctype);
  const isDecimal = ctype === "DECIMAL" || ltype?.type === "DECIMAL";
  switch (type) {
    case "BOOLEAN":
      return vectorFromArray(Array.from(values) as (boolean | null)[], new Bool()).data[0];
    case "INT32":
      if (isDecimal) return fixed(new Float64(), Float64Array, values, length);
      if (ctype === "DATE" || ltype?.type === "DATE") return fixed(new DateDay(), Int32Array, values, length);
      if (intWidth) return smallInt(intWidth.bitWidth, intWidth.isSigned, values, length);
      return fixed(new Int32(), Int32Array, values, length);
    case "INT64": {
      if (isDecimal) return fixed(new Float64(), Float64Array, values, length);
      const unit = ltype?.type === "TIMESTAMP" ? ltype.unit : ctype === "TIMESTAMP_MILLIS" ? "MILLIS" : ctype === "TIMESTAMP_MICROS" ? "MICROS" : undefined;
      if (unit) {
        const tz = ltype?.type === "TIMESTAMP" && !ltype.isAdjustedToUTC ? null : "UTC";
        const arrowType =
          unit === "MILLIS" ? new TimestampMillisecond(tz) : unit === "MICROS" ? new TimestampMicrosecond(tz) : new TimestampNanosecond(tz);
        return bigFixed(arrowType, BigInt64Array, values, length);
      }
      if (intWidth && !intWidth.isSigned) return bigFixed(new Uint64(), BigUint64Array, values, length);
      return bigFixed(new Int64(), BigInt64Array, values, length);
    }
    case "INT96":
      return bigFixed(new TimestampNanosecond(), BigInt64Array, values, length);
    case "FLOAT":
      return fixed(new Float32(), Float32Array, values, length);
    case "DOUBLE":
      return fixed(new Float64(), Float64Array, values, length);
    case "BYTE_ARRAY":
    case "FIXED_LEN_BYTE_ARRAY":
      if (isDecimal) return fixed(new Float64(), Float64Array, values, length);
      if (ltype?.type === "FLOAT16") return fixed(new Float32(), Float32Array, values, length);
      if (Array.from(values).every((v) => v === null || v === undefined || typeof v === "string")) {
        return vectorFromArray(Array.from(values) as (string | null)[], new Utf8()).data[0];
      }
      break;
  }
  throw new UserError(`${at}: column "${element.name}" of the stored table has Parquet type ${describeElement(element)}, which tsflyte cannot read`);
}

function describeElement(e: SchemaElement): string {
  return [e.type, e.converted_type, e.logical_type?.type].filter(Boolean).join("/");
}

function intFromConverted(ctype: SchemaElement["converted_type"]): { bitWidth: number; isSigned: boolean } | undefined {
  const m = /^(U?)INT_(8|16|32|64)$/.exec(ctype ?? "");
  return m ? { bitWidth: Number(m[2]), isSigned: m[1] === "" } : undefined;
}

function smallInt(bitWidth: number, isSigned: boolean, values: ColumnValues, length: number): Data {
  if (bitWidth === 8) return isSigned ? fixed(new Int8(), Int8Array, values, length) : fixed(new Uint8(), Uint8Array, values, length);
  if (bitWidth === 16) return isSigned ? fixed(new Int16(), Int16Array, values, length) : fixed(new Uint16(), Uint16Array, values, length);
  return isSigned ? fixed(new Int32(), Int32Array, values, length) : fixed(new Uint32(), Uint32Array, values, length);
}

/** Validity bitmap (least significant bit first) of values where null/undefined means missing. */
function validity(values: ColumnValues, length: number): { nullCount: number; nullBitmap?: Uint8Array } {
  let nullCount = 0;
  const bitmap = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (v === null || v === undefined) nullCount++;
    else bitmap[i >> 3] |= 1 << (i & 7);
  }
  return nullCount ? { nullCount, nullBitmap: bitmap } : { nullCount: 0 };
}

function fixed<T extends DataType>(type: T, Ctor: NumericArrayConstructor, values: ColumnValues, length: number): Data<T> {
  if (values instanceof Ctor && values.length === length) return makeData({ type, length, nullCount: 0, data: values } as any) as Data<T>;
  const data = new Ctor(length);
  for (let i = 0; i < length; i++) data[i] = Number(values[i] ?? 0);
  return makeData({ type, length, ...validity(values, length), data } as any) as Data<T>;
}

function bigFixed<T extends DataType>(type: T, Ctor: BigInt64ArrayConstructor | BigUint64ArrayConstructor, values: ColumnValues, length: number): Data<T> {
  if (values instanceof Ctor && values.length === length) return makeData({ type, length, nullCount: 0, data: values } as any) as Data<T>;
  const data = new Ctor(length);
  for (let i = 0; i < length; i++) data[i] = BigInt((values[i] as bigint | number | null) ?? 0);
  return makeData({ type, length, ...validity(values, length), data } as any) as Data<T>;
}

// --- CSV ---------------------------------------------------------------------------------------------------

/**
 * Parses CSV (RFC 4180: quoted fields, `""` escapes, CRLF or LF) with a header row. A column whose every non-empty
 * cell is a number becomes float64, any other a string column; empty cells are nulls.
 */
/** `floatColumns`: columns declared float, kept Float64 even when every value is a whole number. */
export function parseCsv(text: string, at: string, floatColumns: ReadonlySet<string> = new Set()): Table {
  const rows = csvRows(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, at);
  if (rows.length === 0) throw new UserError(`${at}: the CSV file is empty; it needs a header row`);
  const header = rows[0].map((h, i) => h.trim() || `column_${i}`);
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h)) throw new UserError(`${at}: the CSV header names column "${h}" twice`);
    seen.add(h);
  }
  const body = rows.slice(1);
  body.forEach((row, r) => {
    if (row.length !== header.length) {
      throw new UserError(`${at}: CSV row ${r + 2} has ${row.length} fields, the header has ${header.length}`);
    }
  });
  const fields: Field[] = [];
  const datas: Data[] = [];
  header.forEach((name, c) => {
    const cells = body.map((row) => row[c]);
    const numeric = cells.every((cell) => cell.trim() === "" || Number.isFinite(Number(cell)));
    // Whole numbers that fit 32 bits become Int32, so a column declared t.int() accepts them (ids, counts).
    const whole = numeric && !floatColumns.has(name) && cells.every((cell) => cell.trim() === "" || (/^\s*[-+]?\d+\s*$/.test(cell) && Math.abs(Number(cell)) <= 2 ** 31 - 1));
    const data = !numeric
      ? vectorFromArray(cells.map((cell) => (cell === "" ? null : cell)), new Utf8()).data[0]
      : vectorFromArray(cells.map((cell) => (cell.trim() === "" ? null : Number(cell))), whole ? new Int32() : new Float64()).data[0];
    fields.push(new Field(name, data.type, true));
    datas.push(data);
  });
  const schema = new Schema(fields);
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: body.length, nullCount: 0, children: datas }));
  return new Table(schema, [batch]);
}

function csvRows(text: string, at: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  let line = 1;
  const endRow = () => {
    row.push(field);
    field = "";
    if (!(row.length === 1 && row[0] === "")) rows.push(row); // blank lines are skipped
    row = [];
  };
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        if (ch === "\n") line++;
        field += ch;
      }
      i++;
      continue;
    }
    if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      endRow();
      if (ch === "\r" && text[i + 1] === "\n") i++;
      line++;
    } else field += ch;
    i++;
  }
  if (quoted) throw new UserError(`${at}: the CSV file ends inside a quoted field (opened before line ${line})`);
  if (field !== "" || row.length) endRow();
  return rows;
}
