// Reads registered specs back as messages, keeping recently used ones decoded: versions are immutable, so a
// spec once read never changes. Never caches an absent entity (it may be registered a moment later) or a state.
import { fromBinary } from "@bufbuild/protobuf";
import { LaunchPlanSpecSchema, type LaunchPlanSpec } from "../../idl/gen/flyteidl/admin/launch_plan_pb.js";
import { TaskSpecSchema, type TaskSpec } from "../../idl/gen/flyteidl/admin/task_pb.js";
import { WorkflowSpecSchema, type WorkflowSpec } from "../../idl/gen/flyteidl/admin/workflow_pb.js";
import type { EntityKey, EntityRecord, EntityResource, RegistryStore } from "../../store/records.js";

/** Anything with the four parts of an entity's key, such as a core.Identifier. */
export interface EntityKeyLike {
  project: string;
  domain: string;
  name: string;
  version: string;
}

export function entityKey(id: EntityKeyLike): EntityKey {
  return { project: id.project, domain: id.domain, name: id.name, version: id.version };
}

/** `name@version in project/domain`, for messages. */
export function describeEntity(id: EntityKeyLike): string {
  return `${id.name}@${id.version} in ${id.project}/${id.domain}`;
}

export function entityCacheKey(resource: EntityResource, id: EntityKeyLike): string {
  return [resource, id.project, id.domain, id.name, id.version].join("\0");
}

const cacheSize = 2000;

export function decodeTaskSpec(record: EntityRecord): TaskSpec {
  return fromBinary(TaskSpecSchema, record.spec);
}

export function decodeWorkflowSpec(record: EntityRecord): WorkflowSpec {
  return fromBinary(WorkflowSpecSchema, record.spec);
}

export function decodeLaunchPlanSpec(record: EntityRecord): LaunchPlanSpec {
  return fromBinary(LaunchPlanSpecSchema, record.spec);
}

export class RegistryReader {
  readonly #store: RegistryStore;
  readonly #specs = new Map<string, TaskSpec | WorkflowSpec | LaunchPlanSpec>();

  constructor(store: RegistryStore) {
    this.#store = store;
  }

  taskSpec(id: EntityKeyLike): Promise<TaskSpec | undefined> {
    return this.#spec("task", id, decodeTaskSpec) as Promise<TaskSpec | undefined>;
  }

  workflowSpec(id: EntityKeyLike): Promise<WorkflowSpec | undefined> {
    return this.#spec("workflow", id, decodeWorkflowSpec) as Promise<WorkflowSpec | undefined>;
  }

  launchPlanSpec(id: EntityKeyLike): Promise<LaunchPlanSpec | undefined> {
    return this.#spec("launchPlan", id, decodeLaunchPlanSpec) as Promise<LaunchPlanSpec | undefined>;
  }

  /** Decodes a record that was just read, and keeps the result for later lookups. */
  remember<T extends TaskSpec | WorkflowSpec | LaunchPlanSpec>(record: EntityRecord, decode: (r: EntityRecord) => T): T {
    const key = entityCacheKey(record.resource, record);
    const cached = this.#specs.get(key);
    if (cached) return cached as T;
    const spec = decode(record);
    this.#keep(key, spec);
    return spec;
  }

  async #spec(
    resource: EntityResource,
    id: EntityKeyLike,
    decode: (r: EntityRecord) => TaskSpec | WorkflowSpec | LaunchPlanSpec,
  ): Promise<TaskSpec | WorkflowSpec | LaunchPlanSpec | undefined> {
    const key = entityCacheKey(resource, id);
    const cached = this.#specs.get(key);
    if (cached) {
      // Map order is insertion order: re-inserting marks it most recently used.
      this.#specs.delete(key);
      this.#specs.set(key, cached);
      return cached;
    }
    if (!id.project || !id.domain || !id.name || !id.version) return undefined;
    const record = await this.#store.getEntity(resource, entityKey(id));
    if (!record) return undefined;
    const spec = decode(record);
    this.#keep(key, spec);
    return spec;
  }

  #keep(key: string, spec: TaskSpec | WorkflowSpec | LaunchPlanSpec): void {
    this.#specs.set(key, spec);
    if (this.#specs.size > cacheSize) this.#specs.delete(this.#specs.keys().next().value!);
  }
}
