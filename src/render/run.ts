// What `tsflyte run` prints: the execution name and outputs on stdout, and on failure the error trace on stderr.
// Pure: the same result always prints the same text.
import type { RunResult } from "../lib/local/commands.js";
import { renderErrorTrace } from "./error-trace.js";

export function renderRunResult(result: RunResult, options: { verbose: boolean; where?: string }): { stdout: string; stderr?: string } {
  const { project, domain, name } = result.execution;
  const lines = [`Execution ${name} ${result.phase} (${options.where ?? "local"}, ${project}/${domain})`];
  if (result.outputs && Object.keys(result.outputs).length) {
    // One line per output, its value as JSON: exact, greppable, and no YAML parser to load.
    lines.push("Outputs:", ...Object.entries(result.outputs).map(([name, value]) => `  ${name}: ${JSON.stringify(value)}`));
  }
  lines.push(`Details: tsflyte get execution ${name} --details${project !== "flytesnacks" ? ` -p ${project}` : ""}${domain !== "development" ? ` -d ${domain}` : ""}`);
  const stderr = result.details && result.phase !== "SUCCEEDED" ? renderErrorTrace(result.details, { verbose: options.verbose }) : undefined;
  return { stdout: lines.join("\n"), stderr };
}
