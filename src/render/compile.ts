// Renders the result of `tsflyte compile` for the terminal: one line per entity file, then a total.
// Pure: same result, same text.
import type { PackagedFile } from "../lib/compiler/package.js";

export interface CompileResult {
  outDir: string;
  version: string;
  project: string;
  domain: string;
  files: PackagedFile[];
}

const kindWords: Record<PackagedFile["kind"], string> = { task: "task", workflow: "workflow", launchPlan: "launch plan" };

export function renderCompileResult(result: CompileResult): string {
  const kindWidth = Math.max(0, ...result.files.map((f) => kindWords[f.kind].length));
  const nameWidth = Math.max(0, ...result.files.map((f) => f.name.length));
  const lines = result.files.map((f) => `${kindWords[f.kind].padEnd(kindWidth)}  ${f.name.padEnd(nameWidth)}  →  ${f.file}`);
  const n = result.files.length;
  lines.push(
    `Compiled ${n} entit${n === 1 ? "y" : "ies"} for ${result.project}/${result.domain} at version ${result.version} into ${result.outDir}`,
  );
  return lines.join("\n");
}
