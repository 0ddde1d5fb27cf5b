// How a local run answers its gates on a terminal: an approval asks y/n (again after another answer), an input asks for
// a value of the signal's type (again after a bad one, with the input rules' message); a closed terminal or a stop ends
// the question. Real streams stand in for the terminal; the literals are made by the type engine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { LiteralMapSchema, type Literal } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import type { GateQuestion } from "../../../src/lib/engine/gate-node.js";
import { localGateAnswerer, parseSignalFlags } from "../../../src/lib/local/gate-answers.js";
import { literalToPlain } from "../../../src/lib/types/plain.js";
import { t } from "../../../src/index.js";

function terminal() {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = "";
  output.on("data", (chunk: Buffer) => (shown += chunk.toString()));
  return { input, output, shown: () => shown };
}

const execution = { project: "p", domain: "d", name: "a1" };
const approval: GateQuestion = {
  execution,
  nodeId: "n1",
  kind: "approve",
  signalId: "deploy-ok",
  type: t.boolean().literalType(),
  value: create(LiteralMapSchema, { literals: { o0: t.string().toLiteral("model-e3", "o0") } }),
};
const input: GateQuestion = { execution, nodeId: "n2", kind: "signal", signalId: "batch-size", type: t.int().literalType() };
const toLiteral = async (type: { toLiteral(v: unknown, at: string): Literal }, value: unknown, at: string) => type.toLiteral(value, at);

/** Writes `lines` one at a time, each once the terminal shows `prompt` again. */
async function answer(term: ReturnType<typeof terminal>, prompt: string, lines: string[]): Promise<void> {
  for (const [i, line] of lines.entries()) {
    while (term.shown().split(prompt).length - 1 <= i) await new Promise((r) => setTimeout(r, 5));
    term.input.write(`${line}\n`);
  }
}

test("an approval shows the value, asks y/n again after another answer, and gives true or false", async () => {
  const term = terminal();
  const gates = localGateAnswerer({ given: {}, terminal: term, toLiteral });
  const asked = gates.answer(approval, new AbortController().signal);
  await answer(term, 'Approve "deploy-ok"? [y/n] ', ["maybe", "y"]);
  assert.equal(literalToPlain((await asked) as Literal), true);
  assert.match(term.shown(), /Gate "deploy-ok" of execution a1 waits for approval of "model-e3"\./);
  assert.match(term.shown(), /Answer y \(approve\) or n \(reject\)\./);

  const again = terminal();
  const rejected = localGateAnswerer({ given: {}, terminal: again, toLiteral }).answer(approval, new AbortController().signal);
  await answer(again, "[y/n] ", ["n"]);
  assert.equal(literalToPlain((await rejected) as Literal), false);
});

test("an input is asked again after a bad value, with the message of the input rules", async () => {
  const term = terminal();
  const asked = localGateAnswerer({ given: {}, terminal: term, toLiteral }).answer(input, new AbortController().signal);
  await answer(term, "batch-size: ", ["lots", "3.5", "64"]);
  assert.equal(literalToPlain((await asked) as Literal), 64);
  assert.match(term.shown(), /waits for a value of type int/);
  assert.match(term.shown(), /"batch-size": expected int, got 'lots'; not a whole number/);
  assert.match(term.shown(), /"batch-size": expected int, got '3.5'/);
});

test("values given in advance answer without a terminal; a gate nobody can answer says how to give it", async () => {
  const given = parseSignalFlags(["batch-size=12", "deploy-ok=false"]);
  const gates = localGateAnswerer({ given, toLiteral });
  assert.equal(literalToPlain((await gates.answer(input, new AbortController().signal)) as Literal), 12);
  assert.equal(literalToPlain((await gates.answer(approval, new AbortController().signal)) as Literal), false);
  const none = await localGateAnswerer({ given: {}, toLiteral }).answer(input, new AbortController().signal);
  assert.deepEqual(none, {
    unanswerable: 'waitForInput "batch-size" waits for a value of type int, and there is no terminal to ask on; give it in advance with --signal batch-size=VALUE',
  });
  assert.throws(() => parseSignalFlags(["a=1", "a=2"]), /--signal a is given twice/);
  assert.throws(() => parseSignalFlags(["=1"]), /write it as NAME=VALUE/);
});

test("a closed terminal ends the question with how to answer in advance; two gates ask one after the other", async () => {
  const term = terminal();
  const gates = localGateAnswerer({ given: {}, terminal: term, toLiteral });
  const first = gates.answer(input, new AbortController().signal);
  const second = gates.answer({ ...input, signalId: "other" }, new AbortController().signal);
  await answer(term, "batch-size: ", ["5"]);
  assert.equal(literalToPlain((await first) as Literal), 5);
  while (!term.shown().includes("other: ")) await new Promise((r) => setTimeout(r, 5));
  term.input.end();
  assert.deepEqual(await second, { unanswerable: 'waitForInput "other" got no value: the terminal closed; give it in advance with --signal other=VALUE' });
});
