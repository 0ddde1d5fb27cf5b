// Compiling discovered entities to Flyte IDL v1: TaskSpecs, WorkflowSpecs (with their subworkflows) and
// LaunchPlans (a default one per workflow), all problems reported together. Pure: no I/O beyond loading.
import { create } from "@bufbuild/protobuf";
import type { Identifier } from "../idl/gen/flyteidl/core/identifier_pb.js";
import type { WorkflowTemplate } from "../idl/gen/flyteidl/core/workflow_pb.js";
import { TaskSpecSchema, type TaskSpec } from "../idl/gen/flyteidl/admin/task_pb.js";
import { WorkflowSpecSchema, type WorkflowSpec } from "../idl/gen/flyteidl/admin/workflow_pb.js";
import type { LaunchPlan } from "../idl/gen/flyteidl/admin/launch_plan_pb.js";
import { CompileError, UserError, type CompileProblem } from "../errors.js";
import { definitionOf, type Definition, type Entity, type LaunchPlanDefinition, type TaskDefinition, type WorkflowDefinition } from "../sdk/entity.js";
import { tsflyteVersion } from "../version.js";
import { acceptsNone } from "../types/types.js";
import { emitTaskTemplate, type EmitSettings } from "./emit-task.js";
import { emitWorkflowTemplate } from "./emit-workflow.js";
import { emitLaunchPlan } from "./emit-launch-plan.js";
import { checkWorkflowTemplate, type CalleeInterface, type InterfaceLookup } from "./checks.js";
import { discoverEntities, type DiscoveredEntity, type Discovery } from "./names.js";
import { loadModules } from "./load.js";
import { addReferencedModules } from "./references.js";
import { entityNameProblem, projectIdProblem, versionProblem } from "./registration-rules.js";
import { buildCodeBundle, contentVersion, type CodeBundle } from "./bundle.js";

/** The image tasks run in when neither `--image` nor the task's `image:` says otherwise. */
export const defaultImage = `ghcr.io/tsflyte/tsflyte:${tsflyteVersion}`;

export interface CompiledTask {
  name: string;
  spec: TaskSpec;
}
export interface CompiledWorkflow {
  name: string;
  spec: WorkflowSpec;
}
export interface CompiledLaunchPlan {
  name: string;
  launchPlan: LaunchPlan;
  /** True for the launch plan every workflow gets under its own name. */
  isDefault: boolean;
}

export interface CompiledEntities {
  tasks: CompiledTask[];
  workflows: CompiledWorkflow[];
  launchPlans: CompiledLaunchPlan[];
  problems: CompileProblem[];
}

