// What `create execution` prints for an execution started on the control plane (or, with --dryRun, what would
// start). Pure: results in, text out.
import type { CreatedFromFile } from "../lib/remote/exec-spec.js";
import type { RestartedExecution } from "../lib/remote/commands.js";

/** `follow`: the command that shows the started execution (see BaseCommand.detailsCommand). */
export function renderCreatedExecution(created: CreatedFromFile | RestartedExecution, follow?: string): string {
  const followLine = (name: string) => `Follow it: ${follow ?? `tsflyte get execution ${name} --details`}`;
  if ("mode" in created) {
    const { execution, mode, source } = created;
    return [`Started execution ${execution.name} in ${execution.project}/${execution.domain} (${mode === "recover" ? "recovering" : "relaunching"} ${source.name})`, followLine(execution.name)].join("\n");
  }
  const what = `${created.launched.kind === "task" ? "task" : "launch plan"} ${created.launched.name} version ${created.launched.version}`;
  const inputs = Object.entries(created.inputs).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
  if (created.dryRun) {
    const { envs, ...identity } = created.options;
    const settings = [
      ...Object.entries(identity).map(([k, v]) => `  ${k}: ${v}`),
      ...(envs ? ["  envs:", ...Object.entries(envs).map(([k, v]) => `    ${k}=${v}`)] : []),
    ];
    return [
      `Dry run: would start ${what} in ${created.project}/${created.domain}${created.overwriteCache ? " with --overwriteCache" : ""}`,
      ...(inputs.length ? ["Inputs:", ...inputs] : []),
      ...(settings.length ? ["Settings:", ...settings] : []),
    ].join("\n");
  }
  const name = created.execution!.name;
  return [`Started execution ${name} of ${what} in ${created.project}/${created.domain}`, followLine(name)].join("\n");
}
