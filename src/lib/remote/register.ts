// Registering compiled entities with a control plane: the code bundle through the data proxy, tasks at once, then
// workflows and launch plans in dependency order. Never registers anything when compiling failed.
import { createHash } from "node:crypto";
import { create, toJson } from "@bufbuild/protobuf";
import { TaskCreateRequestSchema } from "../idl/gen/flyteidl/admin/task_pb.js";
import { WorkflowCreateRequestSchema } from "../idl/gen/flyteidl/admin/workflow_pb.js";
import { LaunchPlanCreateRequestSchema, LaunchPlanState } from "../idl/gen/flyteidl/admin/launch_plan_pb.js";
import type { Identifier } from "../idl/gen/flyteidl/core/identifier_pb.js";
import type { Node } from "../idl/gen/flyteidl/core/workflow_pb.js";
import { UnreachableError, UserError } from "../errors.js";
import { compileProject, type CompiledEntities, type CompiledProject } from "../compiler/compile.js";
import type { CodeBundle } from "../compiler/bundle.js";
import { nodesOf } from "../compiler/registration-ids.js";
import { adminStatusOf, type AdminClient } from "../admin/client.js";

export type EntityKind = "task" | "workflow" | "launchPlan";

export interface RegisteredEntity {
  kind: EntityKind;
  name: string;
  version: string;
  /**
   * `existed`: the control plane already had this exact entity (FlyteAdmin's AlreadyExists). `failed`: refused, and
   * registration went on (`register files --continue-on-error`); `error` says why.
   */
  status: "registered" | "existed" | "dry-run" | "failed";
  /** Launch plans switched to ACTIVE with --activate-launchplans. */
  activated?: boolean;
  error?: string;
}

export interface RegisterResult {
  project: string;
  domain: string;
  version: string;
  image: string;
  /** Where the code bundle was uploaded; absent for a dry run. */
  codeBundle?: string;
  entities: RegisteredEntity[];
}

export interface RegisterRequest {
  paths: string[];
  project: string;
  domain: string;
  image?: string;
  version?: string;
  activateLaunchPlans?: boolean;
  /** Compile and list what would be registered; the control plane is not contacted. */
  dryRun?: boolean;
  /** Called as each entity is registered, for live output. */
  onEntity?: (entity: RegisteredEntity) => void;
}

/** Uploads the code bundle as `fast<md5>.tar` and resolves to the URI tasks fetch it from. */
export async function uploadCodeBundle(client: AdminClient, project: string, domain: string, bundle: Pick<CodeBundle, "tar" | "md5">): Promise<string> {
  const md5 = createHash("md5").update(bundle.tar).digest("base64");
  const location = await client.post<{ signed_url?: string; signedUrl?: string; native_url?: string; nativeUrl?: string }>("/api/v1/dataproxy/artifact_urn", {
    project,
    domain,
    filename: `fast${bundle.md5}.tar`,
    content_md5: md5,
  });
  const signed = location.signed_url ?? location.signedUrl;
  const native = location.native_url ?? location.nativeUrl;
  if (!signed || !native) throw new UserError("the control plane's data proxy answered without signed_url and native_url; it cannot take the code bundle");
  await client.upload(signed, bundle.tar, md5);
  return native;
}

/** `tsflyte register PATHS…`: compile, upload the bundle, register everything found. */
export async function registerPaths(client: AdminClient | undefined, request: RegisterRequest): Promise<RegisterResult> {
  if (!request.dryRun && !client) throw new UserError("register needs a control plane");
  const compiled = await compileProject({
    paths: request.paths,
    project: request.project,
    domain: request.domain,
    image: request.image,
    version: request.version,
    codeBundleUri: request.dryRun ? undefined : (bundle) => uploadCodeBundle(client!, request.project, request.domain, bundle),
  });
  const all = registrationPlan(compiled);
  const base = { project: compiled.project, domain: compiled.domain, version: compiled.version, image: compiled.image };
  if (request.dryRun) {
    const entities = all.map((e) => ({ kind: e.kind, name: e.name, version: compiled.version, status: "dry-run" as const }));
    for (const e of entities) request.onEntity?.(e);
    return { ...base, entities };
  }
  const entities = await registerEntities(client!, compiled, all, request);
  return { ...base, codeBundle: codeBundleOf(compiled), entities };
}

function codeBundleOf(compiled: CompiledProject): string | undefined {
  const args = compiled.tasks[0]?.spec.template?.target.case === "container" ? compiled.tasks[0].spec.template.target.value.args : [];
  const at = args.indexOf("--code-bundle");
  return at >= 0 ? args[at + 1] : undefined;
}

export interface PlannedEntity {
  kind: EntityKind;
  name: string;
  /** Entities that must be registered first (beyond "every task before any workflow"). */
  after: string[];
}

