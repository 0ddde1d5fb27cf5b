// Runs a map (Flyte's ArrayNode): the inner node once per element of the mapped inputs, each item a child node with
// its own attempts, cache entry and phase, at most `parallelism` at once. Never runs an item twice in one execution.
import { create } from "@bufbuild/protobuf";
import { LiteralSchema, type Literal, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import type { ChildFailure, ChildRun } from "./child-run.js";
import type { PlannedArray } from "./executable.js";
import { literalMapOf } from "./literal-bytes.js";

const none = create(LiteralSchema, { value: { case: "scalar", value: { value: { case: "noneType", value: {} } } } });

/**
 * `nodeId` is the map's unique id; item i is its child `<nodeId>-0-<i>`. Outputs are lists in item order; a failed
 * item's element is none when the success criteria allow failures, and past them the map fails naming the first.
 */
export async function runArray(run: ChildRun, node: PlannedArray, nodeId: string, inputs: LiteralMap): Promise<LiteralMap> {
  const name = node.node.target.name;
  const fail = (code: string, message: string) => run.fail({ kind: "USER", code, message: `map over ${name}: ${message}`, recoverable: false });
  const mapped: [string, Literal[]][] = [];
  for (const [input, literal] of Object.entries(inputs.literals)) {
    if (node.boundInputs.has(input)) continue;
    if (literal.value.case !== "collection") return fail("MappedInputNotAList", `input "${input}" is mapped, so it must be a list; pass it whole with a bound input instead`);
    mapped.push([input, literal.value.value.literals]);
  }
  if (mapped.length === 0) return fail("NothingMapped", "no input is a list to map over");
  const count = mapped[0][1].length;
  const uneven = mapped.find(([, items]) => items.length !== count);
  if (uneven) return fail("MappedLengthsDiffer", `the mapped inputs differ in length: ${mapped.map(([n, items]) => `${n} has ${items.length}`).join(", ")}`);
  const required = node.minSuccesses !== undefined ? Math.min(node.minSuccesses, count) : Math.ceil(count * (node.minSuccessRatio ?? 1));
  const allowedFailures = count - required;
  const results: (LiteralMap | undefined)[] = new Array(count);
  let failures = 0;
  let firstItemFailure: ChildFailure | undefined;
  const limit = node.parallelism && node.parallelism > 0 ? node.parallelism : count;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      if (run.signal.aborted || failures > allowedFailures) return;
      const literals: Record<string, Literal> = {};
      for (const input in inputs.literals) literals[input] = inputs.literals[input];
      for (const [input, items] of mapped) literals[input] = items[i];
      try {
        results[i] = await run.runChild(node.node, `${nodeId}-0-${i}`, literalMapOf(literals), new Map(), String(i));
      } catch (e) {
        const failure = run.childFailure(e);
        if (!failure) throw e;
        failures++;
        firstItemFailure ??= failure;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  if (run.signal.aborted && failures <= allowedFailures) throw run.aborted();
  if (failures > allowedFailures) {
    const first = firstItemFailure!;
    return run.fail({
      ...first.error,
      message: `${failures} of ${count} items failed, more than the ${allowedFailures} allowed; the first, ${first.nodeId}: ${first.error.message}`,
    });
  }
  const outputs: Record<string, Literal> = {};
  for (const output of node.node.target.outputNames) {
    // Array.from, not map: a failed item leaves a hole in `results`, which map would skip and keep as a hole.
    const literals = Array.from(results, (r) => r?.literals[output] ?? none);
    outputs[output] = create(LiteralSchema, { value: { case: "collection", value: { literals } } });
  }
  return literalMapOf(outputs);
}
