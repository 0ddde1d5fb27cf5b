// Renders registered entities, projects and registration results as table, JSON or YAML. Pure: views in, text
// out; JSON and YAML print FlyteAdmin's messages for entities, so scripts read the same fields as from the API.
import type { EntityView, ProjectView } from "../lib/remote/entities.js";
import type { RegisterResult, RegisteredEntity } from "../lib/remote/register.js";
import type { RegisterFilesResult } from "../lib/remote/register-files.js";
import { formatStarted } from "./executions.js";
import { renderTable, type Column } from "./table.js";

export type ListFormat = "table" | "json" | "yaml";

async function serialize(value: unknown, format: "json" | "yaml"): Promise<string> {
  if (format === "json") return JSON.stringify(value, null, 2);
  const { stringify } = await import("yaml");
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

const entityColumns: Column<EntityView>[] = [
  { header: "NAME", value: (v) => v.name, keep: true },
  { header: "VERSION", value: (v) => v.version, keep: true },
  { header: "TYPE", value: (v) => v.type },
  { header: "STATE", value: (v) => v.state },
  { header: "INPUTS", value: (v) => v.inputs.join(", ") },
  { header: "OUTPUTS", value: (v) => v.outputs.join(", ") },
  { header: "CREATED", value: (v) => formatStarted(v.createdAt) },
];

/** `get task|workflow|launchplan`: one row per version; JSON/YAML print the Task/Workflow/LaunchPlan messages. */
export async function renderEntities(result: EntityView[] | EntityView, format: ListFormat): Promise<string> {
  const views = Array.isArray(result) ? result : [result];
  if (format !== "table") return serialize(Array.isArray(result) ? views.map((v) => v.message) : result.message, format);
  if (views.length === 0) return "Nothing registered yet.";
  return renderTable(entityColumns, views);
}

const projectColumns: Column<ProjectView>[] = [
  { header: "ID", value: (p) => p.id, keep: true },
  { header: "NAME", value: (p) => p.name },
  { header: "DESCRIPTION", value: (p) => p.description },
  { header: "DOMAINS", value: (p) => p.domains.join(", ") },
  { header: "STATE", value: (p) => (p.state === "ACTIVE" ? undefined : p.state) },
];

export async function renderProjects(result: ProjectView[] | ProjectView, format: ListFormat): Promise<string> {
  if (format !== "table") return serialize(result, format);
  const rows = Array.isArray(result) ? result : [result];
  return rows.length ? renderTable(projectColumns, rows) : "No projects.";
}

const kindWord: Record<RegisteredEntity["kind"], string> = { task: "task", workflow: "workflow", launchPlan: "launch plan" };

const statusWords: Record<RegisteredEntity["status"], string> = { registered: "registered", existed: "already registered", "dry-run": "would register", failed: "not registered" };
const marks: Record<RegisteredEntity["status"], string> = { registered: "✔", existed: "✔", "dry-run": " ", failed: "✖" };

/** One line per entity as it is registered; a refused one with the control plane's reason indented below. */
export function registeredLine(entity: RegisteredEntity): string {
  const line = `[${marks[entity.status]}] ${kindWord[entity.kind].padEnd(11)} ${entity.name}  ${statusWords[entity.status]}${entity.activated ? ", activated" : ""}`;
  return entity.error ? `${line}\n${entity.error.replace(/^/gm, "      ")}` : line;
}

/** The closing lines of `register`: version, bundle, total. */
export function registerSummary(result: RegisterResult): string {
  const n = result.entities.length;
  const lines = [`Version: ${result.version}`, `Image: ${result.image}`];
  if (result.codeBundle) lines.push(`Code bundle: ${result.codeBundle}`);
  const dry = result.entities.some((e) => e.status === "dry-run");
  lines.push(dry ? `Dry run: ${n} ${n === 1 ? "entity" : "entities"} would be registered in ${result.project}/${result.domain}` : `Successfully registered ${n} ${n === 1 ? "entity" : "entities"} in ${result.project}/${result.domain}`);
  return lines.join("\n");
}

/** The closing lines of `register files`: version, bundle, total. */
export function registerFilesSummary(result: RegisterFilesResult): string {
  const n = result.entities.length;
  const lines: string[] = [];
  if (result.version !== undefined) lines.push(`Version: ${result.version}`);
  if (result.codeBundle) lines.push(`Code bundle: ${result.codeBundle}`);
  const entities = `${n} ${n === 1 ? "entity" : "entities"}`;
  const from = `${result.files.length} file${result.files.length === 1 ? "" : "s"}`;
  const dry = result.entities.some((e) => e.status === "dry-run");
  lines.push(dry ? `Dry run: ${entities} from ${from} would be registered in ${result.project}/${result.domain}` : `Successfully registered ${entities} from ${from} in ${result.project}/${result.domain}`);
  return lines.join("\n");
}
