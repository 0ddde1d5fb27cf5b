// Reads an execution spec file (flytectl's `--execFile` YAML) and checks it against its JSON Schema, remembering
// where every key was written. Never looks at the entity's interface: inputs stay plain values until inputs.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import { ExecutionSpecError, UserError, describeValue, type ExecutionSpecProblem } from "../errors.js";
import { executionEnvNameProblem } from "../execute/env.js";
import { nearestName } from "../inputs/suggest.js";
import { readUserFile } from "../user-file.js";
import { parseUserYaml, YamlFileError, type UserYaml } from "../user-yaml.js";

/** Where a key or list item was written, both 1-based. */
export interface SpecPosition {
  line: number;
  col: number;
}

/** An execution spec as written, checked for shape; `inputs` are still plain values. */
export interface ExecutionSpecFile {
  file: string;
  kind: "task" | "launchPlan";
  name: string;
  version?: string;
  /** Plain values as written, in the file's order. */
  inputs: Record<string, unknown>;
  /** Environment variables for every task of the execution, names checked. */
  envs: Record<string, string>;
  targetProject?: string;
  targetDomain?: string;
  /** The service account task pods run as (spec.security_context.run_as.k8s_service_account and auth_role). */
  kubeServiceAcct?: string;
  /** The IAM role task pods get (spec.security_context.run_as.iam_role and auth_role). */
  iamRoleARN?: string;
  /** spec.cluster_assignment.cluster_pool_name. */
  clusterPool?: string;
  /** spec.execution_cluster_label.value. */
  targetExecutionCluster?: string;
  /** tsflyte also accepts this key (flytectl has it as a flag only). */
  overwriteCache?: boolean;
  /** Where each key was written, for later error messages: "inputs.x" → {line, col}; list items as "inputs.x[0]". */
  positions: Map<string, SpecPosition>;
  /** How numbers were written that JS cannot hold (`inputs.n` → `1e400`), for messages. */
  written: Map<string, string>;
}

/** Reads and checks the spec at `path` (relative to the working directory); the path is kept as given for messages. */
export async function readExecutionSpec(path: string): Promise<ExecutionSpecFile> {
  let text: string;
  try {
    text = readUserFile(path, `execution spec file ${path}`);
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : code === "EISDIR" ? "is a folder" : `cannot be read (${code ?? String(e)})`;
    throw new UserError(
      `execution spec file ${path} ${why} (resolved from ${process.cwd()})`,
      "write one with `tsflyte get task|launchplan NAME --execFile FILE`",
    );
  }
  return parseExecutionSpec(text, path);
}

/**
 * Parses YAML text (`file` names it in messages) and checks it against schemas/execution-spec.schema.json.
 * Throws one ExecutionSpecError listing every problem: syntax, unknown keys, wrong types, task/workflow.
 * Empty strings and nulls for the optional keys mean "not set".
 */
export async function parseExecutionSpec(text: string, file: string): Promise<ExecutionSpecFile> {
  let yaml: UserYaml;
  try {
    yaml = parseUserYaml(text.replace(/^\uFEFF/, ""), file);
  } catch (e) {
    if (e instanceof YamlFileError) throw new ExecutionSpecError(e.problems.map((p) => ({ file, ...p, key: "" })));
    throw e;
  }
  const problemAt = (offset: number, key: string, message: string): ExecutionSpecProblem => ({
    file,
    ...yaml.lines.linePos(offset),
    key,
    message,
  });

  if (yaml.errors.length) throw new ExecutionSpecError(syntaxProblems(yaml.errors, problemAt));
  if (yaml.kind === "list" || yaml.kind === "value") {
    const what = yaml.kind === "value" ? "a single value" : "a list";
    throw new ExecutionSpecError([problemAt(yaml.start, "", `the file holds ${what}; its top level must be a mapping such as \`task: NAME\``)]);
  }

  // An empty file is an empty mapping, as an inputs file's is; the schema then says what is missing.
  const data = (yaml.kind === "empty" ? {} : yaml.value) as Record<string, unknown>;
  const positions = new Map<string, SpecPosition>();
  for (const [path, offset] of yaml.keys) positions.set(path, yaml.lines.linePos(offset));
  for (const [path, offset] of yaml.values) if (!positions.has(path)) positions.set(path, yaml.lines.linePos(offset));
  const validate = await specValidator();
  if (!validate(data)) {
    const problems = schemaProblems(validate.errors ?? [], data, positions, knownKeys(validate), yaml.kind === "empty").map((p) => ({ file, ...p }));
    problems.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new ExecutionSpecError(problems);
  }

  const envs = (data.envs as Record<string, string> | null) ?? {};
  const envProblems = Object.keys(envs).flatMap((name) => {
    const problem = executionEnvNameProblem(name);
    return problem ? [{ file, ...(positions.get(`envs.${name}`) ?? { line: 1, col: 1 }), key: `envs.${name}`, message: problem }] : [];
  });
  if (envProblems.length) throw new ExecutionSpecError(envProblems);

  const task = data.task as string | undefined;
  const spec: ExecutionSpecFile = {
    file,
    kind: task !== undefined ? "task" : "launchPlan",
    name: task ?? (data.workflow as string),
    inputs: (data.inputs as Record<string, unknown> | null) ?? {},
    envs,
    positions,
    written: yaml.sources,
  };
  for (const key of ["version", "targetProject", "targetDomain", "kubeServiceAcct", "iamRoleARN", "clusterPool", "targetExecutionCluster"] as const) {
    const value = data[key];
    if (typeof value === "string" && value !== "") spec[key] = value;
  }
  if (typeof data.overwriteCache === "boolean") spec.overwriteCache = data.overwriteCache;
  return spec;
}

