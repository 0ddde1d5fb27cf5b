// Error text for the terminal: one clear paragraph for what the user can fix, a stack and a report link for bugs.
// Never prints a stack trace for bad input unless asked with -v.
import { CompileError, UserError } from "../lib/errors.js";

export function renderError(err: Error, options: { verbose?: boolean; usage?: boolean } = {}): string {
  if (err instanceof CompileError) {
    const lines = err.problems.map((p) => `  ${p.location ? `${p.location}  ` : ""}${p.entity}: ${p.message}`);
    const n = err.problems.length;
    return [`Error: compile failed with ${n} problem${n === 1 ? "" : "s"}:`, ...lines, ...(options.verbose && err.stack ? [err.stack] : [])].join("\n");
  }
  if (err instanceof UserError) {
    return [`Error: ${err.message}`, ...(err.hint ? [`Hint: ${err.hint}`] : []), ...(options.verbose && err.stack ? [err.stack] : [])].join("\n");
  }
  if (options.usage) return `Error: ${err.message}${/--help/.test(err.message) ? "" : "\nSee more help with --help"}`;
  return [
    `Error: tsflyte failed unexpectedly: ${err.message}`,
    "This is a bug in tsflyte. Please report it with the command you ran and this trace:",
    err.stack ?? String(err),
  ].join("\n");
}
