// SQL text with bound values, composed from pieces and rendered for SQLite (`?`) or PostgreSQL (`$1`), so that
// each query is written once. Never puts a value into the text: only `raw` pieces, which this code writes, are SQL.
import type { SqlDialect } from "./schema.js";

/** A piece of SQL: `strings` around `values`, so `strings.length === values.length + 1`. */
export class SqlFragment {
  constructor(
    readonly strings: readonly string[],
    readonly values: readonly unknown[],
  ) {}
}

/** A tagged template: `${x}` binds x as a value, unless x is itself a SqlFragment, which is spliced in. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): SqlFragment {
  const outStrings = [strings[0]];
  const outValues: unknown[] = [];
  values.forEach((value, i) => {
    if (value instanceof SqlFragment) {
      outStrings[outStrings.length - 1] += value.strings[0];
      value.values.forEach((inner, j) => {
        outValues.push(inner);
        outStrings.push(value.strings[j + 1]);
      });
      outStrings[outStrings.length - 1] += strings[i + 1];
    } else {
      outValues.push(value);
      outStrings.push(strings[i + 1]);
    }
  });
  return new SqlFragment(outStrings, outValues);
}

/** Text that this code wrote (a column name, a direction), spliced in as SQL. */
export function raw(text: string): SqlFragment {
  return new SqlFragment([text], []);
}

export function joinSql(fragments: readonly SqlFragment[], separator: string): SqlFragment {
  const glue = raw(separator);
  return fragments.reduce((joined, fragment, i) => (i === 0 ? fragment : sql`${joined}${glue}${fragment}`), raw(""));
}

export interface RenderedSql {
  text: string;
  values: unknown[];
}

export function renderSql(fragment: SqlFragment, dialect: SqlDialect): RenderedSql {
  let text = fragment.strings[0];
  for (let i = 0; i < fragment.values.length; i++) {
    text += (dialect === "sqlite" ? "?" : `$${i + 1}`) + fragment.strings[i + 1];
  }
  return { text, values: [...fragment.values] };
}
