// What a control-flow node (a branch, a map) needs of the engine to run its children: run one, skip one, fail itself.
// The engine makes it per node; the node kinds' modules never see the engine's execution state.
import type { LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import type { ExecutionErrorRecord } from "../store/records.js";
import type { PlannedNode } from "./executable.js";

/** A failed node's error as the engine passes it up: which node, and what it ended with. */
export interface ChildFailure {
  nodeId: string;
  error: ExecutionErrorRecord;
}

export interface ChildRun {
  /** Runs a child of this node under `uniqueId` and gives its outputs; a child's failure throws (see childFailure). */
  runChild(node: PlannedNode, uniqueId: string, inputs: LiteralMap, scope: ReadonlyMap<string, LiteralMap>, specNodeId?: string): Promise<LiteralMap>;
  /** Records a child that does not run as SKIPPED (once: a resumed execution keeps its record). */
  skipChild(node: PlannedNode, uniqueId: string): void;
  /** Fails this node with `error`: records it and throws what the engine passes up. */
  fail(error: ExecutionErrorRecord): never;
  /** The failure a thrown value carries when a child failed; undefined for anything else (an abort, a bug). */
  childFailure(thrown: unknown): ChildFailure | undefined;
  /** A node's inputs from the outputs of the nodes of its workflow (`scope`). */
  resolveInputs(node: PlannedNode, scope: ReadonlyMap<string, LiteralMap>): LiteralMap;
  /** Aborted when the execution stops: no further child starts. */
  readonly signal: AbortSignal;
  /** What to throw when this node stops because the execution stopped. */
  aborted(): Error;
}
