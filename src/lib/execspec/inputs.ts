// Turns an execution spec's plain input values into the LiteralMap of an execution, checked against the registered
// interface. Never uploads anything while any input is wrong, and never stops at the first problem.
import { isDeepStrictEqual } from "node:util";
import { resolve } from "node:path";
import { create } from "@bufbuild/protobuf";
import { ExecutionSpecError, TypeMismatchError, UserError, describeValue, type ExecutionSpecProblem } from "../errors.js";
import { LiteralMapSchema, type Literal, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import { convertFileValue } from "../inputs/convert.js";
import { InputValueError } from "../inputs/problems.js";
import { shapeOf } from "../inputs/shape.js";
import { nearestName } from "../inputs/suggest.js";
import { typeFromLiteralType } from "../types/from-literal-type.js";
import { describeLiteralType } from "../types/compat.js";
import { literalToPlain } from "../types/plain.js";
import { structProblems } from "./struct-schema.js";
import { acceptsNone, type AnyType } from "../types/types.js";
import { FlyteDirectory, FlyteFile, StructuredDataset } from "../types/values.js";
import type { SpecVariable } from "./entity.js";
import type { ExecutionSpecFile, SpecPosition } from "./parse.js";

export interface SpecInputsOptions {
  /** Stores a local file or folder where the execution can read it and returns its URI (s3://…). */
  upload?: (localPath: string, input: string) => Promise<string>;
  /** The folder relative local paths are resolved from; the working directory when absent. */
  cwd?: string;
}

/**
 * The execution's inputs as literals. Every value is converted with its registered type (typeFromLiteralType,
 * then convertFileValue and toLiteral). Left out of the map: inputs not given that have a launch plan default,
 * and values equal to that default as `get --execFile` wrote them, so the server applies its own default exactly.
 * An optional input given nowhere is sent as null. File, directory and dataframe values that are local paths go
 * through `upload`, and only once every input is valid; URIs (s3://, file://, https://, …) are used as they are.
 * Throws one ExecutionSpecError: unknown inputs, missing required ones, values that do not convert, failed uploads.
 */
export async function specInputsToLiterals(
  spec: ExecutionSpecFile,
  inputs: Record<string, SpecVariable>,
  options: SpecInputsOptions = {},
): Promise<LiteralMap> {
  const problems: ExecutionSpecProblem[] = [];
  const report = (key: string, message: string, position?: SpecPosition) =>
    problems.push({ file: spec.file, ...(position ?? positionOf(spec, key)), key, message });

  const names = Object.keys(inputs);
  for (const key of Object.keys(spec.inputs)) {
    if (Object.hasOwn(inputs, key)) continue;
    const guess = nearestName(key, names);
    const known = names.length ? `the inputs are: ${names.join(", ")}` : `${spec.name} takes no inputs`;
    report(`inputs.${key}`, `unknown input ${JSON.stringify(key)}; ${guess ? `did you mean ${JSON.stringify(guess)}?` : known}`);
  }

  const literals: Record<string, Literal> = {};
  const pending: Pending[] = [];
  for (const [name, variable] of Object.entries(inputs)) {
    const key = `inputs.${name}`;
    if (!Object.hasOwn(spec.inputs, name)) {
      if (variable.default) continue;
      const type = supportedType(variable);
      if (type && acceptsNone(type)) literals[name] = type.toLiteral(null, key);
      else if (variable.required) {
        report(key, `missing required input ${name} (${describeLiteralType(variable.type)}); add it under inputs:`, positionOf(spec, "inputs"));
      }
      continue;
    }
    const value = spec.inputs[name];
    if (variable.default && isDeepStrictEqual(value, literalToPlain(variable.default))) continue;
    let type: AnyType;
    try {
      type = typeFromLiteralType(variable.type, variable.description);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      report(key, e.message);
      continue;
    }
    // The first pass stands in a placeholder URI for each local path, so a wrong input elsewhere stops the run
    // before anything is uploaded.
    const uploads: Upload[] = [];
    const stand = (path: string, at: string) => {
      uploads.push({ path, at });
      return `upload-pending://${path}`;
    };
    const literal = convert(type, value, key, stand, report, spec.written);
    if (!literal) continue;
    const structs = await structProblems(variable.type, value, key);
    for (const p of structs) report(p.key, p.message);
    if (structs.length) continue;
    if (uploads.length === 0) literals[name] = literal;
    else pending.push({ name, type, value, uploads });
  }

  if (!options.upload) {
    for (const { uploads } of pending) {
      for (const { path, at } of uploads) {
        report(at, `${path} is a local path, but a URI is needed here, such as s3://bucket/key`);
      }
    }
  }
  if (problems.length) throw specError(problems);

  const cwd = options.cwd ?? process.cwd();
  for (const { name, type, value, uploads } of pending) {
    const uris = new Map<string, string>();
    for (const { path, at } of uploads) {
      try {
        uris.set(at, await options.upload!(resolve(cwd, path), name));
      } catch (e) {
        report(at, `could not upload ${path}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (uris.size !== uploads.length) continue;
    const literal = convert(type, value, `inputs.${name}`, (_path, at) => uris.get(at)!, report, spec.written);
    if (literal) literals[name] = literal;
  }
  if (problems.length) throw specError(problems);
  // Uploaded inputs were finished last; the map keeps the interface's order regardless.
  const ordered = Object.fromEntries(names.filter((n) => literals[n]).map((n) => [n, literals[n]]));
  return create(LiteralMapSchema, { literals: ordered });
}

interface Upload {
  path: string;
  /** The key path of the value, e.g. `inputs.files[2]`. */
  at: string;
}

interface Pending {
  name: string;
  type: AnyType;
  value: unknown;
  uploads: Upload[];
}

type Report = (key: string, message: string) => void;
type LocalPathToUri = (path: string, at: string) => string;

function supportedType(variable: SpecVariable): AnyType | undefined {
  try {
    return typeFromLiteralType(variable.type);
  } catch {
    return undefined;
  }
}

function convert(
  type: AnyType,
  value: unknown,
  key: string,
  localToUri: LocalPathToUri,
  report: Report,
  written: ReadonlyMap<string, string>,
): Literal | undefined {
  try {
    const prepared = withBlobUris(type, value, key, localToUri);
    return type.toLiteral(convertFileValue(type, prepared, key, { written }), key);
  } catch (e) {
    const problem = conversionProblem(e, key, value, written);
    report(problem.key, problem.message);
    return undefined;
  }
}

function conversionProblem(e: unknown, key: string, value: unknown, written: ReadonlyMap<string, string>): { key: string; message: string } {
  if (e instanceof InputValueError) {
    const at = e.at.startsWith(key) ? e.at : key;
    const found = written.get(at) ?? describeValue(valueAt(value, at.slice(key.length)));
    return { key: at, message: `expected ${e.expected}, found ${found}; ${e.reason}` };
  }
  if (e instanceof TypeMismatchError) {
    const at = e.variable.startsWith(key) ? e.variable : key;
    const detail = e.message.slice(`${e.variable}: expected ${e.expected}, got ${e.given}`.length);
    return { key: at, message: `expected ${e.expected}, found ${e.given}${detail}` };
  }
  if (e instanceof UserError) {
    return { key, message: e.message.startsWith(`${key}: `) ? e.message.slice(key.length + 2) : e.message };
  }
  throw e;
}

/** The part of an input's value at a path suffix such as `[1].when`. */
function valueAt(value: unknown, suffix: string): unknown {
  let node = value;
  for (const [, index, field] of suffix.matchAll(/\[(\d+)\]|\.([^.[]+)/g)) {
    node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[index ?? field] : undefined;
  }
  return node;
}

const schemeRe = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * The value with every local path in a file, directory or dataframe position replaced by its URI. A file:// URI
 * names a path where the tasks run, which need not exist here, so it becomes a value convertFileValue will not check.
 */
function withBlobUris(type: AnyType, value: unknown, at: string, localToUri: LocalPathToUri): unknown {
  const shape = shapeOf(type);
  switch (shape.kind) {
    case "file":
    case "directory":
    case "dataframe":
    case "schema": {
      if (typeof value !== "string" || value === "") return value;
      if (!schemeRe.test(value)) return localToUri(value, at);
      if (!/^file:/i.test(value)) return value;
      if (shape.kind === "file") return new FlyteFile(value);
      return shape.kind === "dataframe" ? new StructuredDataset(value) : new FlyteDirectory(value);
    }
    case "list":
      return Array.isArray(value) ? value.map((item, i) => withBlobUris(shape.element, item, `${at}[${i}]`, localToUri)) : value;
    case "map":
      return isPlainObject(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withBlobUris(shape.valueType, v, `${at}.${k}`, localToUri)]))
        : value;
    case "optional":
      return value === null || value === undefined ? value : withBlobUris(shape.inner, value, at, localToUri);
    case "union": {
      const variant = shape.variants.find((v) => fits(v, value, at));
      return variant ? withBlobUris(variant, value, at, localToUri) : value;
    }
    default:
      return value;
  }
}

// Which union variant a value is meant for, chosen as convertFileValue chooses: the first that takes it. A string
// is a path only for a file-like variant, so `str | file` keeps "/tmp/x" a string.
function fits(type: AnyType, value: unknown, at: string): boolean {
  const shape = shapeOf(type);
  const kind = shape.kind;
  if (kind === "file" || kind === "directory" || kind === "dataframe" || kind === "schema") return typeof value === "string";
  if (kind === "list") return Array.isArray(value);
  if (kind === "map" || kind === "struct") return isPlainObject(value);
  if (shape.kind === "optional") return value === null || value === undefined || fits(shape.inner, value, at);
  if (shape.kind === "union") return shape.variants.some((v) => fits(v, value, at));
  try {
    convertFileValue(type, value, at);
    return true;
  } catch {
    return false;
  }
}

/** Where `key` was written, else its nearest written parent (`inputs.emp[0].pay` → `inputs.emp[0]` → …). */
function positionOf(spec: ExecutionSpecFile, key: string): SpecPosition {
  for (let at = key; at; at = at.replace(/(\.[^.[\]]*|\[\d+\])$/, "")) {
    const found = spec.positions.get(at);
    if (found) return found;
    if (!/[.[]/.test(at)) break;
  }
  return spec.positions.get("inputs") ?? { line: 1, col: 1 };
}

function specError(problems: ExecutionSpecProblem[]): ExecutionSpecError {
  return new ExecutionSpecError([...problems].sort((a, b) => a.line - b.line || a.col - b.col));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
