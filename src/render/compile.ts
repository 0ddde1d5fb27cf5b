// Renders the result of `tsflyte compile` for the terminal: one line per entity file, then a total.
// Pure: same result, same text.
import type { PackagedFile } from "../lib/compiler/package.js";

export interface CompileResult {
  outDir: string;
  version: string;
  project: string;
  domain: string;
  files: PackagedFile[];
  codeBundle?: string;
}

const kindWords: Record<PackagedFile["kind"], string> = { task: "task", workflow: "workflow", launchPlan: "launch plan" };

/** `invocation`: how the user starts tsflyte (see BaseCommand.invocation), for the command it suggests next. */
export function renderCompileResult(result: CompileResult, invocation = "tsflyte"): string {
  const kindWidth = Math.max(0, ...result.files.map((f) => kindWords[f.kind].length));
  const nameWidth = Math.max(0, ...result.files.map((f) => f.name.length));
  const lines = result.files.map((f) => `${kindWords[f.kind].padEnd(kindWidth)}  ${f.name.padEnd(nameWidth)}  →  ${f.file}`);
  const n = result.files.length;
  const entities = `${n} entit${n === 1 ? "y" : "ies"}`;
  if (result.codeBundle) {
    lines.push(`code bundle${" ".repeat(Math.max(0, kindWidth + nameWidth - 9))}  →  ${result.codeBundle}`);
    const left = result.version ? "project and domain" : "project, domain and version";
    lines.push(`Packaged ${entities} into ${result.outDir}${result.version ? ` at version ${result.version}` : ""}, ${left} left to the registrar`);
    lines.push(`Register it with: ${invocation} register files ${result.outDir}${result.version ? "" : " --version V"}`);
  } else {
    lines.push(`Compiled ${entities} for ${result.project}/${result.domain} at version ${result.version} into ${result.outDir}`);
  }
  return lines.join("\n");
}
