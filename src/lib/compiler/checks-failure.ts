// Compile checks of a workflow's failure node: what it calls exists, it reads only the workflow's inputs (and the
// error it is fed, flytekit's `err`), and it stays out of the graph. Never decides when it runs.
import { SimpleType, type LiteralType } from "../idl/gen/flyteidl/core/types_pb.js";
import type { Node } from "../idl/gen/flyteidl/core/workflow_pb.js";
import { endNode, startNode, type CheckScope } from "./checks-scope.js";

export function checkFailureNode(node: Node, topLevelIds: Set<string>, scope: CheckScope): void {
  const problems = scope.problems;
  const at = `failure node ${node.id || "(no id)"}`;
  if (!node.id) problems.push("the failure node has an empty id; give it one of its own, e.g. fn0");
  else if (node.id === startNode || node.id === endNode) problems.push(`failure node id "${node.id}" is reserved; give it one of its own, e.g. fn0`);
  else if (topLevelIds.has(node.id)) problems.push(`failure node id "${node.id}" is also the id of a node of the workflow; give it one of its own, e.g. fn0`);
  if (node.upstreamNodeIds.length) {
    problems.push(`${at} lists upstream nodes ${node.upstreamNodeIds.join(", ")}, but it runs outside the graph, after a failure; remove them`);
  }
  if (node.target.case === "branchNode" || node.target.case === "arrayNode" || node.target.case === "gateNode") {
    problems.push(`${at} is a ${node.target.case}; a failure node calls a task, subworkflow or launch plan`);
    return;
  }
  scope.checkNode(node, {
    label: at,
    path: node.id,
    readable: { ids: new Set(), why: () => "but a failure node runs outside the graph and may read only the workflow's inputs; bind it to a workflow input" },
    fedInputs: (_name, type) => isErrorType(type),
  });
}

/** ERROR or a union with it (flytekit's Optional[FlyteError]): the failure itself feeds it. */
function isErrorType(type: LiteralType | undefined): boolean {
  const t = type?.type;
  if (t?.case === "simple") return t.value === SimpleType.ERROR;
  if (t?.case === "unionType") return t.value.variants.some(isErrorType);
  return false;
}
