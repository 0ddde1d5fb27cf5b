// `register files` against the real control-plane API: a real node:http server on 127.0.0.1 with the real handler,
// a real SQLite file and a file blob store, driven through the real AdminClient. Packages are pyflyte-shaped ones
// built by test/fixtures/pyflyte (our own content) and tsflyte's own `compile -o X.tgz`. No executions run here,
// so the scheduler is not part of it: a control that refuses to start anything stands in.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { AdminClient } from "../../../src/lib/admin/client.js";
import { writeTar } from "../../../src/lib/compiler/bundle.js";
import type { CompiledEntities } from "../../../src/lib/compiler/compile.js";
import { fillRegistrationFields } from "../../../src/lib/compiler/registration-ids.js";
import { compileToPackage } from "../../../src/lib/compiler/service.js";
import { UserError } from "../../../src/lib/errors.js";
import { LaunchPlanSchema } from "../../../src/lib/idl/gen/flyteidl/admin/launch_plan_pb.js";
import { TaskSpecSchema } from "../../../src/lib/idl/gen/flyteidl/admin/task_pb.js";
import { WorkflowSpecSchema } from "../../../src/lib/idl/gen/flyteidl/admin/workflow_pb.js";
import { ResourceType } from "../../../src/lib/idl/gen/flyteidl/core/identifier_pb.js";
import { registerFiles, type RegisterFilesRequest } from "../../../src/lib/remote/register-files.js";
import type { RegisteredEntity } from "../../../src/lib/remote/register.js";
import { createApiHandler, seedDefaults } from "../../../src/lib/server/api/index.js";
import { FileBlobStore } from "../../../src/lib/storage/file-store.js";
import { openSqliteStore } from "../../../src/lib/store/sqlite.js";
import type { ControlPlaneStore } from "../../../src/lib/store/records.js";
import { flytekit0, flytekit1, names, pyflyteCodeBundle, pyflyteEntityFiles, writePackageFile } from "../../fixtures/pyflyte/package.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

