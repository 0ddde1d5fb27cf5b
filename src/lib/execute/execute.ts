// tsflyte-execute's work, shared by the one-shot program (a pod, a cold worker) and the warm worker process: read the
// inputs, load the task, run it with the in-process runner, write exactly one of outputs.pb and error.pb.
// Never fails without error.pb unless error.pb itself cannot be written; never exits the process itself.
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import type { InProcessRunner } from "../engine/in-process.js";
import type { AttemptError, AttemptOutcome, TaskAttempt } from "../engine/runner.js";
import type { BlobStore } from "../storage/blob-store.js";
import { FileBlobStore } from "../storage/file-store.js";
import { pathToFileUri } from "../storage/file-uri.js";
import { openBlobStore } from "../storage/open.js";
import { s3OptionsFromEnv, type S3Options } from "../storage/s3-store.js";
import { executeUsage, parseExecuteArgs, UsageError, type ExecuteArgs } from "./args.js";
import { codeBundleFolder } from "./code-bundle.js";
import { attemptIdentity } from "./env.js";
import { encodeErrorDocument } from "../engine/error-document.js";
import { ExecuteFailure, systemFailure } from "./failure.js";
import { loadTaskDefinition } from "./load-task.js";
import { registeredDynamicSpec } from "./dynamic-names.js";
import { DynamicJobSpecSchema } from "../idl/gen/flyteidl/core/dynamic_job_pb.js";

export interface ExecuteIo {
  /** The attempt's environment: FLYTE_INTERNAL_*, FLYTE_ATTEMPT_NUMBER, TSFLYTE_NODE_ID, TSFLYTE_EXECUTE_CACHE. */
  env: Record<string, string | undefined>;
  /** Where MODULE is found without a code bundle, and where packages are looked up. */
  cwd: string;
  /** Runs the task: converts values, captures its console output, contains process.exit and uncaught errors. */
  runner: InProcessRunner;
  /** tsflyte-execute's own messages (usage, a failure to write error.pb); never the task's output. */
  stderr(text: string): void;
  /** The task's context signal: aborted when the process is asked to stop. */
  signal?: AbortSignal;
}

export interface ExecuteResult {
  /** 0: outputs.pb or error.pb is written; 1: not even error.pb could be written; 2: the command line is wrong. */
  exitCode: 0 | 1 | 2;
  outcome?: AttemptOutcome;
}

const neverAborted = new AbortController().signal;

/** Runs one attempt as `tsflyte-execute <argv>` would. */
export async function runTsflyteExecute(argv: readonly string[], io: ExecuteIo): Promise<ExecuteResult> {
  let args: ExecuteArgs;
  try {
    args = normalize(parseExecuteArgs(argv));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr(`tsflyte-execute: ${e.message}\n\n${executeUsage}`);
    return { exitCode: 2 };
  }
  let store: BlobStore;
  try {
    store = storeFor(args, io.env);
  } catch (e) {
    io.stderr(`tsflyte-execute: cannot write under ${args.outputPrefix}: ${(e as Error).message}\n`);
    return { exitCode: 1 };
  }
  let outcome: AttemptOutcome;
  let bundleDir: string | undefined;
  try {
    outcome = await runAttempt(args, store, io, (dir) => (bundleDir = dir));
  } catch (e) {
    outcome = { ok: false, error: e instanceof ExecuteFailure ? e.error : executorBug(e), logs: "" };
  }
  if (!outcome.ok && bundleDir) outcome = { ...outcome, error: withinBundle(outcome.error, bundleDir) };
  return writeOutcome(args, store, outcome, io);
}

/**
 * The error with the code bundle's folder taken out of its paths: the bundle holds the project as it was registered,
 * so `examples/spend.ts:12:7` is where the user finds the line, and the cache folder of this machine means nothing there.
 */
function withinBundle(error: AttemptError, dir: string): AttemptError {
  const prefixes = [`${pathToFileUri(dir)}/`, `${dir}/`];
  const strip = (text: string) => prefixes.reduce((t, prefix) => t.replaceAll(prefix, ""), text);
  return { ...error, message: strip(error.message), ...(error.stack ? { stack: strip(error.stack) } : {}) };
}

async function runAttempt(args: ExecuteArgs, store: BlobStore, io: ExecuteIo, onBundle: (dir: string) => void): Promise<AttemptOutcome> {
  const inputs = await readInputs(store, args.inputs, io.env);
  const cacheDir = io.env.TSFLYTE_EXECUTE_CACHE || join(tmpdir(), `tsflyte-execute-${process.getuid?.() ?? "user"}`);
  const bundle = args.codeBundle ? await codeBundleFolder(store, args.codeBundle, cacheDir) : undefined;
  if (bundle) onBundle(bundle.dir);
  const request = {
    codeDir: bundle?.dir ?? io.cwd,
    module: args.module,
    exportName: args.exportName,
    bundleDigest: bundle?.digest,
    cwd: io.cwd,
    cacheDir,
  };
  const definition = await loadTaskDefinition(request);
  const identity = attemptIdentity(io.env, args.outputPrefix);
  const attempt: TaskAttempt = {
    ...identity,
    task: { name: identity.taskId?.name || `${args.module}:${args.exportName}`, definition },
    inputs,
    inputsUri: args.inputs,
    outputPrefix: args.outputPrefix,
    rawOutputPrefix: args.rawOutputPrefix,
    blobs: store,
    signal: io.signal ?? neverAborted,
    interruptible: false,
  };
  const outcome = await io.runner.run(attempt);
  if (!outcome.ok || !outcome.dynamic) return outcome;
  // What the body called gets the ids registration gave it, so the control plane can run the spec.
  const taskId = identity.taskId ?? { project: "", domain: "", version: "" };
  return { ...outcome, dynamic: { spec: await registeredDynamicSpec(outcome.dynamic, { request, taskId }) } };
}

