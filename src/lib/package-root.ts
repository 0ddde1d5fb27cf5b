// Where tsflyte itself is installed, found from this module's own URL: in src/ under tsx, in dist/ or in one
// of dist's bundled chunks. Never depends on the working directory.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findPackageRoot(): string {
  const here = fileURLToPath(import.meta.url);
  for (let folder = dirname(here); dirname(folder) !== folder; folder = dirname(folder)) {
    const manifest = join(folder, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "tsflyte") return folder;
  }
  throw new Error(`tsflyte: no package.json of tsflyte above ${here}`);
}

/** The folder holding tsflyte's package.json, without a trailing separator. */
export const packageRoot: string = findPackageRoot();

/** True when tsflyte runs from its TypeScript sources (tests, bin/dev.js) rather than from dist/. */
export const runningFromSource: boolean = import.meta.url.endsWith(".ts");
