// Reads an inputs file (YAML, or JSON, which YAML reads too) into plain values and where each was written.
// Never converts a value to its input's type: the file does not know the entity; resolveInputs does that.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import { UserError } from "../errors.js";
import { findJsonError, lineColumn } from "./json-syntax.js";

/** The top-level mapping of an inputs file. Locations are `file:line:col` with the path as given. */
export interface InputsFile {
  path: string;
  values: Record<string, unknown>;
  /** Key → where its value starts, for messages about the value. */
  locations: Record<string, string>;
  /** Key → where the key itself is, for messages about unknown keys. */
  keyLocations: Record<string, string>;
  /**
   * Every value, nested ones too, by its path as problems name it (`emp`, `emp[0]`, `order.qty`) → where it starts,
   * so that a problem deep inside an input points at its own line.
   */
  paths: Record<string, string>;
}

/**
 * Parses `path` as YAML 1.2, core schema (`yes` and `2026-01-31` stay strings), or as strict JSON when it ends
 * in `.json`; a relative path is resolved from `cwd`. Throws a UserError for a missing file, and one starting
 * `file:line:col` for a syntax error, a duplicate key, or a top level that is not a mapping. An empty YAML file
 * is an empty mapping.
 */
export function readInputsFile(path: string, cwd: string = process.cwd()): InputsFile {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, path), "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : code === "EISDIR" ? "is a folder" : `cannot be read (${code ?? String(e)})`;
    throw new UserError(`inputs file ${path} ${why} (resolved from ${cwd})`, "give the path of a YAML or JSON file");
  }
  text = text.replace(/^\uFEFF/, "");
  // YAML would read `"b": }` as null and forgive trailing commas; a .json file gets JSON's own rules.
  if (/\.json$/i.test(path)) checkJson(path, text);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `${path}:${line}:${col}`;
  };
  if (doc.errors.length) {
    const error = doc.errors[0];
    const [first, ...context] = error.message.split("\n");
    const message = first.replace(/ at line \d+, column \d+:?$/, "");
    const more = doc.errors.length > 1 ? `\n(and ${doc.errors.length - 1} more error${doc.errors.length > 2 ? "s" : ""} after it)` : "";
    throw new UserError(
      `${at(error.pos[0])}: ${message}${context.some((l) => l.trim()) ? `\n${context.join("\n").trimEnd()}` : ""}${more}`,
      "fix the YAML syntax; JSON is fine too",
    );
  }
  const contents = doc.contents as Node | null;
  if (contents === null) return { path, values: {}, locations: {}, keyLocations: {}, paths: {} };
  if (!isMap(contents)) {
    const what = isScalar(contents) ? "a single value" : "a list";
    throw new UserError(
      `${at(contents.range?.[0] ?? 0)}: the inputs file holds ${what}; its top level must be a mapping of input names to values`,
      "write one `name: value` line per input",
    );
  }
  const values = doc.toJS({ maxAliasCount: 1000 }) as Record<string, unknown>;
  const locations: Record<string, string> = {};
  const keyLocations: Record<string, string> = {};
  const paths: Record<string, string> = {};
  for (const pair of contents.items) {
    const key = pair.key as Node | null;
    if (!isScalar(key)) {
      throw new UserError(`${at(key?.range?.[0] ?? 0)}: an input name must be a plain key, not a list or mapping`);
    }
    const name = String(key.value);
    keyLocations[name] = at(key.range?.[0] ?? 0);
    const value = pair.value as Node | null;
    locations[name] = value?.range ? at(value.range[0]) : keyLocations[name];
    collectPaths(value, name, locations[name], at, paths);
  }
  return { path, values, locations, keyLocations, paths };
}

/** Records where `node` and everything inside it start, by path; a key without a value is located at its key. */
function collectPaths(node: Node | null, path: string, where: string, at: (offset: number) => string, out: Record<string, string>): void {
  out[path] = where;
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      if (!isScalar(key)) continue;
      const value = pair.value as Node | null;
      const keyAt = at(key.range?.[0] ?? 0);
      collectPaths(value, `${path}.${String(key.value)}`, value?.range ? at(value.range[0]) : keyAt, at, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const value = item as Node | null;
      collectPaths(value, `${path}[${i}]`, value?.range ? at(value.range[0]) : where, at, out);
    });
  }
}

function checkJson(path: string, text: string): void {
  try {
    JSON.parse(text);
  } catch (e) {
    const error = findJsonError(text);
    const at = error ? lineColumn(text, error.offset) : undefined;
    throw new UserError(
      `${path}${at ? `:${at.line}:${at.column}` : ""}: ${error?.message ?? (e instanceof Error ? e.message : String(e))}`,
      "fix the JSON syntax, or write the inputs as YAML",
    );
  }
}
