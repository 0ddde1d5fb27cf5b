// The entities that the given modules' entities call (tasks, subworkflows, launch plans, transitively) but that are
// declared in other modules of the project: those modules are added, with just the referenced exports, so the
// entities compile under the name of the module that declares them, whichever folder was compiled. Never adds a
// module outside the project root, nor an entity its module does not export (compiling reports those).
import { relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { definitionOf, userLocation, type Definition } from "../sdk/entity.js";
import { calledDefinitions, traceWorkflow } from "../sdk/trace.js";
import { isInsideProject } from "./bundle.js";
import type { LoadResult, LoadedModule } from "./load.js";

/** The namespace of a project module the loaded ones import, without evaluating it again. */
export type ImportedNamespace = (file: string) => Promise<Record<string, unknown> | undefined>;

// Already imported by a given module, so importing it again evaluates nothing.
const importAgain: ImportedNamespace = async (file) => (await import(pathToFileURL(file).href)) as Record<string, unknown>;

/** Adds to `loaded.modules` the project modules declaring what its entities reference; returns the ones added. */
export async function addReferencedModules(loaded: LoadResult, namespaceOf: ImportedNamespace = importAgain): Promise<LoadedModule[]> {
  const given = new Set(loaded.modules.map((m) => m.file));
  const namespaces = new Map<string, Record<string, unknown> | undefined>();
  const added = new Map<string, LoadedModule>();
  const seen = new Set<Definition>();

  const visit = async (definition: Definition): Promise<void> => {
    if (seen.has(definition)) return;
    seen.add(definition);
    const file = declaringFile(definition);
    if (file && !given.has(file) && isInsideProject(loaded.projectRoot, file)) {
      if (!namespaces.has(file)) namespaces.set(file, await namespaceOf(file));
      const namespace = namespaces.get(file) ?? {};
      const exportName = Object.keys(namespace)
        .sort()
        .find((name) => definitionOf(namespace[name]) === definition);
      if (exportName) {
        let module = added.get(file);
        if (!module) {
          module = { file, relPath: relative(loaded.projectRoot, file).split(sep).join("/"), exports: {} };
          added.set(file, module);
        }
        module.exports[exportName] = namespace[exportName];
      }
    }
    for (const callee of calleesOf(definition)) await visit(callee);
  };

  for (const module of loaded.modules) {
    for (const value of Object.values(module.exports)) {
      const definition = definitionOf(value);
      if (definition) await visit(definition);
    }
  }
  const modules = [...added.values()].sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
  loaded.modules.push(...modules);
  return modules;
}

/** What an entity calls directly: a workflow's nodes, a launch plan's workflow. */
function calleesOf(definition: Definition): Definition[] {
  if (definition.kind === "launchPlan") return [definitionOf(definition.workflow)].filter((d): d is Definition => d !== undefined);
  if (definition.kind !== "workflow") return [];
  try {
    const called = calledDefinitions(traceWorkflow(definition, (entity) => definitionOf(entity)?.explicitName ?? "an entity").nodes);
    const onFailure = definitionOf(definition.options.onFailure);
    return onFailure ? [...called, onFailure] : called;
  } catch {
    // A body that cannot be traced is reported when the workflow is compiled.
    return [];
  }
}

function declaringFile(definition: Definition): string | undefined {
  const location = userLocation(definition.definedAt);
  return location?.replace(/:\d+:\d+$/, "");
}
