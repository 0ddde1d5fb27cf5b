// Resilience: retries of flaky user code, a task that refuses bad input for good (NonRetryableError), a
// timeout, a crash that counts against the system budget, and a cached step that a re-run skips.
import { task, workflow, t, NonRetryableError } from "tsflyte";

export const fetchPrices = task(
  {
    description: "the price list; cached, so re-runs skip it",
    inputs: { day: t.datetime() },
    outputs: t.map(t.float()),
    cache: { version: "1" },
  },
  async ({ day }) => ({ apple: 1.2, pear: 0.8 + day.getUTCDay() / 100 }),
);

export const flakyEnrich = task(
  {
    description: "fails its first `failures` attempts, like a service that times out now and then",
    inputs: { prices: t.map(t.float()), failures: t.int() },
    outputs: t.map(t.float()),
    retries: 2,
  },
  async ({ prices, failures }, { attempt }) => {
    if (attempt < failures) throw new Error(`the enrichment service is unavailable (attempt ${attempt + 1})`);
    return Object.fromEntries(Object.entries(prices).map(([k, v]) => [k, Math.round(v * 1.2 * 100) / 100]));
  },
);

export const checkBudget = task(
  {
    inputs: { prices: t.map(t.float()), budget: t.float() },
    outputs: t.float(),
    retries: 3,
  },
  async ({ prices, budget }) => {
    const total = Object.values(prices).reduce((s, p) => s + p, 0);
    // No retry can change the inputs, so trying again only wastes time.
    if (total > budget) throw new NonRetryableError(`the prices add up to ${total.toFixed(2)}, over the budget of ${budget}`);
    return total;
  },
);

export const slowQuote = task(
  {
    description: "waits `delay` before answering; times out after 300ms",
    inputs: { delay: t.duration() },
    outputs: t.string(),
    timeout: "300ms",
  },
  async ({ delay }, { signal }) => {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, delay);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new Error("stopped"));
      });
    });
    return `quoted after ${delay}ms`;
  },
);

export const crashy = task(
  {
    description: "ends its own process on the first `crashes` attempts: a SYSTEM failure, retried on the system budget",
    inputs: { crashes: t.int() },
    outputs: t.int(),
  },
  async ({ crashes }, { attempt }) => {
    if (attempt < crashes) process.exit(3);
    return attempt;
  },
);

export const pricing = workflow(
  {
    description: "prices for a day, enriched, checked against a budget, and quoted",
    inputs: {
      day: t.datetime(),
      budget: t.float().default(10),
      failures: t.int().default(0),
      delay: t.duration().default(10),
      crashes: t.int().default(0),
    },
    outputs: { total: t.float(), quote: t.string(), attempts: t.int() },
  },
  ({ day, budget, failures, delay, crashes }) => {
    const prices = flakyEnrich({ prices: fetchPrices({ day }), failures });
    return { total: checkBudget({ prices, budget }), quote: slowQuote({ delay }), attempts: crashy({ crashes }) };
  },
);
