// Acceptance: what a new user meets when the command line itself is wrong — typos get the nearest command, flytectl's
// plural spellings work as they do in flytectl, oclif's parse errors read like tsflyte's own (exit 2), and every
// topic has its own help text. Drives the built CLI; never the real home.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { LocalCli, assertExit, type CliResult } from "../fixtures/local/cli.js";

const cli = new LocalCli("usage");
after(() => cli.cleanup());

/** A usage error: exit 2, exactly `Error: …` and `Hint: …` on stderr, nothing on stdout. */
function assertUsage(result: CliResult, message: string, hint: string | RegExp): void {
  assertExit(result, 2);
  assert.equal(result.stdout, "");
  const [first, second, ...rest] = result.stderr.trimEnd().split("\n");
  assert.equal(first, `Error: ${message}`);
  if (typeof hint === "string") assert.equal(second, `Hint: ${hint}`);
  else assert.match(second, hint);
  assert.deepEqual(rest, [], result.stderr);
}

describe("the command line", { concurrency: true }, () => {
  test("a mistyped command suggests the nearest one, keeping what followed it, exit 2", async () => {
    const [sub, topic, alias, help] = await Promise.all([
      cli.run(["get", "exectuion", "a8f3k2", "--details"]),
      cli.run(["creat", "execution", "--recover", "a8f3k2"]),
      cli.run(["get", "tasksx"]),
      cli.run(["get", "exectuion", "--help"]),
    ]);
    assertUsage(sub, 'tsflyte has no command "get exectuion"', "did you mean `tsflyte get execution a8f3k2 --details`?");
    assertUsage(topic, 'tsflyte has no command "creat execution"', "did you mean `tsflyte create execution --recover a8f3k2`?");
    assertUsage(alias, 'tsflyte has no command "get tasksx"', "did you mean `tsflyte get task`?");
    assertUsage(help, 'tsflyte has no command "get exectuion"', "did you mean `tsflyte get execution --help`?");
  });

  test("with nothing near, the error lists the commands of that topic", async () => {
    assertUsage(await cli.run(["get", "frobnicate"]), 'tsflyte has no command "get frobnicate"', "`tsflyte get --help` lists the get commands: execution, launchplan, project, signal, task, workflow");
  });

  test("flytectl's plural spellings behave exactly like the singular commands, and help lists each command once", async () => {
    const run = await cli.run(["run", "examples/spend.ts", "calculateSpend", "--emp", '[{"name":"a","pay":1}]', "--name", "plural-1", "-q"]);
    assertExit(run, 0);
    const pairs = [
      [["get", "execution", "plural-1", "--details"], ["get", "executions", "plural-1", "--details"]],
      [["get", "execution", "-o", "json"], ["get", "executions", "-o", "json"]],
      [["get", "task"], ["get", "tasks"]],
      [["get", "workflow"], ["get", "workflows"]],
      [["get", "launchplan"], ["get", "launchplans"]],
      [["get", "project"], ["get", "projects"]],
      [["create", "execution", "--relaunch", "nope-404"], ["create", "executions", "--relaunch", "nope-404"]],
      [["delete", "execution", "plural-1"], ["delete", "executions", "plural-1"]],
    ];
    const results = await Promise.all(pairs.map(async ([singular, plural]) => [await cli.run(singular), await cli.run(plural)] as const));
    for (const [singular, plural] of results) {
      assert.deepEqual({ code: plural.code, stdout: plural.stdout, stderr: plural.stderr }, { code: singular.code, stdout: singular.stdout, stderr: singular.stderr }, `tsflyte ${plural.args.join(" ")}`);
    }
    assertExit(results[0][1], 0);
    assert.match(results[0][1].stdout, /^Execution +plural-1 /m);
    const topicHelp = await cli.run(["get", "--help"]);
    assert.doesNotMatch(topicHelp.stdout, /^ {2}get (executions|tasks|workflows|launchplans|projects) /m);
    assert.match(topicHelp.stdout, /^ {2}get execution /m);
  });

  test("oclif's parse errors read like tsflyte's: the command, what is wrong, what to do, exit 2", async () => {
    const cases: [string[], string, string | RegExp][] = [
      [["update", "launchplan", "nightly", "--activate"], "update launchplan: --version is required (the version to change)", "`tsflyte update launchplan --help` shows the usage and examples"],
      [["create", "execution"], "create execution: give exactly one of --execFile, --recover, --relaunch", "`tsflyte create execution --help` shows the usage and examples"],
      [["create", "execution", "--recover", "a", "--relaunch", "b"], "create execution: --recover and --relaunch cannot be given together", /--help` shows/],
      [["run", "--wait", "examples/spend.ts", "calculateSpend"], "run: --wait works only together with --remote", /--help` shows/],
      [["run", "examples/spend.ts"], "run: missing ENTITY (a workflow, task or launch plan: export name or full name)", "`tsflyte run --help` shows the usage and examples"],
      [["get", "execution", "a", "b"], 'get execution: unexpected argument "b": it takes only NAME', "quote a value that holds spaces; `tsflyte get execution --help` shows the usage"],
      [["get", "execution", "-o", "jsn"], 'get execution: --output "jsn" is not one of table, json, yaml', "did you mean --output json?"],
      [["get", "execution", "--nodeid", "n1"], "get execution: there is no flag --nodeid", "did you mean --nodeID?"],
      [["get", "execution", "--json"], "get execution: there is no flag --json", "this command prints JSON with --output json"],
      [["get", "execution", "--filter.limit", "zero"], "get execution: --filter.limit: expected an integer but received: zero", "--filter.limit: how many executions to list"],
      [["get", "execution", "-o", "json", "-o", "yaml"], "get execution: --output is given more than once", "give --output once"],
    ];
    const results = await Promise.all(cases.map(([args]) => cli.run(args)));
    results.forEach((result, i) => assertUsage(result, cases[i][1], cases[i][2]));
  });

  test("in --json mode a parse error is the same message and hint as JSON on stdout, exit 2", async () => {
    const result = await cli.run(["create", "execution", "--json"]);
    assertExit(result, 2);
    assert.deepEqual(JSON.parse(result.stdout), {
      error: {
        message: "create execution: give exactly one of --execFile, --recover, --relaunch",
        exitCode: 2,
        hint: "`tsflyte create execution --help` shows the usage and examples",
      },
    });
  });

  test("every topic has its own description, not its first command's", async () => {
    const root = await cli.run(["--help"]);
    assertExit(root, 0);
    for (const topic of ["config", "create", "delete", "demo", "get", "update"]) {
      const help = await cli.run([topic, "--help"]);
      assertExit(help, 0);
      const summary = help.stdout.split("\n")[0];
      const commands = [...help.stdout.matchAll(new RegExp(`^  ${topic} (\\S+) +(.*)$`, "gm"))].map((m) => m[2]);
      assert.ok(commands.length > 0, help.stdout);
      assert.ok(!commands.some((c) => summary.startsWith(c)), `${topic} --help starts with a command's summary: ${summary}`);
      assert.match(root.stdout, new RegExp(`^  ${topic} +${summary.slice(0, 30).replace(/[()]/g, "\\$&")}`, "m"));
    }
  });
});
