// `tsflyte register files PACKAGE.tgz|FILES.pb…`: registers packaged entities (pyflyte's and tsflyte's) into the
// configured project and domain, as `flytectl register files` does — the package's identifiers retargeted, its code
// bundle uploaded and put into the task args. Never registers anything when a file, the archive or the version is wrong.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { equals } from "@bufbuild/protobuf";
import { UserError } from "../errors.js";
import type { AdminClient } from "../admin/client.js";
import type { CompiledEntities } from "../compiler/compile.js";
import { decodeEntityFile, type DecodedEntity } from "../compiler/package.js";
import { fillCodeBundle, fillRegistrationFields, tasksUsingCodeBundle } from "../compiler/registration-ids.js";
import { readTar } from "../execute/untar.js";
import { TaskSpecSchema } from "../idl/gen/flyteidl/admin/task_pb.js";
import { WorkflowSpecSchema } from "../idl/gen/flyteidl/admin/workflow_pb.js";
import { LaunchPlanSchema } from "../idl/gen/flyteidl/admin/launch_plan_pb.js";
import { describeKind, registerEntities, registrationPlan, uploadCodeBundle, type RegisteredEntity } from "./register.js";

export interface RegisterFilesRequest {
  /** Entity files (.pb, or .json from `tsflyte compile --format json`), archives of them (.tgz, .tar.gz, .tar), folders. */
  paths: string[];
  project: string;
  domain: string;
  /** The version of every entity of the package; required when the package leaves versions blank. */
  version?: string;
  activateLaunchPlans?: boolean;
  continueOnError?: boolean;
  /** Read, retarget and list; the control plane is not contacted and nothing is uploaded. */
  dryRun?: boolean;
  onEntity?: (entity: RegisteredEntity) => void;
}

export interface RegisterFilesResult {
  project: string;
  domain: string;
  /** The --version given, when one was. */
  version?: string;
  /** The code bundle: where it was uploaded, or (dry run) its file in the package. */
  codeBundle?: string;
  /** The entity files read, in name order. */
  files: string[];
  entities: RegisteredEntity[];
}

interface InputFile {
  /** `path` or `archive.tgz:member`, for messages. */
  shown: string;
  bytes: Uint8Array;
}

interface PackageContents {
  entityFiles: InputFile[];
  codeBundle?: InputFile;
}

const archiveRe = /\.(tgz|tar\.gz|tar)$/;
// pyflyte names its code archive fast<md5>.tar.gz; flytectl finds it by that name.
const codeBundleRe = /^fast[^/]*\.tar\.gz$/;
const entityRe = /\.(pb|json)$/;

/** Reads and retargets the package, uploads its code bundle and registers its entities. */
export async function registerFiles(client: AdminClient | undefined, request: RegisterFilesRequest): Promise<RegisterFilesResult> {
  if (!request.dryRun && !client) throw new UserError("register files needs a control plane");
  if (request.paths.length === 0) throw new UserError("nothing to register: give entity files (.pb), a package archive (.tgz) or a folder of them");
  const contents = readPackageContents(request.paths);
  const { entities, files } = decodeEntities(contents);
  const problems = fillRegistrationFields(entities, { project: request.project, domain: request.domain, version: request.version });
  const users = tasksUsingCodeBundle(entities);
  if (users.length && !contents.codeBundle) {
    problems.push(`${users.join(", ")} ${users.length === 1 ? "runs" : "run"} code from the package's code bundle ({{ .remote_package_path }}), but the files hold no fast*.tar.gz`);
  }
  const bundleTar = contents.codeBundle ? unpackCodeBundle(contents.codeBundle, problems) : undefined;
  if (problems.length) throw packageError(problems, request.version === undefined);

  const base = { project: request.project, domain: request.domain, ...(request.version !== undefined ? { version: request.version } : {}), files };
  const plan = registrationPlan(entities);
  if (request.dryRun) {
    const listed: RegisteredEntity[] = plan.map((p) => ({ kind: p.kind, name: p.name, version: versionOf(entities, p.kind, p.name), status: "dry-run" }));
    for (const e of listed) request.onEntity?.(e);
    return { ...base, ...(contents.codeBundle ? { codeBundle: contents.codeBundle.shown } : {}), entities: listed };
  }
  let codeBundle: string | undefined;
  if (bundleTar) {
    codeBundle = await uploadCodeBundle(client!, request.project, request.domain, { tar: bundleTar, md5: createHash("md5").update(bundleTar).digest("hex") });
    fillCodeBundle(entities, codeBundle);
  }
  const registered = await registerEntities(client!, entities, plan, request);
  const failed = registered.filter((e) => e.status === "failed");
  if (failed.length) {
    throw new UserError(
      `${failed.length} of ${registered.length} entities were not registered: ${failed.map((e) => `${describeKind(e.kind)} ${e.name}`).join(", ")}`,
      "each one's reason is printed above it",
    );
  }
  return { ...base, ...(codeBundle ? { codeBundle } : {}), entities: registered };
}

