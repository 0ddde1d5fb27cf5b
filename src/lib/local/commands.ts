// What `tsflyte run`, `get execution` and `create execution --recover|--relaunch` do on the local target, as
// plain results for the printers. Never parses oclif flags or prints; always closes the history it opened.
import { parseInputArgs } from "../inputs/flags.js";
import { resolveInputs } from "../inputs/resolve.js";
import { literalMapToPlain } from "../types/plain.js";
import type { ExecutionResult } from "../engine/engine.js";
import type { LogEcho } from "../engine/in-process.js";
import type { ExecutionDetailsView, ExecutionView } from "../engine/history.js";
import type { ExecutionKey, ExecutionPhase } from "../store/records.js";
import { valuesToLiteralMap } from "../engine/offload.js";
import { uploadPrefix } from "../storage/layout.js";
import { localGateAnswerer, parseSignalFlags } from "./gate-answers.js";
import { loadEntity, openLocalHome, recoverLocal, relaunchLocal, runLocal, type LocalHome, type StartOptions } from "./service.js";

/** What a finished local run reports: its name and phase, outputs as plain values, and on failure every detail. */
export interface RunResult {
  execution: ExecutionKey;
  phase: ExecutionPhase;
  outputs?: Record<string, unknown>;
  /** The execution with its nodes, for the error trace; set when the run failed. */
  details?: ExecutionDetailsView;
}

export interface RunRequest extends StartOptions {
  file: string;
  entity: string;
  /** The command line after FILE ENTITY: the entity's inputs as `--name value`. */
  inputArgs: string[];
  /** Flags of `run` itself, which inputs may not be named after. */
  reservedFlags: string[];
  inputsFile?: string;
  /** `--signal name=value`: answers for the run's gates, given in advance. */
  signals?: string[];
  /** Ask the gates no `--signal` answers on the terminal (stdin and stderr); false when stdin is not a terminal. */
  askOnTerminal?: boolean;
}

async function withHome<T>(fn: (home: LocalHome) => Promise<T>): Promise<T> {
  const home = await openLocalHome();
  try {
    return await fn(home);
  } finally {
    await home.close();
  }
}

/** Loads FILE, finds ENTITY, turns the command line into its inputs and runs it on the in-process engine. */
export async function runFromCommandLine(request: RunRequest): Promise<RunResult> {
  const loaded = await loadEntity(request.file, request.entity);
  const inputs = loaded.definition.inputs;
  const parsed = parseInputArgs(request.inputArgs, inputs, request.reservedFlags);
  // yaml and the admin message codecs load only when needed: a plain run stays quick to start.
  const file = request.inputsFile ? (await import("../inputs/file.js")).readInputsFile(request.inputsFile) : undefined;
  const values = resolveInputs({ inputs, ...parsed, file, entity: loaded.name });
  const given = parseSignalFlags(request.signals ?? []);
  return withHome(async (home) => {
    const gates = localGateAnswerer({
      given,
      ...(request.askOnTerminal ? { terminal: { input: process.stdin, output: process.stderr } } : {}),
      toLiteral: async (type, value, at, key) => {
        const map = await valuesToLiteralMap({ value: type }, { value }, { store: home.blobs, rawPrefix: uploadPrefix(home.blobs.baseUri, key), at });
        return map.literals.value;
      },
    });
    return toRunResult(home, await runLocal(home, loaded, values, { ...request, gates }));
  });
}

async function toRunResult(home: LocalHome, result: ExecutionResult): Promise<RunResult> {
  const { record } = result;
  const execution = { project: record.project, domain: record.domain, name: record.name };
  const out: RunResult = { execution, phase: record.phase };
  if (result.outputs) out.outputs = literalMapToPlain(result.outputs);
  if (record.phase !== "SUCCEEDED") {
    const { describeExecution } = await import("../engine/history.js");
    out.details = (await describeExecution(home.store, home.blobs, execution, { details: true })) as ExecutionDetailsView;
  }
  return out;
}

export interface RestartRequest {
  source: ExecutionKey;
  mode: "recover" | "relaunch";
  name?: string;
  overwriteCache?: boolean;
  maxParallelism?: number;
  echo?: LogEcho;
}

/** `create execution --recover NAME` and `--relaunch NAME`: a new execution from an earlier one. */
export async function restartExecution(request: RestartRequest): Promise<RunResult> {
  return withHome(async (home) => {
    const options = { ...request, project: request.source.project, domain: request.source.domain };
    const result = request.mode === "recover" ? await recoverLocal(home, request.source, options) : await relaunchLocal(home, request.source, options);
    return toRunResult(home, result);
  });
}

export interface GetExecutionRequest {
  project: string;
  domain: string;
  name?: string;
  details?: boolean;
  nodeId?: string;
  limit?: number;
}

/** Whether the local history holds the execution; false, creating nothing, when there is no local history. */
export async function localExecutionExists(key: ExecutionKey): Promise<boolean> {
  const { existsSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { tsflyteHome } = await import("../home.js");
  if (!existsSync(join(tsflyteHome(), "tsflyte.db"))) return false;
  return withHome(async (home) => (await home.store.getExecution(key)) !== undefined);
}

/** `get execution [NAME]`: the newest executions, or one, optionally with every node and attempt. */
export async function getLocalExecutions(request: GetExecutionRequest): Promise<ExecutionView[] | ExecutionView | ExecutionDetailsView> {
  const { describeExecution, listExecutionViews } = await import("../engine/history.js");
  return withHome(async (home) => {
    if (!request.name) {
      const page = await listExecutionViews(home.store, { project: request.project, domain: request.domain, limit: request.limit });
      return page.items;
    }
    const key = { project: request.project, domain: request.domain, name: request.name };
    return describeExecution(home.store, home.blobs, key, { details: Boolean(request.details || request.nodeId), nodeId: request.nodeId });
  });
}
