// A column-aligned text table for the terminal. Columns that are blank in every row are left out (flytectl
// prints them empty), and no line ends in spaces. Pure and dependency-free; it never truncates.

export interface Column<Row> {
  header: string;
  value: (row: Row) => string | undefined;
  align?: "left" | "right";
  /** Keeps the column even when every row leaves it blank. */
  keep?: boolean;
  /** Styles a cell after padding (e.g. colors), so escape codes never skew the widths. */
  style?: (padded: string, row: Row) => string;
}

export interface TableOptions {
  /** Print the header line; default true. */
  header?: boolean;
  /** Between columns; default two spaces. */
  gap?: string;
}

/** The table as lines, one per row (after the header line when there is one). */
export function tableLines<Row>(columns: readonly Column<Row>[], rows: readonly Row[], options: TableOptions = {}): string[] {
  const showHeader = options.header ?? true;
  const gap = options.gap ?? "  ";
  const cells = rows.map((row) => columns.map((c) => c.value(row) ?? ""));
  const shown = columns
    .map((column, i) => ({ column, i }))
    .filter(({ column, i }) => column.keep || cells.some((r) => r[i] !== ""));
  const widths = shown.map(({ column, i }) => Math.max(showHeader ? column.header.length : 0, ...cells.map((r) => r[i].length)));

  const line = (texts: string[], row: Row | undefined): string => {
    const parts = shown.map(({ column }, k) => {
      const last = k === shown.length - 1;
      const text = texts[k];
      const padded = column.align === "right" ? text.padStart(widths[k]) : last ? text : text.padEnd(widths[k]);
      return row !== undefined && column.style ? column.style(padded, row) : padded;
    });
    return parts.join(gap).trimEnd();
  };

  const lines = rows.map((row, r) => line(shown.map(({ i }) => cells[r][i]), row));
  if (showHeader && shown.length) lines.unshift(line(shown.map(({ column }) => column.header), undefined));
  return lines;
}

export function renderTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[], options: TableOptions = {}): string {
  return tableLines(columns, rows, options).join("\n");
}
