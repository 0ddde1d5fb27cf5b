// Discovery and naming: which exported values of the loaded modules are tasks, workflows and launch plans, and
// what each is called. Never renames an entity that has an explicit `name:`.
import { relative, sep } from "node:path";
import { definitionOf, userLocation, type Definition, type Entity, type EntityKind } from "../sdk/entity.js";
import type { CompileProblem } from "../errors.js";
import type { LoadedModule } from "./load.js";

/** An entity found in the user's modules, with its full name and how `tsflyte-execute` loads it. */
export interface DiscoveredEntity {
  entity: Entity;
  definition: Definition;
  kind: EntityKind;
  /** Full Flyte name, e.g. `workflows.spend.calculateSpend`. */
  name: string;
  /** Module path relative to the project root, posix, with its extension: what tsflyte-execute imports. */
  modulePath: string;
  exportName: string;
  /** `file:line:col` of the declaration, relative to the project root. */
  location?: string;
}

export interface Discovery {
  entities: DiscoveredEntity[];
  byDefinition: Map<Definition, DiscoveredEntity>;
  problems: CompileProblem[];
}

/** `workflows/spend.ts` → `workflows.spend`. */
export function modulePathToDots(modulePath: string): string {
  return modulePath.replace(/\.(ts|tsx|mts|js|mjs|cjs)$/, "").split("/").join(".");
}

/** A location made relative to the project root so messages and golden files do not depend on the machine. */
export function relativeLocation(projectRoot: string, location: string | undefined): string | undefined {
  if (!location) return undefined;
  const rel = relative(projectRoot, location);
  return rel.startsWith("..") ? location : rel.split(sep).join("/");
}

const nameRe = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Finds every exported entity. An entity exported from several modules is named after the module that
 * declares it (or the first that exports it); names must be unique per kind.
 */
export function discoverEntities(projectRoot: string, modules: LoadedModule[]): Discovery {
  const problems: CompileProblem[] = [];
  const candidates = new Map<Definition, { entity: Entity; module: LoadedModule; exportName: string }[]>();
  for (const module of [...modules].sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0))) {
    for (const exportName of Object.keys(module.exports).sort()) {
      const value = module.exports[exportName];
      const definition = definitionOf(value);
      if (!definition) continue;
      const list = candidates.get(definition) ?? [];
      list.push({ entity: value as Entity, module, exportName });
      candidates.set(definition, list);
    }
  }
  const entities: DiscoveredEntity[] = [];
  const byDefinition = new Map<Definition, DiscoveredEntity>();
  const taken = new Map<string, DiscoveredEntity>();
  for (const [definition, list] of candidates) {
    const declaredIn = userLocation(definition.definedAt);
    const home = list.find((c) => declaredIn?.startsWith(`${c.module.file}:`)) ?? list[0];
    const name = definition.explicitName ?? `${modulePathToDots(home.module.relPath)}.${home.exportName}`;
    const found: DiscoveredEntity = {
      entity: home.entity,
      definition,
      kind: definition.kind,
      name,
      modulePath: home.module.relPath,
      exportName: home.exportName,
      location: relativeLocation(projectRoot, declaredIn),
    };
    if (!nameRe.test(name)) {
      problems.push({
        entity: name,
        location: found.location,
        message: `the name "${name}" may only contain letters, digits, "_", "-" and "." and must start with a letter or "_"`,
      });
    }
    const key = `${definition.kind}:${name}`;
    const clash = taken.get(key);
    if (clash) {
      problems.push({
        entity: name,
        location: found.location,
        message: `two ${definition.kind === "launchPlan" ? "launch plans" : `${definition.kind}s`} are named "${name}" (the other is exported as ${clash.modulePath}#${clash.exportName}); pass name: "…" to one of them`,
      });
      continue;
    }
    taken.set(key, found);
    entities.push(found);
    byDefinition.set(definition, found);
  }
  entities.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { entities, byDefinition, problems };
}