describe("register files into the control plane", () => {
  let dir: string;
  let store: ControlPlaneStore;
  let blobs: FileBlobStore;
  let server: Server;
  let client: AdminClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tsflyte-register-files-"));
    store = openSqliteStore(join(dir, "tsflyte.db"));
    blobs = new FileBlobStore(join(dir, "data"));
    await seedDefaults(store);
    let url = "";
    const handler = createApiHandler({
      store,
      blobs,
      control: {
        start: () => assert.fail("registration starts no execution"),
        terminate: async () => false,
      },
      publicUrl: () => url,
    });
    server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    client = new AdminClient({ url, endpoint: url });
    for (const id of ["acme", "ml", "empty"]) await client.post("/api/v1/projects", { project: { id, name: id } });
  });

  after(async () => {
    await client.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await blobs.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const packageOf = (name: string, files: { name: string; bytes: Uint8Array }[]) => {
    const path = join(dir, name);
    writePackageFile(path, files);
    return path;
  };
  const register = (request: Partial<RegisterFilesRequest> & { paths: string[] }) =>
    registerFiles(client, { project: "acme", domain: "staging", ...request });
  const lines = (entities: RegisteredEntity[]) => entities.map((e) => `${e.kind} ${e.name}@${e.version} ${e.status}`);
  const taskArgs = async (project: string, domain: string, name: string, version: string): Promise<string[]> => {
    const task = await client.get(`/api/v1/tasks/${project}/${domain}/${name}/${version}`);
    return task.closure.compiled_task.template.container.args;
  };

  test("a pyflyte package (flytekit 1.x) registers into the chosen project, domain and version, with its code bundle", async () => {
    const path = packageOf("pyflyte.tgz", [...pyflyteEntityFiles(flytekit1), pyflyteCodeBundle()]);
    const seen: string[] = [];
    const result = await register({ paths: [path], version: "v5", onEntity: (e) => seen.push(e.name) });
    assert.deepEqual(lines(result.entities), [
      `task ${names.writeSchema}@v5 registered`,
      `task ${names.readSchema}@v5 registered`,
      `task ${names.getSchemaDf}@v5 registered`,
      `task ${names.getSubsetDf}@v5 registered`,
      `task ${names.cleanUp}@v5 registered`,
      // Both use pyflyte's legacy schema: schema → schema, and schema → dataframe{Age: int}.
      `workflow ${names.schemaWf}@v5 registered`,
      `workflow ${names.compatWf}@v5 registered`,
      `launchPlan ${names.schemaWf}@v5 registered`,
      `launchPlan ${names.compatWf}@v5 registered`,
    ]);
    assert.deepEqual(seen, result.entities.map((e) => e.name));
    assert.equal(result.files.length, 9);
    assert.match(result.codeBundle ?? "", /^file:\/\/.*\/uploads\/acme\/staging\/.*\/fast[0-9a-f]{32}\.tar$/);
    // flytectl uploads pyflyte's bundle decompressed; so does this, and the args name where it went.
    const uploaded = readFileSync(fileURLToPath(result.codeBundle!));
    assert.notEqual(uploaded[0], 0x1f, "the uploaded bundle is the tar itself");
    assert.ok(uploaded.includes(Buffer.from("core/type_system/shapes.py")));
    const args = await taskArgs("acme", "staging", names.writeSchema, "v5");
    assert.deepEqual(args.slice(0, 5), ["pyflyte-fast-execute", "--additional-distribution", result.codeBundle, "--dest-dir", "."]);
    // References inside are retargeted with the entities.
    const wf = await client.get(`/api/v1/workflows/acme/staging/${names.compatWf}/v5`);
    const ref = wf.closure.compiled_workflow.primary.template.nodes[1].task_node.reference_id;
    assert.deepEqual([ref.project, ref.domain, ref.name, ref.version], ["acme", "staging", names.getSubsetDf, "v5"]);
    const lp = await client.get(`/api/v1/launch_plans/acme/staging/${names.compatWf}/v5`);
    assert.deepEqual([lp.spec.workflow_id.project, lp.spec.workflow_id.version], ["acme", "v5"]);
    // The same package again is fine: an identical entity is no conflict.
    const again = await register({ paths: [path], version: "v5" });
    assert.deepEqual(lines(again.entities), lines(result.entities));
  });

  test("flytekit 0.x's {{ registration.* }} placeholders are filled the same way; loose .pb files work as an archive does", async () => {
    const files = pyflyteEntityFiles(flytekit0);
    const loose = join(dir, "loose");
    mkdirSync(loose);
    for (const f of [...files, pyflyteCodeBundle()]) writeFileSync(join(loose, f.name), f.bytes);
    const result = await register({ paths: files.map((f) => join(loose, f.name)).concat(join(loose, pyflyteCodeBundle().name)), version: "v0", project: "ml", domain: "production" });
    assert.equal(result.entities.length, 9);
    const task = await client.get(`/api/v1/tasks/ml/production/${names.readSchema}/v0`);
    assert.deepEqual([task.id.project, task.id.domain, task.id.version], ["ml", "production", "v0"]);
    // A folder stands for the files in it.
    const folder = await register({ paths: [loose], version: "v0", project: "ml", domain: "production", dryRun: true });
    assert.deepEqual(folder.files, result.files);
    assert.equal(folder.codeBundle, join(loose, pyflyteCodeBundle().name));
  });

  test("tsflyte's own package: entities compiled for one target register into another, the bundle where --code-bundle asks", async () => {
    const path = join(dir, "flyte-package.tgz");
    await compileToPackage({ paths: [join(repoRoot, "examples/spend.ts")], outDir: path, format: "pb", image: "acme/flows:1" });
    const result = await register({ paths: [path], version: "v9", project: "ml", domain: "development" });
    assert.equal(result.entities.length, 5);
    const args = await taskArgs("ml", "development", "examples.spend.totalSpend", "v9");
    assert.equal(args[args.indexOf("--code-bundle") + 1], result.codeBundle);
    assert.ok(readFileSync(fileURLToPath(result.codeBundle!)).includes(Buffer.from("examples/spend.ts")));
  });

  test("a workflow with a branch node lacking its condition is refused, naming the node; --continue-on-error registers the rest, then fails", async () => {
    const path = packageOf("branchy.tgz", [...pyflyteEntityFiles(flytekit1, { branch: true }), pyflyteCodeBundle()]);
    const stopped = await register({ paths: [path], version: "b1" }).then(() => undefined, (e: unknown) => e);
    assert.ok(stopped instanceof UserError);
    assert.match(stopped.message, new RegExp(`workflow ${names.branchWf.replaceAll(".", "\\.")} version b1: .*\\n.*branch node n0: the if case has no condition; give it one over the branch node's inputs`));

    const seen: RegisteredEntity[] = [];
    const failed = await register({ paths: [path], version: "b2", continueOnError: true, onEntity: (e) => seen.push(e) }).then(() => undefined, (e: unknown) => e);
    assert.ok(failed instanceof UserError);
    assert.equal(failed.message, `2 of 11 entities were not registered: workflow ${names.branchWf}, launch plan ${names.branchWf}`);
    assert.equal(seen.filter((e) => e.status === "registered").length, 9);
    assert.match(seen.find((e) => e.kind === "launchPlan" && e.name === names.branchWf)?.error ?? "", /^not sent: it needs workflow .*branch_wf, which was not registered$/);
    await client.get(`/api/v1/workflows/acme/staging/${names.schemaWf}/b2`);
  });

  test("the control plane applies the compiler's schedule rule: a scheduled plan may not leave a required input unbound", async () => {
    const scheduled = create(LaunchPlanSchema, {
      id: { resourceType: ResourceType.LAUNCH_PLAN, name: "nightly_compat" },
      spec: {
        workflowId: { resourceType: ResourceType.WORKFLOW, name: names.compatWf },
        entityMetadata: { schedule: { ScheduleExpression: { case: "cronSchedule", value: { schedule: "0 2 * * *" } } } },
      },
    });
    const path = packageOf("scheduled.tgz", [...pyflyteEntityFiles(flytekit1), pyflyteCodeBundle(), { name: "99_nightly_compat_3.pb", bytes: toBinary(LaunchPlanSchema, scheduled) }]);
    const error = await register({ paths: [path], version: "s1" }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof UserError);
    assert.match(error.message, /launch plan nightly_compat version s1: .*\n {2}- a scheduled launch plan cannot leave a required input unbound: give "a" a default or a fixed value/);
  });

  test("an entity written twice the same way, its Struct keys in another order, is registered once", async () => {
    const custom = (order: string[]) => Object.fromEntries(order.map((k) => [k, k === "compressed" ? true : "select 1"]));
    const sql = (order: string[]) =>
      toBinary(TaskSpecSchema, create(TaskSpecSchema, {
        template: { id: { resourceType: ResourceType.TASK, name: "cookbook.sqlite3.sample" }, type: "sqlite", metadata: { runtime: { version: "1" } }, interface: {}, custom: custom(order), target: { case: "container", value: { image: "sqlite:1" } } },
      }));
    const first = sql(["compressed", "query_template"]);
    const second = sql(["query_template", "compressed"]);
    assert.notDeepEqual(first, second, "the two files differ in their bytes");
    const path = packageOf("twice-same.tgz", [{ name: "49_cookbook.sqlite3.sample_1.pb", bytes: first }, { name: "53_cookbook.sqlite3.sample_1.pb", bytes: second }]);
    const result = await register({ paths: [path], version: "q1" });
    assert.deepEqual(lines(result.entities), ["task cookbook.sqlite3.sample@q1 registered"]);
    assert.equal(result.files.length, 2);
  });

  test("a dry run reads and retargets everything and contacts nothing", async () => {
    const path = packageOf("dry.tgz", [...pyflyteEntityFiles(flytekit1), pyflyteCodeBundle()]);
    const result = await registerFiles(undefined, { paths: [path], version: "d1", project: "empty", domain: "development", dryRun: true });
    assert.ok(result.entities.every((e) => e.status === "dry-run" && e.version === "d1"));
    assert.equal(result.codeBundle, `${path}:${pyflyteCodeBundle().name}`);
    const tasks = await client.get("/api/v1/tasks/empty/development");
    assert.deepEqual(tasks.tasks ?? [], []);
  });

  describe("bad input is refused before anything is registered", () => {
    const entity = pyflyteEntityFiles(flytekit1);
    const bundle = pyflyteCodeBundle();
    const cases: [string, () => string[], RegExp][] = [
      ["a file that does not exist", () => [join(dir, "nope.tgz")], /nope\.tgz: no such file/],
      ["a .pb file that is no Flyte entity", () => [packageOf("junk.tgz", [...entity, bundle, { name: "99_junk_1.pb", bytes: new Uint8Array([0xff, 0xff, 0xff]) }])], /junk\.tgz:99_junk_1\.pb is not a Flyte TaskSpec, WorkflowSpec or LaunchPlan/],
      ["a file that is neither an entity nor a code bundle", () => [packageOf("readme.tgz", [...entity, bundle, { name: "README.md", bytes: Buffer.from("hi") }])], /readme\.tgz:README\.md is neither an entity file \(\.pb\) nor a code bundle \(fast\*\.tar\.gz\)/],
      ["a .tgz that is not gzipped", () => [writeRaw("plain.tgz", Buffer.from("just text"))], /plain\.tgz is not gzipped, so it is no \.tgz archive/],
      ["a damaged archive", () => [writeRaw("damaged.tgz", gzipSync(Buffer.alloc(1024, 7)))], /damaged\.tgz is not a readable gzipped tar archive \(not a tar archive, or a damaged one/],
      ["an archive without entity files", () => [packageOf("bundle-only.tgz", [bundle])], /bundle-only\.tgz holds no entity files/],
      ["tasks that need the code bundle, and none given", () => [packageOf("no-bundle.tgz", entity)], new RegExp(`${names.cleanUp.replaceAll(".", "\\.")}, .* run code from the package's code bundle \\(\\{\\{ \\.remote_package_path \\}\\}\\), but the files hold no fast\\*\\.tar\\.gz`)],
      ["two code bundles", () => [packageOf("two.tgz", [...entity, bundle, { ...bundle, name: "fastffff.tar.gz" }])], /the files hold 2 code bundles/],
      ["a code bundle that is not gzipped", () => [packageOf("bad-bundle.tgz", [...entity, { name: bundle.name, bytes: writeTar([]) }])], /is not a gzipped code bundle/],
      ["one entity defined twice, differently", () => [packageOf("twice.tgz", [...entity, bundle, { name: "99_again_1.pb", bytes: changedTask() }])], /twice\.tgz:99_again_1\.pb and .*twice\.tgz:00_.*_1\.pb both define task .*write_schema, differently/],
      ["a folder holding a folder", () => [folderWithFolder()], /inner is not a file; pass the files of a package, or its archive/],
    ];
    for (const [label, paths, message] of cases) {
      test(label, async () => {
        const error = await register({ paths: paths(), version: "x1", project: "empty" }).then(() => undefined, (e: unknown) => e);
        assert.ok(error instanceof UserError, String(error));
        assert.match(error.message, /^cannot register these files; nothing was registered:\n/);
        assert.match(error.message, message);
        const tasks = await client.get("/api/v1/tasks/empty/staging");
        assert.deepEqual(tasks.tasks ?? [], [], "nothing was registered");
      });
    }

    test("a package that leaves versions blank, without --version, says to pass one", async () => {
      const path = packageOf("unversioned.tgz", [...entity, bundle]);
      const error = await register({ paths: [path], project: "empty" }).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof UserError);
      assert.match(error.message, /the package leaves the version to the registrar, and no --version was given \(no version: launch plan .*schema_compatibility_wf, launch plan .*schema_wf, task .*clean_up, task .*get_schema_df, task .*get_subset_df and 4 more\)/);
      assert.equal(error.hint, "pass --version V, e.g. --version v1");
    });

    function writeRaw(name: string, bytes: Uint8Array): string {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      return path;
    }
    function changedTask(): Uint8Array {
      return toBinary(TaskSpecSchema, create(TaskSpecSchema, { template: { id: { resourceType: ResourceType.TASK, name: names.writeSchema }, type: "python-task", metadata: {}, interface: {} } }));
    }
    function folderWithFolder(): string {
      const folder = mkdtempSync(join(dir, "folder-"));
      for (const f of entity) writeFileSync(join(folder, f.name), f.bytes);
      mkdirSync(join(folder, "inner"));
      return folder;
    }
  });
});

