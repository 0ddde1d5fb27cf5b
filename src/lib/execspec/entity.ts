// What the execution spec library needs to know about a registered task or launch plan: its name, version and
// typed inputs, in the server's own terms. Never holds a client or fetches anything; the CLI fills these in.
import type { Literal } from "../idl/gen/flyteidl/core/literals_pb.js";
import type { LiteralType } from "../idl/gen/flyteidl/core/types_pb.js";

/** One input of a registered entity. */
export interface SpecVariable {
  type: LiteralType;
  description?: string;
  /** A launch plan's default. */
  default?: Literal;
  required: boolean;
}

/** A registered task or launch plan, with its inputs in declaration order. */
export interface SpecEntity {
  kind: "task" | "launchPlan";
  name: string;
  version: string;
  inputs: Record<string, SpecVariable>;
}
