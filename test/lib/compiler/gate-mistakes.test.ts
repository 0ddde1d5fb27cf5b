// Gate mistakes written in plain JavaScript, where tsc cannot help: the compiler rejects each with a message naming the
// entity, the gate's node and what is wrong, at the offending line. Never edits or writes fixtures.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileProject } from "../../../src/lib/compiler/compile.js";
import { CompileError } from "../../../src/lib/errors.js";

const fixtures = fileURLToPath(new URL("../../fixtures/gate-mistakes/", import.meta.url));

/** `<file>:<line>:<col>` of `word` on the one line of the fixture holding `lineText`. */
function locate(file: string, lineText: string, word: string): string {
  const lines = readFileSync(join(fixtures, file), "utf8").split("\n");
  const at = lines.findIndex((line) => line.includes(lineText));
  assert.ok(at >= 0, `${file}: no line holds ${JSON.stringify(lineText)}`);
  return `${file}:${at + 1}:${lines[at].indexOf(word) + 1}`;
}

interface GateMistake {
  file: string;
  entity: string;
  at: [lineText: string, word: string];
  says: string;
}

const mistakes: GateMistake[] = [
  {
    file: "signal-types-differ.js",
    entity: "signal-types-differ.asked",
    at: ['const b = waitForInput("size", { type: t.string() });', "waitForInput"],
    says: 'node n1 waits for signal "size" as string, but node n0 waits for the same signal as int; a signal has one value per execution',
  },
  {
    file: "gate-with-overrides.js",
    entity: "gate-with-overrides.asked",
    at: ['.with({ retries: 2 })', "({ retries"],
    says: 'node n0 (waitForInput "n"): .with(...) does not apply to a gate; give its timeout as an option',
  },
  {
    file: "signal-into-wrong-input.js",
    entity: "signal-into-wrong-input.asked",
    at: ["return double({ n: text });", "double"],
    says: 'input "n" of node n1 (signal-into-wrong-input.double) expects int, but output "o0" of node n0 (waitForInput "count") is string',
  },
  {
    file: "bad-sleep.js",
    entity: "bad-sleep.later",
    at: ['sleep("soon")', "sleep"],
    says: "node n1 (sleep): sleep duration",
  },
  {
    file: "bad-timeout.js",
    entity: "bad-timeout.checked",
    at: ['approve(count(), "count-ok"', "approve"],
    says: 'node n1 (approve "count-ok"): timeout',
  },
];

for (const mistake of mistakes) {
  test(`${mistake.file} is rejected at its line, naming the gate`, async () => {
    let error: unknown;
    try {
      await compileProject({ paths: [join(fixtures, mistake.file)] });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof CompileError, `expected a CompileError, got ${String(error)}`);
    assert.equal(error.problems.length, 1, error.message);
    const [problem] = error.problems;
    assert.equal(problem.entity, mistake.entity);
    assert.ok(problem.message.includes(mistake.says), `${JSON.stringify(mistake.says)} is not in: ${problem.message}`);
    assert.equal(problem.location, locate(mistake.file, ...mistake.at), problem.message);
  });
}

test("every gate mistake fixture is checked by a test here", () => {
  assert.deepEqual(readdirSync(fixtures).filter((f) => f.endsWith(".js")).sort(), mistakes.map((m) => m.file).sort());
});