const key = (kind: EntityKind, name: string) => `${kind}:${name}`;

/**
 * Everything compiled, each with what it needs registered before it: a workflow needs the launch plans its nodes
 * call (FlyteAdmin checks references exist) and the subworkflows it does not carry, a launch plan its workflow.
 */
export function registrationPlan(compiled: CompiledEntities): PlannedEntity[] {
  const plan: PlannedEntity[] = compiled.tasks.map((t) => ({ kind: "task" as const, name: t.name, after: [] }));
  for (const w of compiled.workflows) {
    const refs = referencesOf(nodesOf([w.spec.template, ...w.spec.subWorkflows]));
    const carried = new Set(w.spec.subWorkflows.map((s) => s.id?.name));
    const after = [...refs.launchPlans].map((n) => key("launchPlan", n));
    for (const sub of refs.subWorkflows) if (!carried.has(sub) && sub !== w.name) after.push(key("workflow", sub));
    plan.push({ kind: "workflow", name: w.name, after });
  }
  for (const l of compiled.launchPlans) {
    plan.push({ kind: "launchPlan", name: l.name, after: [key("workflow", l.launchPlan.spec?.workflowId?.name ?? "")] });
  }
  return plan;
}

/** The tasks, launch plans and subworkflows that nodes refer to (pass nested nodes too: `nodesOf`). */
export function referencesOf(nodes: Node[]): { tasks: Set<string>; launchPlans: Set<string>; subWorkflows: Set<string> } {
  const out = { tasks: new Set<string>(), launchPlans: new Set<string>(), subWorkflows: new Set<string>() };
  for (const node of nodes) {
    const target = node.target;
    if (target.case === "taskNode" && target.value.reference.case === "referenceId") out.tasks.add(target.value.reference.value.name);
    if (target.case === "workflowNode") {
      const ref = target.value.reference;
      if (ref.case === "launchplanRef") out.launchPlans.add(ref.value.name);
      if (ref.case === "subWorkflowRef") out.subWorkflows.add(ref.value.name);
    }
  }
  return out;
}

/**
 * The part of a compiled project one entity needs to run: a task alone; a workflow with its tasks, the launch plans
 * it calls (and theirs, transitively) and its default launch plan; a launch plan with its workflow's closure. With a
 * dynamic workflow among them, everything compiled.
 */
export function closureOf(compiled: CompiledProject, kind: EntityKind, name: string): PlannedEntity[] {
  const plan = registrationPlan(compiled);
  const wanted = new Set<string>();
  const addWorkflow = (wf: string): void => {
    if (wanted.has(key("workflow", wf))) return;
    wanted.add(key("workflow", wf));
    const spec = compiled.workflows.find((w) => w.name === wf)?.spec;
    if (!spec) return;
    const refs = referencesOf(nodesOf([spec.template, ...spec.subWorkflows]));
    for (const t of refs.tasks) wanted.add(key("task", t));
    for (const lp of refs.launchPlans) addLaunchPlan(lp);
  };
  const addLaunchPlan = (lp: string): void => {
    if (wanted.has(key("launchPlan", lp))) return;
    wanted.add(key("launchPlan", lp));
    const wf = compiled.launchPlans.find((l) => l.name === lp)?.launchPlan.spec?.workflowId?.name;
    if (wf) addWorkflow(wf);
  };
  if (kind === "task") wanted.add(key("task", name));
  else if (kind === "workflow") {
    addWorkflow(name);
    addLaunchPlan(name);
  } else addLaunchPlan(name);
  // A dynamic workflow's calls are known only when it runs: everything compiled with it is registered, so whatever its
  // body calls is there under this version (pyflyte has the same need and registers the module's entities).
  const dynamic = compiled.entities.some((e) => e.definition.kind === "task" && e.definition.dynamic && wanted.has(key("task", e.name)));
  return dynamic ? plan : plan.filter((p) => wanted.has(key(p.kind, p.name)));
}

const concurrency = 16;

/** Runs `fn` over items, at most `concurrency` at a time; the first failure rejects once all started ones end. */
async function eachConcurrently<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (next < items.length && failure === undefined) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  if (failure !== undefined) throw failure;
}

export interface RegisterEntitiesOptions {
  activateLaunchPlans?: boolean;
  /** Register what can be and record what the control plane refused (status `failed`) instead of stopping. */
  continueOnError?: boolean;
  onEntity?: (entity: RegisteredEntity) => void;
}

/**
 * Registers the planned entities: every task at once, then workflows and launch plans in waves, each wave holding
 * what has nothing left to wait for. An identical entity the control plane already has is fine. Each wave is
 * reported in plan order once it ends (also when it failed part-way), so the output is the same on every run.
 * Each entity is registered under the project, domain and version of its own id.
 */
