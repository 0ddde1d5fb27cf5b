// How a local run answers its gates: values given in advance (`run --signal name=value`), else a question on the terminal
// (approve: y/n; input: a value of the signal's type, asked again after a bad one), else a clear refusal saying how to give it.
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { Literal } from "../idl/gen/flyteidl/core/literals_pb.js";
import { UserError } from "../errors.js";
import type { GateAnswerer, GateQuestion, GateUnanswerable } from "../engine/gate-node.js";
import { convertInputValue } from "../inputs/convert.js";
import { literalMapToPlain } from "../types/plain.js";
import { describeLiteralType } from "../types/compat.js";
import { typeFromLiteralType } from "../types/from-literal-type.js";
import type { AnyType } from "../types/types.js";

export interface LocalGateOptions {
  /** `--signal name=value`, parsed: signal id → the value's text. */
  given: Record<string, string>;
  /** The terminal to ask on; unset when stdin is not one. */
  terminal?: { input: Readable; output: Writable };
  /** The literal for a value of `type` (files are copied into the run's blob store). */
  toLiteral(type: AnyType, value: unknown, at: string, execution: GateQuestion["execution"]): Promise<Literal>;
}

/** `--signal name=value` texts → signal id → value text; a malformed one is a UserError naming it. */
export function parseSignalFlags(flags: readonly string[]): Record<string, string> {
  const given: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf("=");
    const name = eq > 0 ? flag.slice(0, eq) : "";
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
      throw new UserError(`--signal ${flag}: write it as NAME=VALUE, e.g. --signal deploy-ok=true or --signal batch-size=64`);
    }
    if (name in given) throw new UserError(`--signal ${name} is given twice; give each signal once`);
    given[name] = flag.slice(eq + 1);
  }
  return given;
}

export function localGateAnswerer(options: LocalGateOptions): GateAnswerer {
  // One question on the terminal at a time: two gates waiting at once ask one after the other.
  let turn: Promise<unknown> = Promise.resolve();
  return {
    async answer(question, signal) {
      const text = options.given[question.signalId];
      if (text !== undefined) return fromText(options, question, text);
      const terminal = options.terminal;
      if (!terminal) return unanswerable(question);
      const asking = turn.then(() => ask(options, terminal, question, signal));
      turn = asking.catch(() => undefined);
      return asking;
    },
  };
}

function isApproval(question: GateQuestion): boolean {
  return question.kind === "approve";
}

function unanswerable(question: GateQuestion): GateUnanswerable {
  const id = question.signalId;
  if (isApproval(question)) {
    return { unanswerable: `approve "${id}" waits for an approval, and there is no terminal to ask on; approve it in advance with --signal ${id}=true (or reject it with --signal ${id}=false)` };
  }
  return { unanswerable: `waitForInput "${id}" waits for a value of type ${describeLiteralType(question.type)}, and there is no terminal to ask on; give it in advance with --signal ${id}=VALUE` };
}

async function fromText(options: LocalGateOptions, question: GateQuestion, text: string): Promise<Literal | GateUnanswerable> {
  const at = `--signal ${question.signalId}`;
  try {
    const type = typeFromLiteralType(question.type);
    return await options.toLiteral(type, convertInputValue(type, text, at), at, question.execution);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { unanswerable: e.message };
  }
}

async function ask(options: LocalGateOptions, terminal: NonNullable<LocalGateOptions["terminal"]>, question: GateQuestion, signal: AbortSignal): Promise<Literal | GateUnanswerable> {
  const rl = createInterface({ input: terminal.input, output: terminal.output, terminal: false });
  const write = (line: string) => terminal.output.write(line);
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  rl.on("line", (line) => {
    lines.push(line);
    wake?.();
  });
  rl.on("close", () => {
    closed = true;
    wake?.();
  });
  const onAbort = () => rl.close();
  signal.addEventListener("abort", onAbort, { once: true });
  const nextLine = async (): Promise<string | undefined> => {
    while (lines.length === 0 && !closed) await new Promise<void>((resolve) => (wake = resolve));
    return lines.shift();
  };
  try {
    const id = question.signalId;
    if (isApproval(question)) {
      const shown = question.value ? Object.values(literalMapToPlain(question.value)).map((v) => JSON.stringify(v)).join(", ") : "";
      write(`Gate "${id}" of execution ${question.execution.name} waits for approval${shown ? ` of ${shown}` : ""}.\n`);
      for (;;) {
        write(`Approve "${id}"? [y/n] `);
        const line = await nextLine();
        if (line === undefined) return { unanswerable: `approve "${id}" got no answer: the terminal closed; approve it in advance with --signal ${id}=true` };
        const answer = line.trim().toLowerCase();
        if (answer === "y" || answer === "yes") return options.toLiteral(typeFromLiteralType(question.type), true, `approve "${id}"`, question.execution);
        if (answer === "n" || answer === "no") return options.toLiteral(typeFromLiteralType(question.type), false, `approve "${id}"`, question.execution);
        write(`Answer y (approve) or n (reject).\n`);
      }
    }
    const type = typeFromLiteralType(question.type);
    write(`Gate "${id}" of execution ${question.execution.name} waits for a value of type ${describeLiteralType(question.type)}.\n`);
    for (;;) {
      write(`${id}: `);
      const line = await nextLine();
      if (line === undefined) return { unanswerable: `waitForInput "${id}" got no value: the terminal closed; give it in advance with --signal ${id}=VALUE` };
      try {
        return await options.toLiteral(type, convertInputValue(type, line, `"${id}"`), `"${id}"`, question.execution);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        write(`${e.message}\n`);
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    rl.close();
  }
}
