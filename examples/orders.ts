// Orders report: tables and files move between tasks through the blob store. A CSV given on the command line
// becomes an Arrow table; the filtered table is stored as Parquet, and the report is a file.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromArrays } from "apache-arrow";
import { task, workflow, t, FlyteFile } from "tsflyte";

export const bigOrders = task(
  {
    description: "keeps the orders of at least minAmount, optionally from one country",
    inputs: {
      orders: t.dataframe({ columns: { id: t.int(), customer: t.string(), amount: t.float() } }),
      minAmount: t.float().default(100).describe("smallest amount kept"),
      country: t.optional(t.string()).describe("only this country, e.g. GB"),
    },
    outputs: t.dataframe(),
    cache: { version: "1" },
  },
  async ({ orders, minAmount, country }) => {
    const rows = orders.toArray().map((r) => r.toJSON() as { id: number; customer: string; amount: number; country: string });
    const kept = rows.filter((r) => r.amount >= minAmount && (country === null || r.country === country));
    return tableFromArrays({
      id: kept.map((r) => Number(r.id)),
      customer: kept.map((r) => r.customer),
      amount: Float64Array.from(kept.map((r) => r.amount)),
    });
  },
);

export const report = task(
  {
    inputs: { orders: t.dataframe(), title: t.string() },
    outputs: { summary: t.file({ format: "txt" }), total: t.float(), count: t.int() },
  },
  async ({ orders, title }, { logger }) => {
    const amounts = orders.getChild("amount")?.toArray() ?? [];
    const total = Array.from(amounts as ArrayLike<number>).reduce((s, a) => s + Number(a), 0);
    logger.info("summarised", { rows: orders.numRows });
    const dir = mkdtempSync(join(tmpdir(), "orders-report-"));
    const path = join(dir, "summary.txt");
    writeFileSync(path, `${title}\norders: ${orders.numRows}\ntotal: ${total.toFixed(2)}\n`);
    return { summary: FlyteFile.from(path), total, count: orders.numRows };
  },
);

export const orderReport = workflow(
  {
    description: "big orders and their total",
    inputs: {
      orders: t.dataframe({ columns: { id: t.int(), customer: t.string(), amount: t.float() } }),
      minAmount: t.float().default(100),
      country: t.optional(t.string()),
      title: t.string().default("Big orders"),
    },
    outputs: { summary: t.file({ format: "txt" }), total: t.float(), count: t.int() },
  },
  ({ orders, minAmount, country, title }) => {
    const big = bigOrders({ orders, minAmount, country });
    const r = report({ orders: big, title });
    return { summary: r.summary, total: r.total, count: r.count };
  },
);