export async function registerEntities(
  client: AdminClient,
  compiled: CompiledEntities,
  planned: PlannedEntity[],
  options: RegisterEntitiesOptions = {},
): Promise<RegisteredEntity[]> {
  const done: RegisteredEntity[] = [];
  const settled = new Set<string>();
  const refused = new Set<string>();
  const one = async (p: PlannedEntity): Promise<RegisteredEntity> => {
    const { id, path, body } = createRequest(compiled, p);
    const entity: RegisteredEntity = { kind: p.kind, name: p.name, version: id.version, status: "registered" };
    const missing = p.after.find((a) => refused.has(a));
    if (missing) {
      const [kind, name] = [missing.slice(0, missing.indexOf(":")) as EntityKind, missing.slice(missing.indexOf(":") + 1)];
      return { ...entity, status: "failed", error: `not sent: it needs ${describeKind(kind)} ${name}, which was not registered` };
    }
    try {
      entity.status = await registerOne(client, p, id, path, body);
      if (p.kind === "launchPlan" && options.activateLaunchPlans) {
        await client.put(`/api/v1/launch_plans/${id.project}/${id.domain}/${encodeURIComponent(p.name)}/${encodeURIComponent(id.version)}`, {
          state: LaunchPlanState[LaunchPlanState.ACTIVE],
        });
        entity.activated = true;
      }
    } catch (e) {
      // An unreachable control plane refuses everything that follows: that stops registration either way.
      if (!options.continueOnError || !(e instanceof UserError) || e instanceof UnreachableError) throw e;
      entity.status = "failed";
      entity.error = e.message;
    }
    return entity;
  };
  const wave = async (items: PlannedEntity[]): Promise<void> => {
    const finished = new Map<PlannedEntity, RegisteredEntity>();
    try {
      await eachConcurrently(items, async (p) => void finished.set(p, await one(p)));
    } finally {
      for (const p of items) {
        const entity = finished.get(p);
        if (!entity) continue;
        settled.add(key(p.kind, p.name));
        if (entity.status === "failed") refused.add(key(p.kind, p.name));
        done.push(entity);
        options.onEntity?.(entity);
      }
    }
  };
  await wave(planned.filter((p) => p.kind === "task"));
  let rest = planned.filter((p) => p.kind !== "task");
  const inPlan = new Set(planned.map((p) => key(p.kind, p.name)));
  while (rest.length) {
    const ready = rest.filter((p) => p.after.every((a) => settled.has(a) || !inPlan.has(a)));
    if (ready.length === 0) {
      throw new UserError(`these entities wait on each other and cannot be registered: ${rest.map((p) => p.name).join(", ")}`, "a workflow may not call its own launch plan");
    }
    await wave(ready);
    rest = rest.filter((p) => !ready.includes(p));
  }
  return done;
}

function createRequest(compiled: CompiledEntities, p: PlannedEntity): { id: Identifier; path: string; body: unknown } {
  if (p.kind === "task") {
    const spec = compiled.tasks.find((t) => t.name === p.name)!.spec;
    const id = spec.template!.id!;
    return { id, path: "/api/v1/tasks", body: toJson(TaskCreateRequestSchema, create(TaskCreateRequestSchema, { id, spec })) };
  }
  if (p.kind === "workflow") {
    const spec = compiled.workflows.find((w) => w.name === p.name)!.spec;
    const id = spec.template!.id!;
    return { id, path: "/api/v1/workflows", body: toJson(WorkflowCreateRequestSchema, create(WorkflowCreateRequestSchema, { id, spec })) };
  }
  const lp = compiled.launchPlans.find((l) => l.name === p.name)!.launchPlan;
  const id = lp.id!;
  return { id, path: "/api/v1/launch_plans", body: toJson(LaunchPlanCreateRequestSchema, create(LaunchPlanCreateRequestSchema, { id, spec: lp.spec })) };
}

async function registerOne(client: AdminClient, p: PlannedEntity, id: Identifier, path: string, body: unknown): Promise<RegisteredEntity["status"]> {
  try {
    await client.post(path, body);
    return "registered";
  } catch (e) {
    if (adminStatusOf(e)?.code === "AlreadyExists") return "existed";
    if (adminStatusOf(e)?.status === 400 && e instanceof UserError) {
      throw new UserError(`${describeKind(p.kind)} ${p.name} version ${id.version}: ${e.message}`, e.hint ?? "if you changed it on purpose, register it under a new --version");
    }
    throw e;
  }
}

export function describeKind(kind: EntityKind): string {
  return kind === "launchPlan" ? "launch plan" : kind;
}
