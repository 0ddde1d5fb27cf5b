// An error and its stack as the one bounded text that error.pb and FlyteAdmin's ExecutionError.message carry, and back:
// the message line, the frames, the caps on frames and characters.
import assert from "node:assert/strict";
import { test } from "node:test";
import { errorText, maxErrorChars, maxErrorFrames, splitErrorText } from "../../../src/lib/engine/error-text.js";

const frames = (n: number) => Array.from({ length: n }, (_, i) => `    at step${i} (src/flows.ts:${i + 1}:3)`).join("\n");

test("a thrown error: its stack as V8 wrote it, and back to its message and stack", () => {
  const stack = `NonRetryableError: refused: no budget\n${frames(3)}`;
  const text = errorText({ message: "refused: no budget", stack });
  assert.equal(text, stack);
  assert.deepEqual(splitErrorText(text, "NonRetryableError"), { message: "refused: no budget", stack });
});

test("a message that says more than the stack's first line leads, and the frames follow it", () => {
  const stack = `Error: the service is down\n${frames(2)}`;
  const message = "[3/3] currentAttempt done. Last Error: USER::the service is down";
  assert.equal(errorText({ message, stack }), `${message}\n${frames(2)}`);
  const other = errorText({ message: "flows.ts could not be loaded", stack });
  assert.equal(other, `flows.ts could not be loaded\nError: the service is down\n${frames(2)}`);
  assert.equal(splitErrorText(other, "ModuleLoadFailed").message, "flows.ts could not be loaded\nError: the service is down");
});

test("no stack: the message alone, and a text without frames is a message", () => {
  assert.equal(errorText({ message: "worker exited with code 137" }), "worker exited with code 137");
  assert.deepEqual(splitErrorText("worker exited with code 137", "WorkerExited"), { message: "worker exited with code 137" });
});

test("bounded: the first frames and a count of the rest; a huge message is cut in the middle, the frames kept", () => {
  const text = errorText({ message: "boom", stack: `Error: boom\n${frames(maxErrorFrames + 12)}` });
  const lines = text.split("\n");
  assert.equal(lines.length, 1 + maxErrorFrames + 1);
  assert.equal(lines[maxErrorFrames], `    at step${maxErrorFrames - 1} (src/flows.ts:${maxErrorFrames}:3)`);
  assert.equal(lines.at(-1), "    … 12 more frames");

  const huge = `${"a".repeat(30_000)}THE END`;
  const cut = errorText({ message: huge, stack: `Error: ${huge}\n${frames(3)}` });
  assert.ok(cut.length <= maxErrorChars, String(cut.length));
  assert.match(cut, /^Error: a+ … \(\d+ characters cut\) … a*THE END\n {4}at step0 /);
  assert.ok(cut.endsWith(frames(3)));
  assert.ok(errorText({ message: huge }).length <= maxErrorChars);
});
