// Shared by the tsflyte-execute and subprocess runner tests: temp folders with a file:// blob store, inputs written as
// binary LiteralMaps, the built bin/tsflyte-execute run as a child process, and its outputs.pb or error.pb read back.
// Never touches the real home: HOME, TSFLYTE_HOME and the execute cache all point into the test's temp folders.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema, type Literal, type LiteralMap } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { decodeErrorDocument } from "../../../src/lib/engine/error-document.js";
import type { AttemptError } from "../../../src/lib/engine/runner.js";
import type { AnyType } from "../../../src/lib/types/types.js";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url)).replace(/\/$/, "");
export const fixtureDir = join(repoRoot, "test/fixtures/execute");
export const executeBin = join(repoRoot, "bin/tsflyte-execute");

const made: string[] = [];

export function tempDir(prefix: string): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A sandbox: a blob store folder, a home, and an execute cache, all under one temp folder. */
export interface Sandbox {
  root: string;
  /** The blob store's folder and its file:// URI. */
  data: string;
  dataUri: string;
  env: Record<string, string>;
}

export function sandbox(prefix = "tsflyte-execute-"): Sandbox {
  const root = tempDir(prefix);
  const data = join(root, "data");
  mkdirSync(data, { recursive: true });
  // Files tasks make in os.tmpdir() land here too, and go with the sandbox.
  mkdirSync(join(root, "tmp"));
  return {
    root,
    data,
    dataUri: pathToFileURL(data).href,
    env: { HOME: join(root, "home"), TSFLYTE_HOME: join(root, "tsflyte-home"), TSFLYTE_EXECUTE_CACHE: join(root, "cache"), TMPDIR: join(root, "tmp") },
  };
}

export function literalMap(values: Record<string, [AnyType, unknown]>): LiteralMap {
  const literals: Record<string, Literal> = {};
  for (const [name, [type, value]] of Object.entries(values)) literals[name] = type.toLiteral(value, name);
  return create(LiteralMapSchema, { literals });
}

/** Writes inputs.pb for a node as Flyte lays it out; returns its URI and the attempt's prefixes. */
export function writeInputs(box: Sandbox, nodeId: string, values: Record<string, [AnyType, unknown]>) {
  const path = join(box.data, "metadata", "p-d-e1", nodeId, "data", "inputs.pb");
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, toBinary(LiteralMapSchema, literalMap(values)));
  return {
    inputs: pathToFileURL(path).href,
    outputPrefix: `${box.dataUri}/metadata/p-d-e1/${nodeId}/data/0`,
    rawPrefix: `${box.dataUri}/raw/p-d-e1/${nodeId}/0`,
  };
}

export function contractArgs(at: { inputs: string; outputPrefix: string; rawPrefix: string }, module: string, exportName: string, extra: string[] = []): string[] {
  return [
    "--inputs", at.inputs,
    "--output-prefix", at.outputPrefix,
    "--raw-output-data-prefix", at.rawPrefix,
    "--checkpoint-path", `${at.outputPrefix}/_flytecheckpoints`,
    "--prev-checkpoint", "",
    ...extra,
    "--", module, exportName,
  ];
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built bin/tsflyte-execute as a pod would: its own process, the given folder and environment. */
export function runExecute(args: string[], options: { cwd: string; env: Record<string, string> }): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [executeBin, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? "", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** What an attempt left under its output prefix: outputs.pb, error.pb, or (wrongly) both or neither. */
export function readResult(outputPrefix: string): { outputs?: LiteralMap; error?: AttemptError } {
  const folder = fileURLToPath(outputPrefix);
  const result: { outputs?: LiteralMap; error?: AttemptError } = {};
  if (existsSync(join(folder, "outputs.pb"))) result.outputs = fromBinary(LiteralMapSchema, readFileSync(join(folder, "outputs.pb")));
  if (existsSync(join(folder, "error.pb"))) result.error = decodeErrorDocument(readFileSync(join(folder, "error.pb")));
  return result;
}

/** The 1-based line of the first line of a fixture file holding `text`, for checking source-mapped stacks. */
export function lineOf(file: string, text: string): number {
  const index = readFileSync(join(fixtureDir, file), "utf8").split("\n").findIndex((line) => line.includes(text));
  if (index < 0) throw new Error(`${file} has no line with ${text}`);
  return index + 1;
}
