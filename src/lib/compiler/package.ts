// Writes compiled entities as files in `pyflyte package`'s layout, so `flytectl register files` can take them:
// NN_<name>_1.pb (TaskSpec), NN_<name>_2.pb (WorkflowSpec), NN_<name>_3.pb (LaunchPlan), in registration order.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toBinary, toJsonString, type DescMessage, type Message } from "@bufbuild/protobuf";
import { TaskSpecSchema } from "../idl/gen/flyteidl/admin/task_pb.js";
import { WorkflowSpecSchema } from "../idl/gen/flyteidl/admin/workflow_pb.js";
import { LaunchPlanSchema } from "../idl/gen/flyteidl/admin/launch_plan_pb.js";
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
  const entries = registrationOrder(compiled);
  const width = Math.max(2, String(entries.length - 1).length);
  const staging = `${outDir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const written: PackagedFile[] = [];
  try {
    entries.forEach((entry, i) => {
      const file = `${String(i).padStart(width, "0")}_${entry.name}_${entry.suffix}.${format}`;
      const bytes =
        format === "pb"
          ? toBinary(entry.schema, entry.message)
          : `${toJsonString(entry.schema, entry.message, { prettySpaces: 2 })}\n`;
      writeFileSync(join(staging, file), bytes);
      written.push({ file, kind: entry.kind, name: entry.name });
    });
    mkdirSync(outDir, { recursive: true });
    // Entities from an earlier compile would otherwise be registered with these; other files are left alone.
    if (existsSync(outDir)) for (const old of readdirSync(outDir)) if (packagedFileRe.test(old)) rmSync(join(outDir, old));
    for (const { file } of written) renameSync(join(staging, file), join(outDir, file));
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return written;
}