/** `file:line:col` where a top-level key of the spec was written. */
export function specKeyLocation(spec: ExecutionSpecFile, key: string): string {
  const { line, col } = spec.positions.get(key) ?? { line: 1, col: 1 };
  return `${spec.file}:${line}:${col}`;
}

/**
 * A message about the entity the spec names, located in the file: at its task/workflow key, with where the other
 * settings it used were written (`keys`: those of version, targetProject, targetDomain that came from the file).
 */
export function locateEntityMessage(spec: ExecutionSpecFile, message: string, keys: string[]): string {
  const nameKey = spec.kind === "task" ? "task" : "workflow";
  const others = keys.map((key) => `${key} from ${specKeyLocation(spec, key)}`);
  return `${specKeyLocation(spec, nameKey)}: ${nameKey}: ${message}${others.length ? ` (${others.join(", ")})` : ""}`;
}

type ProblemAt = (offset: number, key: string, message: string) => ExecutionSpecProblem;

// A syntax error usually sets off more errors after it that only confuse.
function syntaxProblems(errors: readonly { message: string; pos: [number, number] }[], problemAt: ProblemAt): ExecutionSpecProblem[] {
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? "s" : ""} that may follow from it)` : "";
  return [problemAt(errors[0].pos[0], "", `${lowerFirst(errors[0].message)}${more}`)];
}

function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text;
}

let validator: Promise<ValidateFunction> | undefined;

/** The compiled schema, built on first use: ajv takes a while to load and compile, and most commands never need it. */
function specValidator(): Promise<ValidateFunction> {
  return (validator ??= (async () => {
    const [{ Ajv2020 }, { packageRoot }] = await Promise.all([import("ajv/dist/2020.js"), import("../package-root.js")]);
    const schema = JSON.parse(readFileSync(join(packageRoot, "schemas", "execution-spec.schema.json"), "utf8")) as object;
    const ajv = new Ajv2020({ allErrors: true, verbose: true, allowUnionTypes: true });
    return ajv.compile(schema);
  })());
}

function knownKeys(validate: ValidateFunction): string[] {
  const properties = (validate.schema as { properties?: Record<string, unknown> }).properties;
  return Object.keys(properties ?? {});
}

type Located = Omit<ExecutionSpecProblem, "file">;

function schemaProblems(
  errors: ErrorObject[],
  data: Record<string, unknown>,
  positions: Map<string, SpecPosition>,
  known: string[],
  emptyFile: boolean,
): Located[] {
  const at = (key: string): SpecPosition => positions.get(key) ?? { line: 1, col: 1 };
  const problems: Located[] = [];
  for (const error of errors) {
    // `oneOf` reports a `required` failure per branch; the oneOf error itself says it better.
    if (error.schemaPath.startsWith("#/oneOf/")) continue;
    const key = keyPath(error.instancePath, data);
    switch (error.keyword) {
      case "oneOf": {
        if ("task" in data && "workflow" in data) {
          const later = comparePositions(at("task"), at("workflow")) > 0 ? "task" : "workflow";
          problems.push({
            ...at(later),
            key: later,
            message: "both task and workflow are set; keep task to run a task, or workflow to run a launch plan",
          });
        } else {
          const none = emptyFile ? "the file is empty, so " : Object.keys(data).length === 0 ? "the file sets no keys, so " : "";
          problems.push({
            line: 1,
            col: 1,
            key: "",
            message: `${none}neither task nor workflow is set; add \`task: NAME\` to run a task, or \`workflow: NAME\` to run a launch plan`,
          });
        }
        break;
      }
      case "additionalProperties": {
        const extra = String((error.params as { additionalProperty: string }).additionalProperty);
        const guess = nearestName(extra, known, Math.max(2, Math.floor(extra.length / 5)));
        problems.push({
          ...at(extra),
          key: extra,
          message: `unknown key ${JSON.stringify(extra)}; ${guess ? `did you mean ${JSON.stringify(guess)}?` : `the keys are: ${known.join(", ")}`}`,
        });
        break;
      }
      case "type": {
        const types = [(error.params as { type: string | string[] }).type].flat().filter((ty) => ty !== "null");
        problems.push({ ...at(key), key, message: `expected ${typeWords(types, key)}, found ${describeValue(error.data)}${quoteHint(types, error.data)}` });
        break;
      }
      case "minLength":
        problems.push({ ...at(key), key, message: `expected a non-empty name, found ${describeValue(error.data)}` });
        break;
      default:
        problems.push({ ...at(key), key, message: error.message ?? `does not match the schema (${error.keyword})` });
    }
  }
  return problems;
}

function comparePositions(a: SpecPosition, b: SpecPosition): number {
  return a.line - b.line || a.col - b.col;
}

/** `/envs/FOO` → `envs.FOO`, and `/inputs/x/0` → `inputs.x[0]` when x is a list. */
function keyPath(pointer: string, data: unknown): string {
  let path = "";
  let node = data;
  for (const raw of pointer.split("/").slice(1)) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    path = Array.isArray(node) ? `${path}[${segment}]` : path ? `${path}.${segment}` : segment;
    node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return path;
}

function typeWords(types: string[], key: string): string {
  const words = types.map((ty) => {
    if (ty === "object") return key === "inputs" ? "a mapping of input names to values" : key === "envs" ? "a mapping of names to values" : "a mapping";
    if (ty === "boolean") return "true or false";
    if (ty === "array") return "a list";
    return `a ${ty}`;
  });
  return words.join(" or ");
}

function quoteHint(types: string[], value: unknown): string {
  if (!types.includes("string") || (typeof value !== "number" && typeof value !== "boolean")) return "";
  return `; put it in quotes: "${String(value)}"`;
}
