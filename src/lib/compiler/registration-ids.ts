// The registrar's part of packaged entities (`pyflyte package`, `tsflyte compile -o flyte-package.tgz`): project,
// domain and version on every identifier and reference, and the code bundle's place in task args. Never touches
// an identifier that names an entity outside the package, beyond filling what it leaves blank.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { Identifier } from "../idl/gen/flyteidl/core/identifier_pb.js";
import type { Node, WorkflowTemplate } from "../idl/gen/flyteidl/core/workflow_pb.js";
import type { TaskTemplate } from "../idl/gen/flyteidl/core/tasks_pb.js";
import type { CompiledEntities } from "./compile.js";

export type IdKind = "task" | "workflow" | "launchPlan";

/** Where an identifier sits: an entity's own id, or a reference to one from a node or a launch plan. */
export interface FoundIdentifier {
  kind: IdKind;
  id: Identifier;
  own: boolean;
}

// pyflyte before 1.0 wrote these; later versions leave the fields empty. flytectl fills both.
const projectPlaceholder = "{{ registration.project }}";
const domainPlaceholder = "{{ registration.domain }}";
const versionPlaceholder = "{{ registration.version }}";

/** Task args the registrar replaces with the uploaded code bundle's URI and the folder it unpacks to. */
export const remotePackagePathPlaceholder = "{{ .remote_package_path }}";
export const destDirPlaceholder = "{{ .dest_dir }}";

export function isBlankProject(value: string): boolean {
  return value === "" || value === projectPlaceholder;
}
export function isBlankDomain(value: string): boolean {
  return value === "" || value === domainPlaceholder;
}
export function isBlankVersion(value: string): boolean {
  return value === "" || value === versionPlaceholder;
}

/** Every identifier of the entities, nodes nested in branches and arrays and failure nodes included. */
export function entityIdentifiers(entities: Pick<CompiledEntities, "tasks" | "workflows" | "launchPlans">): FoundIdentifier[] {
  const found: FoundIdentifier[] = [];
  const add = (kind: IdKind, id: Identifier | undefined, own: boolean) => {
    if (id) found.push({ kind, id, own });
  };
  const visitTemplate = (template: WorkflowTemplate | undefined) => {
    if (!template) return;
    add("workflow", template.id, true);
    for (const node of nodesOf([template])) {
      const target = node.target;
      if (target.case === "taskNode" && target.value.reference.case === "referenceId") add("task", target.value.reference.value, false);
      else if (target.case === "workflowNode") {
        const ref = target.value.reference;
        if (ref.case === "launchplanRef") add("launchPlan", ref.value, false);
        else if (ref.case === "subWorkflowRef") add("workflow", ref.value, false);
      }
    }
  };
  for (const t of entities.tasks) add("task", t.spec.template?.id, true);
  for (const w of entities.workflows) {
    visitTemplate(w.spec.template);
    for (const sub of w.spec.subWorkflows) visitTemplate(sub);
  }
  for (const l of entities.launchPlans) {
    add("launchPlan", l.launchPlan.id, true);
    add("workflow", l.launchPlan.spec?.workflowId, false);
  }
  return found;
}

/**
 * Leaves project, domain and (unless `keepVersion`) version blank on every identifier that names an entity of this
 * compile, as `pyflyte package` writes them, so a registrar can put the package anywhere.
 */
export function blankRegistrationFields(entities: CompiledEntities, compiledAs: { project: string; domain: string; version: string }, keepVersion: boolean): void {
  for (const { id } of entityIdentifiers(entities)) {
    if (id.project !== compiledAs.project || id.domain !== compiledAs.domain || id.version !== compiledAs.version) continue;
    id.project = "";
    id.domain = "";
    if (!keepVersion) id.version = "";
  }
}

export interface RegistrationTarget {
  project: string;
  domain: string;
  /** Replaces the version of every entity of the package; without it, each keeps its own. */
  version?: string;
}

/**
 * Puts the package's entities in the target project and domain: every entity's own id and every reference to an
 * entity of the package moves there (at `target.version` when given), so a package retargets as a whole. A reference
 * to an entity outside the package keeps what it names and only has blank fields filled. Returns the problems that
 * leave an identifier without a version; nothing is changed then.
 */
