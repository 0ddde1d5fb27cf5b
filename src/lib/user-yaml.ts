// Reads YAML a user wrote (execution specs, inputs files) into plain values and where each was written, in time
// linear in its size. Never follows an alias without a budget, never nests past maxNestingDepth, never lets a key
// such as `__proto__` reach a prototype.
import { Composer, isAlias, isMap, isScalar, isSeq, LineCounter, Parser, YAMLParseError, type Alias, type CST, type Document, type Node, type YAMLError, type YAMLMap, type YAMLSeq } from "yaml";
import { UserError } from "./errors.js";
import { maxNestingDepth } from "./user-file.js";

/**
 * How many values aliases may stand for in one file, counted as if each alias were written out. Reusing an anchor
 * a few hundred times stays far below; a "billion laughs" file, which multiplies aliases of aliases, hits it at once.
 */
export const maxAliasedValues = 100_000;

/** One problem at a place in the file, 1-based. */
export interface YamlFileProblem {
  line: number;
  col: number;
  message: string;
}

const yamlFileErrorBrand = Symbol.for("tsflyte.YamlFileError");

/** Problems in a YAML file that are not syntax: nesting, aliases, duplicate or non-scalar keys. One line each. */
export class YamlFileError extends UserError {
  readonly [yamlFileErrorBrand] = true;
  constructor(
    readonly file: string,
    readonly problems: YamlFileProblem[],
  ) {
    super(problems.map((p) => `${file}:${p.line}:${p.col}: ${p.message}`).join("\n"), "fix the file at that line and column");
    this.name = "YamlFileError";
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[yamlFileErrorBrand] === true;
  }
}

/** A YAML file read into plain values. Paths are written `a.b[0].c`, top-level keys bare. */
export interface UserYaml {
  /** Syntax errors, in order; when there are any, nothing else below is filled in. */
  errors: YAMLError[];
  lines: LineCounter;
  /** What the top level holds: nothing (an empty file, or only comments), a mapping, a list or a single value. */
  kind: "empty" | "mapping" | "list" | "value";
  /** Where the top-level value starts. */
  start: number;
  /** The whole file as plain values: mappings are objects whose keys are all own properties; aliases are shared. */
  value: unknown;
  /** Where each key of a mapping is written, by its path. */
  keys: Map<string, number>;
  /** Where each value starts, by its path: mapping values and list items, nested ones too. */
  values: Map<string, number>;
  /** How numbers were written that a JS number cannot hold (`1e400`, `.inf`, `.nan`, `18446744073709551616`). */
  sources: Map<string, string>;
}

/**
 * Parses `text` (`file` names it in messages). Syntax errors are returned in `errors` for the caller to word; a file
 * nested deeper than maxNestingDepth, an alias that is undefined, circular or over maxAliasedValues, a key written
 * twice and a key that is a list or mapping throw one YamlFileError listing them by line and column.
 */
export function parseUserYaml(text: string, file: string): UserYaml {
  const lines = new LineCounter();
  const tokens = Array.from(new Parser(lines.addNewLine).parse(text));
  const empty: UserYaml = { errors: [], lines, kind: "empty", start: 0, value: null, keys: new Map(), values: new Map(), sources: new Map() };
  const deep = tooDeep(tokens);
  if (deep !== undefined) {
    const { line, col } = lines.linePos(deep);
    throw new YamlFileError(file, [
      { line, col, message: `mappings and lists nest more than ${maxNestingDepth} levels deep here; tsflyte reads at most ${maxNestingDepth} levels` },
    ]);
  }
  // Duplicate keys are found below, in one pass: the YAML library's own check compares each key with every other.
  const docs = Array.from(new Composer({ uniqueKeys: false }).compose(tokens, true, text.length)) as Document[];
  const doc = docs[0];
  const errors = [...doc.errors];
  const second = docs.at(1);
  if (second) {
    errors.push(new YAMLParseError([second.range?.[0] ?? 0, second.range?.[1] ?? 0], "MULTIPLE_DOCS", "the file holds more than one YAML document; keep one (remove the second ---)"));
  }
  if (errors.length) return { ...empty, errors };
  const root = doc.contents as Node | null;
  if (root === null) return empty;
  const reader = new ValueReader(text);
  const value = reader.read(root, "", 1);
  if (reader.problems.length) {
    reader.problems.sort((a, b) => a.offset - b.offset);
    throw new YamlFileError(file, reader.problems.map((p) => ({ ...lines.linePos(p.offset), message: p.message })));
  }
  const kind = isMap(root) ? "mapping" : isSeq(root) ? "list" : "value";
  return { errors: [], lines, kind, start: root.range?.[0] ?? 0, value, keys: reader.keys, values: reader.values, sources: reader.sources };
}

