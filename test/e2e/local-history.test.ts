// Acceptance: the local history as a user reads and reuses it — `get execution` lists and details, recover after a
// fix, relaunch, data offloaded with hashes, and an execution whose CLI was killed. Drives the built CLI; never the real home.
import assert from "node:assert/strict";
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { after, describe, test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema } from "../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { openSqliteStore } from "../../src/lib/store/sqlite.js";
import { LocalCli, assertExit, executionName, node, repoRoot, type DetailsJson, type ExecutionJson, type RunJson, type StartedCli } from "../fixtures/local/cli.js";

const cli = new LocalCli("history");
after(() => cli.cleanup());

function lines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean) : [];
}

/** Polls until `check` gives a value, or fails after `timeoutMs`; `what` says what was awaited. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`gave up waiting for ${what}`);
    await sleep(50);
  }
}

/** Starts a run of a fixture task that writes `marker` when it begins, and waits for that. */
async function startUntilMarker(args: string[], marker: string): Promise<StartedCli> {
  const started = cli.start(args);
  let ended: unknown;
  void started.done.then((r) => (ended = r));
  await waitFor(`${marker} from the running task`, () => {
    if (ended) assert.fail(`the run ended before its task started: ${JSON.stringify(ended)}`);
    return existsSync(marker) ? true : undefined;
  });
  return started;
}

async function killNine(started: StartedCli): Promise<void> {
  started.child.kill("SIGKILL");
  const result = await started.done;
  assert.equal(result.signal, "SIGKILL", `the CLI ended on its own: ${JSON.stringify(result)}`);
}

