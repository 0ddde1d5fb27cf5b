// What the remote-capable commands do, given the resolved config: the control plane when one is configured, the
// local history otherwise (for the commands that have a local meaning). Never parses flags or prints.
import { resolve } from "node:path";
import { NotFoundError, UserError } from "../errors.js";
import type { ResolvedConfig } from "../config/config.js";
import type { ExecutionDetailsView, ExecutionView } from "../engine/history.js";
import type { ExecutionKey } from "../store/records.js";
import type { WorkflowTemplate } from "../idl/gen/flyteidl/core/workflow_pb.js";
import type { TaskTemplate } from "../idl/gen/flyteidl/core/tasks_pb.js";
import { withAdmin } from "./connect.js";
import type { RegisterRequest, RegisterResult } from "./register.js";
import type { RegisterFilesRequest, RegisterFilesResult } from "./register-files.js";
import type { EntityView, GetEntities, ProjectView } from "./entities.js";
import type { EntityKind } from "./register.js";

export interface GetExecutionsRequest {
  project: string;
  domain: string;
  name?: string;
  details?: boolean;
  nodeId?: string;
  limit: number;
  fieldSelector?: string;
}

/** `get execution [NAME]`: from the control plane, or the local history when none is configured. */
export async function getExecutions(config: ResolvedConfig, request: GetExecutionsRequest): Promise<ExecutionView[] | ExecutionView | ExecutionDetailsView> {
  const details = Boolean(request.details || request.nodeId);
  if (config.target === "local") {
    const { getLocalExecutions } = await import("../local/commands.js");
    const selector = await localSelector(request.fieldSelector);
    const result = await getLocalExecutions({ ...request, details, limit: selector ? Number.MAX_SAFE_INTEGER : request.limit });
    return Array.isArray(result) && selector ? result.filter(selector).slice(0, request.limit) : result;
  }
  // Without --details, no protobuf runtime is loaded: listing and showing one stay as quick to start as the CLI itself.
  const { fieldSelectorFilters, getExecutionView, listExecutionViewsRemote } = await import("./execution-json.js");
  const key = { project: request.project, domain: request.domain, name: request.name ?? "" };
  try {
    return await withAdmin<ExecutionView[] | ExecutionView | ExecutionDetailsView>(config, "get execution", async (client) => {
      if (!request.name) return listExecutionViewsRemote(client, { ...request, filters: fieldSelectorFilters(request.fieldSelector) });
      if (!details) return getExecutionView(client, key);
      const { describeRemoteExecution } = await import("./executions.js");
      return describeRemoteExecution(client, key, { details, nodeId: request.nodeId });
    });
  } catch (e) {
    // A name copied from a local run's output, asked of the configured control plane: say where it is.
    if (!(e instanceof NotFoundError) || !request.name) throw e;
    const { localExecutionExists } = await import("../local/commands.js");
    if (!(await localExecutionExists(key))) throw e;
    const where = config.target === "kubernetes" ? "in the cluster" : "on the control plane";
    throw new NotFoundError(`${e.message} ${where}; it is a run in this machine's local history`, "add --target local to read it there");
  }
}

const localSelectorKeys: Record<string, (v: ExecutionView) => string> = {
  name: (v) => v.name,
  phase: (v) => v.phase,
  mode: (v) => v.mode,
  "launch_plan.name": (v) => v.launched.name,
  "workflow.name": (v) => v.launched.name,
  "task.name": (v) => v.launched.name,
};

/** The field selector over local execution views, with the keys FlyteAdmin knows by the same names. */
async function localSelector(selector: string | undefined): Promise<((v: ExecutionView) => boolean) | undefined> {
  const { parseFieldSelector, selectorTest } = await import("./field-selector.js");
  const terms = parseFieldSelector(selector, Object.keys(localSelectorKeys), /^execution\./);
  return selectorTest(terms, (v: ExecutionView, key) => localSelectorKeys[key](v));
}

/** `register PATHS…`; a dry run needs no control plane. */
export async function register(config: ResolvedConfig, request: Omit<RegisterRequest, "project" | "domain">): Promise<RegisterResult> {
  const { registerPaths } = await import("./register.js");
  const full = { ...request, project: config.project, domain: config.domain };
  if (request.dryRun) return registerPaths(undefined, full);
  return withAdmin(config, "register", (client) => registerPaths(client, full), { writes: true });
}

/** `register files PACKAGE.tgz|FILES…` into the configured project and domain; a dry run needs no control plane. */
export async function registerFilesCommand(config: ResolvedConfig, request: Omit<RegisterFilesRequest, "project" | "domain">): Promise<RegisterFilesResult> {
  const { registerFiles } = await import("./register-files.js");
  const full = { ...request, project: config.project, domain: config.domain };
  if (request.dryRun) return registerFiles(undefined, full);
  return withAdmin(config, "register files", (client) => registerFiles(client, full), { writes: true });
}

export async function getEntities(config: ResolvedConfig, request: Omit<GetEntities, "project" | "domain">): Promise<EntityView[] | EntityView> {
  const { getRemoteEntities, cliNoun } = await import("./entities.js");
  return withAdmin(config, `get ${cliNoun(request.kind)}`, (client) => getRemoteEntities(client, { ...request, project: config.project, domain: config.domain }));
}

export async function getProjectList(config: ResolvedConfig, id?: string): Promise<ProjectView[] | ProjectView> {
  const { getProjects } = await import("./entities.js");
  return withAdmin(config, "get project", (client) => getProjects(client, id));
}

