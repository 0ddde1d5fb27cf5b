// `tsflyte run --remote FILE ENTITY`: compile the module, register what the entity needs under a content-hash
// version, and start an execution with the inputs from the command line. Never starts one when anything is wrong.
import { relative, resolve, sep } from "node:path";
import { UserError } from "../errors.js";
import { compileProject } from "../compiler/compile.js";
import { parseInputArgs } from "../inputs/flags.js";
import { resolveInputs } from "../inputs/resolve.js";
import { acceptsNone } from "../types/types.js";
import type { ExecutionKey } from "../store/records.js";
import type { AdminClient } from "../admin/client.js";
import { closureOf, registerEntities, uploadCodeBundle, type RegisteredEntity } from "./register.js";
import { createRemoteExecution, remoteRunResult, waitForRemoteExecution, type LaunchTarget, type ProgressSnapshot } from "./executions.js";
import { withAdmin } from "./connect.js";
import type { ResolvedConfig } from "../config/config.js";
import type { RunResult } from "../local/commands.js";
import { remoteInputLiterals } from "./inputs.js";

export interface RemoteRunRequest {
  file: string;
  entity: string;
  /** The command line after FILE ENTITY: the entity's inputs as `--name value`. */
  inputArgs: string[];
  reservedFlags: string[];
  inputsFile?: string;
  project: string;
  domain: string;
  name?: string;
  image?: string;
  overwriteCache?: boolean;
  maxParallelism?: number;
}

export interface RemoteRunStarted {
  execution: ExecutionKey;
  launched: LaunchTarget;
  /** What was registered for it (identical entities already there count as registered). */
  registered: RegisteredEntity[];
}

export async function runRemote(client: AdminClient, request: RemoteRunRequest): Promise<RemoteRunStarted> {
  const file = resolve(request.file);
  const compiled = await compileProject({
    paths: [file],
    project: request.project,
    domain: request.domain,
    image: request.image,
    codeBundleUri: (bundle) => uploadCodeBundle(client, request.project, request.domain, bundle),
  });
  const modulePath = relative(compiled.projectRoot, file).split(sep).join("/");
  const inModule = compiled.entities.filter((e) => e.modulePath === modulePath);
  const found =
    inModule.find((e) => e.exportName === request.entity) ?? inModule.find((e) => e.name === request.entity) ?? compiled.entities.find((e) => e.name === request.entity);
  if (!found) {
    const listed = inModule.map((e) => `  ${e.exportName}  (${e.kind === "launchPlan" ? "launch plan" : e.kind}, ${e.name})`).sort();
    throw new UserError(
      `${request.file} exports no task, workflow or launch plan named "${request.entity}"${listed.length ? `. It exports:\n${listed.join("\n")}` : ""}`,
      "give one of the names above, by export name or full name",
    );
  }
  const inputs = found.definition.inputs;
  const parsed = parseInputArgs(request.inputArgs, inputs, request.reservedFlags);
  const fileValues = request.inputsFile ? (await import("../inputs/file.js")).readInputsFile(request.inputsFile) : undefined;
  const values = resolveInputs({ inputs, ...parsed, file: fileValues, entity: found.name });
  // A launch plan carries its workflow's defaults; a task's interface has none, so they are sent with the rest.
  if (found.kind === "task") {
    for (const [name, type] of Object.entries(inputs)) {
      if (Object.hasOwn(values, name)) continue;
      if (type.hasDefault) values[name] = type.defaultValue;
      else if (acceptsNone(type)) values[name] = null;
    }
  }
  const types = Object.fromEntries(Object.keys(values).map((n) => [n, inputs[n]]));
  // Inputs first: a bad file path must fail before anything is registered.
  const literals = await remoteInputLiterals(client, request, types, values);
  const registered = await registerEntities(client, compiled, closureOf(compiled, found.kind, found.name));
  const launched: LaunchTarget = {
    kind: found.kind === "task" ? "task" : "launchPlan",
    project: compiled.project,
    domain: compiled.domain,
    name: found.name,
    version: compiled.version,
  };
  const execution = await createRemoteExecution(client, {
    project: request.project,
    domain: request.domain,
    name: request.name,
    launch: launched,
    inputs: literals,
    overwriteCache: request.overwriteCache,
    maxParallelism: request.maxParallelism,
  });
  return { execution, launched, registered };
}

export interface RemoteRunOutcome extends RemoteRunStarted {
  /** With --wait: how it ended, with outputs or the details for the error trace. */
  result?: RunResult;
  /** The execution in the Flyte console, when `console.endpoint` is configured. */
  consoleUrl?: string;
}

/** `run --remote [--wait]` against the configured control plane. */
export async function runRemoteCommand(
  config: ResolvedConfig,
  request: RemoteRunRequest,
  options: { wait?: boolean; onSnapshot?: (snapshot: ProgressSnapshot) => void } = {},
): Promise<RemoteRunOutcome> {
  return withAdmin(config, "run --remote", async (client) => {
    const started = await runRemote(client, request);
    const outcome: RemoteRunOutcome = { ...started };
    const consoleUrl = executionConsoleUrl(config, started.execution);
    if (consoleUrl) outcome.consoleUrl = consoleUrl;
    if (options.wait) {
      const final = await waitForRemoteExecution(client, started.execution, options.onSnapshot ?? (() => {}));
      outcome.result = await remoteRunResult(client, started.execution, final.phase);
    }
    return outcome;
  }, { writes: true });
}

/** Flyte console's page of an execution. */
export function executionConsoleUrl(config: ResolvedConfig, key: ExecutionKey): string | undefined {
  if (!config.consoleEndpoint) return undefined;
  return `${config.consoleEndpoint.replace(/\/+$/, "")}/console/projects/${key.project}/domains/${key.domain}/executions/${key.name}`;
}
