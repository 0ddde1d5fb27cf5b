// The embedded local target: $TSFLYTE_HOME with its SQLite history and file:// blob store, loading a module's
// entity by name, and starting, recovering and relaunching executions on the in-process engine. No flags here.
import { randomBytes } from "node:crypto";
import { join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { create } from "@bufbuild/protobuf";
import { LiteralMapSchema, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import { NotFoundError, UserError } from "../errors.js";
import { tsflyteHome } from "../home.js";
import { collectModuleFiles, describeLoadError, findProjectRoot, loadModules, type LoadResult } from "../compiler/load.js";
import { EntryLoadError, importPrebuilt, type PrebuiltModule } from "../compiler/prebuilt.js";
import { addReferencedModules } from "../compiler/references.js";
import { discoverEntities, type DiscoveredEntity } from "../compiler/names.js";
import type { Definition, Entity } from "../sdk/entity.js";
import { definitionOf } from "../sdk/entity.js";
import { openSqliteStore } from "../store/sqlite.js";
import { currentOwner, isOwnerAlive } from "../store/owner.js";
import type { ExecutionKey, ExecutionRecord, MetadataStore, NodeExecutionRecord } from "../store/records.js";
import { openBlobStore } from "../storage/open.js";
import type { BlobStore } from "../storage/blob-store.js";
import { readRecordedLiteralMap, recordedInputs } from "../engine/recorded-values.js";
import { uploadPrefix } from "../storage/layout.js";
import { runExecution, type ExecutionResult, type RecoverSource } from "../engine/engine.js";
import { InProcessRunner, type LogEcho } from "../engine/in-process.js";
import type { GateAnswerer } from "../engine/gate-node.js";
import { valuesToLiteralMap } from "../engine/offload.js";
import { entityLabel } from "../engine/direct.js";

export { tsflyteHome } from "../home.js";

export interface LocalHome {
  home: string;
  store: MetadataStore;
  blobs: BlobStore;
  close(): Promise<void>;
}

/**
 * Opens the local history. Executions left RUNNING by a tsflyte process that is gone (killed, crashed) are
 * failed with a SYSTEM error here, so `get execution` never shows a run that nothing will finish.
 */
export async function openLocalHome(home = tsflyteHome()): Promise<LocalHome> {
  const store = openSqliteStore(join(home, "tsflyte.db"));
  const blobs = openBlobStore(pathToFileURL(join(home, "data")).href);
  await store.failOrphanedExecutions(currentOwner().host, isOwnerAlive, Date.now());
  return {
    home,
    store,
    blobs,
    async close() {
      await blobs.flush();
      await store.close();
    },
  };
}

export interface LoadedEntity {
  entity: Entity;
  definition: Definition;
  /** Full name, e.g. `examples.spend.calculateSpend`. */
  name: string;
  exportName: string;
  /** Absolute path of the module. */
  file: string;
  nameOf: (entity: Entity) => string;
}

/** Loads one module and finds an entity by export name or full name; an unknown one lists what the file exports. */
export async function loadEntity(file: string, wanted: string): Promise<LoadedEntity> {
  const loaded = await loadOne(file);
  const module = loaded.modules[0];
  const discovery = discoverEntities(loaded.projectRoot, loaded.modules);
  const inModule = discovery.entities.filter((e) => e.modulePath === module.relPath || Object.values(module.exports).includes(e.entity));
  const found =
    inModule.find((e) => e.exportName === wanted && module.exports[wanted] === e.entity) ??
    inModule.find((e) => e.name === wanted) ??
    discovery.entities.find((e) => e.name === wanted);
  if (!found) throw unknownEntity(relative(process.cwd(), module.file) || module.file, wanted, module.exports, discovery.entities);
  const byDefinition = discovery.byDefinition;
  const nameOf = (entity: Entity) => {
    const def = definitionOf(entity);
    return (def && byDefinition.get(def)?.name) ?? def?.explicitName ?? entityLabel(entity);
  };
  return { entity: found.entity, definition: found.definition, name: found.name, exportName: found.exportName, file: module.file, nameOf };
}

/**
 * Loads one module: from a cached bundle of its graph when the project has node_modules (no loader thread to
 * start, so a run starts quickly), otherwise through the loader hooks that `compile` uses.
 */
async function loadOne(file: string): Promise<LoadResult> {
  const [absolute] = collectModuleFiles([file]);
  const projectRoot = findProjectRoot(absolute);
  const relPath = relative(projectRoot, absolute).split(sep).join("/");
  let prebuilt: PrebuiltModule | undefined;
  try {
    prebuilt = await importPrebuilt(absolute);
  } catch (error) {
    if (!(error instanceof EntryLoadError)) throw error;
    const described = error.at
      ? { reason: error.message, location: `${relative(projectRoot, error.at.file).split(sep).join("/")}:${error.at.line}:${error.at.column}` }
      : await describeLoadError(error.cause, absolute, relPath, projectRoot);
    throw new UserError(`${relPath} failed to load: ${described.reason}${described.location ? ` (at ${described.location})` : ""}`);
  }
  if (prebuilt) {
    const loaded: LoadResult = { projectRoot, modules: [{ file: absolute, relPath, exports: prebuilt.exports }], problems: [] };
    await addReferencedModules(loaded, async (other) => prebuilt.projectModules.get(other));
    return loaded;
  }
  const loaded = await loadModules([absolute]);
  if (loaded.problems.length) {
    const p = loaded.problems[0];
    throw new UserError(`${p.relPath} failed to load: ${p.reason}${p.location ? ` (at ${p.location})` : ""}`);
  }
  await addReferencedModules(loaded);
  return loaded;
}

function unknownEntity(file: string, wanted: string, exports: Record<string, unknown>, entities: DiscoveredEntity[]): UserError {
  const listed = Object.keys(exports)
    .filter((k) => definitionOf(exports[k]))
    .sort()
    .map((k) => {
      const def = definitionOf(exports[k])!;
      const full = entities.find((e) => e.definition === def)?.name;
      return `  ${k}  (${def.kind === "launchPlan" ? "launch plan" : def.kind}${full && full !== k ? `, ${full}` : ""})`;
    });
  return new UserError(
    listed.length
      ? `${file} exports no task, workflow or launch plan named "${wanted}". It exports:\n${listed.join("\n")}`
      : `${file} exports no tasks, workflows or launch plans`,
    listed.length ? "give one of the names above, by export name or full name" : "export them: export const myTask = task({...}, fn)",
  );
}

const executionNameRe = /^[a-z][a-z0-9-]{0,62}$/;

/** Flyte's generated names: `a` and 19 lowercase letters and digits. */
export function newExecutionName(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(19);
  let name = "a";
  for (const b of bytes) name += alphabet[b % alphabet.length];
  return name;
}

export interface StartOptions {
  project: string;
  domain: string;
  /** A name of your own; must be new, `^[a-z][a-z0-9-]*$`, at most 63 characters. */
  name?: string;
  overwriteCache?: boolean;
  maxParallelism?: number;
  /** Where task console output goes while it runs (it is always recorded). */
  echo?: LogEcho;
  /** Who answers the run's gates (the terminal, `--signal` values); without one a gate waiting for a signal fails. */
  gates?: GateAnswerer;
}

/**
 * Starts an execution with inputs given as JS values (already converted from flags or a file). Local files,
 * directories and tables among them are uploaded first; nothing is recorded when an input is bad.
 */
export async function runLocal(home: LocalHome, loaded: LoadedEntity, values: Record<string, unknown>, options: StartOptions): Promise<ExecutionResult> {
  const key = await claimName(home, options);
  const types = Object.fromEntries(Object.keys(values).map((n) => [n, loaded.definition.inputs[n]]));
  const inputs = await valuesToLiteralMap(types, values, { store: home.blobs, rawPrefix: uploadPrefix(home.blobs.baseUri, key), at: "input" });
  return start(home, loaded, inputs, key, options, {});
}

async function claimName(home: LocalHome, options: StartOptions): Promise<ExecutionKey> {
  const name = options.name ?? newExecutionName();
  if (!executionNameRe.test(name)) {
    throw new UserError(`--name ${name}: an execution name must start with a lowercase letter and hold only lowercase letters, digits and "-", at most 63 characters`);
  }
  const key = { project: options.project, domain: options.domain, name };
  if (options.name && (await home.store.getExecution(key))) {
    throw new UserError(`an execution named ${name} already exists in ${key.project}/${key.domain}`, "choose another --name, or leave it out for a generated one");
  }
  return key;
}

async function start(
  home: LocalHome,
  loaded: LoadedEntity,
  inputs: LiteralMap,
  key: ExecutionKey,
  options: StartOptions,
  extra: { mode?: ExecutionRecord["mode"]; sourceExecution?: string; recover?: RecoverSource },
): Promise<ExecutionResult> {
  // Ctrl-C or a kill ends the execution as ABORTED, recorded, instead of leaving it RUNNING for the next start.
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => stop.abort(new Error(`interrupted by ${signal}`));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await runExecution(
      {
        key,
        entity: loaded.entity,
        nameOf: loaded.nameOf,
        launch: { kind: loaded.definition.kind, name: loaded.name, version: "local" },
        inputs,
        source: { file: loaded.file, exportName: loaded.exportName },
        overwriteCache: options.overwriteCache,
        maxParallelism: options.maxParallelism,
        owner: currentOwner(),
        signal: stop.signal,
        ...extra,
      },
      { store: home.store, blobs: home.blobs, runner: new InProcessRunner({ echo: options.echo ?? "stderr", containCrashes: true }), ...(options.gates ? { gates: options.gates } : {}) },
    );
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export interface RestartOptions extends Omit<StartOptions, "project" | "domain"> {
  project: string;
  domain: string;
}

/** The execution to relaunch or recover, and its code loaded again from where it ran. */
async function loadSource(home: LocalHome, key: ExecutionKey): Promise<{ record: ExecutionRecord; loaded: LoadedEntity; inputs: LiteralMap }> {
  const record = await home.store.getExecution(key);
  if (!record) throw new NotFoundError(`execution ${key.name} not found in ${key.project}/${key.domain}`, "tsflyte get execution lists them");
  if (!record.source) throw new UserError(`execution ${key.name} was not started from a local module, so its code cannot be loaded here`);
  const loaded = await loadEntity(record.source.file, record.source.exportName);
  const stored = await readRecordedLiteralMap(home.blobs, recordedInputs(record));
  if (!stored) {
    throw new UserError(
      `the inputs of execution ${key.name} are missing${record.inputsUri ? ` from ${record.inputsUri}` : " from its record"}, so it cannot be started again`,
      "Run the entity again with tsflyte run and its inputs.",
    );
  }
  // Stored inputs include a launch plan's fixed inputs, which callers may not pass again.
  const literals = Object.fromEntries(Object.entries(stored.literals).filter(([k]) => k in loaded.definition.inputs));
  return { record, loaded, inputs: create(LiteralMapSchema, { literals }) };
}

/** Runs the same entity again from scratch, with the same inputs, as a new execution. */
export async function relaunchLocal(home: LocalHome, source: ExecutionKey, options: RestartOptions): Promise<ExecutionResult> {
  const { loaded, inputs } = await loadSource(home, source);
  const key = await claimName(home, options);
  return start(home, loaded, inputs, key, options, { mode: "RELAUNCH", sourceExecution: source.name });
}

/**
 * A new execution that reuses the outputs of every node the source execution finished and runs the rest,
 * with the code as it is now: fix the failing task, then recover.
 */
export async function recoverLocal(home: LocalHome, source: ExecutionKey, options: RestartOptions): Promise<ExecutionResult> {
  const { record, loaded, inputs } = await loadSource(home, source);
  if (record.phase === "SUCCEEDED") {
    throw new UserError(`execution ${source.name} succeeded; there is nothing to recover`, `tsflyte create execution --relaunch ${source.name} runs it again`);
  }
  if (record.phase === "RUNNING" || record.phase === "QUEUED") {
    throw new UserError(`execution ${source.name} is still ${record.phase}; recover it once it has ended`);
  }
  const nodes = new Map<string, NodeExecutionRecord>();
  for (const node of await home.store.listNodeExecutions(source)) nodes.set(node.nodeId, node);
  const key = await claimName(home, options);
  return start(home, loaded, inputs, key, options, { mode: "RECOVERED", sourceExecution: source.name, recover: { executionName: source.name, nodes } });
}
