// Acceptance: the built CLI against a real `tsflyte serve` on an ephemeral port, as a user drives it — register,
// run --remote [--wait], get (project, task, workflow, launch plan, execution), execution specs, relaunch, recover,
// terminate, launch plan state, projects — with every bad-input path the issue names and its exit code.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { startedName, assertExit, lineOf, LocalCli, type CliResult } from "../fixtures/local/cli.js";
import { startServe, type ServeProcess } from "../fixtures/server/harness.js";

const flows = "test/fixtures/server/flows.ts";
const wf = (name: string) => `test.fixtures.server.flows.${name}`;

/** The execution name from `Started execution NAME in p/d`. */

interface ExecutionJson {
  id: { name: string };
  spec: { overwriteCache: boolean; launchPlan: { name: string; version: string }; metadata: { mode: string; referenceExecution?: { name: string } } };
  closure: { phase: string; abortMetadata?: { cause: string; principal: string }; error?: { kind: string; message: string } };
}

describe("the remote CLI against tsflyte serve", () => {
  let server: ServeProcess;
  let cli: LocalCli;
  let scratch: LocalCli;

  const ok = async (args: string[]): Promise<CliResult> => {
    const result = await cli.run(args);
    assertExit(result, 0);
    return result;
  };

  const waitFor = async (name: string, phases = ["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"]): Promise<ExecutionJson> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const execution = await cli.json<ExecutionJson>(["get", "execution", name, "-o", "json"]);
      if (phases.includes(execution.closure.phase)) return execution;
      assert.ok(Date.now() < deadline, `execution ${name} still ${execution.closure.phase} after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  before(async () => {
    // The server's home comes from a LocalCli of its own, so after() removes it with the rest.
    scratch = new LocalCli("remote-server");
    server = await startServe(["--workers", "2"], { TSFLYTE_HOME: scratch.tempDir("tsflyte-remote-serve-") });
    cli = new LocalCli("remote", { TSFLYTE_ADMIN_ENDPOINT: server.url });
  });
  after(async () => {
    await server?.stop("SIGKILL");
    cli?.cleanup();
    scratch?.cleanup();
  });

  describe("connection", () => {
    test("no endpoint configured: remote commands say how to start a demo or set one, exit 2; local ones still work", async () => {
      const result = await cli.runWith({ TSFLYTE_ADMIN_ENDPOINT: undefined }, ["get", "task"]);
      assertExit(result, 2);
      assert.match(result.stderr, /get task needs a control plane, and none is configured/);
      assert.match(result.stderr, /tsflyte demo start/);
      assert.match(result.stderr, /tsflyte config init --host/);
      const local = await cli.runWith({ TSFLYTE_ADMIN_ENDPOINT: undefined }, ["get", "execution"]);
      assertExit(local, 0);
      assert.match(local.stdout, /No executions found/);
    });

    test("an unreachable endpoint is one line naming the endpoint, what failed and the config file, exit 4", async () => {
      const config = join(cli.tempDir("tsflyte-remote-config-"), "config.yaml");
      writeFileSync(config, "admin:\n  endpoint: dns:///127.0.0.1:1\n  insecure: true\n");
      const result = await cli.runWith({ TSFLYTE_ADMIN_ENDPOINT: undefined }, ["get", "execution", "-c", config]);
      assertExit(result, 4);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0], /cannot reach the control plane at dns:\/\/\/127\.0\.0\.1:1: connection refused/);
      assert.ok(lines[0].includes(config), lines[0]);
    });

    test("a server with a token: 401 without it or with a wrong one (exit 4, the token never shown), fine with it", async () => {
      const dir = cli.tempDir("tsflyte-remote-auth-");
      const token = "tok-0123456789abcdefghij";
      const tokenFile = join(dir, "token");
      writeFileSync(tokenFile, `${token}\n`);
      const guarded = await startServe(["--auth-token-file", tokenFile], { TSFLYTE_HOME: join(dir, "home") });
      try {
        const env = { TSFLYTE_ADMIN_ENDPOINT: guarded.url };
        const anonymous = await cli.runWith(env, ["get", "project"]);
        assertExit(anonymous, 4);
        assert.match(anonymous.stderr.trim(), /^Error: the control plane at http:\/\/127\.0\.0\.1:\d+ refused the request \(401 unauthorized\): it needs a token: set TSFLYTE_AUTH_TOKEN or admin\.authTokenFile \(endpoint set by TSFLYTE_ADMIN_ENDPOINT\)$/);
        const wrong = await cli.runWith({ ...env, TSFLYTE_AUTH_TOKEN: `${token}-wrong` }, ["get", "project"]);
        assertExit(wrong, 4);
        assert.match(wrong.stderr, /the token was not accepted/);
        assert.ok(!wrong.stderr.includes(token) && !wrong.stdout.includes(token));
        const config = join(dir, "config.yaml");
        writeFileSync(config, `admin:\n  endpoint: ${guarded.url}\n  authTokenFile: ${tokenFile}\n`);
        const allowed = await cli.runWith({ TSFLYTE_ADMIN_ENDPOINT: undefined }, ["get", "project", "-c", config]);
        assertExit(allowed, 0);
        assert.match(allowed.stdout, /^flytesnacks/m);
        assert.ok(!allowed.stdout.includes(token) && !allowed.stderr.includes(token));
      } finally {
        await guarded.stop("SIGKILL");
      }
    });

    test("config init writes a config the other commands use", async () => {
      const dir = cli.tempDir("tsflyte-remote-init-");
      const config = join(dir, "config.yaml");
      const init = await cli.runWith({ TSFLYTE_ADMIN_ENDPOINT: undefined }, ["config", "init", "--host", server.url, "-c", config]);
      assertExit(init, 0);
      const again = await cli.runWith({ TSFLYTE_ADMIN_ENDPOINT: undefined }, ["config", "init", "--host", server.url, "-c", config]);
      assertExit(again, 2);
      assert.match(again.stderr, /--force/);
      const projects = await cli.runWith({ TSFLYTE_ADMIN_ENDPOINT: undefined, FLYTECTL_CONFIG: config }, ["get", "project", "-o", "json"]);
      assertExit(projects, 0);
      assert.ok((JSON.parse(projects.stdout) as { id: string }[]).some((p) => p.id === "flytesnacks"));
    });
  });

  describe("register", () => {
    let version = "";

    test("registers every task, workflow and launch plan with one line each, the version and the total", async () => {
      const result = await ok(["register", flows, "--image", "ghcr.io/acme/flows:1"]);
      assert.match(result.stdout, new RegExp(`\\[✔\\] task +${wf("double").replace(/\./g, "\\.")} +registered`));
      assert.match(result.stdout, new RegExp(`\\[✔\\] workflow +${wf("doubled").replace(/\./g, "\\.")} +registered`));
      assert.match(result.stdout, new RegExp(`\\[✔\\] launch plan +${wf("doubled").replace(/\./g, "\\.")} +registered`));
      const m = /^Version: (\S+)$/m.exec(result.stdout);
      assert.ok(m, result.stdout);
      version = m[1];
      // 5 tasks, 4 workflows, their 4 default launch plans.
      assert.match(result.stdout, /^Successfully registered 17 entities in flytesnacks\/development$/m);
      assert.match(result.stdout, /^Code bundle: file:\/\/.*\/fast[0-9a-f]{32}\.tar$/m);
    });

    test("registering the same code again is fine and gives the same version", async () => {
      const result = await ok(["register", flows, "--image", "ghcr.io/acme/flows:1", "--json"]);
      const json = JSON.parse(result.stdout) as { version: string; entities: { kind: string; name: string }[] };
      assert.equal(json.version, version);
      assert.equal(json.entities.length, 17);
    });

    test("--dry-run compiles and lists, contacting nothing", async () => {
      const result = await cli.runWith({ TSFLYTE_ADMIN_ENDPOINT: "http://127.0.0.1:1" }, ["register", flows, "--dry-run"]);
      assertExit(result, 0);
      assert.match(result.stdout, /would register/);
      assert.match(result.stdout, /^Dry run: 17 entities would be registered/m);
    });

    test("--activate-launchplans leaves the launch plans ACTIVE", async () => {
      await ok(["register", flows, "--image", "ghcr.io/acme/flows:1", "--version", "act1", "--activate-launchplans"]);
      const lp = await cli.json<{ closure: { state: string } }>(["get", "launchplan", wf("doubled"), "--version", "act1", "-o", "json"]);
      assert.equal(lp.closure.state, "ACTIVE");
    });

    test("a module with a compile problem registers nothing and exits 2", async () => {
      const dir = cli.tempDir("tsflyte-remote-bad-", { inRepo: true });
      writeFileSync(join(dir, "bad.ts"), 'import { task, t } from "tsflyte";\nexport const broken = task({ inputs: { x: t.int() }, outputs: t.int() }, async ({ x }) => x)\nexport const oops = ;\n');
      const result = await cli.run(["register", dir, "--version", "bad1"]);
      assertExit(result, 2);
      assert.match(result.stderr, /bad\.ts/);
      const tasks = await cli.json<unknown[]>(["get", "task", "-o", "json", "--filter.fieldSelector", "version=bad1"]);
      assert.deepEqual(tasks, []);
    });
  });

  describe("run --remote", () => {
    test("--wait follows the execution, prints its outputs and exits 0", async () => {
      const result = await ok(["run", "--remote", "--wait", flows, "doubled", "--x", "21"]);
      const name = startedName(result);
      assert.match(result.stdout, new RegExp(`^Execution ${name} SUCCEEDED \\(remote, flytesnacks/development\\)$`, "m"));
      assert.match(result.stdout, /^ {2}o0: "result: 42"$/m);
      // Not a terminal here: progress comes as a line per change.
      assert.match(result.stderr, /^n1 SUCCEEDED$/m);
      assert.match(result.stderr, /^execution SUCCEEDED$/m);
    });

    test("--wait reports every node of an execution wider than a page of node lists, each change once", async () => {
      const result = await ok(["run", "--remote", "--wait", "test/fixtures/server/wide.ts", "wide", "--x", "1"]);
      assert.match(result.stdout, /^ {2}o0: 2100$/m);
      const done = result.stderr.match(/^n\d+ SUCCEEDED$/gm) ?? [];
      assert.equal(done.length, 1_051, "1,050 incs and the sum, each once");
      assert.equal(new Set(done).size, 1_051);
      assert.match(result.stderr, /^n1050 SUCCEEDED$/m);
    });

    test("--max-parallelism reaches the execution's spec; -q keeps the progress lines off stderr", async () => {
      const result = await ok(["run", "--remote", "--wait", "-q", "--max-parallelism", "3", flows, "doubled", "--x", "1"]);
      assert.doesNotMatch(result.stderr, /SUCCEEDED/);
      const execution = await cli.json<{ spec: { maxParallelism: number } }>(["get", "execution", startedName(result), "-o", "json"]);
      assert.equal(execution.spec.maxParallelism, 3);
    });

    test("a task on its own runs too, its defaults sent with the inputs given", async () => {
      const result = await ok(["run", "--remote", "--wait", flows, "double", "--x", "3"]);
      assert.match(result.stdout, /^Registered 1 entity for test\.fixtures\.server\.flows\.double under version \S+$/m);
      assert.match(result.stdout, /^ {2}o0: 6$/m);
    });

    test("without --wait it prints the name at once, and --name is used", async () => {
      const result = await ok(["run", "--remote", flows, "doubled", "--x", "2", "--name", "mine-1"]);
      assert.equal(startedName(result), "mine-1");
      assert.match(result.stdout, /Follow it: tsflyte get execution mine-1 --details/);
      assert.equal((await waitFor("mine-1")).closure.phase, "SUCCEEDED");
    });

    test("--wait on a failing workflow exits 1 with the error trace: the user's stack at its .ts line, as a local run shows it", async () => {
      const [result, verbose] = await Promise.all([
        cli.run(["run", "--remote", "--wait", flows, "refusing", "--why", "no budget"]),
        cli.run(["run", "--remote", "--wait", flows, "refusing", "--why", "no budget", "-v"]),
      ]);
      assertExit(result, 1);
      assert.match(result.stdout, /FAILED \(remote, /);
      // refuse has retries: 2 and throws NonRetryableError: its one attempt of three.
      assert.match(result.stderr, /^node n0 \(test\.fixtures\.server\.flows\.refuse\) failed on attempt 1 of 3: USER$/m);
      assert.match(result.stderr, /^ {2}refused: no budget$/m);
      const line = lineOf(readFileSync(flows, "utf8"), "throw new NonRetryableError(`refused:");
      assert.match(result.stderr, new RegExp(`^ {4}at .*\\(test/fixtures/server/flows\\.ts:${line}:\\d+\\)$`, "m"), result.stderr);
      assert.deepEqual(result.stderr.split("\n").filter((l) => /^\s+at .*(dist\/|node:)/.test(l)), [], "tsflyte's frames shown without -v");
      assert.match(result.stderr, /tsflyte frames? hidden; -v shows them/);
      assertExit(verbose, 1);
      assert.match(verbose.stderr, new RegExp(`flows\\.ts:${line}:`));
      assert.ok(verbose.stderr.split("\n").some((l) => /^\s+at .*(dist\/|node:)/.test(l)), verbose.stderr);

      // The record on the control plane: FlyteAdmin's ExecutionError.message carries the stack, bounded.
      const name = startedName(result);
      const details = await cli.json<{ execution: ExecutionJson; nodes: { attempts: { error?: { message: string; stack?: string } }[]; retries?: number }[] }>(["get", "execution", name, "--details", "-o", "json"]);
      assert.match(details.execution.closure.error?.message ?? "", new RegExp(`^NonRetryableError: refused: no budget\\n {4}at .*flows\\.ts:${line}:`));
      const attempt = details.nodes[0].attempts[0].error;
      assert.equal(attempt?.message, "refused: no budget");
      assert.match(attempt?.stack ?? "", new RegExp(`\\(test/fixtures/server/flows\\.ts:${line}:\\d+\\)`));
      assert.equal(details.nodes[0].retries, 2);
      const table = await ok(["get", "execution", name, "--details"]);
      assert.match(table.stdout, /^Error +USER: refused: no budget$/m);
      assert.doesNotMatch(table.stdout, /^\s+at /m);
    });

    test("--json prints one object with the execution and its result", async () => {
      const result = await ok(["run", "--remote", "--wait", "--json", flows, "doubled", "--x", "5"]);
      const json = JSON.parse(result.stdout) as { execution: { name: string }; launched: { kind: string; name: string }; result: { phase: string; outputs: Record<string, unknown> } };
      assert.equal(json.launched.name, wf("doubled"));
      assert.equal(json.result.phase, "SUCCEEDED");
      assert.deepEqual(json.result.outputs, { o0: "result: 10" });
    });

    test("a bad input names the variable and its type, exits 2 and starts nothing", async () => {
      const before = (await cli.json<unknown[]>(["get", "execution", "-o", "json"])).length;
      const result = await cli.run(["run", "--remote", flows, "doubled", "--x", "many"]);
      assertExit(result, 2);
      assert.match(result.stderr, /--x/);
      assert.match(result.stderr, /int/);
      const unknown = await cli.run(["run", "--remote", flows, "nothere"]);
      assertExit(unknown, 2);
      assert.match(unknown.stderr, /exports no task, workflow or launch plan named "nothere"/);
      assert.equal((await cli.json<unknown[]>(["get", "execution", "-o", "json"])).length, before);
    });
  });

  describe("get", () => {
    test("projects, tasks, workflows and launch plans as table, JSON and YAML", async () => {
      const projects = await ok(["get", "project"]);
      assert.match(projects.stdout, /^flytesnacks +flytesnacks/m);
      const tasks = await ok(["get", "task"]);
      assert.match(tasks.stdout, /^NAME +VERSION +TYPE +INPUTS +OUTPUTS +CREATED$/m);
      assert.match(tasks.stdout, new RegExp(`^${wf("double").replace(/\./g, "\\.")} +act1 +typescript-task +ledger: string, x: int +o0: int +\\d{4}-`, "m"));
      const task = await cli.yaml<{ id: { name: string }; closure: { compiledTask: { template: { type: string } } } }>(["get", "task", wf("double"), "--latest", "-o", "yaml"]);
      assert.equal(task.id.name, wf("double"));
      assert.equal(task.closure.compiledTask.template.type, "typescript-task");
      const lps = await cli.json<{ id: { version: string } }[]>(["get", "launchplan", wf("doubled"), "-o", "json"]);
      assert.ok(lps.length >= 2, "a version per registration");
      const limited = await cli.json<unknown[]>(["get", "launchplan", wf("doubled"), "-o", "json", "--filter.limit", "1"]);
      assert.equal(limited.length, 1);
      const active = await cli.json<{ id: { version: string } }[]>(["get", "launchplan", "-o", "json", "--filter.fieldSelector", "state=ACTIVE"]);
      assert.ok(active.length > 0 && active.every((l) => l.id.version === "act1"));
    });

    test("a version that does not exist exits 3; --version with --latest exits 2", async () => {
      const missing = await cli.run(["get", "workflow", wf("doubled"), "--version", "nope"]);
      assertExit(missing, 3);
      assert.match(missing.stderr, /workflow test\.fixtures\.server\.flows\.doubled version nope not found/);
      const both = await cli.run(["get", "workflow", wf("doubled"), "--version", "x", "--latest"]);
      assertExit(both, 2);
    });

    test("get execution --details -o yaml shows every node and attempt with errors, cache status, log links and values", async () => {
      const failed = startedName(await cli.run(["run", "--remote", "--wait", flows, "refusing", "--why", "audit"]));
      const details = await cli.yaml<{
        inputs: Record<string, unknown>;
        nodes: { nodeId: string; phase: string; entity: { name: string }; inputs: Record<string, unknown>; attempts: { attempt: number; phase: string; error?: { kind: string; message: string }; logLinks?: { uri: string }[] }[] }[];
      }>(["get", "execution", failed, "--details", "-o", "yaml"]);
      assert.deepEqual(details.inputs, { why: "audit" });
      const n0 = details.nodes.find((n) => n.nodeId === "n0")!;
      assert.equal(n0.phase, "FAILED");
      assert.equal(n0.entity.name, wf("refuse"));
      assert.deepEqual(n0.inputs, { why: "audit" });
      assert.equal(n0.attempts.length, 1, "NonRetryableError is not retried");
      assert.equal(n0.attempts[0].error?.kind, "USER");
      assert.match(n0.attempts[0].error?.message ?? "", /refused: audit/);
      const link = n0.attempts[0].logLinks?.[0]?.uri;
      assert.ok(link?.startsWith(server.url), `log link ${link}`);

      const ok2 = startedName(await ok(["run", "--remote", "--wait", flows, "doubled", "--x", "4"]));
      const table = await ok(["get", "execution", ok2, "--details"]);
      assert.match(table.stdout, /^Phase +SUCCEEDED$/m);
      assert.match(table.stdout, new RegExp(`^├─ n0 +${wf("double").replace(/\./g, "\\.")} +SUCCEEDED`, "m"));
      assert.match(table.stdout, /^Outputs +o0: "result: 8"$/m);
      // A FlyteAdmin has no tsflyte node views route: through a proxy that answers it 404, --details reads the same
      // from FlyteAdmin's per-node routes as from the route that answers every node at once — failed attempts,
      // retries and log links included.
      const flyteAdminLike = await proxyWithout(server.url, "/api/v1/tsflyte/");
      try {
        for (const args of [[ok2, "--details"], [failed, "--details"], [failed, "--nodeID", "n0"]]) {
          const bulk = await cli.json<unknown>(["get", "execution", ...args, "-o", "json"]);
          const perNode = await cli.runWith({ TSFLYTE_ADMIN_ENDPOINT: flyteAdminLike.url }, ["get", "execution", ...args, "-o", "json"]);
          assertExit(perNode, 0);
          assert.deepEqual(JSON.parse(perNode.stdout), bulk, `get execution ${args.join(" ")}`);
        }
        assert.ok(flyteAdminLike.refused > 0, "the node views route was asked for and refused");
      } finally {
        await flyteAdminLike.close();
      }
      const one = await cli.json<{ nodes: { nodeId: string; outputs: unknown }[] }>(["get", "execution", ok2, "--nodeID", "n0", "-o", "json"]);
      assert.deepEqual(one.nodes.map((n) => [n.nodeId, n.outputs]), [["n0", { o0: 8 }]]);
      const badNode = await cli.run(["get", "execution", ok2, "--nodeID", "n9"]);
      assertExit(badNode, 3);
      const failedOnly = await cli.json<ExecutionJson[]>(["get", "execution", "-o", "json", "--filter.fieldSelector", "phase=FAILED"]);
      assert.ok(failedOnly.length >= 1 && failedOnly.every((e) => e.closure.phase === "FAILED"));
      const missing = await cli.run(["get", "execution", "nosuchexecution"]);
      assertExit(missing, 3);
    });
  });

  describe("control flow", () => {
    const cf = "test/fixtures/server/control-flow.ts";
    const cfName = (name: string) => `test.fixtures.server.control-flow.${name}`;
    const api = async (path: string): Promise<any> => {
      const answer = await fetch(`${server.url}${path}`, { headers: { Accept: "application/json" } });
      assert.equal(answer.status, 200, `${path}: ${await answer.clone().text()}`);
      return answer.json();
    };
    const nodesPath = (name: string) => `/api/v1/node_executions/flytesnacks/development/${name}`;
    /** `get execution NAME --details -o json` from the node views route and from FlyteAdmin's routes alone: the same. */
    const detailsBothWays = async (name: string): Promise<{ nodes: TreeNode[]; outputs?: Record<string, unknown> }> => {
      const bulk = await cli.json<{ nodes: TreeNode[]; outputs?: Record<string, unknown> }>(["get", "execution", name, "--details", "-o", "json"]);
      const flyteAdminLike = await proxyWithout(server.url, "/api/v1/tsflyte/");
      try {
        const perNode = await cli.runWith({ TSFLYTE_ADMIN_ENDPOINT: flyteAdminLike.url }, ["get", "execution", name, "--details", "-o", "json"]);
        assertExit(perNode, 0);
        assert.deepEqual(JSON.parse(perNode.stdout), bulk, `get execution ${name} --details through FlyteAdmin's routes`);
        assert.ok(flyteAdminLike.refused > 0, "the node views route was asked for and refused");
      } finally {
        await flyteAdminLike.close();
      }
      return bulk;
    };
    /** The same workflow run on the local target: its details tree. */
    const localTree = async (args: string[]): Promise<TreeNode[]> => {
      const run = await cli.run(["run", "--target", "local", cf, ...args]);
      const name = /^Execution ([a-z][a-z0-9-]*) /m.exec(run.stdout)?.[1];
      assert.ok(name, `${run.stdout}\n${run.stderr}`);
      return (await cli.json<{ nodes: TreeNode[] }>(["get", "execution", name, "--details", "--target", "local", "-o", "json"])).nodes;
    };

    test("examples/control-flow.ts registers and priceOrders runs on serve: map items, the chosen case, the skipped ones", async () => {
      const registered = await ok(["register", "examples/control-flow.ts"]);
      assert.match(registered.stdout, /workflow +examples\.control-flow\.priceOrders +registered/);
      const result = await ok(["run", "--remote", "--wait", "examples/control-flow.ts", "priceOrders", "--quantities", "[3,5,1,10]"]);
      assert.match(result.stdout, /^ {2}o0: "recorded 47\.50 after 4 audits"$/m);
      for (const line of ["n1[0] SUCCEEDED", "n1[3] SUCCEEDED", "n1 SUCCEEDED", "n3 SUCCEEDED"]) assert.match(result.stderr, new RegExp(`^${line.replace(/[[\]]/g, "\\$&")}$`, "m"));
      const details = await detailsBothWays(startedName(result));
      const top = Object.fromEntries(details.nodes.map((n) => [n.nodeId, n] as const));
      assert.deepEqual(top.n1.entity, { kind: "array", name: "examples.control-flow.orderTotal" });
      assert.deepEqual(top.n1.children?.map((c) => [c.nodeId, c.specNodeId, c.entity.name, c.phase]), [0, 1, 2, 3].map((i) => [`n1-0-${i}`, String(i), "examples.control-flow.orderTotal", "SUCCEEDED"]));
      assert.deepEqual(top.n3.entity, { kind: "branch", name: "pricing" });
      assert.deepEqual(top.n3.children?.map((c) => [c.nodeId, c.entity.name, c.phase]), [
        ["n3-n0", "examples.control-flow.bulkDiscount", "SKIPPED"],
        ["n3-n1", "examples.control-flow.smallOrderFee", "SKIPPED"],
        ["n3-n2", "examples.control-flow.asIs", "SUCCEEDED"],
      ]);
      const table = await ok(["get", "execution", startedName(result), "--details"]);
      assert.match(table.stdout, /^├─ n1 +examples\.control-flow\.orderTotal \[map\] +SUCCEEDED/m);
      assert.match(table.stdout, /^├─ n3 +pricing \[conditional\] +SUCCEEDED/m);
      assert.match(table.stdout, /^│ {2}├─ n3-n0 +examples\.control-flow\.bulkDiscount +SKIPPED/m);
    });

    test("conditionals: a case that runs a subworkflow, a nested one, else-fail; SKIPPED cases listed under the branch as Flyte lists children", async () => {
      const big = await ok(["run", "--remote", "--wait", cf, "routed", "--n", "500"]);
      assert.match(big.stdout, /^ {2}o0: 250001$/m);
      const name = startedName(big);
      const [branch] = (await api(nodesPath(name))).node_executions;
      assert.equal(branch.id.node_id, "n0");
      assert.equal(branch.metadata.is_parent_node, true);
      assert.equal(branch.metadata.is_array, false);
      const cases = (await api(`${nodesPath(name)}?unique_parent_id=n0`)).node_executions;
      assert.deepEqual(cases.map((c: any) => [c.id.node_id, c.metadata.spec_node_id, c.closure.phase, c.metadata.is_parent_node]).sort(), [
        ["n0-n0", "n0-n0", "SUCCEEDED", true],
        ["n0-n1", "n0-n1", "SKIPPED", true],
      ]);
      const details = await detailsBothWays(name);
      assert.deepEqual(treeShape(details.nodes), treeShape(await localTree(["routed", "--n", "500"])), "the same tree as a local run");
      assert.deepEqual(details.nodes[0].children?.[0].children?.map((c) => c.entity.name), [cfName("square"), cfName("increment")]);

      const small = await ok(["run", "--remote", "--wait", cf, "routed", "--n", "50"]);
      assert.match(small.stdout, /^ {2}o0: -50$/m);
      const nested = await detailsBothWays(startedName(small));
      assert.deepEqual(treeShape(nested.nodes), treeShape(await localTree(["routed", "--n", "50"])));
      const inner = nested.nodes[0].children?.find((c) => c.nodeId === "n0-n1");
      assert.deepEqual(inner?.entity, { kind: "branch", name: "small" });
      assert.deepEqual(inner?.children?.map((c) => [c.nodeId, c.phase]), [["n0-n1-n0", "SKIPPED"], ["n0-n1-n1", "SUCCEEDED"]]);

      const refused = await cli.run(["run", "--remote", "--wait", cf, "routed", "--n", "-3"]);
      assertExit(refused, 1);
      assert.match(refused.stdout + refused.stderr, /negative numbers are refused/);
      const failed = await detailsBothWays(startedName(refused));
      assert.deepEqual(failed.nodes.map((n) => [n.nodeId, n.phase]), [["n0", "FAILED"]]);
      assert.deepEqual(failed.nodes[0].children?.map((c) => c.phase), ["SKIPPED", "SKIPPED"]);
    });

    test("a map over a task on serve: items in subprocess workers, each with its attempts, logs and cache entry, shown as Flyte's external resources", async () => {
      const ledger = join(scratch.tempDir("tsflyte-cf-ledger-"), "ledger.txt");
      writeFileSync(ledger, "");
      const result = await cli.run(["run", "--remote", "--wait", cf, "squares", "--ns", "[1,-2,3,7]", "--ledger", ledger]);
      const name = startedName(result);
      // Progress covers items as they change, between the map's start and its end.
      for (const line of ["n0[1] FAILED", "n0[3] SUCCEEDED", "n0 SUCCEEDED"]) assert.match(result.stderr, new RegExp(`^${line.replace(/[[\]]/g, "\\$&")}$`, "m"));
      // Each item ran on its own, 7 twice (its first attempt fails), -2 once (not retried).
      assert.deepEqual(readFileSync(ledger, "utf8").trim().split("\n").sort(), ["square -2", "square 1", "square 3", "square 7", "square 7"]);

      const [map] = (await api(nodesPath(name))).node_executions.filter((n: any) => n.id.node_id === "n0");
      assert.equal(map.metadata.is_array, true);
      assert.equal(map.metadata.is_parent_node, true, "tsflyte lists a map's items as its children too");
      const items = (await api(`${nodesPath(name)}?unique_parent_id=n0`)).node_executions;
      assert.deepEqual(items.map((n: any) => [n.id.node_id, n.metadata.spec_node_id, n.closure.phase]).sort(), [
        ["n0-0-0", "0", "SUCCEEDED"],
        ["n0-0-1", "1", "FAILED"],
        ["n0-0-2", "2", "SUCCEEDED"],
        ["n0-0-3", "3", "SUCCEEDED"],
      ]);
      const { task_executions: mapTasks } = await api(`/api/v1/task_executions/flytesnacks/development/${name}/n0`);
      assert.equal(mapTasks.length, 1, "one task execution for the whole map, as FlytePropeller reports an ArrayNode");
      const mapTask = mapTasks[0];
      assert.equal(mapTask.id.task_id.name, cfName("square"));
      assert.equal(mapTask.id.retry_attempt, 0);
      assert.equal(mapTask.closure.task_type, "container_array");
      assert.equal(mapTask.closure.phase, "SUCCEEDED");
      const resources = mapTask.closure.metadata.external_resources as any[];
      assert.deepEqual(
        resources.map((r) => [r.index, r.retry_attempt, r.phase, r.cache_status]),
        [
          [0, 0, "SUCCEEDED", "CACHE_POPULATED"],
          [1, 0, "FAILED", "CACHE_MISS"],
          [2, 0, "SUCCEEDED", "CACHE_POPULATED"],
          [3, 0, "RETRYABLE_FAILED", "CACHE_POPULATED"],
          [3, 1, "SUCCEEDED", "CACHE_POPULATED"],
        ],
      );
      // Each item attempt's log link serves that attempt's own output, written by a worker process, not the server.
      const logs = await Promise.all(resources.map(async (r) => (await fetch(r.logs[0].uri)).text()));
      assert.deepEqual(logs.map((l) => /squaring (-?\d+)/.exec(l)?.[1]), ["1", "-2", "3", "7", "7"]);
      const pids = logs.map((l) => Number(/in process (\d+)/.exec(l)?.[1]));
      assert.ok(pids.every((pid) => pid > 0 && pid !== server.child.pid), `items ran in worker processes, not the server's ${server.child.pid}: ${pids.join(", ")}`);
      const one = await api(`/api/v1/task_executions/flytesnacks/development/${name}/n0/${mapTask.id.task_id.project}/${mapTask.id.task_id.domain}/${mapTask.id.task_id.name}/${mapTask.id.task_id.version}/0`);
      assert.deepEqual(one.closure.metadata.external_resources.length, 5);

      const details = await detailsBothWays(name);
      const mapView = details.nodes.find((n) => n.nodeId === "n0")!;
      assert.deepEqual(mapView.entity, { kind: "array", name: cfName("square") });
      assert.deepEqual(mapView.attempts, [], "the map's own task execution is not an attempt; its items are its children");
      assert.deepEqual(
        mapView.children?.map((c) => [c.specNodeId, c.phase, c.attempts.map((a) => a.phase)]),
        [["0", "SUCCEEDED", ["SUCCEEDED"]], ["1", "FAILED", ["FAILED"]], ["2", "SUCCEEDED", ["SUCCEEDED"]], ["3", "SUCCEEDED", ["RETRYABLE_FAILED", "SUCCEEDED"]]],
      );
      assert.match(mapView.children?.[1].attempts[0].error?.message ?? "", /cannot square a negative -2 here/);

      // Items already computed come from the cache: no attempt, no run, CACHE_HIT as their external resource.
      writeFileSync(ledger, "");
      const again = await ok(["run", "--remote", "--wait", cf, "squares", "--ns", "[1,3,4]", "--ledger", ledger]);
      assert.match(again.stdout, /^ {2}o0: 26$/m);
      assert.deepEqual(readFileSync(ledger, "utf8").trim().split("\n"), ["square 4"]);
      const cached = (await api(`/api/v1/task_executions/flytesnacks/development/${startedName(again)}/n0`)).task_executions[0].closure.metadata.external_resources;
      assert.deepEqual(cached.map((r: any) => [r.index, r.phase, r.cache_status]), [[0, "SUCCEEDED", "CACHE_HIT"], [1, "SUCCEEDED", "CACHE_HIT"], [2, "SUCCEEDED", "CACHE_POPULATED"]]);

      // Half the items may fail: the one that did is absent from the list, and the sum is of the others.
      assertExit(result, 0);
      assert.match(result.stdout, /^ {2}o0: 59$/m);
    });

    test("maps over a subworkflow and a launch plan: each item's nodes nest under it", async () => {
      const result = await ok(["run", "--remote", "--wait", cf, "nested", "--ns", "[1,2,3]"]);
      assert.match(result.stdout, /^ {2}viaPlan: \[2,5,10\]$/m);
      assert.match(result.stdout, /^ {2}viaWorkflow: \[2,5,10\]$/m);
      const details = await detailsBothWays(startedName(result));
      const [viaWorkflow, viaPlan] = details.nodes;
      assert.deepEqual(viaWorkflow.entity, { kind: "array", name: cfName("squarePlusOne") });
      assert.deepEqual(viaPlan.entity, { kind: "array", name: cfName("squarePlusOnePlan") });
      for (const map of [viaWorkflow, viaPlan]) {
        assert.deepEqual(map.children?.map((c) => c.specNodeId), ["0", "1", "2"]);
        for (const item of map.children ?? []) {
          assert.deepEqual(item.children?.map((c) => [c.entity.name, c.phase]), [[cfName("square"), "SUCCEEDED"], [cfName("increment"), "SUCCEEDED"]]);
        }
      }
      const { task_executions: mapTasks } = await api(`/api/v1/task_executions/flytesnacks/development/${startedName(result)}/n1`);
      assert.equal(mapTasks[0].id.task_id, null, "a map over a launch plan runs no task of its own, as in Flyte");
      assert.deepEqual(mapTasks[0].closure.metadata.external_resources.map((r: any) => [r.index, r.phase]), [[0, "SUCCEEDED"], [1, "SUCCEEDED"], [2, "SUCCEEDED"]]);
    });

    test("after(), .with() retries and timeout, and the failure node: it runs once, on failure, and is shown", async () => {
      const result = await cli.run(["run", "--remote", "--wait", cf, "overridden", "--ms", "8000"]);
      assertExit(result, 1);
      assert.match(result.stdout + result.stderr, /timed out on attempt 2 of 2/);
      assert.match(result.stderr, /^fn0 SUCCEEDED$/m);
      const name = startedName(result);
      const details = await detailsBothWays(name);
      assert.deepEqual(treeShape(details.nodes), treeShape(await localTree(["overridden", "--ms", "8000"])));
      assert.deepEqual(details.nodes.map((n) => [n.nodeId, n.entity.name, n.phase]), [
        ["fn0", cfName("cleanUp"), "SUCCEEDED"],
        ["n0", cfName("increment"), "SUCCEEDED"],
        ["n1", cfName("slow"), "TIMED_OUT"],
      ]);
      const slowNode = details.nodes[2];
      assert.deepEqual(slowNode.attempts.map((a) => a.phase), ["RETRYABLE_FAILED", "FAILED"], ".with({ retries: 1 }) beats the task's 0");
      const fn0 = await cli.json<{ nodes: { outputs: Record<string, unknown> }[] }>(["get", "execution", name, "--nodeID", "fn0", "-o", "json"]);
      assert.deepEqual(fn0.nodes[0].outputs, { o0: "cleaned" });
      // n1 ran after n0 though it takes nothing from it.
      const nodes = (await api(nodesPath(name))).node_executions;
      const started = (id: string) => Date.parse(nodes.find((n: any) => n.id.node_id === id).closure.started_at);
      const ended = (id: string) => started(id) + parseFloat(nodes.find((n: any) => n.id.node_id === id).closure.duration) * 1000;
      assert.ok(started("n1") >= ended("n0") - 1, "n1 starts once n0 is done");
    });
  });

  describe("workflow pictures", () => {
    test("-o dot, doturl and svg, for a registered workflow and for a local module before registering", async () => {
      const dot = await ok(["get", "workflow", wf("doubled"), "--latest", "-o", "dot"]);
      assert.match(dot.stdout, /^strict digraph "test\.fixtures\.server\.flows\.doubled" \{$/m);
      assert.match(dot.stdout, /"n0" \[label="double \[typescript-task\]", shape=box\];/);
      assert.match(dot.stdout, /"start-node" \[label="start", shape=doublecircle, color=green\];/);
      const local = await ok(["get", "workflow", "--file", flows, "doubled", "-o", "dot"]);
      assert.equal(local.stdout.trim(), dot.stdout.trim(), "the local module draws the same picture as the registered workflow");
      const url = await ok(["get", "workflow", wf("doubled"), "--latest", "-o", "doturl"]);
      assert.ok(url.stdout.startsWith("http://graph.flyte.org/#strict%20digraph"), url.stdout);
      assert.equal(decodeURIComponent(url.stdout.trim().slice("http://graph.flyte.org/#".length)).trim(), dot.stdout.trim());
      const out = join(cli.tempDir("tsflyte-remote-svg-"), "doubled.svg");
      await ok(["get", "workflow", wf("doubled"), "--latest", "-o", "svg", "--out", out]);
      const svg = readFileSync(out, "utf8");
      assert.match(svg, /<svg/);
      assert.match(svg, /double \[typescript(-|&#45;)task\]/);
      const noVersion = await cli.run(["get", "workflow", wf("doubled"), "-o", "dot"]);
      assertExit(noVersion, 2);
      assert.match(noVersion.stderr, /--version V or --latest/);
    });
  });

  describe("execution specs", () => {
    test("get launchplan --execFile writes the spec; create execution --execFile starts it, flags beating the file", async () => {
      const dir = cli.tempDir("tsflyte-remote-spec-");
      const file = join(dir, "doubled.yaml");
      await ok(["get", "launchplan", wf("doubled"), "--latest", "--execFile", file]);
      const written = parseYaml(readFileSync(file, "utf8")) as { workflow: string; inputs: Record<string, unknown>; version: string };
      assert.equal(written.workflow, wf("doubled"));
      assert.deepEqual(written.inputs, { x: 0, label: "result" });
      writeFileSync(file, readFileSync(file, "utf8").replace(/^ {2}x: 0/m, "  x: 7"));
      const dry = await ok(["create", "execution", "--execFile", file, "--dryRun"]);
      assert.match(dry.stdout, /^Dry run: would start launch plan test\.fixtures\.server\.flows\.doubled/m);
      // Flags beat the file: the launch plan is registered in development only, and version act1 exists too.
      const elsewhere = await cli.run(["create", "execution", "--execFile", file, "--targetDomain", "staging"]);
      assertExit(elsewhere, 3);
      assert.match(elsewhere.stderr, new RegExp(`launch plan ${wf("doubled").replace(/\./g, "\\.")} version \\S+ not found in flytesnacks/staging`));
      const created = await ok(["create", "execution", "--execFile", file, "--overwriteCache", "--version", "act1"]);
      const name = startedName(created);
      const execution = await cli.json<ExecutionJson>(["get", "execution", name, "-o", "json"]);
      assert.equal(execution.spec.overwriteCache, true, "--overwriteCache is not dropped with --execFile");
      assert.equal(execution.spec.launchPlan.version, "act1");
      const deadline = Date.now() + 60_000;
      let details = await cli.json<{ outputs?: Record<string, unknown>; execution: ExecutionJson }>(["get", "execution", name, "--details", "-o", "json"]);
      while (!details.outputs && details.execution.closure.phase !== "FAILED" && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        details = await cli.json(["get", "execution", name, "--details", "-o", "json"]);
      }
      assert.deepEqual(details.outputs, { o0: "result: 14" });
    });

    test("flytectl's keys and flags: envs reach the task, the rest is kept; --dryRun and get -o yaml show every one", async () => {
      const dir = cli.tempDir("tsflyte-remote-fields-");
      const file = join(dir, "environment.yaml");
      // The keys flytectl's own spec files carry (task_execution_spec_with_iamrole.yaml), with our values.
      writeFileSync(
        file,
        [
          `task: ${wf("environment")}`,
          'iamRoleARN: "arn:aws:iam::123456789012:role/reports"',
          'kubeServiceAcct: "reports-runner"',
          "clusterPool: gpu",
          "targetExecutionCluster: eu-1",
          "inputs:",
          "  names: [REGION, LOG_LEVEL, FROM_FLAG]",
          `  dir: ${JSON.stringify(dir)}`,
          "envs:",
          "  REGION: eu-west-1",
          "  LOG_LEVEL: info",
          "",
        ].join("\n"),
      );
      const flags = ["--envs", "LOG_LEVEL=debug", "--envs", "FROM_FLAG=a=b", "--clusterPool", "cpu"];
      const dry = await ok(["create", "execution", "--execFile", file, "--dryRun", ...flags]);
      assert.match(dry.stdout, /^Settings:\n {2}kubeServiceAcct: reports-runner\n {2}iamRoleARN: arn:aws:iam::123456789012:role\/reports\n {2}clusterPool: cpu\n {2}targetExecutionCluster: eu-1\n {2}envs:\n {4}REGION=eu-west-1\n {4}LOG_LEVEL=debug\n {4}FROM_FLAG=a=b$/m);
      const name = startedName(await ok(["create", "execution", "--execFile", file, ...flags]));
      assert.equal((await waitFor(name)).closure.phase, "SUCCEEDED");
      const details = await cli.json<{ outputs: { o0: string } }>(["get", "execution", name, "--details", "-o", "json"]);
      const seen = JSON.parse(readFileSync(fileURLToPath(details.outputs.o0), "utf8"));
      assert.deepEqual(seen, { REGION: "eu-west-1", LOG_LEVEL: "debug", FROM_FLAG: "a=b" }, "the task saw the file's envs with --envs over them");
      const shown = await cli.yaml<{ spec: Record<string, any>; closure: Record<string, any> }>(["get", "execution", name, "-o", "yaml"]);
      assert.deepEqual(shown.spec.envs, { values: [{ key: "REGION", value: "eu-west-1" }, { key: "LOG_LEVEL", value: "debug" }, { key: "FROM_FLAG", value: "a=b" }] });
      assert.deepEqual(shown.spec.securityContext, { runAs: { k8sServiceAccount: "reports-runner", iamRole: "arn:aws:iam::123456789012:role/reports", executionIdentity: "" }, secrets: [], tokens: [] });
      assert.deepEqual(shown.spec.authRole, { assumableIamRole: "arn:aws:iam::123456789012:role/reports", kubernetesServiceAccount: "reports-runner" });
      assert.deepEqual(shown.spec.clusterAssignment, { clusterPoolName: "cpu" });
      assert.deepEqual(shown.spec.executionClusterLabel, { value: "eu-1" });
      assert.equal(shown.spec.metadata.principal, "anonymous", "a server without a token knows its callers as anonymous");

      const reserved = await cli.run(["create", "execution", "--execFile", file, "--envs", "FLYTE_INTERNAL_EXECUTION_ID=mine"]);
      assertExit(reserved, 2);
      assert.match(reserved.stderr, /--envs FLYTE_INTERNAL_EXECUTION_ID: FLYTE_INTERNAL_EXECUTION_ID is set by tsflyte for every task/);
      const shape = await cli.run(["create", "execution", "--execFile", file, "--envs", "NOVALUE"]);
      assertExit(shape, 2);
      assert.match(shape.stderr, /--envs "NOVALUE" is not NAME=VALUE/);
      const relaunchOnly = await cli.run(["create", "execution", "--relaunch", name, "--kubeServiceAcct", "x"]);
      assertExit(relaunchOnly, 2);
    });

    test("a bad spec gives file:line:col, the key, what was expected and found, and the nearest key", async () => {
      const dir = cli.tempDir("tsflyte-remote-badspec-");
      const file = join(dir, "bad.yaml");
      writeFileSync(file, `inputs:\n  x: seven\n  lable: hi\nworkflow: ${wf("doubled")}\ntargetProjct: x\n`);
      const result = await cli.run(["create", "execution", "--execFile", file]);
      assertExit(result, 2);
      assert.match(result.stderr, /bad\.yaml:5:1: targetProjct: .*did you mean "targetProject"\?/);
      writeFileSync(file, `inputs:\n  x: seven\n  lable: hi\nworkflow: ${wf("doubled")}\n`);
      const inputs = await cli.run(["create", "execution", "--execFile", file]);
      assertExit(inputs, 2);
      assert.match(inputs.stderr, /bad\.yaml:2:3: inputs\.x: expected int, found string "seven"/);
      assert.match(inputs.stderr, /bad\.yaml:3:3: inputs\.lable: .*did you mean "label"\?/);
      writeFileSync(file, `task: ${wf("double")}\nworkflow: ${wf("doubled")}\n`);
      const both = await cli.run(["create", "execution", "--execFile", file]);
      assertExit(both, 2);
      assert.match(both.stderr, /task.*workflow|workflow.*task/);
      const missing = await cli.run(["create", "execution", "--execFile", join(dir, "none.yaml")]);
      assertExit(missing, 2);
    });
  });

  describe("hostile and odd spec files", () => {
    test("alias bombs, __proto__, 1e400, UTF-16, empty and oversized files: exit 2 with file:line:col and what to do", async () => {
      const dir = cli.tempDir("tsflyte-remote-odd-");
      const bomb = [`workflow: ${wf("doubled")}`, "inputs:", "  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
      for (const [name, prev] of [["b", "a"], ["c", "b"], ["d", "c"], ["e", "d"], ["f", "e"], ["g", "f"]]) {
        bomb.push(`  ${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
      }
      const files: Record<string, string | Buffer> = {
        "bomb.yaml": `${bomb.join("\n")}\n`,
        "proto.yaml": `workflow: ${wf("doubled")}\ninputs:\n  x: 1\n  __proto__: {polluted: true}\n`,
        "number.yaml": `workflow: ${wf("doubled")}\ninputs:\n  x: 1e400\n`,
        "utf16.yaml": Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`workflow: ${wf("doubled")}\n`, "utf16le")]),
        "deep.yaml": `workflow: ${wf("doubled")}\ninputs:\n  x: ${"[".repeat(20_000)}\n`,
        "empty.yaml": "",
        "braces.yaml": "{}\n",
        "large.yaml": `workflow: ${wf("doubled")}\nenvs:\n${Array.from({ length: 200 }, (_, i) => `  VAR_${i}: value-${i}`).join("\n")}\n`,
      };
      for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
      const create = (name: string, env: NodeJS.ProcessEnv = {}) => cli.start(["create", "execution", "--execFile", join(dir, name)], env).done;
      const [bombed, proto, number, utf16, deep, empty, braces, large] = await Promise.all([
        create("bomb.yaml"),
        create("proto.yaml"),
        create("number.yaml"),
        create("utf16.yaml"),
        create("deep.yaml"),
        create("empty.yaml"),
        create("braces.yaml"),
        create("large.yaml", { TSFLYTE_MAX_FILE_SIZE: "2KiB" }),
      ]);
      for (const result of [bombed, proto, number, utf16, deep, empty, braces, large]) {
        assertExit(result, 2);
        assert.doesNotMatch(result.stderr, /This is a bug in tsflyte/);
        assert.doesNotMatch(result.stdout, /^Started execution /m);
      }
      const at = (name: string, where: string) => `${join(dir, name)}:${where}: `;
      assert.ok(bombed.stderr.includes(`${at("bomb.yaml", "8:10")}aliases here stand for more than 100,000 values in all`), bombed.stderr);
      assert.ok(proto.stderr.includes(`${at("proto.yaml", "4:3")}inputs.__proto__: unknown input "__proto__"; the inputs are: label, x`), proto.stderr);
      assert.ok(number.stderr.includes(`${at("number.yaml", "3:3")}inputs.x: expected int, found 1e400; not an integer (1e400 overflows`), number.stderr);
      assert.match(utf16.stderr, /utf16\.yaml is UTF-16 \(little-endian\) text .*\nHint: re-save the file as UTF-8/);
      assert.ok(deep.stderr.includes(`${at("deep.yaml", "3:104")}mappings and lists nest more than 100 levels deep here`), deep.stderr);
      // An empty spec is read as {}, as an empty inputs file is; a spec must name what to run, so both are refused.
      assert.ok(empty.stderr.includes(`${at("empty.yaml", "1:1")}the file is empty, so neither task nor workflow is set; add \`task: NAME\``), empty.stderr);
      assert.ok(braces.stderr.includes(`${at("braces.yaml", "1:1")}the file sets no keys, so neither task nor workflow is set`), braces.stderr);
      assert.match(large.stderr, /large\.yaml is 3\.9 KiB, more than the 2 KiB tsflyte reads from a file\nHint: if the file is meant to be this large, raise the cap: TSFLYTE_MAX_FILE_SIZE=1MiB/);
    });

    test("an entity the spec names that is not there is located at its key, with the keys that chose the version and place", async () => {
      const dir = cli.tempDir("tsflyte-remote-missing-");
      const file = join(dir, "spec.yaml");
      const run = async (text: string) => {
        writeFileSync(file, text);
        const result = await cli.run(["create", "execution", "--execFile", file]);
        assertExit(result, 3);
        return result.stderr;
      };
      const name = wf("doubled").replace(/\./g, "\\.");
      assert.match(await run(`inputs:\n  x: 1\nworkflow: ${wf("doubled")}\nversion: nosuchversion\n`), new RegExp(`spec\\.yaml:3:1: workflow: launch plan ${name} version nosuchversion not found in flytesnacks/development \\(version from .*spec\\.yaml:4:1\\)`));
      assert.match(await run(`task: nosuch.task\ntargetDomain: staging\n`), /spec\.yaml:1:1: task: task nosuch\.task not found in flytesnacks\/staging \(targetDomain from .*spec\.yaml:2:1\)/);
      // A flag's value is named by the flag, not by the file.
      writeFileSync(file, `workflow: ${wf("doubled")}\nversion: nosuchversion\n`);
      const flagged = await cli.run(["create", "execution", "--execFile", file, "--version", "alsomissing"]);
      assertExit(flagged, 3);
      assert.match(flagged.stderr, /spec\.yaml:1:1: workflow: launch plan .* version alsomissing not found in flytesnacks\/development\n/);
    });
  });

  describe("relaunch, recover, terminate", () => {
    test("recover reuses the finished node and runs the failed one; relaunch runs everything again", async () => {
      const dir = cli.tempDir("tsflyte-remote-gate-");
      const gate = join(dir, "gate");
      const ledger = join(dir, "ledger");
      const failed = startedName(await cli.run(["run", "--remote", "--wait", flows, "gated", "--x", "3", "--gate", gate, "--ledger", ledger]));
      assert.equal((await waitFor(failed)).closure.phase, "FAILED");
      writeFileSync(gate, "open");
      const recovered = await ok(["create", "execution", "--recover", failed]);
      const name = startedName(recovered);
      const execution = await waitFor(name);
      assert.equal(execution.closure.phase, "SUCCEEDED");
      assert.equal(execution.spec.metadata.mode, "RECOVERED");
      const details = await cli.json<{ nodes: { nodeId: string; phase: string }[] }>(["get", "execution", name, "--details", "-o", "json"]);
      assert.equal(details.nodes.find((n) => n.nodeId === "n0")?.phase, "RECOVERED");
      assert.deepEqual(readFileSync(ledger, "utf8").trim().split("\n"), ["double 3"], "n0 ran once");
      const relaunched = startedName(await ok(["create", "execution", "--relaunch", failed]));
      assert.equal((await waitFor(relaunched)).closure.phase, "SUCCEEDED");
      assert.equal(readFileSync(ledger, "utf8").trim().split("\n").length, 2, "relaunch ran n0 again");
      const unknown = await cli.run(["create", "execution", "--recover", "nosuchexecution"]);
      assertExit(unknown, 3);
    });

    test("delete execution terminates with the cause recorded; an unknown name exits 3", async () => {
      const ledger = join(cli.tempDir("tsflyte-remote-nap-"), "ledger");
      const name = startedName(await ok(["run", "--remote", flows, "sleepy", "--ms", "60000", "--ledger", ledger]));
      await waitFor(name, ["RUNNING"]);
      const deleted = await ok(["delete", "execution", name, "--cause", "wrong inputs"]);
      assert.match(deleted.stdout, new RegExp(`^Terminated execution ${name}`, "m"));
      const execution = await waitFor(name, ["ABORTED"]);
      assert.equal(execution.closure.abortMetadata?.cause, "wrong inputs");
      const unknown = await cli.run(["delete", "execution", "nosuchexecution"]);
      assertExit(unknown, 3);
    });
  });

  describe("a local run while a control plane is configured", () => {
    test("its Details line works as printed with FLYTECTL_CONFIG set; the bare name says where it is", async () => {
      const config = join(cli.tempDir("tsflyte-remote-hint-"), "config.yaml");
      const env = { TSFLYTE_ADMIN_ENDPOINT: undefined, FLYTECTL_CONFIG: config };
      assertExit(await cli.runWith(env, ["config", "init", "--host", server.url, "-c", config]), 0);
      const run = await cli.runWith(env, ["run", "examples/spend.ts", "calculateSpend", "--emp", '[{"name":"a","pay":2}]', "-q"]);
      assertExit(run, 0);
      const name = /^Execution (\S+) SUCCEEDED \(local, /m.exec(run.stdout)?.[1];
      const details = /^Details: tsflyte (.*)$/m.exec(run.stdout)?.[1];
      assert.equal(details, `get execution ${name} --details --target local`);
      const followed = await cli.runWith(env, details!.split(" "));
      assertExit(followed, 0);
      assert.match(followed.stdout, new RegExp(`^Execution +${name} +\\(flytesnacks/development\\)$`, "m"));
      assert.match(followed.stdout, /^Outputs +o0: 4$/m);
      const bare = await cli.runWith(env, ["get", "execution", name!]);
      assertExit(bare, 3);
      assert.equal(
        bare.stderr.trim(),
        `Error: execution ${name} not found in project flytesnacks, domain development on the control plane; it is a run in this machine's local history\nHint: add --target local to read it there`,
      );
      const elsewhere = await cli.runWith({ TSFLYTE_ADMIN_ENDPOINT: undefined }, ["run", "examples/spend.ts", "calculateSpend", "--emp", "[]", "-p", "hints", "-q"]);
      assert.match(elsewhere.stdout, /^Details: tsflyte get execution \S+ --details -p hints$/m);
    });
  });

  describe("launch plan state and projects", () => {
    test("update launchplan needs exactly one of --activate and --deactivate", async () => {
      const neither = await cli.run(["update", "launchplan", wf("doubled"), "--version", "act1"]);
      assertExit(neither, 2);
      assert.match(neither.stderr, /--activate, --deactivate/);
      const off = await ok(["update", "launchplan", wf("doubled"), "--version", "act1", "--deactivate"]);
      assert.match(off.stdout, /is now INACTIVE/);
      const on = await cli.json<{ state: string }>(["update", "launchplan", wf("doubled"), "--version", "act1", "--activate", "--json"]);
      assert.equal(on.state, "ACTIVE");
      const missing = await cli.run(["update", "launchplan", wf("doubled"), "--version", "nope", "--activate"]);
      assertExit(missing, 3);
    });

    test("create project, then use it with -p; a duplicate id exits 2", async () => {
      const created = await cli.json<{ id: string; domains: string[] }>(["create", "project", "--id", "acme", "--name", "Acme", "--description", "spend reports", "--json"]);
      assert.equal(created.id, "acme");
      assert.deepEqual(created.domains, ["development", "staging", "production"]);
      const again = await cli.run(["create", "project", "--id", "acme", "--name", "Acme"]);
      assertExit(again, 2);
      assert.match(again.stderr, /already exists/);
      const result = await ok(["run", "--remote", "--wait", "-p", "acme", flows, "doubled", "--x", "1"]);
      assert.match(result.stdout, /SUCCEEDED \(remote, acme\/development\)/);
    });
  });
});

/** A node tree as a user compares it between targets: ids, what ran, phases, attempts and children; no times. */
interface TreeNode {
  nodeId: string;
  specNodeId: string;
  entity: { kind: string; name: string };
  phase: string;
  attempts: { attempt: number; phase: string; error?: { message: string } }[];
  children?: TreeNode[];
}

function treeShape(nodes: TreeNode[]): unknown[] {
  return nodes.map((n) => ({
    nodeId: n.nodeId,
    specNodeId: n.specNodeId,
    entity: n.entity,
    phase: n.phase,
    attempts: n.attempts.map((a) => [a.attempt, a.phase, a.error?.message]),
    ...(n.children ? { children: treeShape(n.children) } : {}),
  }));
}

/** An HTTP proxy to `target` that answers 404 to every path under `refusedPrefix`, as a FlyteAdmin does to tsflyte's own routes. */
async function proxyWithout(target: string, refusedPrefix: string): Promise<{ url: string; refused: number; close: () => Promise<void> }> {
  const state = { refused: 0 };
  const proxy = createServer((req, res) => {
    if ((req.url ?? "").startsWith(refusedPrefix)) {
      state.refused++;
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "Not Found", code: 5 }));
      return;
    }
    const upstream = httpRequest(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", (e) => res.writeHead(502).end(String(e)));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get refused() {
      return state.refused;
    },
    close: () => new Promise((resolve) => proxy.close(() => resolve())),
  };
}