/**
 * How long a missing inputs.pb is waited for: a driver that starts the pod while it writes the inputs (the Kubernetes
 * target) may finish the write a moment after this process asks. TSFLYTE_EXECUTE_INPUTS_WAIT_MS overrides it.
 */
const defaultInputsWaitMs = 10_000;

async function readInputs(store: BlobStore, uri: string, env: Record<string, string | undefined>): Promise<LiteralMap> {
  let bytes: Uint8Array | undefined;
  const waitMs = Number(env.TSFLYTE_EXECUTE_INPUTS_WAIT_MS);
  const deadline = Date.now() + (Number.isFinite(waitMs) && waitMs >= 0 ? waitMs : defaultInputsWaitMs);
  for (let pause = 20; ; pause = Math.min(pause * 2, 1_000)) {
    try {
      bytes = await store.read(uri);
      break;
    } catch (e) {
      const absent = await store.exists(uri).then((there) => !there, () => false);
      if (!absent || Date.now() + pause > deadline) throw systemFailure("InputsUnavailable", `could not read the inputs ${uri}`, e);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
  try {
    return fromBinary(LiteralMapSchema, bytes);
  } catch (e) {
    throw systemFailure("InputsUnreadable", `${uri} is not a binary flyteidl.core.LiteralMap`, e);
  }
}

async function writeOutcome(args: ExecuteArgs, store: BlobStore, outcome: AttemptOutcome, io: ExecuteIo): Promise<ExecuteResult> {
  const errorUri = `${args.outputPrefix}/error.pb`;
  try {
    if (outcome.ok && outcome.dynamic) store.put(`${args.outputPrefix}/futures.pb`, toBinary(DynamicJobSpecSchema, outcome.dynamic.spec));
    else if (outcome.ok) store.put(`${args.outputPrefix}/outputs.pb`, toBinary(LiteralMapSchema, outcome.outputs));
    else store.put(errorUri, encodeErrorDocument(outcome.error));
    await flushNow(store);
    return { exitCode: 0, outcome };
  } catch (e) {
    let failure = e;
    if (outcome.ok) {
      const error = systemFailure("OutputsNotWritten", `could not write ${args.outputPrefix}/outputs.pb`, e).error;
      try {
        store.put(errorUri, encodeErrorDocument(error));
        await flushNow(store);
        return { exitCode: 0, outcome: { ok: false, error, logs: outcome.logs } };
      } catch (again) {
        failure = again;
      }
    }
    io.stderr(`tsflyte-execute: could not write ${errorUri}: ${failure instanceof Error ? failure.message : String(failure)}\n`);
    return { exitCode: 1, outcome };
  }
}

/**
 * The attempt's last writes, done before "done" is reported. On this machine's disk they are written right here:
 * nothing else waits on this thread, and handing a few small files to the writer thread and back costs more.
 */
async function flushNow(store: BlobStore): Promise<void> {
  if (store instanceof FileBlobStore) store.flushSync();
  else await store.flush();
}

/** A failure of tsflyte-execute itself, reported as SYSTEM so the attempt is retried on the system budget. */
function executorBug(e: unknown): AttemptError {
  const message = e instanceof Error ? e.message : String(e);
  return { kind: "SYSTEM", recoverable: true, code: "ExecutorFailed", message: `tsflyte-execute failed: ${message}`, stack: e instanceof Error ? e.stack : undefined };
}

/** Plain absolute paths are accepted wherever a file:// URI is, as openBlobStore accepts them. */
function normalize(args: ExecuteArgs): ExecuteArgs {
  const uri = (value: string) => (isAbsolute(value) ? pathToFileUri(value) : value);
  return {
    ...args,
    inputs: uri(args.inputs),
    outputPrefix: uri(args.outputPrefix),
    rawOutputPrefix: uri(args.rawOutputPrefix),
    codeBundle: args.codeBundle === undefined ? undefined : uri(args.codeBundle),
  };
}

/** Stores by base URI and S3 settings: a warm worker opens each once. */
const stores = new Map<string, BlobStore>();

/**
 * The store is rooted where the output and raw prefixes meet (a bucket, in Flyte's terms): a file the task returns
 * from under that root is already stored and passed on as is; one from anywhere else is uploaded under the raw prefix.
 * An s3:// store takes its endpoint, region and keys from the attempt's environment (TSFLYTE_S3_*, AWS_*), as a pod has them.
 */
function storeFor(args: ExecuteArgs, env: Record<string, string | undefined>): BlobStore {
  const base = commonBase(args.outputPrefix, args.rawOutputPrefix);
  const s3: S3Options | undefined = /^s3:\/\//i.test(base) ? s3OptionsFromEnv(env) : undefined;
  // Hashed: the settings hold the secret key, which has no business lying around as a map key.
  const key = s3 ? `${base}\0${createHash("sha256").update(JSON.stringify(s3)).digest("hex")}` : base;
  let store = stores.get(key);
  if (!store) {
    store = openBlobStore(base, { s3 });
    stores.set(key, store);
  }
  return store;
}

function commonBase(a: string, b: string): string {
  const x = a.split("/");
  const y = b.split("/");
  let n = 0;
  while (n < x.length && n < y.length && x[n] === y[n]) n++;
  // "file:///" splits into "file:", "", "": a common part no longer than that is the machine's root, not a store.
  // "s3://bucket" splits into "s3:", "", "bucket": a common bucket is a store.
  const root = x[2] === "" ? 3 : 2;
  return n > root ? x.slice(0, n).join("/") : b;
}
