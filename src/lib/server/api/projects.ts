// Projects and domains: `GET|POST /api/v1/projects`, `GET /api/v1/projects/{id}`, `GET /api/v1/domains`, the
// default project on first start, and the "does this project exist" check every create makes. Domains are fixed.
import { create } from "@bufbuild/protobuf";
import {
  GetDomainsResponseSchema,
  Project_ProjectState,
  ProjectRegisterRequestSchema,
  ProjectRegisterResponseSchema,
  ProjectSchema,
  ProjectsSchema,
  type Project,
} from "../../idl/gen/flyteidl/admin/project_pb.js";
import { labelProblems } from "../../compiler/registration-rules.js";
import type { ProjectRecord, RegistryStore } from "../../store/records.js";
import type { ApiContext } from "./api-context.js";
import { alreadyExists, invalidArgument, notFound } from "./api-error.js";
import { checkDomain, checkProjectId, domains } from "./resource-names.js";
import type { Route } from "./router.js";
import { readMessage, sendMessage } from "./wire-format.js";

export const defaultProject = "flytesnacks";

/** Creates the project `flytesnacks` unless it exists, as FlyteAdmin's sandbox does on first start. */
export async function seedDefaults(store: RegistryStore, now: number = Date.now()): Promise<void> {
  await store.createProject({
    id: defaultProject,
    name: defaultProject,
    description: "The default project",
    labels: {},
    state: "ACTIVE",
    createdAt: now,
  });
}

function domainMessages() {
  return domains.map((id) => ({ id, name: id }));
}

function projectMessage(record: ProjectRecord): Project {
  return create(ProjectSchema, {
    id: record.id,
    name: record.name,
    description: record.description,
    labels: { values: record.labels },
    domains: domainMessages(),
    state: record.state === "ARCHIVED" ? Project_ProjectState.ARCHIVED : Project_ProjectState.ACTIVE,
  });
}

/**
 * Checks that the project exists and is active and that the domain is one of the fixed ones, as FlyteAdmin does
 * before any create: a clear 400 for a bad id or domain, 404 for a project nobody registered.
 */
// Projects are never deleted or archived through this API, so one seen active stays so: most requests then skip a query.
const activeProjects = new WeakMap<ApiContext, Set<string>>();

export async function requireProjectAndDomain(ctx: ApiContext, project: string, domain: string): Promise<void> {
  checkProjectId(project);
  checkDomain(domain);
  let known = activeProjects.get(ctx);
  if (known?.has(project)) return;
  const record = await ctx.deps.store.getProject(project);
  if (!record) throw notFound(`project "${project}" does not exist; create it with POST /api/v1/projects (the default project is ${defaultProject})`);
  if (record.state !== "ACTIVE") throw invalidArgument(`project "${project}" is archived`);
  if (!known) activeProjects.set(ctx, (known = new Set()));
  known.add(project);
}

export function checkLabels(labels: Record<string, string>, field: string): void {
  const [problem] = labelProblems(labels, field);
  if (problem) throw invalidArgument(problem);
}

export function projectRoutes(ctx: ApiContext): Route[] {
  return [
    {
      method: "GET",
      path: "/api/v1/projects",
      async handle({ req, res, query }) {
        query.allowOnly(["limit", "token", "filters", "sort_by.key", "sort_by.direction", "org"]);
        if (query.get("filters")) throw invalidArgument("filters are not supported on the project list");
        const projects = await ctx.deps.store.listProjects();
        sendMessage(req, res, ProjectsSchema, create(ProjectsSchema, { projects: projects.map(projectMessage), token: "" }));
      },
    },
    {
      method: "POST",
      path: "/api/v1/projects",
      async handle({ req, res }) {
        const request = await readMessage(req, ProjectRegisterRequestSchema, ctx.limits.requestBodyBytes);
        const project = request.project;
        if (!project) throw invalidArgument("project is required");
        checkProjectId(project.id, "project.id");
        if (!project.name) throw invalidArgument("project.name is required");
        if (project.name.length > 64) throw invalidArgument(`project.name is ${project.name.length} characters; the limit is 64`);
        if (project.description.length > 300) throw invalidArgument(`project.description is ${project.description.length} characters; the limit is 300`);
        if (project.domains.length > 0) throw invalidArgument("domains are set system-wide; retry without domains in the request");
        if (project.org) throw invalidArgument("org is not supported by tsflyte");
        if (project.state !== Project_ProjectState.ACTIVE) throw invalidArgument("a new project must be ACTIVE");
        const labels = project.labels?.values ?? {};
        checkLabels(labels, "project.labels");
        const created = await ctx.deps.store.createProject({
          id: project.id,
          name: project.name,
          description: project.description,
          labels,
          state: "ACTIVE",
          createdAt: ctx.now(),
        });
        if (!created) throw alreadyExists(`project "${project.id}" already exists`);
        sendMessage(req, res, ProjectRegisterResponseSchema, create(ProjectRegisterResponseSchema));
      },
    },
    {
      method: "GET",
      path: "/api/v1/projects/:id",
      async handle({ req, res, params, query }) {
        query.allowOnly(["org"]);
        const record = await ctx.deps.store.getProject(params.id);
        if (!record) throw notFound(`project "${params.id}" does not exist`);
        sendMessage(req, res, ProjectSchema, projectMessage(record));
      },
    },
    {
      method: "GET",
      path: "/api/v1/domains",
      async handle({ req, res, query }) {
        query.allowOnly([]);
        sendMessage(req, res, GetDomainsResponseSchema, create(GetDomainsResponseSchema, { domains: domainMessages() }));
      },
    },
  ];
}