export function fillRegistrationFields(entities: CompiledEntities, target: RegistrationTarget): string[] {
  const identifiers = entityIdentifiers(entities);
  const originals = new Map<string, Identifier[]>();
  for (const { kind, id, own } of identifiers) {
    if (!own) continue;
    const key = `${kind}:${id.name}`;
    originals.set(key, [...(originals.get(key) ?? []), { ...id }]);
  }
  const inPackage = (kind: IdKind, id: Identifier): boolean =>
    (originals.get(`${kind}:${id.name}`) ?? []).some(
      (o) =>
        (isBlankProject(id.project) || isBlankProject(o.project) || id.project === o.project) &&
        (isBlankDomain(id.domain) || isBlankDomain(o.domain) || id.domain === o.domain) &&
        (isBlankVersion(id.version) || isBlankVersion(o.version) || id.version === o.version),
    );
  const unversioned = new Set<string>();
  const planned: { id: Identifier; project: string; domain: string; version: string }[] = [];
  for (const { kind, id } of identifiers) {
    const moves = inPackage(kind, id);
    const version = target.version !== undefined && (moves || isBlankVersion(id.version)) ? target.version : id.version;
    if (isBlankVersion(version)) unversioned.add(`${kindWords[kind]} ${id.name}`);
    planned.push({
      id,
      project: moves || isBlankProject(id.project) ? target.project : id.project,
      domain: moves || isBlankDomain(id.domain) ? target.domain : id.domain,
      version,
    });
  }
  if (unversioned.size) {
    const names = [...unversioned].sort();
    const shown = names.length > 5 ? `${names.slice(0, 5).join(", ")} and ${names.length - 5} more` : names.join(", ");
    return [`the package leaves the version to the registrar, and no --version was given (no version: ${shown})`];
  }
  for (const p of planned) {
    p.id.project = p.project;
    p.id.domain = p.domain;
    p.id.version = p.version;
  }
  return [];
}

const kindWords: Record<IdKind, string> = { task: "task", workflow: "workflow", launchPlan: "launch plan" };

/** The names of the tasks whose args ask for the package's code bundle. */
export function tasksUsingCodeBundle(entities: Pick<CompiledEntities, "tasks" | "workflows">): string[] {
  const names = new Set<string>();
  for (const t of entities.tasks) {
    const template = t.spec.template;
    if (template && argLists(template).some((args) => args.includes(remotePackagePathPlaceholder))) names.add(t.name);
  }
  for (const w of entities.workflows) {
    for (const node of nodesOf([w.spec.template, ...w.spec.subWorkflows])) {
      const pod = node.target.case === "taskNode" ? node.target.value.overrides?.podTemplate?.podSpec : undefined;
      if (pod && podArgs(pod).some((args) => args.includes(remotePackagePathPlaceholder))) names.add(w.name);
    }
  }
  return [...names].sort();
}

/**
 * Replaces the fast-registration placeholders in task args (container args, a pod spec's container args, and a
 * workflow node's pod template) with the uploaded bundle's URI and ".", as flytectl does.
 */
export function fillCodeBundle(entities: Pick<CompiledEntities, "tasks" | "workflows">, bundleUri: string): void {
  const fill = (args: JsonValue[] | string[]) => {
    for (let i = 0; i < args.length; i++) {
      if (args[i] === remotePackagePathPlaceholder) args[i] = bundleUri;
      else if (args[i] === destDirPlaceholder) args[i] = ".";
    }
  };
  for (const t of entities.tasks) if (t.spec.template) for (const args of argLists(t.spec.template)) fill(args);
  for (const w of entities.workflows) {
    for (const node of nodesOf([w.spec.template, ...w.spec.subWorkflows])) {
      const pod = node.target.case === "taskNode" ? node.target.value.overrides?.podTemplate?.podSpec : undefined;
      if (pod) for (const args of podArgs(pod)) fill(args);
    }
  }
}

function argLists(template: TaskTemplate): (string[] | JsonValue[])[] {
  if (template.target.case === "container") return [template.target.value.args];
  if (template.target.case === "k8sPod" && template.target.value.podSpec) return podArgs(template.target.value.podSpec);
  return [];
}

/** The `args` arrays of a pod spec's containers, as stored (JSON). */
function podArgs(podSpec: JsonObject): JsonValue[][] {
  const lists: JsonValue[][] = [];
  for (const field of ["containers", "initContainers"]) {
    const containers = podSpec[field];
    if (!Array.isArray(containers)) continue;
    for (const c of containers) {
      if (c && typeof c === "object" && !Array.isArray(c) && Array.isArray(c.args)) lists.push(c.args);
    }
  }
  return lists;
}

/** Every node of the templates, with the nodes inside branches and array nodes, and failure nodes. */
export function nodesOf(templates: (WorkflowTemplate | undefined)[]): Node[] {
  const nodes: Node[] = [];
  for (const t of templates) {
    if (!t) continue;
    nodes.push(...withNestedNodes(t.nodes));
    if (t.failureNode) nodes.push(...withNestedNodes([t.failureNode]));
  }
  return nodes;
}

/** These nodes and the nodes inside their branches and array nodes. */
export function withNestedNodes(roots: readonly Node[]): Node[] {
  const nodes: Node[] = [];
  const visit = (node: Node | undefined): void => {
    if (!node) return;
    nodes.push(node);
    const target = node.target;
    if (target.case === "branchNode" && target.value.ifElse) {
      visit(target.value.ifElse.case?.thenNode);
      for (const other of target.value.ifElse.other) visit(other.thenNode);
      if (target.value.ifElse.default.case === "elseNode") visit(target.value.ifElse.default.value);
    } else if (target.case === "arrayNode") visit(target.value.node);
  };
  for (const node of roots) visit(node);
  return nodes;
}
