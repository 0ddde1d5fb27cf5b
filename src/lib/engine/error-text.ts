// An error with its stack as one bounded text, the way flytekit puts a traceback in ErrorDocument and ExecutionError
// messages, and back again. Never lets a stack grow a message without bound: frames and characters are capped.

/** The message and the stack of an error, as recorded. */
export interface ErrorWithStack {
  message: string;
  stack?: string;
}

/**
 * The bound on a recorded error text: the first 30 frames of its stack (V8 keeps 10 unless a program raises
 * Error.stackTraceLimit; the user's frames come first) and 16,000 characters in all, well under the 100 KB that
 * FlytePropeller cuts error messages to.
 */
export const maxErrorFrames = 30;
export const maxErrorChars = 16_000;

const frameStart = /\n\s+at /;

/**
 * The error as one text: its message, then its stack's frames. The message line is the stack's own first line
 * (`NonRetryableError: refused`) when that holds the message, else the message, with the stack's first line after it
 * when the message does not already say it. Bounded by maxErrorFrames and maxErrorChars.
 */
export function errorText(error: ErrorWithStack): string {
  if (!error.stack) return cutMiddle(error.message, maxErrorChars);
  const at = error.stack.search(frameStart);
  const head = at < 0 ? error.stack : error.stack.slice(0, at);
  const frames = at < 0 ? [] : error.stack.slice(at + 1).split("\n");
  const headMessage = head.replace(/^[\w$.]*: /, "");
  const text = head.includes(error.message) ? head : error.message.includes(headMessage) ? error.message : `${error.message}\n${head}`;
  const kept = frames.slice(0, maxErrorFrames);
  if (frames.length > maxErrorFrames) kept.push(`    … ${frames.length - maxErrorFrames} more frames`);
  const stack = kept.length ? `\n${kept.join("\n")}` : "";
  // The frames say where; a very long message gives way first.
  return `${cutMiddle(text, Math.max(maxErrorChars - stack.length, maxErrorChars / 2))}${stack}`.slice(0, maxErrorChars);
}

/**
 * A recorded error text back as message and stack: the text before its first `at` line is the message (without a
 * leading `Code: `, which names the error class), and the whole text is the stack. A text without frames is a message.
 */
export function splitErrorText(text: string, code: string): ErrorWithStack {
  const at = text.search(frameStart);
  if (at < 0) return { message: text };
  const head = text.slice(0, at);
  return { message: code && head.startsWith(`${code}: `) ? head.slice(code.length + 2) : head, stack: text };
}

function cutMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = ` … (${text.length - max} characters cut) … `;
  const keep = Math.max(0, max - marker.length);
  return `${text.slice(0, Math.ceil(keep / 2))}${marker}${text.slice(text.length - Math.floor(keep / 2))}`;
}
