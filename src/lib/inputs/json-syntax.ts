// Finds where a JSON text goes wrong, for messages: V8's JSON.parse names no position for "Unexpected token".
// Never parses a value: call it only after JSON.parse has failed, to say where and why.
import { maxNestingDepth } from "../user-file.js";

/** The first syntax error: its offset into the text and what was expected there. */
export interface JsonSyntaxError {
  offset: number;
  message: string;
}

class Stop {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

export function findJsonError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  // Nesting is capped as in a YAML file, so that a deep text cannot exhaust the stack of this scan.
  let depth = 0;
  const enter = () => {
    if (++depth > maxNestingDepth) stop(`arrays and objects nest more than ${maxNestingDepth} levels deep here; tsflyte reads at most ${maxNestingDepth} levels`);
  };
  const found = () => (i >= text.length ? "the end of the text" : JSON.stringify(text[i]));
  const stop = (message: string, at = i): never => {
    throw new Stop(at, message);
  };
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };

  const string = () => {
    const start = i++;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i++;
        return;
      }
      if (c === "\\") {
        if (/^(["\\/bfnrt]|u[0-9a-fA-F]{4})/.test(text.slice(i + 1, i + 6))) i += text[i + 1] === "u" ? 6 : 2;
        else stop(`bad escape ${JSON.stringify(text.slice(i, i + 2))} in a string`);
        continue;
      }
      if (c < " ") stop("a line break or control character inside a string; write it as \\n or \\t");
      i++;
    }
    stop("a string that is never closed with \"", start);
  };

  const number = () => {
    const m = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = i;
    const match = m.exec(text);
    if (!match) return stop(`expected a number, found ${found()}`);
    i += match[0].length;
    if (/[0-9.eE]/.test(text[i] ?? "")) stop(`a malformed number (JSON has no leading zeros, and digits must follow "." and "e")`);
  };

  const value = (): void => {
    space();
    const c = text[i];
    if (c === "{") return object();
    if (c === "[") return array();
    if (c === '"') return string();
    if (c === "-" || (c >= "0" && c <= "9")) return number();
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    stop(`expected a value (a "string", a number, true, false, null, [ or {), found ${found()}`);
  };

  const object = () => {
    enter();
    i++;
    space();
    if (text[i] === "}") {
      i++;
      depth--;
      return;
    }
    for (;;) {
      space();
      if (text[i] !== '"') stop(`expected a "quoted" property name, found ${found()}`);
      string();
      space();
      if (text[i] !== ":") stop(`expected ":" after the property name, found ${found()}`);
      i++;
      value();
      space();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "}") {
        i++;
        depth--;
        return;
      }
      stop(`expected "," or "}", found ${found()}`);
    }
  };

  const array = () => {
    enter();
    i++;
    space();
    if (text[i] === "]") {
      i++;
      depth--;
      return;
    }
    for (;;) {
      value();
      space();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "]") {
        i++;
        depth--;
        return;
      }
      stop(`expected "," or "]", found ${found()}`);
    }
  };

  try {
    value();
    space();
    if (i < text.length) stop(`unexpected ${found()} after the end of the JSON value`);
    return undefined;
  } catch (e) {
    if (e instanceof Stop) return { offset: e.offset, message: e.message };
    throw e;
  }
}

/** The line and column of an offset, both counted from 1. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before.at(-1)!.length + 1 };
}