type CstItem = { key?: CST.Token | null; value?: CST.Token | null };

/** The offset of the first collection nested deeper than maxNestingDepth, if any; walked without recursion. */
function tooDeep(tokens: CST.Token[]): number | undefined {
  const stack: [CST.Token, number][] = tokens.map((token) => [token, 0]);
  stack.reverse();
  while (stack.length) {
    const [token, depth] = stack.pop()!;
    let children: (CST.Token | null | undefined)[] = [];
    let inner = depth;
    if (token.type === "document") children = [token.value];
    else if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection") {
      inner = depth + 1;
      if (inner > maxNestingDepth) return token.type === "flow-collection" ? token.start.offset : token.offset;
      children = (token.items as CstItem[]).flatMap((item) => [item.key, item.value]);
    }
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i];
      if (child) stack.push([child, inner]);
    }
  }
  return undefined;
}

interface Read {
  value: unknown;
  /** How many values it holds, aliases written out. */
  size: number;
  /** How deep it nests, aliases written out; a scalar is 0. */
  height: number;
}

/** Turns the composed nodes into plain values, recording positions; recursion is bounded by the depth check. */
class ValueReader {
  readonly keys = new Map<string, number>();
  readonly values = new Map<string, number>();
  readonly sources = new Map<string, string>();
  readonly problems: { offset: number; message: string }[] = [];
  private readonly anchors = new Map<string, Node>();
  private readonly done = new Map<Node, Read>();
  private aliased = 0;
  private aliasBudgetSpent = false;

  constructor(private readonly text: string) {}

  read(node: Node, path: string, depth: number): unknown {
    return this.node(node, path, depth).value;
  }

  private node(node: Node, path: string, depth: number): Read {
    if (node.anchor) this.anchors.set(node.anchor, node);
    let read: Read;
    if (isAlias(node)) read = this.alias(node, depth);
    else if (isMap(node)) read = this.map(node, path, depth);
    else if (isSeq(node)) read = this.seq(node, path, depth);
    else if (isScalar(node)) {
      const value = node.value;
      if (typeof value === "number" && (!Number.isFinite(value) || (Number.isInteger(value) && !Number.isSafeInteger(value)))) {
        this.sources.set(path, String(node.source ?? value));
      }
      read = { value, size: 1, height: 0 };
    } else read = { value: null, size: 1, height: 0 };
    this.done.set(node, read);
    return read;
  }

  private alias(node: Alias, depth: number): Read {
    const offset = node.range?.[0] ?? 0;
    const name = node.source;
    const target = this.anchors.get(name);
    const problem = (message: string): Read => {
      this.problems.push({ offset, message });
      return { value: null, size: 1, height: 0 };
    };
    if (!target) return problem(`the alias *${name} has no anchor &${name} before it; define the anchor on the value it stands for`);
    const read = this.done.get(target);
    if (!read) return problem(`the alias *${name} stands for a value that holds it, which would never end; write the value out instead`);
    if (this.aliasBudgetSpent) return read;
    this.aliased += read.size;
    if (this.aliased > maxAliasedValues) {
      this.aliasBudgetSpent = true;
      return problem(`aliases here stand for more than ${maxAliasedValues.toLocaleString("en-US")} values in all (an alias bomb?); write the values out, or reuse fewer`);
    }
    if (depth - 1 + read.height > maxNestingDepth) {
      return problem(`through the alias *${name}, mappings and lists nest more than ${maxNestingDepth} levels deep; tsflyte reads at most ${maxNestingDepth} levels`);
    }
    return read;
  }

