// The inputs part of `tsflyte run FILE ENTITY --help`: one row per input with its flag, type, default and
// description, then a usage line a user can paste. Pure.
import type { EntityInputsHelp } from "../lib/local/inputs-help.js";
import { renderTable } from "./table.js";

export function renderInputsHelp(help: EntityInputsHelp, bin: string): string {
  const kind = help.kind === "launchPlan" ? "launch plan" : help.kind;
  const lines = [`${help.name} (${kind}) in ${help.file}`];
  if (help.description) lines.push(`  ${help.description}`);
  lines.push("");
  if (help.inputs.length === 0) {
    lines.push("It takes no inputs.");
  } else {
    lines.push("INPUTS");
    const table = renderTable(
      [
        { header: "FLAG", value: (r: (typeof help.inputs)[number]) => r.flag },
        { header: "TYPE", value: (r) => r.type },
        { header: "DEFAULT", value: (r) => (r.required ? "(required)" : (r.default ?? "")) },
        { header: "DESCRIPTION", value: (r) => r.description ?? "" },
      ],
      help.inputs,
      {},
    );
    lines.push(...table.split("\n").map((l) => `  ${l}`));
  }
  const required = help.inputs
    .filter((r) => r.required)
    .map((r) => {
      const flag = r.flag.split(",")[0];
      // A switch takes no value: show both spellings rather than a placeholder.
      return flag.startsWith("--[no-]") ? `--${flag.slice(7)}|--no-${flag.slice(7)}` : `${flag} …`;
    });
  lines.push("", "USAGE", `  $ ${bin} run ${help.file} ${help.entity}${required.length ? ` ${required.join(" ")}` : ""} [--inputs-file FILE]`);
  return lines.join("\n");
}