/** Compiles what discovery found. Every entity that can be compiled is; problems come back alongside. */
export function compileDiscovered(discovery: Discovery, settings: EmitSettings, projectRoot: string): CompiledEntities {
  const problems: CompileProblem[] = [...discovery.problems];
  // What FlyteAdmin checks on every identifier, so that registering never fails on a name this compile accepted.
  const target: [string, string | undefined][] = [
    ["project", projectIdProblem(settings.project, "the project")],
    ["domain", settings.domain ? undefined : "the domain is required"],
    ["version", versionProblem(settings.version, "the version")],
  ];
  for (const [entity, message] of target) if (message) problems.push({ entity, message });
  if (problems.length > discovery.problems.length) return { tasks: [], workflows: [], launchPlans: [], problems };
  for (const found of discovery.entities) {
    const message = entityNameProblem(found.name);
    if (message) problems.push({ entity: found.name, location: found.location, message });
  }
  const lookup = (entity: Entity): DiscoveredEntity | undefined => {
    const def = definitionOf(entity);
    return def ? discovery.byDefinition.get(def) : undefined;
  };
  const label = (entity: Entity): string => {
    const found = lookup(entity);
    if (found) return found.name;
    const def = definitionOf(entity);
    return def?.explicitName ?? `an unexported ${def?.kind === "launchPlan" ? "launch plan" : (def?.kind ?? "entity")}`;
  };

  const tasks: CompiledTask[] = [];
  const taskInterfaces = new Map<string, CalleeInterface>();
  for (const found of discovery.entities.filter((e) => e.kind === "task")) {
    const { template, problems: taskProblems } = emitTaskTemplate(
      { definition: found.definition as TaskDefinition, name: found.name, modulePath: found.modulePath, exportName: found.exportName },
      settings,
    );
    for (const message of taskProblems) problems.push({ entity: found.name, message, location: found.location });
    if (!template) continue;
    tasks.push({ name: found.name, spec: create(TaskSpecSchema, { template }) });
    taskInterfaces.set(found.name, interfaceOf(found.definition));
  }

  // Workflows: trace each once; a workflow's spec carries every workflow it reaches as a subworkflow.
  const templates = new Map<string, { template?: WorkflowTemplate; subworkflows: DiscoveredEntity[] }>();
  const workflowsFound = discovery.entities.filter((e) => e.kind === "workflow");
  for (const found of workflowsFound) {
    const emitted = emitWorkflowTemplate(found, { settings, projectRoot, lookup, label });
    problems.push(...emitted.problems);
    templates.set(found.name, { template: emitted.template, subworkflows: emitted.subworkflows });
  }
  const byName = new Map(discovery.entities.map((e) => [`${e.kind}:${e.name}`, e]));
  const interfaceLookup: InterfaceLookup = (kind, id: Identifier) => {
    if (id.project !== settings.project || id.domain !== settings.domain || id.version !== settings.version) return undefined;
    if (kind === "task") return taskInterfaces.get(id.name);
    const found = byName.get(`${kind}:${id.name}`) ?? (kind === "launchPlan" ? byName.get(`workflow:${id.name}`) : undefined);
    return found ? interfaceOf(found.definition) : undefined;
  };

  const workflows: CompiledWorkflow[] = [];
  for (const found of workflowsFound) {
    const own = templates.get(found.name)!;
    if (!own.template) continue;
    const reached = reachableSubworkflows(found, templates);
    if (reached.cycle) {
      problems.push({ entity: found.name, location: found.location, message: `calls itself as a subworkflow (${reached.cycle.join(" → ")}); use a launch plan for recursion` });
      continue;
    }
    const irProblems = checkWorkflowTemplate(own.template, interfaceLookup);
    for (const message of irProblems) problems.push({ entity: found.name, location: found.location, message });
    if (irProblems.length) continue;
    const subWorkflows = reached.names.map((n) => templates.get(n)?.template).filter((t): t is WorkflowTemplate => t !== undefined);
    if (subWorkflows.length !== reached.names.length) continue; // a subworkflow failed; its problems are listed already
    workflows.push({ name: found.name, spec: create(WorkflowSpecSchema, { template: own.template, subWorkflows }) });
  }

  const launchPlans: CompiledLaunchPlan[] = [];
  const lpNames = new Set<string>();
  for (const found of workflowsFound) {
    if (!workflows.some((w) => w.name === found.name)) continue;
    const { launchPlan, problems: lpProblems } = emitLaunchPlan(
      { name: found.name, workflowName: found.name, workflow: found.definition as WorkflowDefinition },
      settings,
    );
    for (const message of lpProblems) problems.push({ entity: found.name, message, location: found.location });
    if (launchPlan) launchPlans.push({ name: found.name, launchPlan, isDefault: true });
    lpNames.add(found.name);
  }
  for (const found of discovery.entities.filter((e) => e.kind === "launchPlan")) {
    const plan = found.definition as LaunchPlanDefinition;
    const wf = lookup(plan.workflow);
    if (!wf) {
      problems.push({ entity: found.name, location: found.location, message: `its workflow (${label(plan.workflow)}) is not exported; export it so it can be registered` });
      continue;
    }
    if (lpNames.has(found.name)) {
      problems.push({ entity: found.name, location: found.location, message: `the name "${found.name}" is taken by the default launch plan of workflow ${found.name}; choose another name` });
      continue;
    }
    lpNames.add(found.name);
    const { launchPlan, problems: lpProblems } = emitLaunchPlan(
      { name: found.name, workflowName: wf.name, workflow: wf.definition as WorkflowDefinition, plan },
      settings,
    );
    for (const message of lpProblems) problems.push({ entity: found.name, message, location: found.location });
    if (launchPlan) launchPlans.push({ name: found.name, launchPlan, isDefault: false });
  }
  launchPlans.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { tasks, workflows, launchPlans, problems };
}

