// Builds a task's Flyte TaskTemplate: interface, metadata (cache, retries, timeout, interruptible, runtime) and
// the container that runs it through tsflyte-execute. Never runs the task.
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { JsonObject } from "@bufbuild/protobuf";
import { ResourceType, type Identifier } from "../idl/gen/flyteidl/core/identifier_pb.js";
import {
  Resources_ResourceName,
  RuntimeMetadata_RuntimeType,
  TaskTemplateSchema,
  type Resources_ResourceEntry,
  type TaskTemplate,
} from "../idl/gen/flyteidl/core/tasks_pb.js";
import type { TypedInterface, VariableMap } from "../idl/gen/flyteidl/core/interface_pb.js";
import type { TaskDefinition } from "../sdk/entity.js";
import type { Resources } from "../sdk/options.js";
import type { AnyType } from "../types/types.js";
import { parseDuration } from "../types/duration.js";
import { describeValue } from "../errors.js";
import { tsflyteVersion } from "../version.js";
import { quantityRe, taskTemplateProblems } from "./registration-rules.js";

/** The Flyte task type of a plain TypeScript task; the pod plugin, Flyte's default, runs it. */
export const typescriptTaskType = "typescript-task";

export interface EmitSettings {
  project: string;
  domain: string;
  version: string;
  /** Default container image for tasks that do not set their own. */
  image: string;
  /** Where the uploaded code bundle is (fast registration): tasks fetch their code from it instead of the image. */
  codeBundleUri?: string;
}

export function identifier(resourceType: ResourceType, name: string, settings: EmitSettings): Identifier {
  return {
    $typeName: "flyteidl.core.Identifier",
    resourceType,
    project: settings.project,
    domain: settings.domain,
    name,
    version: settings.version,
    org: "",
  };
}

export function variableMap(vars: Record<string, AnyType>): VariableMap {
  const variables: VariableMap["variables"] = {};
  for (const [name, type] of Object.entries(vars)) {
    variables[name] = {
      $typeName: "flyteidl.core.Variable",
      type: type.literalType(),
      description: type.description ?? "",
    };
  }
  return { $typeName: "flyteidl.core.VariableMap", variables };
}

export function typedInterface(inputs: Record<string, AnyType>, outputs: Record<string, AnyType>): TypedInterface {
  return { $typeName: "flyteidl.core.TypedInterface", inputs: variableMap(inputs), outputs: variableMap(outputs) };
}

/** The container args of the task container contract (DESIGN.md), with FlytePropeller's template variables. */
export function executeArgs(modulePath: string, exportName: string, codeBundleUri?: string): string[] {
  return [
    "tsflyte-execute",
    "--inputs",
    "{{.input}}",
    "--output-prefix",
    "{{.outputPrefix}}",
    "--raw-output-data-prefix",
    "{{.rawOutputDataPrefix}}",
    "--checkpoint-path",
    "{{.checkpointOutputPrefix}}",
    "--prev-checkpoint",
    "{{.prevCheckpointPrefix}}",
    ...(codeBundleUri ? ["--code-bundle", codeBundleUri] : []),
    "--",
    modulePath,
    exportName,
  ];
}

const resourceNames: Record<keyof Resources, Resources_ResourceName> = {
  cpu: Resources_ResourceName.CPU,
  mem: Resources_ResourceName.MEMORY,
  gpu: Resources_ResourceName.GPU,
  ephemeralStorage: Resources_ResourceName.EPHEMERAL_STORAGE,
};

export function resourceEntries(resources: Resources | undefined, what: string, problems: string[]): Resources_ResourceEntry[] {
  if (!resources) return [];
  const entries: Resources_ResourceEntry[] = [];
  for (const [key, raw] of Object.entries(resources)) {
    const name = resourceNames[key as keyof Resources];
    if (name === undefined) {
      problems.push(`${what}.${key} is not a resource; use ${Object.keys(resourceNames).join(", ")}`);
      continue;
    }
    if (raw === undefined) continue;
    const value = String(raw);
    if (!quantityRe.test(value)) {
      problems.push(`${what}.${key} is ${describeValue(raw)}, not a Kubernetes quantity such as "500m", "2", "100Mi" or "1Gi"`);
      continue;
    }
    entries.push({ $typeName: "flyteidl.core.Resources.ResourceEntry", name, value });
  }
  return entries;
}

export interface TaskEmitInput {
  definition: TaskDefinition;
  name: string;
  modulePath: string;
  exportName: string;
}

/** The TaskTemplate of one task, or the problems that prevent it. */
export function emitTaskTemplate(input: TaskEmitInput, settings: EmitSettings): { template?: TaskTemplate; problems: string[] } {
  const { definition, name } = input;
  const options = definition.options;
  const problems: string[] = [];
  const retries = options.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0) problems.push(`retries must be a whole number ≥ 0, got ${describeValue(options.retries)}`);
  let timeoutMs: number | undefined;
  if (options.timeout !== undefined) {
    try {
      timeoutMs = parseDuration(options.timeout, "timeout");
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  const cache = options.cache || undefined;
  if (cache) {
    if (typeof cache.version !== "string" || cache.version === "") problems.push(`cache.version must be a non-empty string such as "1.0"`);
    for (const ignored of cache.ignoredInputs ?? []) {
      if (!(ignored in definition.inputs)) {
        problems.push(`cache.ignoredInputs names "${ignored}", which is not an input (inputs: ${Object.keys(definition.inputs).join(", ") || "none"})`);
      }
    }
  }
  const requests = resourceEntries(options.requests, "requests", problems);
  const limits = resourceEntries(options.limits, "limits", problems);
  const image = options.image ?? settings.image;
  if (!image) problems.push("no container image: pass --image, or set image: in the task options");
  const env = Object.entries(options.env ?? {}).map(([key, value]) => ({ $typeName: "flyteidl.core.KeyValuePair" as const, key, value: String(value) }));
  let custom: JsonObject | undefined;
  if (options.plugin) {
    try {
      custom = options.plugin.custom() as JsonObject;
    } catch (e) {
      problems.push(`plugin ${options.plugin.taskType}: ${(e as Error).message}`);
    }
  }
  if (problems.length) return { problems };
  const template = create(TaskTemplateSchema, {
    id: identifier(ResourceType.TASK, name, settings),
    type: options.plugin?.taskType ?? typescriptTaskType,
    taskTypeVersion: options.plugin?.taskTypeVersion ?? 0,
    metadata: {
      discoverable: cache !== undefined,
      discoveryVersion: cache?.version ?? "",
      cacheSerializable: cache?.serialize ?? false,
      cacheIgnoreInputVars: [...(cache?.ignoredInputs ?? [])],
      retries: { retries },
      timeout: timeoutMs !== undefined ? durationFromMs(timeoutMs) : undefined,
      interruptibleValue: options.interruptible !== undefined ? { case: "interruptible", value: options.interruptible } : { case: undefined },
      runtime: { type: RuntimeMetadata_RuntimeType.FLYTE_SDK, version: tsflyteVersion, flavor: "typescript" },
    },
    interface: typedInterface(definition.inputs, definition.outputs),
    custom,
    target: {
      case: "container",
      value: {
        image,
        args: executeArgs(input.modulePath, input.exportName, settings.codeBundleUri),
        resources: { requests, limits },
        env,
      },
    },
  });
  // The rules FlyteAdmin applies across a template's fields (gpu requests equal to limits, requests within limits).
  const refused = taskTemplateProblems(template);
  return refused.length ? { problems: refused } : { template, problems };
}
