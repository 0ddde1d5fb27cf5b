// What `tsflyte run` prints: the execution name and outputs on stdout, and on failure the error trace on stderr.
// Pure: the same result always prints the same text.
import type { RunResult } from "../lib/local/commands.js";
import { renderErrorTrace } from "./error-trace.js";

/**
 * `where` names a target other than this machine ("remote"); `details` is the command that shows the execution (with
 * `--target local` for a local run while a control plane is configured, `-p` and `-d` when needed).
 */
export function renderRunResult(result: RunResult, options: { verbose: boolean; where?: string; details?: string }): { stdout: string; stderr?: string } {
  const { project, domain, name } = result.execution;
  const lines = [`Execution ${name} ${result.phase} (${options.where ?? "local"}, ${project}/${domain})`];
  if (result.outputs && Object.keys(result.outputs).length) {
    // One line per output, its value as JSON: exact, greppable, and no YAML parser to load.
    lines.push("Outputs:", ...Object.entries(result.outputs).map(([name, value]) => `  ${name}: ${JSON.stringify(value)}`));
  }
  lines.push(`Details: ${options.details ?? `tsflyte get execution ${name} --details`}`);
  const stderr = result.details && result.phase !== "SUCCEEDED" ? renderErrorTrace(result.details, { verbose: options.verbose }) : undefined;
  return { stdout: lines.join("\n"), stderr };
}
