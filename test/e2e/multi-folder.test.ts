// Acceptance: a user's npm project with several folders — tasks in flows/, a subworkflow and a launch plan in reports/,
// a pipeline in pipelines/ importing all three — compiles from each folder alone, runs locally, and registers and
// runs on a real `tsflyte serve`; an unexported callee and an import from outside the project root are refused up front.
// (The same project on Kubernetes is in kubernetes.test.ts.)
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { assertExit, executionName, LocalCli, repoRoot, type DetailsJson } from "../fixtures/local/cli.js";
import { startServe, type ServeProcess } from "../fixtures/server/harness.js";

const fixture = "test/fixtures/multi-folder";
const amounts = ["--amounts", "[10, 20]"];

/** The entity names in a compile's output folder, as `NN_<name>_<kind>` files name them. */
function packaged(dir: string): string[] {
  return readdirSync(dir)
    .map((file) => /^\d+_(.+)_([123])\.pb$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${["task", "workflow", "launch plan"][Number(m[2]) - 1]} ${m[1]}`)
    .sort();
}

describe("a project with several folders", () => {
  let cli: LocalCli;
  let project: string;
  let server: ServeProcess;
  let remote: LocalCli;

  before(async () => {
    cli = new LocalCli("multi-folder");
    project = cli.project(fixture);
    server = await startServe(["--workers", "1"], { TSFLYTE_HOME: cli.tempDir("tsflyte-multi-folder-serve-") });
    remote = new LocalCli("multi-folder-remote", { TSFLYTE_ADMIN_ENDPOINT: server.url });
  });
  after(async () => {
    await server?.stop("SIGKILL");
    remote?.cleanup();
    cli?.cleanup();
  });

  test("each folder compiles alone, with what it calls from other folders under the names of their own modules", async () => {
    const out = (folder: string) => join(cli.tempDir(`tsflyte-multi-folder-${folder}-`), "package");
    const compiled: Record<string, string[]> = {};
    for (const folder of ["pipelines", "reports", "flows"]) {
      const dir = out(folder);
      assertExit(await cli.runIn(project, ["compile", folder, "--output", dir]), 0);
      compiled[folder] = packaged(dir);
    }
    assert.deepEqual(compiled.pipelines, [
      "launch plan euro_total",
      "launch plan pipelines.batch.one",
      "launch plan reports.totals.grossTotal",
      "task flows.orders.addTax",
      "task flows.orders.total",
      "workflow pipelines.batch.one",
      "workflow reports.totals.grossTotal",
    ]);
    assert.deepEqual(compiled.reports, [
      "launch plan euro_total",
      "launch plan reports.totals.grossTotal",
      "task flows.orders.addTax",
      "task flows.orders.total",
      "workflow reports.totals.grossTotal",
    ]);
    // flows/ has no workflow: its three tasks, the one no pipeline calls among them.
    assert.deepEqual(compiled.flows, ["task flows.orders.addTax", "task flows.orders.audit", "task flows.orders.total"]);
  });

  test("runs locally", async () => {
    const result = await cli.runIn(project, ["run", "pipelines/batch.ts", "one", ...amounts]);
    assertExit(result, 0);
    assert.match(result.stdout, /^ {2}gross: 36$/m);
    assert.match(result.stdout, /^ {2}net: 30$/m);
    assert.match(result.stdout, /^ {2}planned: 36$/m);
    const details = await cli.details(executionName(result.stdout));
    assert.deepEqual(
      details.nodes.map((n) => `${n.nodeId} ${n.entity.kind} ${n.entity.name} ${n.phase}`),
      ["n0 task flows.orders.total SUCCEEDED", "n1 workflow reports.totals.grossTotal SUCCEEDED", "n2 launchPlan euro_total SUCCEEDED"],
    );
  });

  test("registers from one folder and runs on tsflyte serve", async () => {
    const registered = await remote.runIn(project, ["register", "pipelines", "--image", "ghcr.io/acme/orders:1"]);
    assertExit(registered, 0);
    for (const name of ["flows.orders.addTax", "flows.orders.total", "reports.totals.grossTotal", "euro_total", "pipelines.batch.one"]) {
      assert.match(registered.stdout, new RegExp(`\\b${name.replace(/\./g, "\\.")}\\b`), `${name} not registered:\n${registered.stdout}`);
    }
    assert.doesNotMatch(registered.stdout, /flows\.orders\.audit/);

    const result = await remote.runIn(project, ["run", "--remote", "--wait", "pipelines/batch.ts", "one", ...amounts]);
    assertExit(result, 0);
    assert.match(result.stdout, /SUCCEEDED \(remote, flytesnacks\/development\)/);
    assert.match(result.stdout, /^ {2}gross: 36$/m);
    assert.match(result.stdout, /^ {2}planned: 36$/m);
    const name = /^Started execution ([a-z0-9]+) /m.exec(result.stdout)![1];
    const details = await remote.json<DetailsJson>(["get", "execution", name, "--details", "-o", "json"]);
    assert.deepEqual(details.outputs, { net: 30, gross: 36, planned: 36 });
    // The same nodes as the local run, the subworkflow's own under it.
    assert.deepEqual(
      details.nodes.map((n) => `${n.nodeId} ${n.entity.kind} ${n.entity.name} ${n.phase}`),
      ["n0 task flows.orders.total SUCCEEDED", "n1 workflow reports.totals.grossTotal SUCCEEDED", "n2 launchPlan euro_total SUCCEEDED"],
    );
    const inner = details.nodes[1].children ?? [];
    assert.ok(inner.length > 0 && inner.every((n) => n.entity.kind === "task" && n.phase === "SUCCEEDED" && n.attempts.length === 1), JSON.stringify(inner));
  });

  test("a callee its module does not export is still refused, naming where it is declared", async () => {
    const broken = cli.project(fixture);
    mkdirSync(join(broken, "jobs"));
    writeFileSync(
      join(broken, "jobs", "run.ts"),
      'import { task, workflow, t } from "tsflyte";\n\nconst inner = task({ inputs: { x: t.int() }, outputs: t.int() }, async ({ x }) => x + 1);\n' +
        "export const go = workflow({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => inner({ x }));\n",
    );
    const result = await cli.runIn(broken, ["compile", "jobs", "--output", join(broken, "out")]);
    assertExit(result, 2);
    assert.match(result.stderr, /node n0 \(an unexported task\) calls a task that is not exported \(declared at jobs\/run\.ts:3:15\)/);
  });

  test("an import from outside the project root is refused before anything is registered", async () => {
    const root = cli.tempDir("tsflyte-outside-");
    mkdirSync(join(root, "lib"));
    writeFileSync(join(root, "lib", "helpers.ts"), "export const twice = (x: number) => x * 2;\n");
    const app = join(root, "app");
    mkdirSync(join(app, "node_modules"), { recursive: true });
    mkdirSync(join(app, "flows"));
    writeFileSync(join(app, "package.json"), '{ "name": "app", "type": "module", "private": true }\n');
    symlinkSync(repoRoot, join(app, "node_modules", "tsflyte"));
    writeFileSync(
      join(app, "flows", "double.ts"),
      'import { task, workflow, t } from "tsflyte";\nimport { twice } from "../../lib/helpers.js";\n\n' +
        "export const double = task({ inputs: { x: t.int() }, outputs: t.int() }, async ({ x }) => twice(x));\n" +
        "export const wf = workflow({ inputs: { x: t.int() }, outputs: t.int() }, ({ x }) => double({ x }));\n",
    );
    for (const args of [
      ["compile", "flows", "--output", join(root, "out")],
      ["register", "flows", "--image", "ghcr.io/acme/orders:1", "-p", "flytesnacks", "-d", "staging"],
      ["run", "--remote", "flows/double.ts", "wf", "--x", "2", "-d", "staging"],
    ]) {
      const result = await remote.runIn(app, args);
      assertExit(result, 2);
      assert.match(
        result.stderr,
        new RegExp(`flows/double\\.ts:2:23  flows/double\\.ts: imports "\\.\\./\\.\\./lib/helpers\\.js" \\(${root}/lib/helpers\\.ts\\) from outside the project root ${app}`),
        `${args[0]}:\n${result.stderr}`,
      );
      assert.match(result.stderr, /move the file into the project/);
    }
    // Nothing reached the server: the staging domain has no tasks.
    const tasks = await remote.run(["get", "task", "-d", "staging", "-o", "json"]);
    assertExit(tasks, 0);
    assert.deepEqual(JSON.parse(tasks.stdout), []);
    // A local run needs no bundle, so it still works.
    const local = await cli.runIn(app, ["run", "flows/double.ts", "wf", "--x", "2"]);
    assertExit(local, 0);
    assert.match(local.stdout, /^ {2}o0: 4$/m);
  });
});
