// What `tsflyte config init` prints: the file written, what it points at, and the one thing to do next.
// Never prints a token (the config file holds none) and never reads the environment itself: the command passes what matters.
import type { InitConfigResult } from "../lib/config/init.js";

export function renderConfigInit(result: InitConfigResult, options: { shadowedBy?: string } = {}): string {
  const lines = [
    `Wrote ${result.file}: admin.endpoint ${result.endpoint}, ${result.insecure ? "insecure (plain http)" : "TLS (https)"}.`,
  ];
  if (options.shadowedBy) lines.push(`Note: FLYTECTL_CONFIG=${options.shadowedBy} is set and wins over this file; unset it to use this one.`);
  lines.push("Next: run a workflow there with `tsflyte run --remote FILE WORKFLOW`.");
  return lines.join("\n");
}
