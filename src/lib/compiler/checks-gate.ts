// Compile checks of a gate node: approve (passes on what it binds once approved), signal (a typed value someone
// sends) and sleep (a positive duration). Never waits for anything.
import type { GateNode, Node } from "../idl/gen/flyteidl/core/workflow_pb.js";
import { bindingType, checkBindingData, type CheckScope, type NodePlace, type Outputs } from "./checks-scope.js";

export function checkGateNode(node: Node, gate: GateNode, place: NodePlace, scope: CheckScope, upstream: Set<string> | undefined): Outputs | undefined {
  const at = `gate node ${place.path}`;
  const problems = scope.problems;
  const condition = gate.condition;
  switch (condition.case) {
    case "approve": {
      if (!condition.value.signalId) problems.push(`${at} approves without a signalId; give it the name people approve it by`);
      // Approving copies the gate's inputs to its outputs: it passes on what it binds, with the same types.
      const outputs: Outputs = {};
      for (const binding of node.inputs) {
        if (!binding.binding) {
          problems.push(`${at} input "${binding.var}" has an empty binding`);
          continue;
        }
        checkBindingData(binding.binding, undefined, `${at} input "${binding.var}"`, scope, { upstream, readable: place.readable });
        outputs[binding.var] = bindingType(binding.binding, scope);
      }
      if (node.inputs.length === 0 && node.upstreamNodeIds.length === 0) {
        problems.push(`${at} approves nothing: it binds no input and has no upstream node; bind the output it should pass on once approved`);
      }
      return outputs;
    }
    case "signal": {
      const { signalId, type, outputVariableName } = condition.value;
      if (!signalId) problems.push(`${at} waits for a signal without a signalId; give it the name the value is sent by`);
      if (!type?.type.case) problems.push(`${at} waits for signal "${signalId}" without a type; give the type of the value it waits for`);
      if (!outputVariableName) problems.push(`${at} waits for signal "${signalId}" without an outputVariableName; name the output the value is passed on as (flytekit uses o0)`);
      if (node.inputs.length) problems.push(`${at} binds ${node.inputs.map((b) => `"${b.var}"`).join(", ")}, but a signal gate has no inputs; remove the bindings`);
      return outputVariableName ? { [outputVariableName]: type?.type.case ? type : undefined } : {};
    }
    case "sleep": {
      const d = condition.value.duration;
      const seconds = d ? Number(d.seconds) + d.nanos / 1e9 : 0;
      if (!(seconds > 0)) problems.push(`${at} sleeps for ${d ? `${seconds}s` : "no duration"}; give it a duration above 0, e.g. "600s"`);
      if (node.inputs.length) problems.push(`${at} binds ${node.inputs.map((b) => `"${b.var}"`).join(", ")}, but a sleep gate has no inputs; remove the bindings`);
      return {};
    }
    default:
      problems.push(`${at} has no condition; give it approve, signal or sleep`);
      return undefined;
  }
}