function interfaceOf(def: Definition): CalleeInterface {
  const inputs: CalleeInterface["inputs"] = {};
  for (const [name, type] of Object.entries(def.inputs)) {
    // A launch plan node may leave out inputs the plan defaults; task and subworkflow nodes get defaults bound.
    inputs[name] = { type: type.literalType(), required: !(acceptsNone(type) || (def.kind === "launchPlan" && type.hasDefault)) };
  }
  const outputs: CalleeInterface["outputs"] = {};
  for (const [name, type] of Object.entries(def.outputs)) outputs[name] = type.literalType();
  return { inputs, outputs };
}

function reachableSubworkflows(
  root: DiscoveredEntity,
  templates: Map<string, { subworkflows: DiscoveredEntity[] }>,
): { names: string[]; cycle?: string[] } {
  const names = new Set<string>();
  const visit = (name: string, path: string[]): string[] | undefined => {
    for (const sub of templates.get(name)?.subworkflows ?? []) {
      if (sub.name === root.name || path.includes(sub.name)) return [...path, sub.name];
      if (names.has(sub.name)) continue;
      names.add(sub.name);
      const cycle = visit(sub.name, [...path, sub.name]);
      if (cycle) return cycle;
    }
    return undefined;
  };
  const cycle = visit(root.name, [root.name]);
  return { names: [...names].sort(), cycle };
}

export interface CompileProjectOptions {
  paths: string[];
  project?: string;
  domain?: string;
  /** Defaults to a content hash of the code bundle and settings. */
  version?: string;
  image?: string;
  projectRoot?: string;
  /** Uploads the code bundle (or names where it is) before tasks are emitted: their args then fetch code from it. */
  codeBundleUri?: (bundle: CodeBundle) => string | Promise<string>;
}

export interface CompiledProject extends CompiledEntities {
  projectRoot: string;
  version: string;
  image: string;
  project: string;
  domain: string;
  bundle: CodeBundle;
  entities: DiscoveredEntity[];
}

/** Loads the modules under `paths`, discovers their entities and compiles them; throws a CompileError listing every problem. */
export async function compileProject(options: CompileProjectOptions): Promise<CompiledProject> {
  if (options.paths.length === 0) throw new UserError("nothing to compile: give one or more files or folders");
  const loaded = await loadModules(options.paths, { projectRoot: options.projectRoot });
  const problems: CompileProblem[] = loaded.problems.map((p) => ({ entity: p.relPath, message: `failed to load: ${p.reason}`, location: p.location }));
  await addReferencedModules(loaded);
  const discovery = discoverEntities(loaded.projectRoot, loaded.modules);
  if (loaded.modules.length > 0 && discovery.entities.length === 0 && problems.length === 0) {
    throw new UserError(
      `no tasks, workflows or launch plans are exported from ${options.paths.join(", ")}`,
      "export them: export const myTask = task({...}, fn)",
    );
  }
  const image = options.image ?? defaultImage;
  const bundle = await buildCodeBundle(loaded.projectRoot, loaded.modules.map((m) => m.file));
  const version = options.version ?? contentVersion(bundle.md5, { image, tsflyte: tsflyteVersion });
  const settings: EmitSettings = {
    project: options.project ?? "flytesnacks",
    domain: options.domain ?? "development",
    version,
    image,
    codeBundleUri: options.codeBundleUri ? await options.codeBundleUri(bundle) : undefined,
  };
  const compiled = compileDiscovered(discovery, settings, loaded.projectRoot);
  problems.push(...compiled.problems);
  if (problems.length) throw new CompileError(problems);
  return { ...compiled, problems, projectRoot: loaded.projectRoot, version, image, project: settings.project, domain: settings.domain, bundle, entities: discovery.entities };
}