  private map(node: YAMLMap, path: string, depth: number): Read {
    const out: Record<string, unknown> = {};
    let size = 1;
    let height = 1;
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const keyOffset = keyNode?.range?.[0] ?? node.range?.[0] ?? 0;
      const name = this.keyName(keyNode, keyOffset);
      if (name === undefined) continue;
      const keyPath = path ? `${path}.${name}` : name;
      if (Object.hasOwn(out, name)) {
        const written = keyNode?.range ? this.text.slice(keyNode.range[0], keyNode.range[1]).trim() : name;
        this.problems.push({ offset: keyOffset, message: `the key ${written} is written twice; keep one` });
        continue;
      }
      this.keys.set(keyPath, keyOffset);
      const valueNode = pair.value as Node | null;
      let value: unknown = null;
      if (valueNode) {
        if (valueNode.range) this.values.set(keyPath, valueNode.range[0]);
        const read = this.node(valueNode, keyPath, depth + 1);
        value = read.value;
        size += read.size;
        height = Math.max(height, read.height + 1);
      }
      // A plain assignment of `__proto__` would set the object's prototype instead of adding the key.
      if (name === "__proto__") Object.defineProperty(out, name, { value, writable: true, enumerable: true, configurable: true });
      else out[name] = value;
    }
    return { value: out, size, height };
  }

  private seq(node: YAMLSeq, path: string, depth: number): Read {
    const out: unknown[] = [];
    let size = 1;
    let height = 1;
    node.items.forEach((item, i) => {
      const itemNode = item as Node | null;
      const itemPath = `${path}[${i}]`;
      if (!itemNode) {
        out.push(null);
        return;
      }
      if (itemNode.range) this.values.set(itemPath, itemNode.range[0]);
      const read = this.node(itemNode, itemPath, depth + 1);
      out.push(read.value);
      size += read.size;
      height = Math.max(height, read.height + 1);
    });
    return { value: out, size, height };
  }

  /** A key as a property name: a scalar's value as text (null is ""); a list or mapping as a key is refused. */
  private keyName(keyNode: Node | null, offset: number): string | undefined {
    let node = keyNode;
    if (node && isAlias(node)) {
      const target = this.anchors.get(node.source);
      node = target && this.done.has(target) ? target : null;
    }
    if (node === null || node === undefined) return keyNode ? this.unusableKey(offset) : "";
    if (!isScalar(node)) return this.unusableKey(offset);
    return node.value === null || node.value === undefined ? "" : String(node.value);
  }

  private unusableKey(offset: number): undefined {
    this.problems.push({ offset, message: "a key must be a plain name such as `name:`, not a list, a mapping or an unresolved alias" });
    return undefined;
  }
}

/** The line at `offset` with a caret under its column, cut to 80 characters around it, for a syntax error. */
export function excerptAt(text: string, lines: LineCounter, offset: number): string {
  const { line, col } = lines.linePos(offset);
  const start = lines.lineStarts[line - 1] ?? 0;
  const end = lines.lineStarts[line] ?? text.length;
  let lineText = text.slice(start, end).replace(/[\r\n]+$/, "");
  let caret = col - 1;
  if (lineText.length > 80) {
    const from = Math.max(0, Math.min(caret - 40, lineText.length - 79));
    lineText = `${from > 0 ? "…" : ""}${lineText.slice(from, from + 79)}…`;
    caret = caret - from + (from > 0 ? 1 : 0);
  }
  if (!lineText.trim()) return "";
  // At the start of a line the problem is usually what the line before left open.
  const before = line > 1 && !lineText.slice(0, caret).trim() ? `${text.slice(lines.lineStarts[line - 2], start).replace(/[\r\n]+$/, "").slice(0, 80)}\n` : "";
  return `${before}${lineText}\n${" ".repeat(caret)}^`;
}
