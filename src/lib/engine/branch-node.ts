// Runs a branch (Flyte's BranchNode): the first case whose condition holds runs as the branch's child, the others
// are recorded SKIPPED, and the branch gives the chosen case's outputs. Never evaluates a condition twice.
import type { LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import type { ChildRun } from "./child-run.js";
import { evaluateCondition, MalformedCondition } from "./conditions.js";
import type { PlannedBranch, PlannedNode } from "./executable.js";

/**
 * `nodeId` is the branch's unique id; a case node's id already names its branch (`n3-n0`), so it runs under the
 * enclosing workflow's prefix. No case holding fails the branch with its else's message, as Flyte's does.
 */
export async function runBranch(run: ChildRun, node: PlannedBranch, nodeId: string, inputs: LiteralMap, scope: ReadonlyMap<string, LiteralMap>): Promise<LiteralMap> {
  let chosen: PlannedNode | undefined;
  try {
    chosen = node.cases.find((c) => evaluateCondition(c.condition, inputs.literals))?.node ?? node.otherwise;
  } catch (e) {
    if (!(e instanceof MalformedCondition)) throw e;
    return run.fail({ kind: "USER", code: "MalformedBranch", message: `branch ${node.name}: ${e.message}`, recoverable: false });
  }
  const prefix = nodeId.slice(0, nodeId.length - node.id.length);
  for (const other of [...node.cases.map((c) => c.node), ...(node.otherwise ? [node.otherwise] : [])]) {
    if (other !== chosen) run.skipChild(other, prefix + other.id);
  }
  if (!chosen) {
    return run.fail({ kind: "USER", code: "BranchFailure", message: node.error ?? `no case of branch ${node.name} held, and it has no else`, recoverable: false });
  }
  return run.runChild(chosen, prefix + chosen.id, run.resolveInputs(chosen, scope), scope);
}
