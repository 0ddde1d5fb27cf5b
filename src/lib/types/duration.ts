// Parses the duration spellings users write ("90s", "1h30m", ISO 8601 "PT1H30M", milliseconds) into ms.
// Never guesses: anything else is a UserError that shows the accepted forms.
import { UserError } from "../errors.js";

const unitMs: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const compact = /^(?:(\d+(?:\.\d+)?)(ms|s|m|h|d))+$/;
const compactPart = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const iso = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Milliseconds from a number of ms, "90s", "1h30m", "250ms" or ISO 8601 ("PT1H30M", "P1DT2H"). */
export function parseDuration(value: string | number, what = "duration"): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
    throw new UserError(`${what}: ${value} is not a duration; give milliseconds ≥ 0, "90s", "1h30m" or ISO 8601 "PT1H30M"`);
  }
  const text = value.trim();
  if (compact.test(text)) {
    let ms = 0;
    for (const [, amount, unit] of text.matchAll(compactPart)) ms += Number(amount) * unitMs[unit];
    return ms;
  }
  const m = iso.exec(text);
  if (m && text !== "P" && text !== "PT" && !text.endsWith("T")) {
    const [, d, h, min, s] = m.map((x) => (x === undefined ? 0 : Number(x)));
    return ((d * 24 + h) * 60 + min) * 60_000 + s * 1000;
  }
  throw new UserError(`${what}: ${JSON.stringify(value)} is not a duration; write "90s", "10m", "1h30m", "250ms" or ISO 8601 "PT1H30M"`);
}
