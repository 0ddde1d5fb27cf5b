// The table printer: aligned columns, blank columns left out, no trailing spaces, styles outside the widths.
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderTable, tableLines, type Column } from "../../src/render/table.js";

interface Row {
  name: string;
  size?: string;
  note?: string;
}

const columns: Column<Row>[] = [
  { header: "NAME", value: (r) => r.name },
  { header: "SIZE", value: (r) => r.size, align: "right" },
  { header: "NOTE", value: (r) => r.note },
];

test("columns align to the widest cell or header, and the last column is not padded", () => {
  const text = renderTable(columns, [
    { name: "alpha", size: "1", note: "x" },
    { name: "b", size: "12345", note: "" },
  ]);
  assert.equal(text, ["NAME    SIZE  NOTE", "alpha      1  x", "b      12345"].join("\n"));
});

test("a column blank in every row is left out, header and all", () => {
  const text = renderTable(columns, [{ name: "alpha", size: "1" }, { name: "b" }]);
  assert.equal(text, ["NAME   SIZE", "alpha     1", "b"].join("\n"));
  assert.ok(!text.includes("NOTE"));
});

test("keep holds a column even when it is blank everywhere", () => {
  const kept: Column<Row>[] = [{ header: "NOTE", value: (r) => r.note, keep: true }, ...columns.slice(0, 1)];
  assert.equal(renderTable(kept, [{ name: "a" }]), ["NOTE  NAME", "      a"].join("\n"));
});

test("styles wrap padded cells, so colored tables stay aligned", () => {
  const styled: Column<Row>[] = [
    { header: "NAME", value: (r) => r.name, style: (cell) => `<${cell}>` },
    { header: "SIZE", value: (r) => r.size },
  ];
  assert.deepEqual(tableLines(styled, [{ name: "a", size: "1" }, { name: "bbb", size: "2" }]), ["NAME  SIZE", "<a   >  1", "<bbb >  2"]);
});

test("without a header, widths come from the rows alone; no rows and no columns give nothing", () => {
  assert.deepEqual(tableLines(columns, [{ name: "a", size: "1" }], { header: false }), ["a  1"]);
  assert.deepEqual(tableLines(columns, []), []);
});
