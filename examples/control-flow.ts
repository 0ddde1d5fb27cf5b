// Control flow: a conditional that picks a pricing rule, a map over the orders with a tolerated failure rate, a dynamic
// workflow that builds one audit step per order when the orders are known, a node ordered after another without data,
// per-call overrides, a gate that lets the ledger settle, and a failure node that cleans up when the workflow fails.
// (examples/gates.ts has the gates that wait for people: approve and waitForInput.)
import { task, workflow, conditional, map, after, dynamic, sleep, t } from "tsflyte";

export const orderTotal = task(
  {
    description: "one order's total; an order of a negative quantity is refused",
    inputs: { quantity: t.int(), unitPrice: t.float() },
    outputs: t.float(),
    cache: { version: "1" },
  },
  async ({ quantity, unitPrice }) => {
    if (quantity < 0) throw new Error(`an order cannot have quantity ${quantity}`);
    return Math.round(quantity * unitPrice * 100) / 100;
  },
);

export const sumPresent = task(
  { description: "adds the totals of the orders that succeeded", inputs: { totals: t.list(t.optional(t.float())) }, outputs: t.float() },
  async ({ totals }) => totals.reduce<number>((sum, x) => sum + (x ?? 0), 0),
);

export const bulkDiscount = task(
  { inputs: { total: t.float() }, outputs: t.float() },
  async ({ total }) => Math.round(total * 0.9 * 100) / 100,
);

export const smallOrderFee = task(
  { inputs: { total: t.float() }, outputs: t.float() },
  async ({ total }) => total + 5,
);

export const asIs = task({ inputs: { total: t.float() }, outputs: t.float() }, async ({ total }) => total);

export const openLedger = task({ description: "opens the day's ledger (no data, only order)" }, async () => {});

export const audit = task({ inputs: { quantity: t.int() }, outputs: t.string() }, async ({ quantity }) =>
  quantity < 0 ? `refused ${quantity}` : `accepted ${quantity}`,
);

export const auditEach = dynamic(
  { description: "one audit step per order, built when the orders are known", inputs: { quantities: t.list(t.int()) }, outputs: t.list(t.string()) },
  ({ quantities }) => quantities.map((quantity) => audit({ quantity })),
);

export const record = task(
  { inputs: { amount: t.float(), audits: t.list(t.string()) }, outputs: t.string(), retries: 1 },
  async ({ amount, audits }) => `recorded ${amount.toFixed(2)} after ${audits.length} audits`,
);

export const cleanup = task(
  { description: "runs when priceOrders fails", inputs: { quantities: t.list(t.int()), err: t.error() }, outputs: t.string() },
  async ({ quantities, err }) => `cleaned up after ${quantities.length} orders: ${err.message}`,
);

export const priceOrders = workflow(
  {
    description: "prices a day's orders: bulk discount over 100, a fee under 20, a refusal of an empty day",
    inputs: { quantities: t.list(t.int()), unitPrice: t.float().default(2.5) },
    outputs: t.string(),
    onFailure: cleanup,
  },
  ({ quantities, unitPrice }) => {
    const ledger = openLedger();
    const totals = map(orderTotal, { concurrency: 4, minSuccessRatio: 0.5 })({ quantity: quantities, unitPrice });
    const total = sumPresent({ totals });
    const charged = conditional("pricing")
      .if(total.gt(100))
      .then(bulkDiscount({ total }))
      .elif(total.gt(0).and(total.lt(20)))
      .then(smallOrderFee({ total }))
      .elif(total.gt(0))
      .then(asIs({ total }).with({ name: "as-is", retries: 2 }))
      .else()
      .fail("no order of the day succeeded");
    const audits = auditEach({ quantities });
    const settled = after(sleep("1s"), ledger);
    return after(record({ amount: charged, audits }), settled);
  },
);
