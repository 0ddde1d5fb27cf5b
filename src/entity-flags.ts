// The flags `get task|workflow|launchplan` share, and the one run() they share: table, JSON, YAML or an exec file.
// Never holds logic of its own beyond handing flags to the lib and its result to the printer.
import { Args, Flags } from "@oclif/core";
import type { BaseCommand } from "./base-command.js";
import type { EntityKind } from "./lib/remote/register.js";
import { UserError } from "./lib/errors.js";

export const entityArgs = {
  name: Args.string({ description: "the entity's full name; without it, every registered version is listed" }),
};

export const entityFlags = {
  output: Flags.string({ char: "o", summary: "output format", options: ["table", "json", "yaml"], default: "table" }),
  version: Flags.string({ summary: "this version of NAME", exclusive: ["latest"] }),
  latest: Flags.boolean({ summary: "the newest version of NAME", exclusive: ["version"] }),
  "filter.limit": Flags.integer({ summary: "how many to list", default: 100, min: 1 }),
  "filter.fieldSelector": Flags.string({ summary: 'only those matching "key=value,key!=value" (name, version, and type or state)' }),
};

export interface EntityFlagValues {
  output: string;
  version?: string;
  latest?: boolean;
  "filter.limit": number;
  "filter.fieldSelector"?: string;
  execFile?: string;
  config?: string;
  project?: string;
  domain?: string;
}

export const execFileFlag = {
  execFile: Flags.string({ summary: "write an execution spec for NAME to this file, for `create execution --execFile`" }),
};

/** Lists or shows entities of one kind and prints them as asked; with --execFile writes NAME's execution spec. */
export async function printEntities(command: BaseCommand, kind: EntityKind, name: string | undefined, flags: EntityFlagValues): Promise<unknown> {
  const config = await command.resolvedConfig(flags);
  const { getEntities, writeExecFile } = await import("./lib/remote/commands.js");
  if (flags.execFile && kind !== "workflow") {
    const noun = kind === "task" ? "task" : "launch plan";
    if (!name) throw new UserError(`--execFile needs a ${noun} NAME`);
    const written = await writeExecFile(config, { kind, name, version: flags.version, file: flags.execFile });
    command.log(`Wrote ${written.file} for ${noun} ${written.name} version ${written.version}; fill in the inputs, then: tsflyte create execution --execFile ${flags.execFile}`);
    return written;
  }
  const { renderEntities } = await import("./render/entities.js");
  const result = await getEntities(config, {
    kind,
    name,
    version: flags.version,
    latest: flags.latest,
    limit: flags["filter.limit"],
    fieldSelector: flags["filter.fieldSelector"],
  });
  command.log(await renderEntities(result, flags.output as "table" | "json" | "yaml"));
  return result;
}
