// The control-plane API suite, run by api.test.ts (SQLite) and api-postgres.test.ts (PostgreSQL): a real node:http
// server on 127.0.0.1 with the real handler, store and file blob store, entities compiled from the golden fixtures
// and registered over HTTP, every endpoint and every bad input. The scheduler is not part of this suite: a small
// recording ExecutionControl stands in for it, and progress is written to the store the way the scheduler writes it.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { z } from "zod";
import { clone, create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { ExecutionSchema } from "../../../src/lib/idl/gen/flyteidl/admin/execution_pb.js";
import { ProjectRegisterRequestSchema } from "../../../src/lib/idl/gen/flyteidl/admin/project_pb.js";
import { TaskSpecSchema } from "../../../src/lib/idl/gen/flyteidl/admin/task_pb.js";
import { WorkflowSpecSchema } from "../../../src/lib/idl/gen/flyteidl/admin/workflow_pb.js";
import { LaunchPlanSpecSchema } from "../../../src/lib/idl/gen/flyteidl/admin/launch_plan_pb.js";
import { IdentifierSchema, type Identifier } from "../../../src/lib/idl/gen/flyteidl/core/identifier_pb.js";
import { LiteralMapSchema, LiteralSchema } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { ResourcesSchema, Resources_ResourceName, type Container } from "../../../src/lib/idl/gen/flyteidl/core/tasks_pb.js";
import { LiteralTypeSchema, SimpleType } from "../../../src/lib/idl/gen/flyteidl/core/types_pb.js";
import { compileProject, type CompiledProject } from "../../../src/lib/compiler/compile.js";
import { t, type AnyType } from "../../../src/lib/types/types.js";
import { createApiHandler, seedDefaults } from "../../../src/lib/server/api/index.js";
import type { ExecutionControl } from "../../../src/lib/server/control.js";
import { readRecordedLiteralMap, recordedInputs } from "../../../src/lib/engine/recorded-values.js";
import { FileBlobStore } from "../../../src/lib/storage/file-store.js";
import { attemptOutputPrefix, executionInputsUri, nodeInputsUri } from "../../../src/lib/storage/layout.js";
import {
  terminalExecutionPhases,
  type ControlPlaneStore,
  type ExecutionKey,
  type ExecutionRecord,
  type NodeExecutionRecord,
  type TaskExecutionRecord,
} from "../../../src/lib/store/records.js";
import { ApiClient, type ApiAnswer } from "../../support/api-client.js";

const fixtures = fileURLToPath(new URL("../../fixtures/golden/", import.meta.url));
const token = "tok-3f9a1c77e0b24d6a9c51";
const project = "flytesnacks";
const domain = "development";

let compiled: Promise<CompiledProject> | undefined;
function compileFixtures(): Promise<CompiledProject> {
  compiled ??= compileProject({ paths: [fixtures], version: "v1", image: "golden:1" });
  return compiled;
}

/** Stands in for the scheduler, with ExecutionControl's contract: terminate records ABORTED before it resolves. */
class RecordingControl implements ExecutionControl {
  readonly started: ExecutionKey[] = [];
  readonly terminated: { key: ExecutionKey; cause: string; principal: string }[] = [];
  constructor(private readonly store: ControlPlaneStore) {}
  start(key: ExecutionKey): void {
    this.started.push(key);
  }
  async terminate(key: ExecutionKey, cause: string, principal: string): Promise<boolean> {
    const record = await this.store.getExecution(key);
    if (!record || terminalExecutionPhases.has(record.phase)) return false;
    this.terminated.push({ key, cause, principal });
    const t = Date.now();
    const row: ExecutionRecord = { ...record, phase: "ABORTED", error: { kind: "USER", code: "Aborted", message: cause }, abort: { cause, principal }, endedAt: t, updatedAt: t };
    await this.store.write([{ table: "execution", row }]);
    return true;
  }
}

function expectStatus(answer: ApiAnswer, status: number, what = ""): void {
  assert.equal(answer.status, status, `${what} answered ${answer.status}: ${answer.text.slice(0, 600)}`);
}

/** A 4xx answer in the API's error shape, whose message matches `pattern`. */
function expectError(answer: ApiAnswer, status: number, code: string, pattern: RegExp): void {
  expectStatus(answer, status);
  assert.equal(answer.json?.code, code, answer.text);
  assert.match(answer.json?.error, pattern);
  assert.equal(answer.json?.message, answer.json?.error);
}

const int = (n: number) => ({ scalar: { primitive: { integer: String(n) } } });
const str = (s: string) => ({ scalar: { primitive: { stringValue: s } } });
const datetime = (iso: string) => ({ scalar: { primitive: { datetime: iso } } });

function idJson(id: Identifier | undefined) {
  return toJson(IdentifierSchema, id!);
}

/**
 * Runs the suite against stores from `openStore` (each call a fresh, empty one; `dir` is a temp folder the suite
 * removes at the end).
 */
export function describeApi(backend: string, openStore: (dir: string) => Promise<ControlPlaneStore>): void {
  describe(`control-plane API over ${backend}`, () => {
    let dir: string;
    let store: ControlPlaneStore;
    let blobs: FileBlobStore;
    let control: RecordingControl;
    let server: Server;
    let url: string;
    let client: ApiClient;
    let project2: CompiledProject;
    const logs: string[] = [];
    let clockOffset = 0;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "tsflyte-api-"));
      store = await openStore(dir);
      blobs = new FileBlobStore(join(dir, "data"));
      control = new RecordingControl(store);
      await seedDefaults(store);
      // Seeding twice is harmless: a second server start finds the project there.
      await seedDefaults(store);
      const handler = createApiHandler({
        store,
        blobs,
        control,
        authToken: token,
        publicUrl: () => url,
        log: (line) => logs.push(line),
        limits: { uploadBytes: 256 * 1024 },
        now: () => Date.now() + clockOffset,
      });
      server = createServer(handler);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const address = server.address() as { port: number };
      url = `http://127.0.0.1:${address.port}`;
      client = new ApiClient(url, token);
      project2 = await compileFixtures();
    });

    after(async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await blobs.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const anonymous = () => new ApiClient(url);

    // ── Health, version, auth, routing ─────────────────────────────────────────────────────────────────────

    test("healthcheck needs no token; everything under /api/v1 and the log links does, with WWW-Authenticate", async () => {
      expectStatus(await anonymous().get("/healthcheck"), 200);
      const missing = await anonymous().get("/api/v1/version");
      expectError(missing, 401, "Unauthenticated", /needs a bearer token/);
      assert.match(String(missing.headers["www-authenticate"]), /^Bearer realm="tsflyte"$/);
      const wrong = await new ApiClient(url, "not-the-token").get("/api/v1/version");
      expectError(wrong, 401, "Unauthenticated", /not valid/);
      assert.match(String(wrong.headers["www-authenticate"]), /error="invalid_token"/);
      // Even a path that does not exist answers 401 first, so nothing is learnt without the token.
      expectStatus(await anonymous().get("/api/v1/no/such/thing"), 401);
      expectStatus(await anonymous().get("/logs/flytesnacks/development/a1/n0/0"), 401);
      expectStatus(await anonymous().post("/api/v1/projects", { project: { id: "sneaky", name: "sneaky" } }), 401);
      assert.ok(!wrong.text.includes("not-the-token") && !wrong.text.includes(token));

      const version = await client.get("/api/v1/version");
      expectStatus(version, 200);
      assert.deepEqual(Object.keys(version.json.control_plane_version).sort(), ["Build", "BuildTime", "Version"]);
      assert.match(version.json.control_plane_version.Version, /^\d+\.\d+\.\d+/);
    });

    test("unknown routes are 404 without listing any; a known path with the wrong method is 405 with Allow", async () => {
      const unknown = await client.get("/api/v1/nothing/here");
      expectError(unknown, 404, "NotFound", /no such endpoint/);
      assert.ok(!unknown.text.includes("executions") && !unknown.text.includes("launch_plans"));
      expectStatus(await client.get("/nowhere"), 404);
      const wrongMethod = await client.call("/api/v1/projects", { method: "DELETE" });
      expectError(wrongMethod, 405, "Unimplemented", /DELETE is not allowed here; use GET, POST/);
      assert.equal(wrongMethod.headers.allow, "GET, POST");
      expectStatus(await client.call("/api/v1/tasks/flytesnacks/development/x/v1", { method: "PATCH" }), 405);
    });

    test("path traversal in any form is refused before anything is looked up", async () => {
      const paths = [
        "/api/v1/tasks/flytesnacks/development/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/tasks/flytesnacks/development/%2e%2e",
        "/api/v1/tasks/flytesnacks/development/..",
        "/api/v1/tasks/flytesnacks/development/a%00b",
        "/api/v1/tasks/flytesnacks/development/a%5Cb",
        "/api/v1/tasks/flytesnacks/development/a%2Fb/v1",
        "/api/v1/../../etc/passwd",
        "/api/v1/executions/flytesnacks/development/%252e%252e",
        "/logs/flytesnacks/development/x/..%2F..%2F/0",
        "/api/v1/tasks/flytesnacks/development/%E0%A4%A",
        "/api/v1//tasks",
      ];
      for (const path of paths) {
        const answer = await client.get(path);
        assert.ok(answer.status === 400, `${path} answered ${answer.status}: ${answer.text}`);
        assert.equal(answer.json.code, "InvalidArgument", path);
      }
    });

    // ── Projects ───────────────────────────────────────────────────────────────────────────────────────────

    test("projects: the default one with the fixed domains, every field in snake_case; create, get, conflicts", async () => {
      const list = await client.get("/api/v1/projects");
      expectStatus(list, 200);
      assert.deepEqual(list.json.projects, [
        {
          id: "flytesnacks",
          name: "flytesnacks",
          domains: [
            { id: "development", name: "development" },
            { id: "staging", name: "staging" },
            { id: "production", name: "production" },
          ],
          description: "The default project",
          labels: { values: {} },
          state: "ACTIVE",
          org: "",
        },
      ]);
      assert.equal(list.json.token, "");

      expectStatus(await client.post("/api/v1/projects", { project: { id: "ml-team", name: "ML team", description: "models", labels: { values: { team: "ml" } } } }), 200);
      const again = await client.post("/api/v1/projects", { project: { id: "ml-team", name: "ML team" } });
      expectError(again, 409, "AlreadyExists", /project "ml-team" already exists/);
      const one = await client.get("/api/v1/projects/ml-team");
      expectStatus(one, 200);
      assert.equal(one.json.description, "models");
      assert.deepEqual(one.json.labels, { values: { team: "ml" } });
      expectError(await client.get("/api/v1/projects/nope"), 404, "NotFound", /project "nope" does not exist/);
      const domains = await client.get("/api/v1/domains");
      assert.deepEqual(domains.json.domains.map((d: { id: string }) => d.id), ["development", "staging", "production"]);

      // Binary protobuf in, as flyteconsole sends it.
      const binary = toBinary(ProjectRegisterRequestSchema, create(ProjectRegisterRequestSchema, { project: { id: "from-proto", name: "proto" } }));
      expectStatus(await client.post("/api/v1/projects", binary, { headers: { "Content-Type": "application/octet-stream" } }), 200);
    });

    test("projects: ids, names, domains and labels that FlyteAdmin refuses", async () => {
      const cases: [unknown, RegExp][] = [
        [{ project: { id: "ML_Team", name: "x" } }, /project\.id "ML_Team" is not a valid project id/],
        [{ project: { id: "-lead", name: "x" } }, /not a valid project id/],
        [{ project: { id: "a".repeat(64), name: "x" } }, /at most 63/],
        [{ project: { id: "ok", name: "" } }, /project\.name is required/],
        [{ project: { id: "ok", name: "x".repeat(65) } }, /limit is 64/],
        [{ project: { id: "ok", name: "x", domains: [{ id: "dev", name: "dev" }] } }, /domains are set system-wide/],
        [{ project: { id: "ok", name: "x", labels: { values: { "bad key!": "v" } } } }, /not a valid Kubernetes label key/],
        [{ project: { id: "ok", name: "x", colour: "red" } }, /key "colour" is unknown/],
        [{}, /project is required/],
      ];
      for (const [body, pattern] of cases) expectError(await client.post("/api/v1/projects", body), 400, "InvalidArgument", pattern);
    });

    test("malformed bodies: bad JSON, not an object, wrong types, wrong content type, over the size limit", async () => {
      expectError(await client.post("/api/v1/projects", "{not json", { headers: { "Content-Type": "application/json" } }), 400, "InvalidArgument", /not valid JSON/);
      expectError(await client.post("/api/v1/projects", "[1,2]", { headers: { "Content-Type": "application/json" } }), 400, "InvalidArgument", /must be a JSON object .* got an array/);
      expectError(await client.post("/api/v1/projects", { project: { id: 7 } }), 400, "InvalidArgument", /ProjectRegisterRequest.*project\.id|Project\.id/);
      expectError(await client.post("/api/v1/projects", "id=x", { headers: { "Content-Type": "application/x-www-form-urlencoded" } }), 415, "InvalidArgument", /unsupported Content-Type/);
      expectError(await client.post("/api/v1/projects", Buffer.from([1, 2, 3, 255]), { headers: { "Content-Type": "application/octet-stream" } }), 400, "InvalidArgument", /binary protobuf/);
      const big = Buffer.alloc(10 * 1024 * 1024 + 1, 32);
      const declared = await client.post("/api/v1/projects", big, { headers: { "Content-Type": "application/json" } });
      expectError(declared, 413, "ResourceExhausted", /limit is 10485760 bytes/);
      const streamed = await client.post("/api/v1/projects", big, { headers: { "Content-Type": "application/json" }, chunked: true });
      expectError(streamed, 413, "ResourceExhausted", /larger than the limit/);
      // The server is still answering after refusing both.
      expectStatus(await client.get("/api/v1/version"), 200);
    });

    // ── Registration ───────────────────────────────────────────────────────────────────────────────────────

    async function registerTask(spec: CompiledProject["tasks"][number]["spec"], snakeCase = false): Promise<ApiAnswer> {
      const options = { useProtoFieldName: snakeCase };
      return client.post("/api/v1/tasks", { id: toJson(IdentifierSchema, spec.template!.id!, options), spec: toJson(TaskSpecSchema, spec, options) });
    }

    test("registers every compiled entity over HTTP: tasks, workflows, launch plans in dependency order", async () => {
      for (const [i, t] of project2.tasks.entries()) expectStatus(await registerTask(t.spec, i % 2 === 0), 200, t.name);
      const callsPlan = (w: CompiledProject["workflows"][number]) =>
        [w.spec.template!, ...w.spec.subWorkflows].some((t) => t.nodes.some((n) => n.target.case === "workflowNode" && n.target.value.reference.case === "launchplanRef"));
      const registerWorkflow = async (w: CompiledProject["workflows"][number]) =>
        expectStatus(await client.post("/api/v1/workflows", { id: idJson(w.spec.template!.id), spec: toJson(WorkflowSpecSchema, w.spec) }), 200, w.name);
      const registerPlan = async (l: CompiledProject["launchPlans"][number]) =>
        expectStatus(await client.post("/api/v1/launch_plans", { id: idJson(l.launchPlan.id), spec: toJson(LaunchPlanSpecSchema, l.launchPlan.spec!) }), 200, l.name);
      const first = project2.workflows.filter((w) => !callsPlan(w));
      for (const w of first) await registerWorkflow(w);
      const firstNames = new Set(first.map((w) => w.name));
      const plansFirst = project2.launchPlans.filter((l) => firstNames.has(l.launchPlan.spec!.workflowId!.name));
      for (const l of plansFirst) await registerPlan(l);
      for (const w of project2.workflows.filter(callsPlan)) await registerWorkflow(w);
      for (const l of project2.launchPlans.filter((l) => !plansFirst.includes(l))) await registerPlan(l);
    });

    test("an identical re-register succeeds; a different structure under the same version says what differs", async () => {
      const task = project2.tasks.find((t) => t.name === "chain.double")!;
      expectStatus(await registerTask(task.spec), 200);
      expectStatus(await registerTask(task.spec, true), 200);
      const changed = clone(TaskSpecSchema, task.spec);
      (changed.template!.target.value as Container).image = "golden:2";
      const conflict = await registerTask(changed);
      expectError(conflict, 400, "InvalidArgument", /task chain\.double version v1 is already registered with a different structure/);
      assert.match(conflict.json.error, /register this one under a new version/);
      assert.match(conflict.json.error, /template\.container\.image: "golden:1" → "golden:2"/);

      const wf = project2.workflows.find((w) => w.name === "chain.chain")!;
      const wfChanged = clone(WorkflowSpecSchema, wf.spec);
      wfChanged.template!.nodes[0].metadata!.name = "renamed";
      const wfConflict = await client.post("/api/v1/workflows", { id: idJson(wf.spec.template!.id), spec: toJson(WorkflowSpecSchema, wfChanged) });
      expectError(wfConflict, 400, "InvalidArgument", /template\.nodes\[0\]\.metadata\.name: "double" → "renamed"/);
    });

    test("workflows are compile-checked against the registered tasks, naming what is missing or wrong", async () => {
      const wf = project2.workflows.find((w) => w.name === "chain.chain")!;
      const missing = clone(WorkflowSpecSchema, wf.spec);
      missing.template!.id!.version = "v2";
      const ref = missing.template!.nodes[0].target.value as { reference: { value: Identifier } };
      ref.reference.value = { ...ref.reference.value, name: "chain.nope" };
      const answer = await client.post("/api/v1/workflows", { id: idJson(missing.template!.id), spec: toJson(WorkflowSpecSchema, missing) });
      expectError(answer, 400, "InvalidArgument", /failed to compile against the registered entities/);
      assert.match(answer.json.error, /node n0 refers to task chain\.nope@v1, which does not exist/);

      const mistyped = clone(WorkflowSpecSchema, wf.spec);
      mistyped.template!.id!.version = "v3";
      mistyped.template!.interface!.inputs!.variables.x.type = create(LiteralTypeSchema, { type: { case: "simple", value: SimpleType.STRING } });
      const typed = await client.post("/api/v1/workflows", { id: idJson(mistyped.template!.id), spec: toJson(WorkflowSpecSchema, mistyped) });
      expectError(typed, 400, "InvalidArgument", /expects int, but start-node\.x is string/);

      const mismatch = await client.post("/api/v1/workflows", { id: { ...idJson(wf.spec.template!.id) as object, version: "v9" }, spec: toJson(WorkflowSpecSchema, wf.spec) });
      expectError(mismatch, 400, "InvalidArgument", /spec\.template\.id \(flytesnacks\/development\/chain\.chain@v1\) does not match id/);
      // Nothing of the refused versions was stored.
      expectStatus(await client.get("/api/v1/workflows/flytesnacks/development/chain.chain/v2"), 404);
      expectStatus(await client.get("/api/v1/workflows/flytesnacks/development/chain.chain/v9"), 404);
    });

    test("bad identifiers, projects, task templates and launch plans are refused with the rule they break", async () => {
      const task = project2.tasks.find((t) => t.name === "one-task.greet")!;
      const withId = (id: Record<string, unknown>) => ({ id: { ...(idJson(task.spec.template!.id) as object), ...id }, spec: toJson(TaskSpecSchema, { ...task.spec, template: { ...task.spec.template!, id: undefined } } as never) });
      expectError(await client.post("/api/v1/tasks", withId({ version: "v/1" })), 400, "InvalidArgument", /id\.version "v\/1" must be URL-safe/);
      expectError(await client.post("/api/v1/tasks", withId({ version: "v 1" })), 400, "InvalidArgument", /URL-safe/);
      expectError(await client.post("/api/v1/tasks", withId({ name: "../../etc/passwd" })), 400, "InvalidArgument", /id\.name "\.\.\/\.\.\/etc\/passwd" is not a valid name/);
      expectError(await client.post("/api/v1/tasks", withId({ name: "a\u0000b" })), 400, "InvalidArgument", /not a valid name/);
      expectError(await client.post("/api/v1/tasks", withId({ resourceType: "WORKFLOW" })), 400, "InvalidArgument", /id\.resource_type is WORKFLOW; expected TASK/);
      expectError(await client.post("/api/v1/tasks", withId({ project: "nobody", version: "v7" })), 404, "NotFound", /project "nobody" does not exist/);
      expectError(await client.post("/api/v1/tasks", withId({ domain: "qa", version: "v7" })), 400, "InvalidArgument", /domain "qa" is unrecognized by the system; the domains are development, staging, production/);
      expectError(await client.post("/api/v1/tasks", { id: idJson(task.spec.template!.id), spec: { template: {}, extra: 1 } }), 400, "InvalidArgument", /key "extra" is unknown/);
      expectError(await client.post("/api/v1/tasks", { id: idJson(task.spec.template!.id) }), 400, "InvalidArgument", /spec\.template is required/);

      const badResources = clone(TaskSpecSchema, task.spec);
      badResources.template!.id!.version = "v8";
      const container = badResources.template!.target.value as Container;
      container.image = "";
      container.resources = create(ResourcesSchema, {
        requests: [{ name: Resources_ResourceName.CPU, value: "lots" }, { name: Resources_ResourceName.MEMORY, value: "2Gi" }],
        limits: [{ name: Resources_ResourceName.MEMORY, value: "1Gi" }],
      });
      const resources = await registerTask(badResources);
      expectError(resources, 400, "InvalidArgument", /task flytesnacks\/development\/one-task\.greet@v8 cannot be registered/);
      assert.match(resources.json.error, /template\.container\.image is required/);
      assert.match(resources.json.error, /requests\.cpu is "lots", not a Kubernetes quantity/);
      assert.match(resources.json.error, /memory requests are greater than its limits/);

      // Launch plans: the workflow must exist and the inputs must fit it.
      const daily = project2.launchPlans.find((l) => l.name === "launch-plans.daily")!;
      const planBody = (spec: unknown, version = "v5") => ({ id: { ...(idJson(daily.launchPlan.id) as object), version }, spec });
      const specJson = toJson(LaunchPlanSpecSchema, daily.launchPlan.spec!) as Record<string, any>;
      const noWorkflow = await client.post("/api/v1/launch_plans", planBody({ ...specJson, workflowId: { ...specJson.workflowId, version: "v404" } }));
      expectError(noWorkflow, 404, "NotFound", /workflow launch-plans\.daily@v404 in flytesnacks\/development is not registered/);
      const wrongFixed = await client.post("/api/v1/launch_plans", planBody({ ...specJson, defaultInputs: { parameters: { day: specJson.defaultInputs.parameters.day } }, fixedInputs: { literals: { region: int(3) } } }));
      expectError(wrongFixed, 400, "InvalidArgument", /fixed input "region": expected string, got int 3/);
      const unknownDefault = await client.post("/api/v1/launch_plans", planBody({ ...specJson, defaultInputs: { parameters: { ...specJson.defaultInputs.parameters, colour: specJson.defaultInputs.parameters.region } } }));
      expectError(unknownDefault, 400, "InvalidArgument", /default input "colour" is not an input of the workflow; the inputs of workflow .* are day, region/);
      const badDefault = await client.post("/api/v1/launch_plans", planBody({ ...specJson, defaultInputs: { parameters: { ...specJson.defaultInputs.parameters, region: { var: { type: { simple: "STRING" } }, default: int(1) } } } }));
      expectError(badDefault, 400, "InvalidArgument", /the default of input "region": expected string, got int 1/);
      const conditions = await client.post("/api/v1/launch_plans", planBody({ ...specJson, entityMetadata: { launchConditions: { "@type": "type.googleapis.com/x.Y" } } }));
      expectStatus(conditions, 400);
      expectStatus(await client.get("/api/v1/launch_plans/flytesnacks/development/launch-plans.daily/v5"), 404);
    });

    // ── Reading the registry ───────────────────────────────────────────────────────────────────────────────

    test("get one task, workflow (with its compiled closure) and launch plan (with state and expected inputs)", async () => {
      const task = await client.get("/api/v1/tasks/flytesnacks/development/chain.double/v1");
      expectStatus(task, 200);
      assert.deepEqual(task.json.id, { resource_type: "TASK", project, domain, name: "chain.double", version: "v1", org: "" });
      assert.equal(task.json.closure.compiled_task.template.container.image, "golden:1");
      assert.match(task.json.closure.created_at, /^\d{4}-\d{2}-\d{2}T/);
      assert.equal(task.json.short_description, "");

      const wf = await client.get("/api/v1/workflows/flytesnacks/development/chain.chain/v1");
      expectStatus(wf, 200);
      const closure = wf.json.closure.compiled_workflow;
      assert.equal(closure.primary.template.id.name, "chain.chain");
      assert.deepEqual(closure.tasks.map((t: any) => t.template.id.name), ["chain.addOne", "chain.double", "chain.show"]);
      assert.deepEqual(closure.primary.connections.upstream["n0"].ids, ["start-node"]);
      assert.deepEqual(closure.primary.connections.upstream["n1"].ids, ["n0"]);
      assert.deepEqual(closure.primary.connections.upstream["end-node"].ids, ["n2"]);
      assert.deepEqual(closure.primary.connections.downstream["start-node"].ids, ["n0"]);
      assert.deepEqual(closure.sub_workflows, []);
      assert.deepEqual(closure.launch_plans, []);

      const outer = await client.get("/api/v1/workflows/flytesnacks/development/subworkflow.outer/v1");
      assert.deepEqual(outer.json.closure.compiled_workflow.sub_workflows.map((w: any) => w.template.id.name), ["subworkflow.inner"]);
      assert.deepEqual(outer.json.closure.compiled_workflow.tasks.map((t: any) => t.template.id.name), ["subworkflow.inc"]);
      const usesPlan = await client.get("/api/v1/workflows/flytesnacks/development/launch-plans.usesPlan/v1");
      const lp = usesPlan.json.closure.compiled_workflow.launch_plans[0].template;
      assert.equal(lp.id.name, "hourly_report");
      assert.deepEqual(Object.keys(lp.interface.inputs.variables).sort(), ["day", "region"]);
      assert.deepEqual(Object.keys(lp.interface.outputs.variables), ["o0"]);

      const plan = await client.get("/api/v1/launch_plans/flytesnacks/development/daily_report/v1");
      expectStatus(plan, 200);
      assert.equal(plan.json.closure.state, "INACTIVE");
      assert.deepEqual(Object.keys(plan.json.closure.expected_inputs.parameters), ["day"]);
      assert.equal(plan.json.closure.expected_inputs.parameters.day.required, true);
      assert.deepEqual(plan.json.closure.expected_outputs.variables.o0.type, { simple: "STRING", metadata: null, annotation: null, structure: null });
      assert.deepEqual(plan.json.spec.fixed_inputs.literals.region.scalar.primitive.string_value, "us");
      assert.equal(plan.json.spec.entity_metadata.schedule.cron_schedule.schedule, "0 2 * * *");

      expectError(await client.get("/api/v1/tasks/flytesnacks/development/chain.double/v404"), 404, "NotFound", /task chain\.double@v404 in flytesnacks\/development does not exist/);
      expectError(await client.get("/api/v1/tasks/flytesnacks/qa/chain.double/v1"), 400, "InvalidArgument", /domain "qa"/);
    });

    test("lists: versions newest first, pages with tokens, sorting, names; unknown parameters and filters refused", async () => {
      // A second version of one task, registered a moment later.
      const greet = project2.tasks.find((t) => t.name === "one-task.greet")!;
      const v2 = clone(TaskSpecSchema, greet.spec);
      v2.template!.id!.version = "v2";
      await new Promise((r) => setTimeout(r, 5));
      expectStatus(await registerTask(v2), 200);
      const versions = await client.get("/api/v1/tasks/flytesnacks/development/one-task.greet");
      assert.deepEqual(versions.json.tasks.map((t: any) => t.id.version), ["v2", "v1"]);
      const oldest = await client.get("/api/v1/tasks/flytesnacks/development/one-task.greet?sort_by.key=created_at&sort_by.direction=ASCENDING");
      assert.deepEqual(oldest.json.tasks.map((t: any) => t.id.version), ["v1", "v2"]);

      const all: string[] = [];
      let pageToken = "";
      let pages = 0;
      do {
        const page = await client.get(`/api/v1/tasks/flytesnacks/development?limit=3&sortBy.key=name&sortBy.direction=ASCENDING${pageToken ? `&token=${encodeURIComponent(pageToken)}` : ""}`);
        expectStatus(page, 200);
        assert.ok(page.json.tasks.length <= 3);
        all.push(...page.json.tasks.map((t: any) => `${t.id.name}@${t.id.version}`));
        pageToken = page.json.token;
        pages++;
      } while (pageToken && pages < 20);
      assert.equal(all.length, project2.tasks.length + 1);
      assert.deepEqual(all, [...all].sort());

      const names = await client.get("/api/v1/task_ids/flytesnacks/development?limit=100");
      assert.deepEqual(names.json.entities.map((e: any) => e.name), project2.tasks.map((t) => t.name).sort());
      assert.deepEqual(names.json.entities[0], { project, domain, name: names.json.entities[0].name, org: "" });
      const workflows = await client.get("/api/v1/workflows/flytesnacks/development/chain.chain");
      assert.equal(workflows.json.workflows.length, 1);
      assert.equal(workflows.json.workflows[0].closure.compiled_workflow, null);
      const plans = await client.get("/api/v1/launch_plan_ids/flytesnacks/development");
      assert.ok(plans.json.entities.some((e: any) => e.name === "daily_report"));

      expectError(await client.get("/api/v1/tasks/flytesnacks/development?limit=0"), 400, "InvalidArgument", /limit "0" must be a whole number/);
      expectError(await client.get("/api/v1/tasks/flytesnacks/development?limit=ten"), 400, "InvalidArgument", /limit "ten"/);
      expectError(await client.get("/api/v1/tasks/flytesnacks/development?colour=red"), 400, "InvalidArgument", /unknown query parameter "colour"/);
      expectError(await client.get("/api/v1/tasks/flytesnacks/development?sort_by.key=size"), 400, "InvalidArgument", /sort_by\.key "size" is not supported/);
      expectError(await client.get("/api/v1/tasks/flytesnacks/development?filters=eq(name,x)"), 400, "InvalidArgument", /filters are not supported/);
      expectError(await client.get("/api/v1/tasks/flytesnacks/development?token=garbage"), 400, "InvalidArgument", /token "garbage" is not a token this list returned/);
      expectError(await client.get("/api/v1/task_ids/flytesnacks/development?token=garbage"), 400, "InvalidArgument", /token "garbage"/);
    });

    test("launch plan state: activate, read the active one, deactivate; the state must be said explicitly", async () => {
      const path = "/api/v1/launch_plans/flytesnacks/development/chain.chain/v1";
      expectError(await client.put(path, {}), 400, "InvalidArgument", /state is required: ACTIVE or INACTIVE/);
      expectError(await client.put(path, { state: "ON" }), 400, "InvalidArgument", /LaunchPlanState/);
      expectError(await client.put(path, { state: "ACTIVE", id: { name: "other" } }), 400, "InvalidArgument", /does not match the path/);
      expectError(await client.put("/api/v1/launch_plans/flytesnacks/development/chain.chain/v404", { state: "ACTIVE" }), 404, "NotFound", /does not exist/);
      expectError(await client.get("/api/v1/active_launch_plans/flytesnacks/development/chain.chain"), 404, "NotFound", /has no active version/);
      expectStatus(await client.put(path, { state: "ACTIVE" }), 200);
      const active = await client.get("/api/v1/active_launch_plans/flytesnacks/development/chain.chain");
      expectStatus(active, 200);
      assert.equal(active.json.closure.state, "ACTIVE");
      assert.equal(active.json.id.version, "v1");
      const list = await client.get("/api/v1/active_launch_plans/flytesnacks/development");
      assert.deepEqual(list.json.launch_plans.map((l: any) => l.id.name), ["chain.chain"]);
      expectStatus(await client.put(path, { id: { project, domain, name: "chain.chain", version: "v1" }, state: "INACTIVE" }), 200);
      expectStatus(await client.get("/api/v1/active_launch_plans/flytesnacks/development/chain.chain"), 404);
    });

    // ── Executions ─────────────────────────────────────────────────────────────────────────────────────────

    const planId = (name: string, version = "v1") => ({ resourceType: "LAUNCH_PLAN", project, domain, name, version });
    const createExecution = (body: Record<string, unknown>) => client.post("/api/v1/executions", { project, domain, ...body });

    /** The inputs an execution was created with, from its row (small) or its inputs.pb (large). */
    async function readInputs(key: ExecutionKey): Promise<Record<string, unknown>> {
      const record = await store.getExecution(key);
      const map = record && (await readRecordedLiteralMap(blobs, recordedInputs(record)));
      assert.ok(map, `execution ${key.name} has no inputs recorded`);
      return toJson(LiteralMapSchema, map) as Record<string, unknown>;
    }

    test("create execution: inputs checked and completed into its row, one QUEUED row, then the scheduler told", async () => {
      const before = control.started.length;
      const answer = await createExecution({ name: "chain-1", spec: { launchPlan: planId("chain.chain") }, inputs: { literals: { x: int(3) } } });
      expectStatus(answer, 200);
      assert.deepEqual(answer.json, { id: { project, domain, name: "chain-1", org: "" } });
      assert.deepEqual(control.started.slice(before), [{ project, domain, name: "chain-1" }]);
      const record = await store.getExecution({ project, domain, name: "chain-1" });
      assert.ok(record);
      assert.equal(record.phase, "QUEUED");
      assert.equal(record.launchKind, "launchPlan");
      assert.equal(record.launchName, "chain.chain");
      assert.equal(record.launchVersion, "v1");
      assert.equal(record.mode, "MANUAL");
      assert.equal(record.maxParallelism, 25);
      assert.equal(record.overwriteCache, false);
      // Small inputs live in the row: the create is one transaction and writes no file.
      assert.equal(record.inputsUri, undefined);
      assert.equal(await blobs.exists(executionInputsUri(blobs.baseUri, record)), false);
      assert.deepEqual(await readInputs(record), { literals: { x: int(3) } });

      // Defaults fill in; fixed inputs are added; snake_case is accepted.
      const report = await client.post("/api/v1/executions", {
        project,
        domain,
        name: "report-1",
        spec: { launch_plan: { resource_type: "LAUNCH_PLAN", project, domain, name: "daily_report", version: "v1" }, overwrite_cache: true, max_parallelism: 3 },
        inputs: { literals: { day: datetime("2026-01-02T00:00:00Z") } },
      });
      expectStatus(report, 200);
      assert.deepEqual(await readInputs({ project, domain, name: "report-1" }), { literals: { day: datetime("2026-01-02T00:00:00Z"), region: str("us") } });
      const reportRecord = await store.getExecution({ project, domain, name: "report-1" });
      assert.equal(reportRecord?.overwriteCache, true);
      assert.equal(reportRecord?.maxParallelism, 3);
      const pipeline = await createExecution({ name: "pipeline-1", spec: { launchPlan: planId("defaults.pipeline") } });
      expectStatus(pipeline, 200);
      assert.deepEqual(await readInputs({ project, domain, name: "pipeline-1" }), { literals: { name: str("base"), epochs: int(5) } });

      // A generated name is FlyteAdmin's shape; a single task runs by its TASK id.
      const generated = await createExecution({ spec: { launchPlan: { ...planId("one-task.greet"), resourceType: "TASK" } }, inputs: { literals: { name: str("ann") } } });
      expectStatus(generated, 200);
      assert.match(generated.json.id.name, /^a[a-z0-9]{19}$/);
      const taskRecord = await store.getExecution(generated.json.id);
      assert.equal(taskRecord?.launchKind, "task");
      assert.equal(taskRecord?.launchName, "one-task.greet");
    });

    test("create execution refuses wrong inputs, saying which input, the expected type and what was given", async () => {
      const started = control.started.length;
      const cases: [Record<string, unknown>, number, string, RegExp][] = [
        [{ spec: { launchPlan: planId("chain.chain") }, inputs: { literals: {} } }, 400, "InvalidArgument", /missing required input "x" \(int\)/],
        [{ spec: { launchPlan: planId("chain.chain") }, inputs: { literals: { x: str("three") } } }, 400, "InvalidArgument", /input "x": expected int, got string "three"/],
        [{ spec: { launchPlan: planId("chain.chain") }, inputs: { literals: { x: { scalar: { primitive: { floatValue: 1.5 } } } } } }, 400, "InvalidArgument", /input "x": expected int, got float 1\.5/],
        [{ spec: { launchPlan: planId("chain.chain") }, inputs: { literals: { x: int(1), y: int(2) } } }, 400, "InvalidArgument", /"y" is not an input of launch plan chain\.chain@v1; its inputs are x/],
        [{ spec: { launchPlan: planId("daily_report") }, inputs: { literals: { day: datetime("2026-01-02T00:00:00Z"), region: str("eu") } } }, 400, "InvalidArgument", /input "region" is fixed by launch plan daily_report@v1 and cannot be overridden/],
        [{ spec: { launchPlan: planId("chain.chain") }, inputs: { literals: { x: { scalar: { primitive: { integer: "1.5" } } } } } }, 400, "InvalidArgument", /Primitive\.integer/],
        [{ spec: { launchPlan: planId("chain.chain") }, inputs: { literals: { x: int(1) } }, colour: "red" }, 400, "InvalidArgument", /key "colour" is unknown/],
        [{ name: "Chain-1", spec: { launchPlan: planId("chain.chain") }, inputs: { literals: { x: int(1) } } }, 400, "InvalidArgument", /execution name "Chain-1" is invalid/],
        [{ name: "1chain", spec: { launchPlan: planId("chain.chain") } }, 400, "InvalidArgument", /is invalid/],
        [{ name: "../etc", spec: { launchPlan: planId("chain.chain") } }, 400, "InvalidArgument", /is invalid/],
        [{ name: `a${"b".repeat(63)}`, spec: { launchPlan: planId("chain.chain") } }, 400, "InvalidArgument", /the limit is 63/],
        [{ name: "chain-1", spec: { launchPlan: planId("chain.chain") }, inputs: { literals: { x: int(1) } } }, 409, "AlreadyExists", /an execution named chain-1 already exists/],
        [{ spec: { launchPlan: planId("chain.nope") } }, 404, "NotFound", /launch plan chain\.nope@v1 in flytesnacks\/development does not exist/],
        [{ spec: { launchPlan: { ...planId("chain.chain"), resourceType: "WORKFLOW" } } }, 400, "InvalidArgument", /must be LAUNCH_PLAN, or TASK/],
        [{ spec: {} }, 400, "InvalidArgument", /spec\.launch_plan is required/],
        [{ project: "nobody", spec: { launchPlan: planId("chain.chain") } }, 404, "NotFound", /project "nobody" does not exist/],
        [{ domain: "", spec: { launchPlan: planId("chain.chain") } }, 400, "InvalidArgument", /domain is required/],
      ];
      for (const [body, status, code, pattern] of cases) expectError(await createExecution(body), status, code, pattern);
      // Several problems at once are reported together.
      const many = await createExecution({ spec: { launchPlan: planId("launch-plans.daily") }, inputs: { literals: { region: int(1), extra: int(2) } } });
      expectStatus(many, 400);
      assert.match(many.json.error, /"extra" is not an input/);
      assert.match(many.json.error, /input "region": expected string, got int 1/);
      assert.match(many.json.error, /missing required input "day" \(datetime\)/);
      // Every literal type is checked structurally, through the all-types task.
      const typed = await createExecution({ spec: { launchPlan: { ...planId("all-types.typed"), resourceType: "TASK" } }, inputs: { literals: {} } });
      expectStatus(typed, 400);
      assert.match(typed.json.error, /missing required inputs/);

      assert.equal(control.started.length, started, "no refused request reached the scheduler");
      // The taken name kept its own inputs.
      assert.deepEqual(await readInputs({ project, domain, name: "chain-1" }), { literals: { x: int(3) } });
    });

    test("a single task of every type runs with checked inputs: bare union values are stored tagged, optionals default to none", async () => {
      const Point = z.object({ x: z.number(), y: z.number() }).meta({ title: "Point" });
      const everything = {
        i: [t.int(), 7],
        f: [t.float(), 2.5],
        s: [t.string(), "text"],
        b: [t.boolean(), true],
        when: [t.datetime(), new Date("2026-01-02T03:04:05Z")],
        wait: [t.duration(), "1h30m"],
        ints: [t.list(t.int()), [1, 2, 3]],
        scores: [t.map(t.float()), { a: 1.5 }],
        point: [t.struct(Point), { x: 1, y: 2 }],
        color: [t.enum(["red", "green", "blue"]), "green"],
        either: [t.string(), "two"],
        report: [t.file({ format: "csv" }), "s3://bucket/report.csv"],
        images: [t.directory(), "s3://bucket/images/"],
        table: [t.dataframe({ columns: { name: t.string(), pay: t.float() } }), "s3://bucket/table.parquet"],
        nested: [t.list(t.map(t.list(t.int()))), [{ k: [1, 2] }]],
      } as const;
      const literals = Object.fromEntries(Object.entries(everything).map(([name, [type, value]]) => [name, toJson(LiteralSchema, (type as AnyType).toLiteral(value, name))]));
      const typed = { ...planId("all-types.typed"), resourceType: "TASK" };
      const answer = await createExecution({ name: "typed-1", spec: { launchPlan: typed }, inputs: { literals } });
      expectStatus(answer, 200);
      const record = await store.getExecution(answer.json.id);
      const stored = (await readRecordedLiteralMap(blobs, recordedInputs(record!)))!.literals;
      const either = stored.either.value;
      assert.ok(either.case === "scalar" && either.value.value.case === "union");
      assert.equal(either.value.value.value.type?.structure?.tag, "string");
      const maybe = stored.maybe.value;
      assert.ok(maybe.case === "scalar" && maybe.value.value.case === "union" && maybe.value.value.value.value?.value.case === "scalar");
      assert.equal(maybe.value.value.value.value.value.value.value.case, "noneType");

      const wrong = await createExecution({ spec: { launchPlan: typed }, inputs: { literals: { ...literals, report: toJson(LiteralSchema, t.directory().toLiteral("s3://b/d", "report")), color: str("purple"), nested: toJson(LiteralSchema, t.list(t.map(t.list(t.string()))).toLiteral([{ k: ["x"] }], "nested")) } } });
      expectStatus(wrong, 400);
      assert.match(wrong.json.error, /input "report": expected file\(csv\), got directory s3:\/\/b\/d/);
      assert.match(wrong.json.error, /input "color": "purple" is not one of "red", "green", "blue"/);
      assert.match(wrong.json.error, /input "nested"\[0\]\.k\[0\]: expected int, got string "x"/);
    });

    test("get one execution: spec with the launch plan and inputs, closure with phase, times, workflow and state", async () => {
      const answer = await client.get("/api/v1/executions/flytesnacks/development/chain-1");
      expectStatus(answer, 200);
      const e = answer.json;
      assert.deepEqual(e.id, { project, domain, name: "chain-1", org: "" });
      assert.deepEqual(e.spec.launch_plan, { resource_type: "LAUNCH_PLAN", project, domain, name: "chain.chain", version: "v1", org: "" });
      assert.deepEqual(e.spec.inputs.literals.x.scalar.primitive, { integer: "3" });
      assert.equal(e.spec.metadata.mode, "MANUAL");
      assert.equal(e.spec.max_parallelism, 25);
      assert.equal(e.closure.phase, "QUEUED");
      assert.equal(e.closure.workflow_id.name, "chain.chain");
      assert.equal(e.closure.workflow_id.resource_type, "WORKFLOW");
      assert.equal(e.closure.state_change_details.state, "EXECUTION_ACTIVE");
      assert.match(e.closure.created_at, /^\d{4}-/);
      assert.equal(e.closure.started_at, null);
      assert.deepEqual(e.closure.notifications, []);

      const binary = await client.get("/api/v1/executions/flytesnacks/development/chain-1", { headers: { Accept: "application/octet-stream" } });
      expectStatus(binary, 200);
      assert.equal(binary.headers["content-type"], "application/octet-stream");
      assert.equal(fromBinary(ExecutionSchema, binary.body).closure?.workflowId?.name, "chain.chain");

      expectError(await client.get("/api/v1/executions/flytesnacks/development/nope"), 404, "NotFound", /execution nope does not exist in flytesnacks\/development/);
      expectError(await client.get("/api/v1/executions/flytesnacks/development/Bad_Name"), 400, "InvalidArgument", /is invalid/);
    });

    test("list executions: FlyteAdmin filters, sorting and paging; unknown fields and functions refused by name", async () => {
      const names = (a: ApiAnswer) => a.json.executions.map((e: any) => e.id.name);
      const since = new Date(Date.now() - 3600_000).toISOString();
      const queued = await client.get(`/api/v1/executions/flytesnacks/development?filters=eq(phase,QUEUED)+eq(launch_plan.name,chain.chain)+gte(created_at,${since})`);
      expectStatus(queued, 200);
      assert.deepEqual(names(queued), ["chain-1"]);
      const encodedPlus = await client.get(`/api/v1/executions/flytesnacks/development?filters=${encodeURIComponent(`eq(phase,QUEUED)+eq(launch_plan.name,chain.chain)`)}`);
      assert.deepEqual(names(encodedPlus), ["chain-1"]);
      const byWorkflow = await client.get("/api/v1/executions/flytesnacks/development?filters=eq(workflow.name,launch-plans.daily)");
      assert.deepEqual(names(byWorkflow), ["report-1"]);
      const byTask = await client.get("/api/v1/executions/flytesnacks/development?filters=eq(task.name,one-task.greet)");
      assert.equal(byTask.json.executions.length, 1);
      const none = await client.get(`/api/v1/executions/flytesnacks/development?filters=lt(created_at,${since})`);
      assert.deepEqual(names(none), []);
      const sorted = await client.get("/api/v1/executions/flytesnacks/development?sort_by.key=name&sort_by.direction=ASCENDING&filters=value_in(name,report-1;chain-1;pipeline-1)");
      assert.deepEqual(names(sorted), ["chain-1", "pipeline-1", "report-1"]);

      const first = await client.get("/api/v1/executions/flytesnacks/development?limit=2&sort_by.key=name&sort_by.direction=ASCENDING");
      assert.equal(first.json.executions.length, 2);
      assert.ok(first.json.token);
      const second = await client.get(`/api/v1/executions/flytesnacks/development?limit=2&sort_by.key=name&sort_by.direction=ASCENDING&token=${encodeURIComponent(first.json.token)}`);
      assert.ok(second.json.executions.length >= 1);
      assert.ok(names(second)[0] > names(first)[1]);
      const paged = await client.get("/api/v1/executions/flytesnacks/development?limit=1&filters=eq(workflow.name,launch-plans.daily)");
      assert.deepEqual(names(paged), ["report-1"]);

      const bad: [string, RegExp][] = [
        ["filters=eq(colour,red)", /"colour" is not a field executions can be filtered on/],
        ["filters=like(phase,QUEUED)", /unrecognized filter function "like"/],
        ["filters=value_not_in(phase,QUEUED)", /"value_not_in" is not supported/],
        ["filters=gte(created_at,yesterday)", /created_at value "yesterday" must be an RFC 3339 timestamp/],
        ["filters=eq(phase,DONE)", /phase "DONE" is not an execution phase/],
        ["filters=eq(phase)", /not of the form function\(field,value\)/],
        ["sort_by.key=colour", /sort_by\.key "colour" is not supported here/],
        ["sort_by.key=name&sort_by.direction=UP", /must be ASCENDING or DESCENDING/],
        ["limit=-1", /limit "-1"/],
        ["page=2", /unknown query parameter "page"/],
        ["token=bm90LWEtdG9rZW4", /token "bm90LWEtdG9rZW4" is not a token this list returned/],
        ["filters=contains(created_at,2026)", /created_at is a time/],
      ];
      for (const [query, pattern] of bad) expectError(await client.get(`/api/v1/executions/flytesnacks/development?${query}`), 400, "InvalidArgument", pattern);
    });

    test("counts of executions by phase", async () => {
      const answer = await client.get("/api/v1/count/executions/flytesnacks/development");
      expectStatus(answer, 200);
      const queued = answer.json.execution_counts.find((c: any) => c.phase === "QUEUED");
      assert.ok(queued.count >= 4);
    });

    // ── Node and task executions, data and logs ────────────────────────────────────────────────────────────

    test("node and task executions as the scheduler records them: lists, children, one node, attempts, data, logs", async () => {
      const key = { project, domain, name: "chain-1" };
      const t0 = Date.now();
      const put = (uri: string, literals: Record<string, unknown>) => blobs.put(uri, toBinary(LiteralMapSchema, create(LiteralMapSchema, { literals: literals as never })));
      const lit = (n: number) => create(LiteralMapSchema, { literals: { x: { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "integer", value: BigInt(n) } } } } } } } as never }).literals.x;
      const nodeRow = (nodeId: string, overrides: Partial<NodeExecutionRecord> = {}): NodeExecutionRecord => ({
        project, domain, executionName: key.name, nodeId, specNodeId: nodeId, entityKind: "task", entityName: "chain.double", isParent: false, phase: "SUCCEEDED",
        inputsUri: nodeInputsUri(blobs.baseUri, key, nodeId), outputsUri: `${attemptOutputPrefix(blobs.baseUri, key, nodeId, 0)}/outputs.pb`,
        createdAt: t0, startedAt: t0, updatedAt: t0 + 5, endedAt: t0 + 5, ...overrides,
      });
      const attemptRow = (nodeId: string, attempt: number, overrides: Partial<TaskExecutionRecord> = {}): TaskExecutionRecord => ({
        project, domain, executionName: key.name, nodeId, attempt, taskName: "chain.double", runner: "subprocess", phase: "SUCCEEDED",
        outputsUri: `${attemptOutputPrefix(blobs.baseUri, key, nodeId, attempt)}/outputs.pb`, logsUri: `${attemptOutputPrefix(blobs.baseUri, key, nodeId, attempt)}/logs.txt`,
        startedAt: t0, updatedAt: t0 + 5, endedAt: t0 + 5, ...overrides,
      });
      put(nodeInputsUri(blobs.baseUri, key, "n0"), { x: lit(3) });
      put(`${attemptOutputPrefix(blobs.baseUri, key, "n0", 1)}/outputs.pb`, { o0: lit(6) });
      put(`${attemptOutputPrefix(blobs.baseUri, key, "n0", 0)}/outputs.pb`, { o0: lit(6) });
      blobs.put(`${attemptOutputPrefix(blobs.baseUri, key, "n0", 0)}/logs.txt`, new TextEncoder().encode("first try\n"));
      blobs.put(`${attemptOutputPrefix(blobs.baseUri, key, "n0", 1)}/logs.txt`, new TextEncoder().encode("doubling 3\n"));
      await blobs.flush();
      await store.write([
        { table: "execution", row: { ...(await store.getExecution(key))!, phase: "RUNNING", startedAt: t0, updatedAt: t0 } },
        { table: "node", row: nodeRow("n0", { outputsUri: `${attemptOutputPrefix(blobs.baseUri, key, "n0", 1)}/outputs.pb` }) },
        { table: "node", row: nodeRow("n1", { entityKind: "workflow", entityName: "sub", isParent: true, phase: "RUNNING", endedAt: undefined, outputsUri: undefined, createdAt: t0 + 1 }) },
        { table: "node", row: nodeRow("n1-0-n0", { specNodeId: "n0", parentNodeId: "n1", phase: "QUEUED", endedAt: undefined, outputsUri: undefined, createdAt: t0 + 2 }) },
        { table: "task", row: attemptRow("n0", 0, { phase: "FAILED", outputsUri: undefined, error: { kind: "USER", code: "Error", message: "flaky", recoverable: true } }) },
        { table: "task", row: attemptRow("n0", 1) },
      ]);

      const top = await client.get("/api/v1/node_executions/flytesnacks/development/chain-1");
      expectStatus(top, 200);
      assert.deepEqual(top.json.node_executions.map((n: any) => n.id.node_id), ["n0", "n1"]);
      assert.equal(top.json.node_executions[1].metadata.is_parent_node, true);
      const children = await client.get("/api/v1/node_executions/flytesnacks/development/chain-1?unique_parent_id=n1");
      assert.deepEqual(children.json.node_executions.map((n: any) => n.id.node_id), ["n1-0-n0"]);
      assert.equal(children.json.node_executions[0].metadata.retry_group, "0");
      const paged = await client.get("/api/v1/node_executions/flytesnacks/development/chain-1?limit=1");
      assert.equal(paged.json.token, "1");
      const rest = await client.get("/api/v1/node_executions/flytesnacks/development/chain-1?limit=1&token=1");
      assert.deepEqual(rest.json.node_executions.map((n: any) => n.id.node_id), ["n1"]);
      assert.equal(rest.json.token, "");
      const running = await client.get("/api/v1/node_executions/flytesnacks/development/chain-1?filters=eq(phase,RUNNING)");
      assert.deepEqual(running.json.node_executions.map((n: any) => n.id.node_id), ["n1"]);
      expectError(await client.get("/api/v1/node_executions/flytesnacks/development/chain-1?unique_parent_id=n9"), 404, "NotFound", /node n9 does not exist/);
      expectError(await client.get("/api/v1/node_executions/flytesnacks/development/chain-1?filters=eq(colour,red)"), 400, "InvalidArgument", /"colour" is not a field node executions/);
      expectError(await client.get("/api/v1/node_executions/flytesnacks/development/chain-1?token=abc"), 400, "InvalidArgument", /token "abc"/);

      const one = await client.get("/api/v1/node_executions/flytesnacks/development/chain-1/n0");
      expectStatus(one, 200);
      assert.equal(one.json.closure.phase, "SUCCEEDED");
      assert.equal(one.json.input_uri, nodeInputsUri(blobs.baseUri, key, "n0"));
      expectError(await client.get("/api/v1/node_executions/flytesnacks/development/chain-1/n7"), 404, "NotFound", /node n7 does not exist in execution chain-1/);

      const data = await client.get("/api/v1/data/node_executions/flytesnacks/development/chain-1/n0");
      expectStatus(data, 200);
      assert.deepEqual(data.json.full_inputs.literals.x.scalar.primitive, { integer: "3" });
      assert.deepEqual(data.json.full_outputs.literals.o0.scalar.primitive, { integer: "6" });
      assert.equal(data.json.flyte_urls.inputs, "flyte://v1/flytesnacks/development/chain-1/n0/i");
      const queuedData = await client.get("/api/v1/data/node_executions/flytesnacks/development/chain-1/n1-0-n0");
      assert.equal(queuedData.json.full_outputs, null);

      const attempts = await client.get("/api/v1/task_executions/flytesnacks/development/chain-1/n0");
      expectStatus(attempts, 200);
      const [failed, succeeded] = attempts.json.task_executions;
      assert.deepEqual(failed.id.task_id, { resource_type: "TASK", project, domain, name: "chain.double", version: "v1", org: "" });
      assert.equal(failed.closure.phase, "FAILED");
      assert.equal(failed.closure.error.message, "flaky");
      assert.equal(succeeded.id.retry_attempt, 1);
      assert.equal(succeeded.closure.logs[0].uri, `${url}/logs/flytesnacks/development/chain-1/n0/1`);
      assert.equal(succeeded.input_uri, nodeInputsUri(blobs.baseUri, key, "n0"));

      const attemptPath = "flytesnacks/development/chain-1/n0/flytesnacks/development/chain.double/v1/1";
      const single = await client.get(`/api/v1/task_executions/${attemptPath}`);
      expectStatus(single, 200);
      assert.equal(single.json.closure.phase, "SUCCEEDED");
      expectError(await client.get("/api/v1/task_executions/flytesnacks/development/chain-1/n0/flytesnacks/development/chain.double/v9/1"), 404, "NotFound", /does not exist/);
      expectError(await client.get("/api/v1/task_executions/flytesnacks/development/chain-1/n0/flytesnacks/development/chain.double/v1/x"), 400, "InvalidArgument", /retry attempt "x"/);
      const attemptData = await client.get(`/api/v1/data/task_executions/${attemptPath}`);
      assert.deepEqual(attemptData.json.full_outputs.literals.o0.scalar.primitive, { integer: "6" });
      const children2 = await client.get(`/api/v1/children/task_executions/${attemptPath}`);
      assert.deepEqual(children2.json, { node_executions: [], token: "" });

      const log = await client.get("/logs/flytesnacks/development/chain-1/n0/1");
      expectStatus(log, 200);
      assert.equal(log.headers["content-type"], "text/plain; charset=utf-8");
      assert.equal(log.text, "doubling 3\n");
      expectError(await client.get("/logs/flytesnacks/development/chain-1/n0/5"), 404, "NotFound", /attempt 5 of node n0 does not exist/);

      const execData = await client.get("/api/v1/data/executions/flytesnacks/development/chain-1");
      expectStatus(execData, 200);
      assert.deepEqual(execData.json.full_inputs.literals.x.scalar.primitive, { integer: "3" });
      assert.equal(execData.json.full_outputs, null);
      // Inline in the row: the data endpoint gives its size and no URL, since no inputs.pb was written.
      assert.equal(execData.json.inputs.url, "");
      assert.ok(Number(execData.json.inputs.bytes) > 0);
    });

    // ── Terminate, relaunch, recover ───────────────────────────────────────────────────────────────────────

    test("terminate needs a cause, records who and why, and refuses an execution that has ended", async () => {
      const path = "/api/v1/executions/flytesnacks/development/pipeline-1";
      expectError(await client.delete(path), 400, "InvalidArgument", /cause is required/);
      expectError(await client.delete(path, { cause: "   " }), 400, "InvalidArgument", /cause is required/);
      expectError(await client.delete(path, { cause: "x", id: { project, domain, name: "other" } }), 400, "InvalidArgument", /does not match the path/);
      expectError(await client.delete("/api/v1/executions/flytesnacks/development/nope", { cause: "x" }), 404, "NotFound", /execution nope does not exist/);
      expectStatus(await client.delete(path, { cause: "secret-cause-wrong inputs" }), 200);
      assert.deepEqual(control.terminated.at(-1), { key: { project, domain, name: "pipeline-1" }, cause: "secret-cause-wrong inputs", principal: "tsflyte" });
      const aborted = await client.get(path);
      assert.equal(aborted.json.closure.phase, "ABORTED");
      assert.deepEqual(aborted.json.closure.abort_metadata, { cause: "secret-cause-wrong inputs", principal: "tsflyte" });
      expectError(await client.delete(path, { cause: "again" }), 400, "FailedPrecondition", /has already ended \(ABORTED\); there is nothing to terminate/);
    });

    test("relaunch starts the same launch plan with the same inputs; recover needs an ended source", async () => {
      const relaunched = await client.post("/api/v1/executions/relaunch", { id: { project, domain, name: "report-1" }, name: "report-2", overwriteCache: true });
      expectStatus(relaunched, 200);
      assert.deepEqual(relaunched.json.id, { project, domain, name: "report-2", org: "" });
      const source = (await store.getExecution({ project, domain, name: "report-1" }))!;
      const record = (await store.getExecution({ project, domain, name: "report-2" }))!;
      assert.equal(record.mode, "RELAUNCH");
      assert.equal(record.sourceExecution, "report-1");
      assert.equal(record.phase, "QUEUED");
      assert.equal(record.launchName, "daily_report");
      assert.equal(record.overwriteCache, true);
      assert.equal(record.maxParallelism, source.maxParallelism);
      assert.ok(record.inputs && !record.inputsUri, "small inputs live in the row, with no file");
      assert.deepEqual(record.inputs, source.inputs);
      assert.deepEqual(control.started.at(-1), { project, domain, name: "report-2" });
      const shown = await client.get("/api/v1/executions/flytesnacks/development/report-2");
      assert.equal(shown.json.spec.metadata.mode, "RELAUNCH");
      assert.deepEqual(shown.json.spec.metadata.reference_execution, { project, domain, name: "report-1", org: "" });
      const generated = await client.post("/api/v1/executions/relaunch", { id: { project, domain, name: "report-1" } });
      assert.match(generated.json.id.name, /^a[a-z0-9]{19}$/);

      expectError(await client.post("/api/v1/executions/relaunch", { id: { project, domain, name: "nope" } }), 404, "NotFound", /execution nope does not exist/);
      expectError(await client.post("/api/v1/executions/relaunch", { id: { project, domain, name: "report-1" }, name: "report-2" }), 409, "AlreadyExists", /report-2 already exists/);
      expectError(await client.post("/api/v1/executions/relaunch", {}), 400, "InvalidArgument", /id is required/);
      expectError(await client.post("/api/v1/executions/recover", { id: { project, domain, name: "report-1" } }), 400, "FailedPrecondition", /report-1 is QUEUED; only an execution that has ended can be recovered/);

      await store.write([{ table: "execution", row: { ...source, phase: "FAILED", error: { kind: "USER", code: "Error", message: "boom" }, endedAt: Date.now() } }]);
      const recovered = await client.post("/api/v1/executions/recover", { id: { project, domain, name: "report-1" }, name: "report-3" });
      expectStatus(recovered, 200);
      const rec = (await store.getExecution({ project, domain, name: "report-3" }))!;
      assert.equal(rec.mode, "RECOVERED");
      assert.equal(rec.sourceExecution, "report-1");
      assert.equal(rec.phase, "QUEUED");
      assert.deepEqual(rec.inputs, source.inputs);
      // Both carry what the source was launched with (daily_report's labels here), as FlyteAdmin starts them from its spec.
      assert.deepEqual(record.settings, { labels: { team: "data" } });
      assert.deepEqual(rec.settings, record.settings);
      assert.equal(rec.principal, "tsflyte");
      const listed = await client.get("/api/v1/executions/flytesnacks/development?filters=eq(mode,RECOVERED)");
      assert.deepEqual(listed.json.executions.map((e: any) => e.id.name), ["report-3"]);
      const byNumber = await client.get("/api/v1/executions/flytesnacks/development?filters=eq(mode,5)");
      assert.deepEqual(byNumber.json.executions.map((e: any) => e.id.name), ["report-3"]);
    });

    test("every ExecutionSpec field a request may set is stored and returned by GET as FlyteAdmin returns it", async () => {
      const rawPrefix = `${blobs.baseUri}/team-raw`;
      const answer = await createExecution({
        name: "settings-1",
        spec: {
          launchPlan: planId("chain.chain"),
          metadata: { mode: "MANUAL", principal: "sdk", nesting: 0 },
          labels: { values: { team: "spend", "example.com/tier": "gold" } },
          annotations: { values: { "example.com/owner": "Zoë <zoe@example.com>", note: "" } },
          envs: { values: [{ key: "ZETA", value: "last" }, { key: "ALPHA", value: "a=b" }] },
          // As flytectl sends iamRoleARN and kubeServiceAcct: in both places.
          securityContext: { runAs: { k8sServiceAccount: "spend-runner", iamRole: "arn:aws:iam::1:role/spend" } },
          authRole: { assumableIamRole: "arn:aws:iam::1:role/spend", kubernetesServiceAccount: "spend-runner" },
          rawOutputDataConfig: { outputLocationPrefix: `${rawPrefix}/` },
          clusterAssignment: { clusterPoolName: "gpu" },
          executionClusterLabel: { value: "us-east-1a" },
          interruptible: false,
          disableAll: true,
          overwriteCache: true,
          maxParallelism: 4,
        },
        inputs: { literals: { x: int(1) } },
      });
      expectStatus(answer, 200);
      const record = (await store.getExecution({ project, domain, name: "settings-1" }))!;
      assert.equal(record.principal, "sdk");
      assert.deepEqual(record.settings, {
        labels: { team: "spend", "example.com/tier": "gold" },
        annotations: { "example.com/owner": "Zoë <zoe@example.com>", note: "" },
        envs: { ZETA: "last", ALPHA: "a=b" },
        serviceAccount: "spend-runner",
        iamRole: "arn:aws:iam::1:role/spend",
        authRole: { assumableIamRole: "arn:aws:iam::1:role/spend", kubernetesServiceAccount: "spend-runner" },
        rawOutputPrefix: rawPrefix,
        clusterPool: "gpu",
        executionClusterLabel: "us-east-1a",
        interruptible: false,
        disableAllNotifications: true,
      });
      const e = (await client.get("/api/v1/executions/flytesnacks/development/settings-1")).json;
      assert.equal(e.spec.metadata.principal, "sdk");
      assert.equal(e.closure.state_change_details.principal, "sdk");
      assert.deepEqual(e.spec.labels, { values: { team: "spend", "example.com/tier": "gold" } });
      assert.deepEqual(e.spec.annotations, { values: { "example.com/owner": "Zoë <zoe@example.com>", note: "" } });
      assert.deepEqual(e.spec.envs, { values: [{ key: "ZETA", value: "last" }, { key: "ALPHA", value: "a=b" }] });
      assert.deepEqual(e.spec.security_context.run_as, { k8s_service_account: "spend-runner", iam_role: "arn:aws:iam::1:role/spend", oauth2_client: null, execution_identity: "" });
      assert.deepEqual(e.spec.auth_role, { assumable_iam_role: "arn:aws:iam::1:role/spend", kubernetes_service_account: "spend-runner" });
      assert.deepEqual(e.spec.raw_output_data_config, { output_location_prefix: rawPrefix });
      assert.deepEqual(e.spec.cluster_assignment, { cluster_pool_name: "gpu" });
      assert.deepEqual(e.spec.execution_cluster_label, { value: "us-east-1a" });
      assert.equal(e.spec.interruptible, false);
      assert.equal(e.spec.disable_all, true);
      assert.equal(e.spec.overwrite_cache, true);
      assert.equal(e.spec.max_parallelism, 4);

      // No principal in the request: the caller as this server knows it (a bearer token's holder).
      const plain = await createExecution({ name: "settings-2", spec: { launchPlan: planId("chain.chain") }, inputs: { literals: { x: int(2) } } });
      expectStatus(plain, 200);
      const shown = (await client.get("/api/v1/executions/flytesnacks/development/settings-2")).json;
      assert.equal(shown.spec.metadata.principal, "tsflyte");
      for (const field of ["labels", "annotations", "envs", "security_context", "auth_role", "raw_output_data_config", "cluster_assignment", "execution_cluster_label", "interruptible"]) {
        assert.equal(shown.spec[field], null, `${field} is unset`);
      }
      // auth_role alone (older clients) sets the identity too; any name is kept, as flytectl's own test file's
      // "kubeServiceAcct" is by FlyteAdmin (a target that makes pods checks it, see ExecutionControl.check).
      const older = await createExecution({ name: "settings-3", spec: { launchPlan: planId("chain.chain"), authRole: { kubernetesServiceAccount: "kubeServiceAcct" } }, inputs: { literals: { x: int(3) } } });
      expectStatus(older, 200);
      assert.deepEqual((await store.getExecution({ project, domain, name: "settings-3" }))?.settings, {
        serviceAccount: "kubeServiceAcct",
        authRole: { assumableIamRole: "", kubernetesServiceAccount: "kubeServiceAcct" },
      });
    });

    test("a launch plan's labels, envs, identity and raw output prefix apply unless the request gives its own, as FlyteAdmin merges them", async () => {
      // daily_report declares labels { team: "data" }.
      const day = { day: datetime("2026-01-02T00:00:00Z") };
      expectStatus(await createExecution({ name: "merged-1", spec: { launchPlan: planId("daily_report") }, inputs: { literals: day } }), 200);
      assert.deepEqual((await store.getExecution({ project, domain, name: "merged-1" }))?.settings, { labels: { team: "data" } });
      expectStatus(await createExecution({ name: "merged-2", spec: { launchPlan: planId("daily_report"), labels: { values: { team: "ops" } } }, inputs: { literals: day } }), 200);
      assert.deepEqual((await store.getExecution({ project, domain, name: "merged-2" }))?.settings, { labels: { team: "ops" } });

      // A launch plan registered with the rest of them.
      const registered = project2.launchPlans.find((l) => l.launchPlan.id!.name === "chain.chain")!.launchPlan;
      const lpSpec = toJson(LaunchPlanSpecSchema, registered.spec!) as Record<string, unknown>;
      Object.assign(lpSpec, {
        envs: { values: [{ key: "FROM_PLAN", value: "1" }] },
        securityContext: { runAs: { k8sServiceAccount: "plan-runner" } },
        authRole: { assumableIamRole: "arn:aws:iam::1:role/plan" },
        rawOutputDataConfig: { outputLocationPrefix: `${blobs.baseUri}/plan-raw` },
        annotations: { values: { "example.com/from": "plan" } },
        interruptible: true,
      });
      expectStatus(await client.post("/api/v1/launch_plans", { id: { ...(idJson(registered.id) as Record<string, unknown>), version: "settings" }, spec: lpSpec }), 200, "register");
      expectStatus(await createExecution({ name: "merged-3", spec: { launchPlan: planId("chain.chain", "settings") }, inputs: { literals: { x: int(1) } } }), 200);
      assert.deepEqual((await store.getExecution({ project, domain, name: "merged-3" }))?.settings, {
        annotations: { "example.com/from": "plan" },
        envs: { FROM_PLAN: "1" },
        serviceAccount: "plan-runner",
        iamRole: "arn:aws:iam::1:role/plan",
        rawOutputPrefix: `${blobs.baseUri}/plan-raw`,
        interruptible: true,
      });
      // The request's identity wins as a whole, as FlyteAdmin takes the security context from one level.
      const own = { launchPlan: planId("chain.chain", "settings"), securityContext: { runAs: { k8sServiceAccount: "mine" } }, envs: { values: [{ key: "MINE", value: "2" }] }, interruptible: false };
      expectStatus(await createExecution({ name: "merged-4", spec: own, inputs: { literals: { x: int(1) } } }), 200);
      const mine = (await store.getExecution({ project, domain, name: "merged-4" }))!.settings!;
      assert.deepEqual([mine.serviceAccount, mine.iamRole, mine.envs, mine.interruptible], ["mine", undefined, { MINE: "2" }, false]);
    });

    test("what tsflyte cannot honour is refused with the field and what tsflyte does, before anything is written", async () => {
      const started = control.started.length;
      const lp = planId("chain.chain");
      const x = { literals: { x: int(1) } };
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ notifications: { notifications: [{ phases: ["FAILED"], email: { recipientsEmail: ["a@example.com"] } }] } }, /spec\.notifications: tsflyte sends no notifications/],
        [{ tags: ["nightly"] }, /spec\.tags is deprecated in Flyte and tsflyte keeps no execution tags; give spec\.labels instead/],
        [{ qualityOfService: { tier: "HIGH" } }, /spec\.quality_of_service: tsflyte has one queue/],
        [{ qualityOfService: { spec: { queueingBudget: "60s" } } }, /cannot honour a tier or a queueing budget/],
        [{ executionEnvAssignments: [{ nodeIds: ["n0"] }] }, /spec\.execution_env_assignments: tsflyte has no execution environments/],
        [{ securityContext: { secrets: [{ group: "g", key: "k" }] } }, /spec\.security_context\.secrets: tsflyte attaches no secrets to an execution/],
        [{ securityContext: { tokens: [{ name: "t" }] } }, /spec\.security_context\.tokens: tsflyte requests no OAuth2 tokens/],
        [{ securityContext: { runAs: { oauth2Client: { clientId: "c" } } } }, /run_as\.oauth2_client: tsflyte does not run tasks as an OAuth2 client/],
        [{ securityContext: { runAs: { executionIdentity: "me" } } }, /run_as\.execution_identity is set by the control plane/],
        [{ securityContext: { runAs: { k8sServiceAccount: "a" } }, authRole: { kubernetesServiceAccount: "b" } }, /k8s_service_account \("a"\) and spec\.auth_role\.kubernetes_service_account \("b"\) differ/],
        [{ metadata: { mode: "SCHEDULED" } }, /spec\.metadata\.mode SCHEDULED: this request starts a MANUAL execution/],
        [{ metadata: { mode: "RELAUNCH" } }, /POST \/api\/v1\/executions\/relaunch and \/recover/],
        [{ metadata: { nesting: 1 } }, /spec\.metadata\.nesting is set by the control plane/],
        [{ metadata: { scheduledAt: "2026-01-01T00:00:00Z" } }, /spec\.metadata\.scheduled_at is set for executions a schedule starts/],
        [{ metadata: { parentNodeExecution: { nodeId: "n0", executionId: { project, domain, name: "chain-1" } } } }, /parent_node_execution: tsflyte runs a launch plan node inside its parent's execution/],
        [{ metadata: { referenceExecution: { project, domain, name: "chain-1" } } }, /reference_execution: to start from another execution, use POST/],
        [{ metadata: { systemMetadata: { namespace: "x" } } }, /system_metadata is set by the control plane/],
        [{ metadata: { artifactIds: [{ version: "1" }] } }, /artifact_ids: tsflyte has no artifact service/],
        [{ metadata: { principal: "a\nb" } }, /spec\.metadata\.principal .* without control characters/],
        [{ labels: { values: { "bad key": "x" } } }, /spec\.labels key "bad key" is not a Kubernetes label key/],
        [{ labels: { values: { team: "not ok" } } }, /spec\.labels value "not ok" \(key team\) is not a Kubernetes label value/],
        [{ labels: { values: { "tsflyte.io/execution": "x" } } }, /spec\.labels key "tsflyte\.io\/execution" is tsflyte's/],
        [{ annotations: { values: { "kubectl.kubernetes.io/default-container": "x" } } }, /spec\.annotations key "kubectl\.kubernetes\.io\/default-container" is tsflyte's/],
        [{ annotations: { values: { "-x": "y" } } }, /spec\.annotations key "-x" is not a Kubernetes annotation key/],
        [{ annotations: { values: { big: "x".repeat(256 * 1024) } } }, /spec\.annotations hold 262147 bytes; Kubernetes allows 262144/],
        [{ envs: { values: [{ key: "FLYTE_INTERNAL_EXECUTION_ID", value: "x" }] } }, /spec\.envs: FLYTE_INTERNAL_EXECUTION_ID is set by tsflyte for every task/],
        [{ envs: { values: [{ key: "A B", value: "x" }] } }, /spec\.envs: "A B" is not an environment variable name/],
        [{ envs: { values: [{ key: "A", value: "1" }, { key: "A", value: "2" }] } }, /spec\.envs sets A twice; keep one/],
        [{ rawOutputDataConfig: { outputLocationPrefix: "s3://bucket/raw" } }, /output_location_prefix "s3:\/\/bucket\/raw": this server keeps its data in file:\/\/.* and writes offloaded data inside that folder only/],
        [{ rawOutputDataConfig: { outputLocationPrefix: "file:///etc/raw" } }, /output_location_prefix "file:\/\/\/etc\/raw" is outside this server's blob store/],
        [{ rawOutputDataConfig: { outputLocationPrefix: `${blobs.baseUri}/../escape` } }, /is outside this server's blob store/],
        [{ clusterAssignment: { clusterPoolName: "gpu\u0000" } }, /cluster_pool_name .* without control characters/],
      ];
      for (const [spec, pattern] of cases) {
        expectError(await createExecution({ spec: { launchPlan: lp, ...spec }, inputs: x }), 400, "InvalidArgument", pattern);
      }
      // Accepted as the no-ops they are: an empty notification list, disable_all false, tier UNDEFINED, mode MANUAL.
      const noop = await createExecution({ name: "noop-1", spec: { launchPlan: lp, notifications: { notifications: [] }, qualityOfService: { tier: "UNDEFINED" }, metadata: { mode: "MANUAL" } }, inputs: x });
      expectStatus(noop, 200);
      assert.equal((await store.getExecution({ project, domain, name: "noop-1" }))?.settings, undefined);
      assert.equal(control.started.length, started + 1, "only the accepted request reached the scheduler");
    });

    // ── Uploads ────────────────────────────────────────────────────────────────────────────────────────────

    test("uploads: a one-time URL, the bytes checked against size and MD5 before they become visible", async () => {
      const content = Buffer.from("print('hello')\n");
      const md5 = createHash("md5").update(content).digest("base64");
      const location = await client.post("/api/v1/dataproxy/artifact_urn", { project, domain, filename: "scripts/hello.py", content_md5: md5 });
      expectStatus(location, 200);
      assert.match(location.json.signed_url, new RegExp(`^${url}/upload/[A-Za-z0-9_-]{43}$`));
      assert.match(location.json.native_url, new RegExp(`^${blobs.baseUri}/uploads/flytesnacks/development/[a-z2-7]{26}/scripts/hello\\.py$`));
      assert.equal(location.json.headers["Content-MD5"], md5);
      assert.ok(Date.parse(location.json.expires_at) > Date.now());
      const uploadPath = new URL(location.json.signed_url).pathname;

      // Wrong bytes: refused, nothing visible, and the URL is used up.
      expectError(await anonymous().put(uploadPath, Buffer.from("something else")), 400, "InvalidArgument", /do not match the content_md5/);
      assert.equal(await blobs.exists(location.json.native_url), false);
      expectError(await anonymous().put(uploadPath, content), 403, "PermissionDenied", /unknown, expired or already used/);

      const again = await client.post("/api/v1/dataproxy/artifact_urn", { project, domain, filename: "scripts/hello.py", contentMd5: md5, filenameRoot: "fast-abc", expiresIn: "60s" });
      expectStatus(again, 200);
      assert.equal(again.json.native_url, `${blobs.baseUri}/uploads/flytesnacks/development/fast-abc/scripts/hello.py`);
      const put = await anonymous().put(new URL(again.json.signed_url).pathname, content, { chunked: true });
      expectStatus(put, 200);
      assert.deepEqual(Buffer.from(await blobs.read(again.json.native_url)), content);

      // Too large, declared or streamed: refused with 413, nothing visible.
      const big = Buffer.alloc(300 * 1024, 7);
      const bigMd5 = createHash("md5").update(big).digest("base64");
      for (const chunked of [false, true]) {
        const loc = await client.post("/api/v1/dataproxy/artifact_urn", { project, domain, filename: `big-${chunked}.bin`, content_md5: bigMd5 });
        const answer = await anonymous().put(new URL(loc.json.signed_url).pathname, big, { chunked });
        expectError(answer, 413, "ResourceExhausted", /limit of 262144 bytes|limit is 262144 bytes/);
        assert.equal(await blobs.exists(loc.json.native_url), false);
      }

      // Expired URLs stop working.
      const later = await client.post("/api/v1/dataproxy/artifact_urn", { project, domain, filename: "late.txt", content_md5: md5, expires_in: "1s" });
      clockOffset = 5_000;
      try {
        expectError(await anonymous().put(new URL(later.json.signed_url).pathname, content), 403, "PermissionDenied", /expired/);
      } finally {
        clockOffset = 0;
      }

      const bad: [Record<string, unknown>, RegExp][] = [
        [{ project, domain, filename: "../../etc/passwd", content_md5: md5 }, /filename "\.\." is not allowed in a storage path/],
        [{ project, domain, filename: "a\\b.txt", content_md5: md5 }, /not allowed in a storage path/],
        [{ project, domain, filename: "a\u0000b", content_md5: md5 }, /not allowed/],
        [{ project, domain, filename: "x.txt", filename_root: "a/b", content_md5: md5 }, /filename_root "a\/b" is not allowed/],
        [{ project, domain, filename: "x.txt", filename_root: "..", content_md5: md5 }, /filename_root "\.\."/],
        [{ project, domain, filename: "x.txt" }, /content_md5 is required/],
        [{ project, domain, filename: "", content_md5: md5 }, /filename is required/],
        [{ project, domain, filename: "x.txt", content_md5: md5, expires_in: "999999s" }, /longer than the limit/],
        [{ project, domain, filename: "x.txt", content_md5: md5, colour: "red" }, /key "colour" is unknown/],
        [{ project, domain: "qa", filename: "x.txt", content_md5: md5 }, /domain "qa"/],
      ];
      for (const [body, pattern] of bad) expectError(await client.post("/api/v1/dataproxy/artifact_urn", body), 400, "InvalidArgument", pattern);
      expectError(await anonymous().put("/upload/made-up-token", content), 403, "PermissionDenied", /unknown/);
    });

    test("the request log has one line per request and never a token, an Authorization header or a body", async () => {
      const text = logs.join("\n");
      assert.ok(logs.length > 50);
      assert.match(text, /GET \/api\/v1\/projects 200 \d+\.\dms/);
      for (const secret of [token, "Bearer", "not-the-token", "secret-cause", "print('hello')"]) assert.ok(!text.includes(secret), `the log shows ${secret}`);
      assert.ok(!/\/upload\/[A-Za-z0-9_-]{20,}/.test(text), "the log shows an upload token");
      assert.match(text, /PUT \/upload\/… 200/);
    });
  });
}