describe("tsflyte get execution, create execution and the local history", { concurrency: true }, () => {
  test("get execution lists newest first, shows details as a tree, JSON and YAML, narrows to a node, and refuses unknown names", async () => {
    const project = "e2e-list";
    const runs: [string, string[], number][] = [
      ["e2e-list-1", ["examples/spend.ts", "calculateSpend", "--emp", '[{"name":"ada","pay":10}]', "--scalar", "3"], 0],
      ["e2e-list-2", ["examples/resilient.ts", "pricing", "--day", "2032-01-01", "--failures", "5"], 1],
      ["e2e-list-3", ["examples/spend.ts", "calculateSpend", "--emp", "[]"], 0],
    ];
    for (const [name, args, code] of runs) assertExit(await cli.run(["run", ...args, "--name", name, "-p", project, "-q"]), code);

    const [listJson, listTable, one, details, detailsYaml, detailsTable, narrowed, narrowedTable, unknown, unknownNode] = await Promise.all([
      cli.list("-p", project),
      cli.run(["get", "execution", "-p", project]),
      cli.json<ExecutionJson>(["get", "execution", "e2e-list-2", "-p", project, "-o", "json"]),
      cli.details("e2e-list-2", "-p", project),
      cli.yaml<DetailsJson>(["get", "execution", "e2e-list-2", "-p", project, "--details", "-o", "yaml"]),
      cli.run(["get", "execution", "e2e-list-2", "-p", project, "--details"]),
      cli.details("e2e-list-2", "-p", project, "--nodeID", "n1"),
      cli.run(["get", "execution", "e2e-list-2", "-p", project, "--nodeID", "n1"]),
      cli.run(["get", "execution", "e2e-list-404", "-p", project]),
      cli.run(["get", "execution", "e2e-list-2", "-p", project, "--nodeID", "n9"]),
    ]);

    assert.deepEqual(listJson.map((e) => [e.id.name, e.id.project, e.closure.phase]), [
      ["e2e-list-3", project, "SUCCEEDED"],
      ["e2e-list-2", project, "FAILED"],
      ["e2e-list-1", project, "SUCCEEDED"],
    ]);
    assert.equal(listJson[2].spec.launchPlan.name, "examples.spend.calculateSpend");
    assertExit(listTable, 0);
    const rows = listTable.stdout.trim().split("\n");
    assert.match(rows[0], /^NAME\s+LAUNCHED\s+PHASE\s+STARTED\s+DURATION/);
    assert.deepEqual(rows.slice(1).map((r) => r.split(/\s+/).slice(0, 3)), [
      ["e2e-list-3", "examples.spend.calculateSpend", "SUCCEEDED"],
      ["e2e-list-2", "examples.resilient.pricing", "FAILED"],
      ["e2e-list-1", "examples.spend.calculateSpend", "SUCCEEDED"],
    ]);
    assert.deepEqual(one, listJson[1], "get execution NAME -o json is the list's entry");

    assert.deepEqual(detailsYaml, details, "-o yaml parses back to what -o json prints");
    assert.equal(details.execution.id.name, "e2e-list-2");
    assert.deepEqual(details.inputs, { budget: 10, crashes: 0, day: "2032-01-01T00:00:00.000Z", delay: "10ms", failures: 5 });
    assert.deepEqual(details.nodes.map((n) => [n.nodeId, n.entity.name]).slice(0, 2), [
      ["n0", "examples.resilient.fetchPrices"],
      ["n1", "examples.resilient.flakyEnrich"],
    ]);
    assertExit(detailsTable, 0);
    const table = detailsTable.stdout;
    assert.match(table, /^Execution\s+e2e-list-2\s+\(e2e-list\/development\)$/m);
    assert.match(table, /^Launched\s+examples\.resilient\.pricing\s+\(workflow, version local\)$/m);
    assert.match(table, /^Phase\s+FAILED$/m);
    assert.match(table, /^Error\s+USER: \[3\/3\] currentAttempt done\. Last Error: USER::the enrichment service is unavailable/m);
    assert.match(table, /^Nodes$/m);
    assert.match(table, /^├─ n0\s+examples\.resilient\.fetchPrices\s+SUCCEEDED\b/m);
    assert.match(table, /^├─ n1\s+examples\.resilient\.flakyEnrich\s+FAILED\b/m);
    assert.match(table, /^│ {2}└─ attempt 3 of 3 FAILED USER: the enrichment service is unavailable \(attempt 3\)$/m);

    assert.deepEqual(narrowed.nodes.map((n) => n.nodeId), ["n1"]);
    assert.equal(narrowed.nodes[0].attempts.length, 3);
    assertExit(narrowedTable, 0);
    assert.match(narrowedTable.stdout, /^└─ n1\s+examples\.resilient\.flakyEnrich\s+FAILED\b/m);
    assert.doesNotMatch(narrowedTable.stdout, /fetchPrices/);

    assertExit(unknown, 3);
    assert.match(unknown.stderr, /execution e2e-list-404 not found in project e2e-list, domain development/);
    assertExit(unknownNode, 3);
    assert.match(unknownNode.stderr, /node n9 not found in execution e2e-list-2; its nodes are: n0, n1/);
  });

  test("recover after fixing the code reuses the nodes that succeeded; relaunch runs everything again", async () => {
    const dir = cli.tempDir(".tmp-e2e-recover-", { inRepo: true });
    const modulePath = join(dir, "recoverable.ts");
    copyFileSync(join(repoRoot, "test/fixtures/local/recoverable.ts"), modulePath);
    const counter = join(dir, "prepare-runs.txt");

    const failed = await cli.run(["run", modulePath, "pipeline", "--counter", counter, "--n", "21", "-q"]);
    assertExit(failed, 1);
    const source = executionName(failed.stdout);
    assert.match(failed.stderr, /^node n1 \(\S+\.recoverable\.finish\) failed on attempt 1 of 1: USER$/m);
    assert.deepEqual(lines(counter), ["prepare"]);

    const broken = "const BROKEN: boolean = true;";
    const text = readFileSync(modulePath, "utf8");
    assert.ok(text.includes(broken), `the fixture no longer holds ${broken}; update the test`);
    writeFileSync(modulePath, text.replace(broken, "const BROKEN: boolean = false;"));

    const recovered = await cli.run(["create", "execution", "--recover", source, "-q"]);
    assertExit(recovered, 0);
    const name = executionName(recovered.stdout);
    assert.notEqual(name, source);
    assert.match(recovered.stdout, new RegExp(`^Execution ${name} SUCCEEDED `, "m"));
    const details = await cli.details(name);
    assert.equal(details.execution.spec.metadata.mode, "RECOVERED");
    assert.equal(details.execution.spec.metadata.referenceExecution?.name, source);
    assert.deepEqual(details.outputs, { o0: "finished 42" });
    const prepare = node(details, "n0");
    assert.equal(prepare.phase, "RECOVERED");
    assert.equal(prepare.recoveredFrom, source);
    assert.deepEqual(prepare.attempts, [], "a recovered node does not run");
    assert.equal(node(details, "n1").phase, "SUCCEEDED");
    assert.deepEqual(lines(counter), ["prepare"], "prepare ran again during recovery");

    const [again, relaunched] = await Promise.all([
      cli.run(["create", "execution", "--recover", name]),
      cli.json<RunJson>(["create", "execution", "--relaunch", name, "--json"]),
    ]);
    assertExit(again, 2);
    assert.match(again.stderr, new RegExp(`execution ${name} succeeded; there is nothing to recover`));
    assert.equal(relaunched.phase, "SUCCEEDED");
    assert.deepEqual(relaunched.outputs, { o0: "finished 42" });
    assert.deepEqual(lines(counter), ["prepare", "prepare"], "a relaunch runs every node again");
    const relaunchDetails = await cli.details(relaunched.execution.name);
    assert.equal(relaunchDetails.execution.spec.metadata.mode, "RELAUNCH");
    assert.deepEqual(relaunchDetails.inputs, details.inputs);
    assert.equal(node(relaunchDetails, "n0").phase, "SUCCEEDED");
  });

  test("relaunch keeps the inputs and the cache, and --overwriteCache refreshes it", async () => {
    const first = await cli.json<RunJson>(["run", "examples/resilient.ts", "pricing", "--day", "2033-07-04", "--budget", "12.5", "-q", "--json"]);
    assert.equal(first.phase, "SUCCEEDED");
    const source = first.execution.name;
    const [relaunch, overwrite] = await Promise.all([
      cli.json<RunJson>(["create", "execution", "--relaunch", source, "-q", "--json"]),
      cli.json<RunJson>(["create", "execution", "--relaunch", source, "--overwriteCache", "-q", "--json"]),
    ]);
    const [sourceDetails, relaunchDetails, overwriteDetails] = await Promise.all([cli.details(source), cli.details(relaunch.execution.name), cli.details(overwrite.execution.name)]);
    for (const [result, details] of [
      [relaunch, relaunchDetails],
      [overwrite, overwriteDetails],
    ] as const) {
      assert.equal(result.phase, "SUCCEEDED");
      assert.deepEqual(result.outputs, first.outputs);
      assert.deepEqual(details.inputs, sourceDetails.inputs);
      assert.equal(details.execution.spec.metadata.mode, "RELAUNCH");
      assert.equal(details.execution.spec.metadata.referenceExecution?.name, source);
    }
    assert.equal(node(relaunchDetails, "n0").cacheStatus, "CACHE_HIT");
    assert.equal(relaunchDetails.execution.spec.overwriteCache, false);
    assert.equal(node(overwriteDetails, "n0").cacheStatus, "CACHE_POPULATED");
    assert.equal(overwriteDetails.execution.spec.overwriteCache, true);
  });

  test("the orders example: a CSV in, a Parquet table and a summary file out, offloaded with their hashes", async () => {
    const csv = "examples/data/orders.csv";
    const result = await cli.json<RunJson>(["run", "examples/orders.ts", "orderReport", "--orders", csv, "-q", "--json"]);
    assert.equal(result.phase, "SUCCEEDED");
    const [header, ...rows] = readFileSync(join(repoRoot, csv), "utf8").trim().split("\n");
    const amount = header.split(",").indexOf("amount");
    const big = rows.map((r) => Number(r.split(",")[amount])).filter((a) => a >= 100);
    const total = big.reduce((s, a) => s + a, 0);
    const { count, summary } = result.outputs as { count: number; total: number; summary: string };
    assert.equal(count, big.length);
    assert.ok(Math.abs((result.outputs?.total as number) - total) < 1e-9, `total ${result.outputs?.total}, expected ${total}`);

    const data = `file://${cli.home}/data/`;
    assert.ok(summary.startsWith(data), `the summary ${summary} is not in the local blob store ${data}`);
    assert.equal(readFileSync(fileURLToPath(summary), "utf8"), `Big orders\norders: ${big.length}\ntotal: ${total.toFixed(2)}\n`);

    const details = await cli.details(result.execution.name);
    const ordersIn = details.inputs.orders as string;
    assert.ok(ordersIn.startsWith(data), `the CSV input ${ordersIn} was not uploaded to ${data}`);
    const table = node(details, "n0").outputs?.o0 as string;
    assert.ok(table.startsWith(data), `bigOrders' table ${table} is not in ${data}`);
    assert.ok(readdirSync(fileURLToPath(table)).some((f) => f.endsWith(".parquet")), `no .parquet file in ${table}`);

    // The recorded outputs, as Flyte keeps them: every file and table literal carries the sha256 of its content. They
    // are small, so they live in the history's rows (no outputs.pb was written for an in-process run).
    const store = openSqliteStore(join(cli.home, "tsflyte.db"));
    try {
      const key = { project: "flytesnacks", domain: "development", name: result.execution.name };
      const record = await store.getExecution(key);
      assert.ok(record?.outputs && !record.outputsUri, "the execution's outputs are in its row");
      const outputs = fromBinary(LiteralMapSchema, record.outputs);
      assert.match(outputs.literals.summary?.hash ?? "", /^[0-9a-f]{64}$/);
      const n0 = (await store.listNodeExecutions(key)).find((n) => n.nodeId === "n0");
      assert.ok(n0?.outputs, "n0's outputs are in its row");
      assert.match(fromBinary(LiteralMapSchema, n0.outputs).literals.o0?.hash ?? "", /^[0-9a-f]{64}$/);
    } finally {
      await store.close();
    }
  });

  test("an execution whose CLI was killed is failed by the next command, and recover resumes it", async () => {
    const project = "e2e-killed";
    const dir = cli.tempDir("tsflyte-killed-");
    const [counter, marker] = [join(dir, "quick-runs.txt"), join(dir, "sleepy-started")];
    const started = await startUntilMarker(
      ["run", "test/fixtures/local/slow.ts", "sleepyFlow", "--name", "killed-while-sleeping", "-p", project, "--counter", counter, "--marker", marker],
      marker,
    );
    // What the history shows while the task sleeps: the first node done with its outputs, the execution running.
    await waitFor("the running execution's inputs and n0's outputs in get execution", async () => {
      const d = await cli.details("killed-while-sleeping", "-p", project);
      const n0 = d.nodes.find((n) => n.nodeId === "n0");
      return d.execution.closure.phase === "RUNNING" && Object.keys(d.inputs).length && n0?.outputs ? true : undefined;
    });
    await killNine(started);

    const [listed] = await cli.list("-p", project);
    assert.equal(listed.id.name, "killed-while-sleeping");
    assert.equal(listed.closure.phase, "FAILED");
    assert.equal(listed.closure.error?.kind, "SYSTEM");
    assert.match(listed.closure.error?.message ?? "", new RegExp(`tsflyte process \\(pid ${started.child.pid}\\) that ran execution killed-while-sleeping ended before the execution finished`));

    const recovered = await cli.run(["create", "execution", "--recover", "killed-while-sleeping", "-p", project, "-q"]);
    assertExit(recovered, 0);
    const details = await cli.details(executionName(recovered.stdout), "-p", project);
    assert.deepEqual(details.outputs, { o0: 8 });
    assert.equal(node(details, "n0").phase, "RECOVERED");
    assert.equal(node(details, "n1").phase, "SUCCEEDED");
    assert.deepEqual(lines(counter), ["quick"], "the node that finished before the kill ran again");
  });

  test("an execution killed while a CPU-bound task blocks its thread can be recovered too", async () => {
    const project = "e2e-killed-busy";
    const dir = cli.tempDir("tsflyte-killed-busy-");
    const [counter, marker] = [join(dir, "quick-runs.txt"), join(dir, "busy-started")];
    const started = await startUntilMarker(
      ["run", "test/fixtures/local/slow.ts", "busyFlow", "--name", "killed-while-busy", "-p", project, "--counter", counter, "--marker", marker],
      marker,
    );
    await killNine(started);

    const [listed] = await cli.list("-p", project);
    assert.equal(listed.closure.phase, "FAILED");
    assert.equal(listed.closure.error?.kind, "SYSTEM");
    const before = await cli.details("killed-while-busy", "-p", project);
    assert.deepEqual(Object.keys(before.inputs).sort(), ["counter", "marker"], "get execution shows no inputs for the killed execution: they never reached the blob store");

    const recovered = await cli.run(["create", "execution", "--recover", "killed-while-busy", "-p", project, "-q"]);
    assertExit(recovered, 0);
    const details = await cli.details(executionName(recovered.stdout), "-p", project);
    assert.deepEqual(details.outputs, { o0: 8 });
    assert.equal(node(details, "n1").phase, "SUCCEEDED");
  });
});