describe("retargeting a package's identifiers", () => {
  function entities(): CompiledEntities {
    const task = create(TaskSpecSchema, { template: { id: { resourceType: ResourceType.TASK, project: "flytesnacks", domain: "development", name: "t", version: "v1" } } });
    const workflow = create(WorkflowSpecSchema, {
      template: {
        id: { resourceType: ResourceType.WORKFLOW, project: "flytesnacks", domain: "development", name: "w", version: "v1" },
        nodes: [
          { id: "n0", target: { case: "taskNode", value: { reference: { case: "referenceId", value: { resourceType: ResourceType.TASK, project: "flytesnacks", domain: "development", name: "t", version: "v1" } } } } },
          // A launch plan another team registered: not in the package, so it keeps what it names.
          { id: "n1", target: { case: "workflowNode", value: { reference: { case: "launchplanRef", value: { resourceType: ResourceType.LAUNCH_PLAN, project: "shared", domain: "production", name: "theirs", version: "t7" } } } } },
          // Blank fields of an outside reference are filled, as flytectl fills them.
          { id: "n2", target: { case: "workflowNode", value: { reference: { case: "launchplanRef", value: { resourceType: ResourceType.LAUNCH_PLAN, name: "sibling" } } } } },
        ],
      },
    });
    const plan = create(LaunchPlanSchema, {
      id: { resourceType: ResourceType.LAUNCH_PLAN, project: "flytesnacks", domain: "development", name: "w", version: "v1" },
      spec: { workflowId: { resourceType: ResourceType.WORKFLOW, project: "flytesnacks", domain: "development", name: "w", version: "v1" } },
    });
    return { tasks: [{ name: "t", spec: task }], workflows: [{ name: "w", spec: workflow }], launchPlans: [{ name: "w", launchPlan: plan, isDefault: true }], problems: [] };
  }
  const ref = (e: CompiledEntities, node: number) => {
    const target = e.workflows[0].spec.template!.nodes[node].target;
    const id = target.case === "taskNode" ? target.value.reference.value : target.case === "workflowNode" ? target.value.reference.value : undefined;
    return `${id?.project}/${id?.domain}/${id?.name}@${id?.version}`;
  };

  test("the package's entities and references to them move; outside references keep what they name", () => {
    const e = entities();
    assert.deepEqual(fillRegistrationFields(e, { project: "acme", domain: "staging", version: "v2" }), []);
    assert.equal(`${e.tasks[0].spec.template!.id!.project}@${e.tasks[0].spec.template!.id!.version}`, "acme@v2");
    assert.equal(ref(e, 0), "acme/staging/t@v2");
    assert.equal(ref(e, 1), "shared/production/theirs@t7");
    assert.equal(ref(e, 2), "acme/staging/sibling@v2");
    assert.equal(e.launchPlans[0].launchPlan.spec!.workflowId!.project, "acme");
  });

  test("without --version, versioned entities keep their own; a blank one is a problem and nothing changes", () => {
    const e = entities();
    const problems = fillRegistrationFields(e, { project: "acme", domain: "staging" });
    assert.deepEqual(problems, ["the package leaves the version to the registrar, and no --version was given (no version: launch plan sibling)"]);
    assert.equal(ref(e, 0), "flytesnacks/development/t@v1", "nothing is changed when a version is missing");
    const kept = entities();
    const n2 = kept.workflows[0].spec.template!.nodes[2].target;
    if (n2.case === "workflowNode") n2.value.reference.value!.version = "s1";
    assert.deepEqual(fillRegistrationFields(kept, { project: "acme", domain: "staging" }), []);
    assert.equal(ref(kept, 0), "acme/staging/t@v1");
  });
});
