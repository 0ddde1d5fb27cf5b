// tsflyte's own version, read once from package.json; recorded in TaskTemplate runtime metadata.
// Never depends on the working directory: the path is relative to this file.
import { readFileSync } from "node:fs";

export const tsflyteVersion: string = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;
