// Acceptance: a local `tsflyte run` of a workflow with gates. `--signal NAME=VALUE` answers them in advance (the values
// recorded as the execution's signals); without a terminal and without --signal the run fails at the gate, saying what
// it waits for and how to give it; a bad value fails there with the input rules' message. Drives the built CLI.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { assertExit, executionName, LocalCli, node, type RunJson } from "../fixtures/local/cli.js";

const cli = new LocalCli("gates");
after(() => cli.cleanup());

const flows = "test/fixtures/server/gate-flows.ts";

describe("tsflyte run with gates", { concurrency: true }, () => {
  test("--signal answers an approval and an input in advance; the gates are nodes of the run; a sleep just sleeps", async () => {
    const result = await cli.json<RunJson>(["run", flows, "release", "--epochs", "2", "--signal", "deploy-ok=true", "--signal", "batch-size=8", "--json"]);
    assert.equal(result.phase, "SUCCEEDED");
    assert.deepEqual(result.outputs, { o0: "model-e2 x8" });
    const details = await cli.details(result.execution.name);
    assert.equal(node(details, "n1").phase, "SUCCEEDED");
    assert.equal(node(details, "n2").phase, "SUCCEEDED");
    const nap = await cli.json<RunJson>(["run", flows, "nap", "--json"]);
    assert.equal(nap.phase, "SUCCEEDED");
  });

  test("without a terminal and without --signal, the run fails at the gate, saying what it waits for and how to give it", async () => {
    const result = await cli.run(["run", flows, "release", "--epochs", "2", "--signal", "deploy-ok=true"]);
    assertExit(result, 1);
    assert.match(result.stdout, /FAILED \(local, /);
    assert.match(result.stderr, /waitForInput "batch-size" waits for a value of type int, and there is no terminal to ask on; give it in advance with --signal batch-size=VALUE/);
    const details = await cli.details(executionName(result.stdout));
    assert.equal(node(details, "n2").phase, "FAILED");
  });

  test("an approval without an answer says how to approve or reject it in advance; a rejection fails the run", async () => {
    const unanswered = await cli.run(["run", flows, "hurried", "--epochs", "1"]);
    assertExit(unanswered, 1);
    assert.match(unanswered.stderr, /approve "quick-ok" waits for an approval, and there is no terminal to ask on; approve it in advance with --signal quick-ok=true \(or reject it with --signal quick-ok=false\)/);
    const rejected = await cli.run(["run", flows, "hurried", "--epochs", "1", "--signal", "quick-ok=false"]);
    assertExit(rejected, 1);
    assert.match(rejected.stderr, /approve "quick-ok" was rejected/);
  });

  test("a --signal value that is not of the signal's type fails the gate with the input rules' message", async () => {
    const result = await cli.run(["run", flows, "release", "--epochs", "2", "--signal", "deploy-ok=true", "--signal", "batch-size=lots"]);
    assertExit(result, 1);
    assert.match(result.stderr, /--signal batch-size: expected int, got 'lots'; not a whole number/);
  });

  test("a --signal that is not NAME=VALUE is a usage error before anything runs; --signal does not go with --remote", async () => {
    const malformed = await cli.run(["run", flows, "release", "--epochs", "2", "--signal", "deploy-ok"]);
    assertExit(malformed, 2);
    assert.match(malformed.stderr, /--signal deploy-ok: write it as NAME=VALUE/);
    assert.equal((await cli.list()).filter((e) => e.closure.phase === "RUNNING").length, 0);
    const remote = await cli.run(["run", "--remote", flows, "release", "--epochs", "2", "--signal", "deploy-ok=true"]);
    assertExit(remote, 2);
    assert.match(remote.stderr, /--signal|--remote/);
  });
});
