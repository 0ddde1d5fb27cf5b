// Compiled entities as files in `pyflyte package`'s layout, which `flytectl register files` and `tsflyte register
// files` take: NN_<name>_1.pb (TaskSpec), NN_<name>_2.pb (WorkflowSpec), NN_<name>_3.pb (LaunchPlan), in registration
// order, in a folder or in one flyte-package.tgz with the code bundle. Reads such files back. Never half-writes.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { fromBinary, fromJsonString, toBinary, toJsonString, type DescMessage, type Message } from "@bufbuild/protobuf";
import { TaskSpecSchema, type TaskSpec } from "../idl/gen/flyteidl/admin/task_pb.js";
import { WorkflowSpecSchema, type WorkflowSpec } from "../idl/gen/flyteidl/admin/workflow_pb.js";
import { LaunchPlanSchema, type LaunchPlan } from "../idl/gen/flyteidl/admin/launch_plan_pb.js";
import { ResourceType } from "../idl/gen/flyteidl/core/identifier_pb.js";
import { writeTar, type CodeBundle } from "./bundle.js";
import type { CompiledEntities } from "./compile.js";

export type PackageFormat = "pb" | "json";

const packagedFileRe = /^\d+_.+_[123]\.(pb|json)$/;

export interface PackagedFile {
  file: string;
  kind: "task" | "workflow" | "launchPlan";
  name: string;
}

interface Registrable {
  kind: PackagedFile["kind"];
  name: string;
  suffix: 1 | 2 | 3;
  schema: DescMessage;
  message: Message;
}

/** Tasks, then workflows, then launch plans: the order FlyteAdmin needs them registered in. */
export function registrationOrder(compiled: CompiledEntities): Registrable[] {
  return [
    ...compiled.tasks.map((t) => ({ kind: "task" as const, name: t.name, suffix: 1 as const, schema: TaskSpecSchema, message: t.spec })),
    ...compiled.workflows.map((w) => ({ kind: "workflow" as const, name: w.name, suffix: 2 as const, schema: WorkflowSpecSchema, message: w.spec })),
    ...compiled.launchPlans.map((l) => ({ kind: "launchPlan" as const, name: l.name, suffix: 3 as const, schema: LaunchPlanSchema, message: l.launchPlan })),
  ];
}

/**
 * Writes every entity into `outDir`. Files are written into a temporary folder first and moved into place,
 * so a failure never leaves half of a package behind.
 */
export function writePackage(compiled: CompiledEntities, outDir: string, format: PackageFormat): PackagedFile[] {
  const staging = `${outDir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const written: PackagedFile[] = [];
  try {
    for (const { file, kind, name, bytes } of packagedFiles(compiled, format)) {
      writeFileSync(join(staging, file), bytes);
      written.push({ file, kind, name });
    }
    mkdirSync(outDir, { recursive: true });
    // Entities from an earlier compile would otherwise be registered with these; other files are left alone.
    if (existsSync(outDir)) for (const old of readdirSync(outDir)) if (packagedFileRe.test(old)) rmSync(join(outDir, old));
    for (const { file } of written) renameSync(join(staging, file), join(outDir, file));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return written;
}

function packagedFiles(compiled: CompiledEntities, format: PackageFormat): (PackagedFile & { bytes: Uint8Array | string })[] {
  const entries = registrationOrder(compiled);
  const width = Math.max(2, String(entries.length - 1).length);
  return entries.map((entry, i) => ({
    file: `${String(i).padStart(width, "0")}_${entry.name}_${entry.suffix}.${format}`,
    kind: entry.kind,
    name: entry.name,
    bytes: format === "pb" ? toBinary(entry.schema, entry.message) : `${toJsonString(entry.schema, entry.message, { prettySpaces: 2 })}\n`,
  }));
}

/** The name `pyflyte package --fast` gives the code archive, by which registrars find it. */
export function codeBundleFileName(bundle: Pick<CodeBundle, "md5">): string {
  return `fast${bundle.md5}.tar.gz`;
}

/**
 * Writes one gzipped tar as `pyflyte package --fast` does: the entity files and the code bundle (gzipped, named
 * `fast<md5>.tar.gz`). Written next to `file` and renamed into place, so a failure leaves no partial archive.
 */
export function writePackageArchive(compiled: CompiledEntities, file: string, bundle: CodeBundle): { files: PackagedFile[]; codeBundle: string } {
  const entries = packagedFiles(compiled, "pb");
  const codeBundle = codeBundleFileName(bundle);
  const tar = writeTar([
    ...entries.map((e) => ({ path: e.file, contents: Buffer.from(e.bytes) })),
    { path: codeBundle, contents: gzipSync(bundle.tar) },
  ]);
  mkdirSync(dirname(file), { recursive: true });
  const staging = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(staging, gzipSync(tar));
    renameSync(staging, file);
  } finally {
    rmSync(staging, { force: true });
  }
  return { files: entries.map(({ file: f, kind, name }) => ({ file: f, kind, name })), codeBundle };
}

export type DecodedEntity =
  | { kind: "task"; name: string; spec: TaskSpec }
  | { kind: "workflow"; name: string; spec: WorkflowSpec }
  | { kind: "launchPlan"; name: string; launchPlan: LaunchPlan };

const entityFileRe = /_([123])\.(pb|json)$/;

/**
 * A TaskSpec, WorkflowSpec or LaunchPlan from one file, tried first as its `_1`/`_2`/`_3` suffix says and then as the
 * others (as flytectl does); `.json` is what `tsflyte compile --format json` writes. Undefined when it is none of them.
 */
export function decodeEntityFile(fileName: string, bytes: Uint8Array): DecodedEntity | undefined {
  const preferred = entityFileRe.exec(fileName)?.[1];
  let text: string | undefined;
  if (fileName.endsWith(".json")) {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      return undefined;
    }
  }
  const kinds = ["1", "2", "3"].sort((a, b) => Number(b === preferred) - Number(a === preferred));
  for (const kind of kinds) {
    try {
      const entity = decodeAs(kind, bytes, text);
      if (entity) return entity;
    } catch {
      // not this kind of entity; the next may take it
    }
  }
  return undefined;
}

// A message of the wrong kind often decodes without an error; the id's resource type tells the kinds apart.
function decodeAs(kind: string, bytes: Uint8Array, text: string | undefined): DecodedEntity | undefined {
  const decode = <Desc extends DescMessage>(schema: Desc) => (text !== undefined ? fromJsonString(schema, text) : fromBinary(schema, bytes));
  if (kind === "1") {
    const spec = decode(TaskSpecSchema);
    const id = spec.template?.id;
    return id?.resourceType === ResourceType.TASK && id.name ? { kind: "task", name: id.name, spec } : undefined;
  }
  if (kind === "2") {
    const spec = decode(WorkflowSpecSchema);
    const id = spec.template?.id;
    return id?.resourceType === ResourceType.WORKFLOW && id.name ? { kind: "workflow", name: id.name, spec } : undefined;
  }
  const launchPlan = decode(LaunchPlanSchema);
  const id = launchPlan.id;
  return id?.resourceType === ResourceType.LAUNCH_PLAN && id.name && launchPlan.spec?.workflowId ? { kind: "launchPlan", name: id.name, launchPlan } : undefined;
}
