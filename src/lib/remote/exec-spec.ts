// `get task|launchplan --execFile` and `create execution --execFile`: registered interfaces as the execution spec
// library takes them, and starting an execution from a filled-in spec. Never starts one from a spec with a problem.
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import type { Task } from "../idl/gen/flyteidl/admin/task_pb.js";
import type { LaunchPlan } from "../idl/gen/flyteidl/admin/launch_plan_pb.js";
import type { LiteralType } from "../idl/gen/flyteidl/core/types_pb.js";
import { SimpleType } from "../idl/gen/flyteidl/core/types_pb.js";
import type { SpecEntity, SpecVariable } from "../execspec/index.js";
import type { ResolvedConfig } from "../config/config.js";
import type { ExecutionKey } from "../store/records.js";
import { withAdmin } from "./connect.js";
import { fetchEntity } from "./entities.js";
import { NotFoundError, UserError } from "../errors.js";
import { executionEnvNameProblem } from "../execute/env.js";
import { createRemoteExecution, type ExecutionOptions, type LaunchTarget } from "./executions.js";
import { uploadLocalPath } from "./inputs.js";

function acceptsNone(type: LiteralType | undefined): boolean {
  const t = type?.type;
  return t?.case === "unionType" && t.value.variants.some((v) => v.type.case === "simple" && v.type.value === SimpleType.NONE);
}

/** A registered task's or launch plan's inputs, in declaration order, with descriptions and launch-plan defaults. */
export function specEntityOf(kind: "task" | "launchPlan", entity: Task | LaunchPlan): SpecEntity {
  const inputs: Record<string, SpecVariable> = {};
  if (kind === "task") {
    const vars = (entity as Task).closure?.compiledTask?.template?.interface?.inputs?.variables ?? {};
    for (const [name, v] of Object.entries(vars)) {
      if (!v.type) continue;
      inputs[name] = { type: v.type, required: !acceptsNone(v.type), ...(v.description ? { description: v.description } : {}) };
    }
  } else {
    const lp = entity as LaunchPlan;
    const params = lp.closure?.expectedInputs?.parameters ?? lp.spec?.defaultInputs?.parameters ?? {};
    for (const [name, p] of Object.entries(params)) {
      if (!p.var?.type) continue;
      const fallback = p.behavior.case === "default" ? p.behavior.value : undefined;
      inputs[name] = {
        type: p.var.type,
        required: p.behavior.case === "required" ? p.behavior.value : fallback === undefined && !acceptsNone(p.var.type),
        ...(p.var.description ? { description: p.var.description } : {}),
        ...(fallback ? { default: fallback } : {}),
      };
    }
  }
  return { kind, name: entity.id?.name ?? "", version: entity.id?.version ?? "", inputs };
}

/** Writes a whole file or nothing: a temp file beside it, then a rename. */
export function writeFileAtomically(path: string, text: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temp, text);
    renameSync(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
}

export interface CreateFromFileRequest {
  execFile: string;
  dryRun?: boolean;
  /** Flags beat the file. */
  targetProject?: string;
  targetDomain?: string;
  version?: string;
  overwriteCache?: boolean;
  name?: string;
  iamRoleARN?: string;
  kubeServiceAcct?: string;
  clusterPool?: string;
  targetExecutionCluster?: string;
  /** `--envs NAME=VALUE`, each beating the file's value of that name. */
  envs?: string[];
}

export interface CreatedFromFile {
  /** Absent for a dry run. */
  execution?: ExecutionKey;
  launched: LaunchTarget;
  project: string;
  domain: string;
  dryRun: boolean;
  /** The inputs as they were sent (plain values), for the dry run to show. */
  inputs: Record<string, unknown>;
  overwriteCache: boolean;
  /** What the execution is started with beyond its inputs (only what is set), under flytectl's names. */
  options: ExecutionOptions;
}

/** `--envs NAME=VALUE` flags as a map; the value may hold "=" and be empty. */
export function parseEnvsFlags(flags: readonly string[]): Record<string, string> {
  // No prototype: `--envs __proto__=x` is a name like any other, kept, not a prototype set and dropped.
  const envs = Object.create(null) as Record<string, string>;
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    if (eq <= 0) throw new UserError(`--envs ${JSON.stringify(flag)} is not NAME=VALUE`, "write it as e.g. --envs LOG_LEVEL=debug (repeat --envs for more)");
    const name = flag.slice(0, eq);
    const problem = executionEnvNameProblem(name);
    if (problem) throw new UserError(`--envs ${name}: ${problem}`);
    envs[name] = flag.slice(eq + 1);
  }
  return envs;
}

/** The file's settings with the flags laid over them: a flag beats its key, `--envs` each name it gives. */
function executionOptions(spec: { envs: Record<string, string> } & Omit<ExecutionOptions, "envs">, request: CreateFromFileRequest): ExecutionOptions {
  const options: ExecutionOptions = {};
  // Spread defines each name as its own key, `__proto__` included.
  const envs = { ...spec.envs, ...parseEnvsFlags(request.envs ?? []) };
  if (Object.keys(envs).length) options.envs = envs;
  for (const key of ["kubeServiceAcct", "iamRoleARN", "clusterPool", "targetExecutionCluster"] as const) {
    const value = request[key] || spec[key];
    if (value) options[key] = value;
  }
  return options;
}

/** `create execution --execFile F`: reads and checks the spec, checks its inputs against the entity, starts it. */
export async function createExecutionFromFile(config: ResolvedConfig, request: CreateFromFileRequest): Promise<CreatedFromFile> {
  const { locateEntityMessage, readExecutionSpec, specInputsToLiterals } = await import("../execspec/index.js");
  const { literalMapToPlain } = await import("../types/plain.js");
  const spec = await readExecutionSpec(request.execFile);
  const project = request.targetProject || spec.targetProject || config.project;
  const domain = request.targetDomain || spec.targetDomain || config.domain;
  const version = request.version || spec.version || undefined;
  const overwriteCache = Boolean(request.overwriteCache || spec.overwriteCache);
  const options = executionOptions(spec, request);
  return withAdmin(config, "create execution", async (client) => {
    const fetched = await fetchEntity(client, { kind: spec.kind, project, domain, name: spec.name, version }).catch((e: unknown) => {
      if (!(e instanceof NotFoundError)) throw e;
      // Point at the lines that named what was not found; a flag's value is named by the flag.
      const fromFile = (["version", "targetProject", "targetDomain"] as const).filter((key) => spec[key] && !request[key]);
      throw new NotFoundError(locateEntityMessage(spec, e.message, fromFile), e.hint);
    });
    const entity = specEntityOf(spec.kind, fetched.entity);
    const target = { project, domain };
    const literals = await specInputsToLiterals(spec, entity.inputs, {
      // A dry run checks that local paths exist but uploads nothing.
      upload: request.dryRun ? async (local) => pathToFileURL(local).href : (local) => uploadLocalPath(client, target, local),
    });
    const launched: LaunchTarget = { kind: spec.kind, project, domain, name: spec.name, version: fetched.view.version };
    const result: CreatedFromFile = { launched, project, domain, dryRun: Boolean(request.dryRun), inputs: literalMapToPlain(literals), overwriteCache, options };
    if (request.dryRun) return result;
    result.execution = await createRemoteExecution(client, {
      project,
      domain,
      name: request.name,
      launch: launched,
      inputs: literals,
      overwriteCache,
      options,
    });
    return result;
  }, { writes: !request.dryRun });
}
