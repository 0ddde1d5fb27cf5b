// The tsflyte side of the engine benchmarks (bench/engine.ts, bench/peers.ts): the task bodies and their tasks, the
// chain and fan-out workflows with their plain-await baselines, and one execution run as `tsflyte run` runs it. Never times anything itself.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { create } from "@bufbuild/protobuf";
import { task, workflow, t, type RefOf } from "../../src/index.js";
import { LiteralMapSchema, type LiteralMap } from "../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { definitionOf, type Entity } from "../../src/lib/sdk/entity.js";
import { runExecution, type ExecutionResult } from "../../src/lib/engine/engine.js";
import { InProcessRunner } from "../../src/lib/engine/in-process.js";
import { openSqliteStore } from "../../src/lib/store/sqlite.js";
import { openBlobStore } from "../../src/lib/storage/open.js";
import { FileBlobStore } from "../../src/lib/storage/file-store.js";
import { MemoryBlobStore } from "../../src/lib/storage/memory-store.js";
import type { BlobStore } from "../../src/lib/storage/blob-store.js";
import type { MetadataStore } from "../../src/lib/store/records.js";

/** The workflow input of every case: a chain of N increments returns 1 + N, a fan-out of W increments gathers 2·W. */
export const input = 1;
export const maxParallelism = 1_000;

export type IntRef = RefOf<ReturnType<typeof t.int>>;

// The task bodies, named so that the baselines (and the peers) run exactly the functions the engine runs.
export const incBody = async ({ x }: { x: number }) => x + 1;
export const sumBody = async ({ xs }: { xs: number[] }) => xs.reduce((s, v) => s + v, 0);

export const inc = task({ name: "bench.inc", inputs: { x: t.int() }, outputs: t.int() }, incBody);
export const sum = task({ name: "bench.sum", inputs: { xs: t.list(t.int()) }, outputs: t.int() }, sumBody);

/** `length` increments, each reading the one before; the first reads the workflow input. */
export function chainWorkflow(length: number, step = inc): Entity {
  return workflow({ name: `bench.${step === inc ? "chain" : "cachedChain"}${length}`, inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => {
    let last: IntRef = x;
    for (let i = 0; i < length; i++) last = step({ x: last });
    return last;
  });
}

/** `width` independent increments of the workflow input, gathered by one node that takes the list of their outputs. */
export function fanOutWorkflow(width: number): Entity {
  return workflow({ name: `bench.fan${width}`, inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => {
    const parts: IntRef[] = [];
    for (let i = 0; i < width; i++) parts.push(inc({ x }));
    return sum({ xs: parts });
  });
}

/** The chain's task bodies with plain await, one after the other. */
export async function chainBaseline(length: number): Promise<number> {
  let last = input;
  for (let i = 0; i < length; i++) last = await incBody({ x: last });
  return last;
}

/** The fan-out's task bodies with plain await: Promise.all of the increments, then the gather. */
export async function fanOutBaseline(width: number): Promise<number> {
  const parts = await Promise.all(Array.from({ length: width }, () => incBody({ x: input })));
  return sumBody({ xs: parts });
}

export function nameOf(entity: Entity): string {
  return definitionOf(entity)?.explicitName ?? "bench.unnamed";
}

function inputsOf(entity: Entity): LiteralMap {
  return create(LiteralMapSchema, { literals: { x: definitionOf(entity)!.inputs.x.toLiteral(input, "x") } });
}

let executionCounter = 0;

export function execute(entity: Entity, env: { store?: MetadataStore; blobs: BlobStore }): Promise<ExecutionResult> {
  return runExecution(
    {
      key: { project: "bench", domain: "development", name: `e${executionCounter++}` },
      entity,
      nameOf,
      launch: { kind: "workflow", name: nameOf(entity), version: "bench" },
      inputs: inputsOf(entity),
      maxParallelism,
    },
    // As `tsflyte run` does, minus the echo: crashes contained, console captured per attempt.
    { ...env, runner: new InProcessRunner({ containCrashes: true }) },
  );
}

export interface Persisted {
  dir: string;
  store: MetadataStore;
  blobs: BlobStore;
}

/**
 * A fresh SQLite file and, unless `rowsOnly` (blobs kept in memory, to split the cost of rows from that of files), a
 * file:// store, in a new folder under `parent` (default: the system's temp folder).
 */
export function openPersisted(options: { rowsOnly?: boolean; parent?: string } = {}): Persisted {
  const dir = mkdtempSync(join(options.parent ?? tmpdir(), "tsflyte-bench-engine-"));
  const blobs = options.rowsOnly ? new MemoryBlobStore() : openBlobStore(pathToFileURL(join(dir, "data")).href);
  return { dir, store: openSqliteStore(join(dir, "tsflyte.db")), blobs };
}

export async function closePersisted(p: Persisted): Promise<void> {
  // close() also stops the file store's writer thread, so threads do not pile up across runs.
  if (p.blobs instanceof FileBlobStore) await p.blobs.close();
  else await p.blobs.flush();
  await p.store.close();
  rmSync(p.dir, { recursive: true, force: true });
}

export function fail(message: string): never {
  throw new Error(`benchmark check failed: ${message}`);
}

/** The execution's single integer output, or a failed check naming `label`. */
export function outputOf(label: string, entity: Entity, result: ExecutionResult): number {
  if (result.record.phase !== "SUCCEEDED") fail(`${label}: execution ${result.record.phase}: ${result.failure?.error.message ?? ""}`);
  const literal = result.outputs?.literals.o0;
  if (!literal) fail(`${label}: no output o0`);
  return definitionOf(entity)!.outputs.o0.fromLiteral(literal, "o0") as number;
}
