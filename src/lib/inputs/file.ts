// Reads an inputs file (YAML, or JSON, which YAML reads too) into plain values and where each was written.
// Never converts a value to its input's type: the file does not know the entity; resolveInputs does that.
import { resolve } from "node:path";
import { UserError } from "../errors.js";
import { readUserFile } from "../user-file.js";
import { excerptAt, parseUserYaml } from "../user-yaml.js";
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
  /** How numbers were written that JS cannot hold (`1e400`, `.inf`, `.nan`), by path, so messages can say so. */
  sources: Record<string, string>;
}

/**
 * Parses `path` as YAML 1.2, core schema (`yes` and `2026-01-31` stay strings), or as strict JSON when it ends
 * in `.json`; a relative path is resolved from `cwd`. Throws a UserError for a missing file, one over the size cap
 * (user-file.ts) or not UTF-8, and one starting `file:line:col` for a syntax error, a duplicate key, nesting too
 * deep, an alias bomb, or a top level that is not a mapping. An empty file (or one of only comments) is an empty
 * mapping, as an execution spec's is: no inputs given.
 */
export function readInputsFile(path: string, cwd: string = process.cwd()): InputsFile {
  let text: string;
  try {
    text = readUserFile(resolve(cwd, path), `inputs file ${path}`);
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : code === "EISDIR" ? "is a folder" : `cannot be read (${code ?? String(e)})`;
    throw new UserError(`inputs file ${path} ${why} (resolved from ${cwd})`, "give the path of a YAML or JSON file");
  }
  // YAML would read `"b": }` as null and forgive trailing commas; a .json file gets JSON's own rules.
  if (/\.json$/i.test(path)) checkJson(path, text);
  const yaml = parseUserYaml(text, path);
  const at = (offset: number) => {
    const { line, col } = yaml.lines.linePos(offset);
    return `${path}:${line}:${col}`;
  };
  if (yaml.errors.length) {
    const error = yaml.errors[0];
    const excerpt = excerptAt(text, yaml.lines, error.pos[0]);
    const more = yaml.errors.length > 1 ? `\n(and ${yaml.errors.length - 1} more error${yaml.errors.length > 2 ? "s" : ""} after it)` : "";
    throw new UserError(`${at(error.pos[0])}: ${error.message}${excerpt ? `\n\n${excerpt}` : ""}${more}`, "fix the YAML syntax; JSON is fine too");
  }
  const found: InputsFile = { path, values: {}, locations: {}, keyLocations: {}, paths: {}, sources: {} };
  if (yaml.kind === "empty") return found;
  if (yaml.kind !== "mapping") {
    const what = yaml.kind === "value" ? "a single value" : "a list";
    throw new UserError(
      `${at(yaml.start)}: the inputs file holds ${what}; its top level must be a mapping of input names to values`,
      "write one `name: value` line per input",
    );
  }
  found.values = yaml.value as Record<string, unknown>;
  // A key whose value is not written is located at the key.
  for (const [key, offset] of yaml.keys) setOwn(found.paths, key, at(yaml.values.get(key) ?? offset));
  for (const [key, offset] of yaml.values) if (!Object.hasOwn(found.paths, key)) setOwn(found.paths, key, at(offset));
  for (const name of Object.keys(found.values)) {
    setOwn(found.keyLocations, name, at(yaml.keys.get(name) ?? yaml.start));
    setOwn(found.locations, name, found.paths[name] ?? found.keyLocations[name]);
  }
  for (const [key, text] of yaml.sources) setOwn(found.sources, key, text);
  return found;
}

/** `record[key] = value`, also for a key such as `__proto__`, which plain assignment would take as the prototype. */
function setOwn(record: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
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