export async function createProjectCommand(config: ResolvedConfig, request: { id: string; name: string; description?: string }): Promise<ProjectView> {
  const { createProject } = await import("./entities.js");
  return withAdmin(config, "create project", (client) => createProject(client, request));
}

export async function updateLaunchPlan(config: ResolvedConfig, request: { name: string; version: string; state: "ACTIVE" | "INACTIVE" }): Promise<EntityView> {
  const { setLaunchPlanState } = await import("./entities.js");
  return withAdmin(config, "update launchplan", (client) => setLaunchPlanState(client, { ...request, project: config.project, domain: config.domain }));
}

export interface WorkflowGraphRequest {
  /** A registered workflow. */
  name?: string;
  version?: string;
  latest?: boolean;
  /** Or a local module, before it is registered. */
  file?: string;
  entity?: string;
}

export interface WorkflowGraphParts {
  name: string;
  workflow: WorkflowTemplate;
  subWorkflows: WorkflowTemplate[];
  tasks: TaskTemplate[];
}

/** The parts `get workflow -o dot|doturl|svg` draws: a registered workflow, or one compiled from a local module. */
export async function workflowGraph(config: ResolvedConfig, request: WorkflowGraphRequest): Promise<WorkflowGraphParts> {
  if (request.file) {
    if (!request.entity) throw new UserError("--file needs the workflow's name: get workflow --file FILE ENTITY");
    const { compileProject } = await import("../compiler/compile.js");
    const file = resolve(request.file);
    const compiled = await compileProject({ paths: [file], project: config.project, domain: config.domain });
    const found =
      compiled.entities.find((e) => e.kind === "workflow" && e.exportName === request.entity && resolve(compiled.projectRoot, e.modulePath) === file) ??
      compiled.entities.find((e) => e.kind === "workflow" && e.name === request.entity);
    const workflow = found && compiled.workflows.find((w) => w.name === found.name);
    if (!workflow?.spec.template) {
      const names = compiled.entities.filter((e) => e.kind === "workflow").map((e) => e.exportName);
      throw new NotFoundError(`${request.file} exports no workflow named "${request.entity}"`, names.length ? `its workflows: ${names.join(", ")}` : undefined);
    }
    return { name: workflow.name, workflow: workflow.spec.template, subWorkflows: workflow.spec.subWorkflows, tasks: compiled.tasks.map((t) => t.spec.template!).filter(Boolean) };
  }
  if (!request.name) throw new UserError("give a workflow NAME, or --file FILE ENTITY for a local module");
  if (!request.version && !request.latest) throw new UserError("drawing a workflow needs --version V or --latest");
  const { fetchEntity, workflowGraphParts } = await import("./entities.js");
  return withAdmin(config, "get workflow", async (client) => {
    const fetched = await fetchEntity(client, { kind: "workflow", project: config.project, domain: config.domain, name: request.name!, version: request.version });
    return { name: request.name!, ...workflowGraphParts(fetched.entity) };
  });
}

export interface ExecFileRequest {
  kind: Extract<EntityKind, "task" | "launchPlan">;
  name: string;
  version?: string;
  file: string;
}

/** `get task|launchplan NAME --execFile F`: writes the execution spec to fill in; resolves to the path and version. */
export async function writeExecFile(config: ResolvedConfig, request: ExecFileRequest): Promise<{ file: string; kind: string; name: string; version: string }> {
  const { fetchEntity, cliNoun } = await import("./entities.js");
  const { specEntityOf, writeFileAtomically } = await import("./exec-spec.js");
  const { generateExecutionSpec } = await import("../execspec/index.js");
  return withAdmin(config, `get ${cliNoun(request.kind)}`, async (client) => {
    const fetched = await fetchEntity(client, { kind: request.kind, project: config.project, domain: config.domain, name: request.name, version: request.version });
    const text = generateExecutionSpec(specEntityOf(request.kind, fetched.entity));
    const file = resolve(request.file);
    writeFileAtomically(file, text);
    return { file, kind: request.kind, name: request.name, version: fetched.view.version };
  });
}

/** `delete execution NAME…`: terminates each with the cause; every name is tried, the first failure is thrown after. */
export async function terminateExecutions(
  config: ResolvedConfig,
  names: string[],
  cause: string,
  onTerminated?: (key: ExecutionKey) => void,
): Promise<{ terminated: ExecutionKey[] }> {
  const { terminateRemote } = await import("./executions.js");
  return withAdmin(config, "delete execution", async (client) => {
    const terminated: ExecutionKey[] = [];
    let failure: unknown;
    for (const name of names) {
      const key = { project: config.project, domain: config.domain, name };
      try {
        await terminateRemote(client, key, cause);
        terminated.push(key);
        onTerminated?.(key);
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure) throw failure;
    return { terminated };
  });
}

export interface RestartedExecution {
  execution: ExecutionKey;
  mode: "recover" | "relaunch";
  source: ExecutionKey;
}

/** `create execution --recover|--relaunch NAME` on the control plane: the new execution's key, at once. */
export async function restartExecutionRemote(
  config: ResolvedConfig,
  request: { mode: "recover" | "relaunch"; source: ExecutionKey; name?: string; overwriteCache?: boolean },
): Promise<RestartedExecution> {
  const { restartRemote } = await import("./executions.js");
  return withAdmin(config, `create execution --${request.mode}`, async (client) => ({
    execution: await restartRemote(client, request.mode, request.source, request),
    mode: request.mode,
    source: request.source,
  }), { writes: true });
}
