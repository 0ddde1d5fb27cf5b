// A traced gate as the parts of a Flyte IR Node, as flytekit writes them: GateNode approve{signal_id} (its input bound
// to the approved value), signal{signal_id, type, output_variable_name "o0"} or sleep{duration}; the timeout on NodeMetadata.
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { Binding } from "../idl/gen/flyteidl/core/literals_pb.js";
import { GateNodeSchema, NodeMetadataSchema, type GateNode, type Node, type NodeMetadata } from "../idl/gen/flyteidl/core/workflow_pb.js";
import { SimpleType, type LiteralType } from "../idl/gen/flyteidl/core/types_pb.js";
import { signalOutputName } from "../sdk/gates.js";
import type { TracedGate } from "../sdk/trace.js";
import { describeLiteralType } from "../types/compat.js";
import { parseDuration } from "../types/duration.js";
import { BindingProblem, bindValue, type BindingScope } from "./bindings.js";

export interface EmittedGate {
  metadata: NodeMetadata;
  inputs: Binding[];
  target: Node["target"];
}

const booleanType: LiteralType = { $typeName: "flyteidl.core.LiteralType", type: { case: "simple", value: SimpleType.BOOLEAN }, metadata: undefined, annotation: undefined, structure: undefined };

/** The type of the signal a gate waits for: approvals are booleans, as FlyteAdmin's signals for them are. */
export function signalTypeOf(gate: TracedGate): LiteralType | undefined {
  if (gate.gate === "approve") return booleanType;
  return gate.type?.literalType();
}

/** The gate's node parts; problems go to `problem` and give undefined. */
export function emitGate(gate: TracedGate, scope: BindingScope, problem: (message: string, site?: Error) => void, describe: string): EmittedGate | undefined {
  const where = `node ${gate.id} (${describe})`;
  let ok = true;
  const fail = (message: string, site = gate.site) => {
    problem(`${where}: ${message}`, site);
    ok = false;
  };
  if (gate.overrides) fail(`.with(...) does not apply to a gate; give its timeout as an option, e.g. { timeout: "1h" }`, gate.overrideSite);
  const metadata = create(NodeMetadataSchema, { name: gate.name });
  if (gate.timeout !== undefined) {
    try {
      metadata.timeout = durationFromMs(parseDuration(gate.timeout, "timeout"));
    } catch (e) {
      fail((e as Error).message);
    }
  }
  const inputs: Binding[] = [];
  let condition: GateNode["condition"] | undefined;
  if (gate.gate === "approve") {
    const value = gate.value!;
    try {
      inputs.push({
        $typeName: "flyteidl.core.Binding",
        var: value.varName,
        binding: bindValue(value, value.type, `the value ${describe} passes on`, scope, value.varName),
      });
    } catch (e) {
      if (!(e instanceof BindingProblem)) throw e;
      fail(e.message);
    }
    condition = { case: "approve", value: { $typeName: "flyteidl.core.ApproveCondition", signalId: gate.name } };
  } else if (gate.gate === "signal") {
    condition = {
      case: "signal",
      value: { $typeName: "flyteidl.core.SignalCondition", signalId: gate.name, type: gate.type!.literalType(), outputVariableName: signalOutputName },
    };
  } else {
    try {
      const ms = parseDuration(gate.duration!, "sleep duration");
      if (ms <= 0) fail(`sleep duration must be longer than 0, got ${JSON.stringify(gate.duration)}`);
      condition = { case: "sleep", value: { $typeName: "flyteidl.core.SleepCondition", duration: durationFromMs(ms) } };
    } catch (e) {
      fail((e as Error).message);
    }
  }
  if (!ok || !condition) return undefined;
  return { metadata, inputs, target: { case: "gateNode", value: create(GateNodeSchema, { condition }) } };
}

/**
 * One signal id is one value per execution, so every gate waiting for it must want the same type; reports each gate
 * whose type differs from the first one's.
 */
export function checkSignalTypes(gates: readonly TracedGate[], problem: (message: string, site?: Error) => void): void {
  const first = new Map<string, { gate: TracedGate; type: string }>();
  for (const gate of gates) {
    const lt = gate.gate === "sleep" ? undefined : signalTypeOf(gate);
    if (!lt) continue;
    const type = describeLiteralType(lt);
    const seen = first.get(gate.name);
    if (!seen) first.set(gate.name, { gate, type });
    else if (seen.type !== type) {
      problem(
        `node ${gate.id} waits for signal "${gate.name}" as ${type}, but node ${seen.gate.id} waits for the same signal as ${seen.type}; a signal has one value per execution, so give them different names`,
        gate.site,
      );
    }
  }
}
