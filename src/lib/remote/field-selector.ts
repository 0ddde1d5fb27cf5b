// flytectl's `--filter.fieldSelector "key=value,key!=value"`, parsed once for every place that filters: FlyteAdmin
// filter expressions for executions, and views filtered here where the server cannot. Never decides which keys exist.
import { UserError } from "../errors.js";

export interface SelectorTerm {
  key: string;
  equal: boolean;
  value: string;
}

/** The terms of a selector; `keys` (when given) are the ones allowed, a prefix such as `execution.` dropped first. */
export function parseFieldSelector(selector: string | undefined, keys?: readonly string[], prefix?: RegExp): SelectorTerm[] {
  if (!selector?.trim()) return [];
  return selector
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^([A-Za-z_.]+)\s*(!=|=)\s*(.*)$/.exec(part);
      const hint = keys ? `keys: ${keys.join(", ")}` : 'write it as "phase=FAILED" or "phase=FAILED,launch_plan.name=my.wf"';
      if (!m || m[3] === "") throw new UserError(`--filter.fieldSelector: "${part}" is not key=value`, hint);
      const key = prefix ? m[1].replace(prefix, "") : m[1];
      if (keys && !keys.includes(key)) throw new UserError(`--filter.fieldSelector: unknown key "${m[1]}"`, hint);
      return { key, equal: m[2] === "=", value: m[3] };
    });
}

/** A test over views: every term holds, reading each key with `read`. */
export function selectorTest<T>(terms: SelectorTerm[], read: (view: T, key: string) => string): ((view: T) => boolean) | undefined {
  if (terms.length === 0) return undefined;
  return (view) => terms.every((t) => (read(view, t.key) === t.value) === t.equal);
}
