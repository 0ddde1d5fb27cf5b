// Acceptance: local runs that fail show where and why, user and system errors are retried on their own budgets,
// timeouts stop a task, and cached tasks hit, miss and overwrite. Drives the built CLI; never the real home.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { LocalCli, assertExit, executionName, lineOf, node, repoRoot, type RunJson } from "../fixtures/local/cli.js";

const cli = new LocalCli("failures");
after(() => cli.cleanup());

const resilient = "examples/resilient.ts";
const resilientSource = readFileSync(join(repoRoot, resilient), "utf8");

/** `run examples/resilient.ts pricing` for a day no other test uses, so that the cache never answers for it. */
function pricing(day: string, ...more: string[]): string[] {
  return ["run", resilient, "pricing", "--day", day, "-q", ...more];
}

describe("tsflyte run: failures, retries, timeouts and the cache", { concurrency: true }, () => {
  test("a user error is retried up to retries; the last one is reported with its node, attempt, kind and source line", async () => {
    const [plain, verbose] = await Promise.all([cli.run(pricing("2030-01-01", "--failures", "5")), cli.run(pricing("2030-01-02", "--failures", "5", "-v"))]);
    assertExit(plain, 1);
    const name = executionName(plain.stdout);
    assert.match(plain.stdout, new RegExp(`^Execution ${name} FAILED \\(local, flytesnacks/development\\)$`, "m"));
    assert.match(plain.stderr, /^node n1 \(examples\.resilient\.flakyEnrich\) failed on attempt 3 of 3: USER$/m);
    assert.match(plain.stderr, /^\s+the enrichment service is unavailable \(attempt 3\)$/m);
    const line = lineOf(resilientSource, "throw new Error(`the enrichment service is unavailable");
    assert.match(plain.stderr, new RegExp(`^\\s+at .*\\bexamples/resilient\\.ts:${line}:\\d+\\)?$`, "m"), plain.stderr);
    const frames = plain.stderr.split("\n").filter((l) => /^\s+at /.test(l));
    assert.deepEqual(frames.filter((l) => /dist\/|node:|node_modules/.test(l)), [], "tsflyte's own frames shown without -v");
    assert.match(plain.stderr, /tsflyte frames? hidden; -v shows them/);

    assertExit(verbose, 1);
    assert.match(verbose.stderr, new RegExp(`examples/resilient\\.ts:${line}:`));
    assert.ok(verbose.stderr.split("\n").some((l) => /^\s+at .*(dist\/|node:)/.test(l)), `-v shows no tsflyte frames:\n${verbose.stderr}`);
    assert.doesNotMatch(verbose.stderr, /frames? hidden/);

    const details = await cli.details(name);
    assert.equal(details.execution.closure.phase, "FAILED");
    assert.equal(details.execution.closure.error?.kind, "USER");
    assert.match(details.execution.closure.error?.message ?? "", /^\[3\/3\] currentAttempt done\. Last Error: USER::the enrichment service is unavailable \(attempt 3\)/);
    const enrich = node(details, "n1");
    assert.equal(enrich.phase, "FAILED");
    assert.deepEqual(
      enrich.attempts.map((a) => [a.attempt, a.phase, a.error?.kind]),
      [
        [1, "RETRYABLE_FAILED", "USER"],
        [2, "RETRYABLE_FAILED", "USER"],
        [3, "FAILED", "USER"],
      ],
    );
    assert.equal(node(details, "n0").phase, "SUCCEEDED", "the node before the failure finished");
  });

  test("a flaky task succeeds after a user retry, on attempt 2 of the 3 its `retries: 2` allow", async () => {
    const result = await cli.json<RunJson>(pricing("2030-02-01", "--failures", "1", "--json"));
    assert.equal(result.phase, "SUCCEEDED");
    assert.equal(result.outputs?.quote, "quoted after 10ms");
    const enrich = node(await cli.details(result.execution.name), "n1");
    assert.equal(enrich.phase, "SUCCEEDED");
    assert.equal(enrich.retries, 2);
    const table = await cli.run(["get", "execution", result.execution.name, "--details"]);
    assert.match(table.stdout, /^│ {2}├─ attempt 1 of 3 RETRYABLE_FAILED USER: the enrichment service is unavailable \(attempt 1\)$/m);
    assert.match(table.stdout, /^│ {2}└─ attempt 2 of 3 SUCCEEDED$/m);
    assert.deepEqual(
      enrich.attempts.map((a) => [a.phase, a.error?.kind, a.error?.message]),
      [
        ["RETRYABLE_FAILED", "USER", "the enrichment service is unavailable (attempt 1)"],
        ["SUCCEEDED", undefined, undefined],
      ],
    );
  });

  test("a task that ends its process is a SYSTEM failure, retried on the system budget", async () => {
    const [recovers, fails] = await Promise.all([
      cli.json<RunJson>(pricing("2030-03-01", "--crashes", "2", "--json")),
      cli.run(pricing("2030-03-02", "--crashes", "3")),
    ]);
    assert.equal(recovers.phase, "SUCCEEDED");
    assert.equal(recovers.outputs?.attempts, 2, "crashy returns the attempt it succeeded on (0-based)");
    const crashy = node(await cli.details(recovers.execution.name), "n4");
    assert.deepEqual(
      crashy.attempts.map((a) => [a.attempt, a.phase, a.error?.kind]),
      [
        [1, "RETRYABLE_FAILED", "SYSTEM"],
        [2, "RETRYABLE_FAILED", "SYSTEM"],
        [3, "SUCCEEDED", undefined],
      ],
    );

    assertExit(fails, 1);
    assert.match(fails.stderr, /^node n4 \(examples\.resilient\.crashy\) failed on attempt 3 of 3: SYSTEM$/m);
    assert.match(fails.stderr, /process\.exit\(3\)/);
    const details = await cli.details(executionName(fails.stdout));
    assert.equal(details.execution.closure.phase, "FAILED");
    assert.equal(details.execution.closure.error?.kind, "SYSTEM");
    assert.match(details.execution.closure.error?.message ?? "", /^\[3\/3\] currentAttempt done\. Last Error: SYSTEM::/);
    assert.deepEqual(node(details, "n4").attempts.map((a) => a.error?.kind), ["SYSTEM", "SYSTEM", "SYSTEM"]);
  });

  test("an uncaught exception left in a timer fails the attempt (SYSTEM), not the CLI", async () => {
    const fixture = "test/fixtures/local/timer-crash.ts";
    const [recovers, fails] = await Promise.all([
      cli.run(["run", fixture, "lateThrow", "--crashes", "1", "-p", "e2e-timer"]),
      cli.run(["run", fixture, "lateThrow", "--crashes", "9", "-p", "e2e-timer"]),
    ]);
    assertExit(recovers, 0);
    const first = node(await cli.details(executionName(recovers.stdout), "-p", "e2e-timer"), "n0");
    assert.equal(first.phase, "SUCCEEDED");
    assert.deepEqual(first.attempts.map((a) => [a.phase, a.error?.kind]), [["RETRYABLE_FAILED", "SYSTEM"], ["SUCCEEDED", undefined]]);
    assert.match(first.attempts[0].error?.message ?? "", /thrown from a timer on attempt 1/);

    assertExit(fails, 1);
    assert.match(fails.stderr, /^node n0 \(test\.fixtures\.local\.timer-crash\.lateThrow\) failed on attempt 3 of 3: SYSTEM$/m);
    assert.match(fails.stderr, /thrown from a timer on attempt 3/);
    const listed = await cli.list("-p", "e2e-timer");
    assert.deepEqual(listed.map((e) => e.closure.phase).sort(), ["FAILED", "SUCCEEDED"], "both runs are recorded as ended");
  });

  test("a task that outlives its timeout is TIMED_OUT", async () => {
    const result = await cli.run(pricing("2030-04-01", "--delay", "2s"));
    assertExit(result, 1);
    assert.match(result.stderr, /^node n3 \(examples\.resilient\.slowQuote\) timed out on attempt 1 of 1/m);
    const details = await cli.details(executionName(result.stdout));
    assert.equal(details.execution.closure.phase, "FAILED");
    const quote = node(details, "n3");
    assert.equal(quote.phase, "TIMED_OUT");
    assert.match(quote.error?.message ?? "", /timeout of 300ms/);
    assert.equal(quote.outputs, undefined);
  });

  test("a cached task populates, hits, is overwritten on request, and misses for other inputs", async () => {
    const day = "2031-05-01";
    const cacheStatus = async (result: RunJson) => {
      assert.equal(result.phase, "SUCCEEDED");
      return node(await cli.details(result.execution.name, "--nodeID", "n0"), "n0").cacheStatus;
    };
    const first = await cli.json<RunJson>(pricing(day, "--json"));
    assert.equal(await cacheStatus(first), "CACHE_POPULATED");
    const [again, otherDay] = await Promise.all([
      cli.json<RunJson>(pricing(`${day}T00:00:00Z`, "--json")),
      cli.json<RunJson>(pricing("2031-05-02", "--json")),
    ]);
    assert.equal(await cacheStatus(again), "CACHE_HIT");
    assert.deepEqual(again.outputs, first.outputs);
    assert.equal(await cacheStatus(otherDay), "CACHE_POPULATED", "another day is a miss, whose result is then stored");
    assert.notDeepEqual(otherDay.outputs, first.outputs);

    const overwrite = await cli.json<RunJson>(pricing(day, "--overwrite-cache", "--json"));
    assert.equal(await cacheStatus(overwrite), "CACHE_POPULATED");
    assert.deepEqual(overwrite.outputs, first.outputs);
    const table = await cli.run(["get", "execution", again.execution.name, "--details"]);
    assertExit(table, 0);
    assert.match(table.stdout, /^├─ n0\s+examples\.resilient\.fetchPrices\s+SUCCEEDED\s+\S+\s+CACHE_HIT$/m);
  });
});