/** The entity files and the code bundle named by the paths; every unreadable or unknown file is a problem. */
function readPackageContents(paths: string[]): PackageContents {
  const problems: string[] = [];
  const entityFiles: InputFile[] = [];
  const bundles: InputFile[] = [];
  const take = (shown: string, name: string, read: () => Uint8Array) => {
    if (codeBundleRe.test(name)) bundles.push({ shown, bytes: read() });
    else if (entityRe.test(name)) entityFiles.push({ shown, bytes: read() });
    else problems.push(`${shown} is neither an entity file (.pb) nor a code bundle (fast*.tar.gz)`);
  };
  for (const path of paths) {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) {
      problems.push(`${path}: no such file`);
      continue;
    }
    const name = basename(path);
    try {
      if (stat.isDirectory()) {
        for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
          if (entry.name.startsWith(".")) continue;
          const inner = join(path, entry.name);
          if (!entry.isFile()) problems.push(`${inner} is not a file; pass the files of a package, or its archive`);
          else take(inner, entry.name, () => readFileSync(inner));
        }
      } else if (codeBundleRe.test(name) || !archiveRe.test(name)) {
        take(path, name, () => readFileSync(path));
      } else {
        for (const entry of readArchive(path, problems)) {
          const member = entry.path.split("/").pop()!;
          // Folders, and the dot-files macOS adds (.DS_Store, ._*), are not part of a package.
          if (entry.type !== "file" || member === "" || member.startsWith(".")) continue;
          take(`${path}:${entry.path}`, member, () => entry.contents);
        }
      }
    } catch (e) {
      problems.push(`${path}: cannot be read (${(e as Error).message})`);
    }
  }
  if (bundles.length > 1) problems.push(`the files hold ${bundles.length} code bundles (${bundles.map((b) => b.shown).join(", ")}); a package has one`);
  if (!problems.length && entityFiles.length === 0) problems.push(`${paths.join(", ")} ${paths.length === 1 ? "holds" : "hold"} no entity files (.pb)`);
  if (problems.length) throw packageError(problems, false);
  return { entityFiles: entityFiles.sort((a, b) => (a.shown < b.shown ? -1 : a.shown > b.shown ? 1 : 0)), codeBundle: bundles[0] };
}

function readArchive(path: string, problems: string[]): { path: string; type: string; contents: Uint8Array }[] {
  const bytes = readFileSync(path);
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (!path.endsWith(".tar") && !gzipped) {
    problems.push(`${path} is not gzipped, so it is no .tgz archive`);
    return [];
  }
  try {
    const entries = readTar(bytes);
    // A tar is at least its end-of-archive blocks; fewer bytes are not an archive at all.
    if (entries.length === 0 && (gzipped ? gunzipSync(bytes) : bytes).length < 1024) throw new Error("it is too short to be one");
    return entries;
  } catch (e) {
    problems.push(`${path} is not a readable ${gzipped ? "gzipped " : ""}tar archive (${(e as Error).message})`);
    return [];
  }
}

/** The entities, as a compile would hold them; a file that is no entity, or a name defined twice differently, is a problem. */
function decodeEntities(contents: PackageContents): { entities: CompiledEntities; files: string[] } {
  const problems: string[] = [];
  const entities: CompiledEntities = { tasks: [], workflows: [], launchPlans: [], problems: [] };
  const seen = new Map<string, { shown: string; entity: DecodedEntity }>();
  for (const file of contents.entityFiles) {
    const decoded = decodeEntityFile(file.shown, file.bytes);
    if (!decoded) {
      problems.push(`${file.shown} is not a Flyte TaskSpec, WorkflowSpec or LaunchPlan`);
      continue;
    }
    const key = `${decoded.kind}:${decoded.name}`;
    const earlier = seen.get(key);
    if (earlier) {
      // flytesnacks' packages hold some entities twice, written with their Struct keys in another order: the same.
      if (!sameEntity(earlier.entity, decoded)) problems.push(`${file.shown} and ${earlier.shown} both define ${kindWords[decoded.kind]} ${decoded.name}, differently`);
      continue;
    }
    seen.set(key, { shown: file.shown, entity: decoded });
    if (decoded.kind === "task") entities.tasks.push({ name: decoded.name, spec: decoded.spec });
    else if (decoded.kind === "workflow") entities.workflows.push({ name: decoded.name, spec: decoded.spec });
    else entities.launchPlans.push({ name: decoded.name, launchPlan: decoded.launchPlan, isDefault: decoded.launchPlan.spec?.workflowId?.name === decoded.name });
  }
  if (problems.length) throw packageError(problems, false);
  return { entities, files: contents.entityFiles.map((f) => f.shown) };
}

const kindWords: Record<DecodedEntity["kind"], string> = { task: "task", workflow: "workflow", launchPlan: "launch plan" };

function sameEntity(a: DecodedEntity, b: DecodedEntity): boolean {
  if (a.kind === "task" && b.kind === "task") return equals(TaskSpecSchema, a.spec, b.spec);
  if (a.kind === "workflow" && b.kind === "workflow") return equals(WorkflowSpecSchema, a.spec, b.spec);
  return a.kind === "launchPlan" && b.kind === "launchPlan" && equals(LaunchPlanSchema, a.launchPlan, b.launchPlan);
}

/** The bundle as the tar tasks unpack: flytectl uploads pyflyte's fast*.tar.gz decompressed, and so does this. */
function unpackCodeBundle(bundle: InputFile, problems: string[]): Buffer | undefined {
  try {
    return gunzipSync(bundle.bytes);
  } catch (e) {
    problems.push(`${bundle.shown} is not a gzipped code bundle (${(e as Error).message})`);
    return undefined;
  }
}

function versionOf(entities: CompiledEntities, kind: DecodedEntity["kind"], name: string): string {
  if (kind === "task") return entities.tasks.find((t) => t.name === name)?.spec.template?.id?.version ?? "";
  if (kind === "workflow") return entities.workflows.find((w) => w.name === name)?.spec.template?.id?.version ?? "";
  return entities.launchPlans.find((l) => l.name === name)?.launchPlan.id?.version ?? "";
}

function packageError(problems: string[], versionMissing: boolean): UserError {
  const needsVersion = versionMissing && problems.some((p) => p.includes("no --version was given"));
  return new UserError(
    `cannot register these files; nothing was registered:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    needsVersion ? "pass --version V, e.g. --version v1" : "give the files `pyflyte package` or `tsflyte compile` wrote, or the .tgz archive that holds them",
  );
}
