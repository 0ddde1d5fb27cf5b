// The DynamicJobSpec a dynamic workflow's body builds when its task runs: the trace of the body (on its inputs'
// values) emitted as IR nodes, with its outputs bound, as flytekit writes futures.pb. Pure; never runs a task.
import { create } from "@bufbuild/protobuf";
import { DynamicJobSpecSchema, type DynamicJobSpec } from "../idl/gen/flyteidl/core/dynamic_job_pb.js";
import type { Identifier } from "../idl/gen/flyteidl/core/identifier_pb.js";
import type { Definition, Entity, TaskDefinition } from "../sdk/entity.js";
import type { TracedWorkflow } from "../sdk/trace.js";
import { bindTracedOutputs, emitNodes, traceBindingScope } from "./emit-nodes.js";

/**
 * The spec of a traced dynamic body; `idOf` names what it calls (registered ids in a task container, local names in
 * this process). Problems are the user's wiring mistakes, each one sentence.
 */
export function dynamicJobSpec(
  traced: TracedWorkflow,
  definition: TaskDefinition,
  label: (entity: Entity) => string,
  idOf: (entity: Entity, definition: Definition) => Identifier,
): { spec?: DynamicJobSpec; problems: string[] } {
  const problems: string[] = [];
  const nodes = emitNodes({
    traced,
    label,
    problem: (message) => problems.push(message),
    nodeName: (entity) => label(entity).split(".").pop()!,
    idOf: (entity, calleeDefinition) => idOf(entity, calleeDefinition),
  });
  const outputs = bindTracedOutputs(definition.outputs, definition.singleOutput, traced, traceBindingScope(traced, label), problems);
  if (problems.length) return { problems };
  const spec = create(DynamicJobSpecSchema, {
    nodes,
    minSuccesses: BigInt(nodes.length),
    outputs: Object.entries(outputs).map(([name, binding]) => ({ var: name, binding })),
  });
  return { spec, problems };
}
