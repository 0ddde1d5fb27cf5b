// tsflyte's own version, read once from package.json; recorded in TaskTemplate runtime metadata.
// Never depends on the working directory: the package is found from this module's location.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "./package-root.js";

export const tsflyteVersion: string = (JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string }).version;
