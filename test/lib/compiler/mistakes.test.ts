// Covers wiring and typing mistakes written in plain JavaScript, where tsc cannot help: the compiler must reject each
// one with a message naming the entity, node, input, both types and the offending line. Never edits or writes fixtures.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileProject } from "../../../src/lib/compiler/compile.js";
import { CompileError, type CompileProblem } from "../../../src/lib/errors.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const fixtures = join(repoRoot, "test/fixtures/js-mistakes");

/**
 * `<file>:<line>:<col>` of `word` on the one line of the fixture that contains `lineText`, read from the fixture
 * itself so that editing a fixture cannot leave a stale number here. `file` is relative to the fixtures folder,
 * which is the project root (it has its own package.json).
 */
function locate(file: string, lineText: string, word: string): string {
  const lines = readFileSync(join(fixtures, file), "utf8").split("\n");
  const matching = lines.flatMap((line, i) => (line.includes(lineText) ? [i] : []));
  assert.equal(matching.length, 1, `${file}: expected exactly one line containing ${JSON.stringify(lineText)}`);
  const line = lines[matching[0]];
  const column = line.indexOf(word, line.indexOf(lineText));
  assert.ok(column >= 0, `${file}: ${JSON.stringify(word)} is not in ${JSON.stringify(lineText)}`);
  return `${file}:${matching[0] + 1}:${column + 1}`;
}

async function compileError(paths: string[]): Promise<CompileError> {
  try {
    await compileProject({ paths });
  } catch (e) {
    assert.ok(e instanceof CompileError, `expected a CompileError, got ${e instanceof Error ? e.stack : String(e)}`);
    return e;
  }
  assert.fail(`${paths.join(", ")} compiled, but it holds a mistake`);
}

interface Mistake {
  file: string;
  /** The entity the problem belongs to: the workflow, task or launch plan with the mistake. */
  entity: string;
  /** The line holding the offending call (or declaration), and the word on it where the location points. */
  at: [lineText: string, word: string];
  /** What the message must say: node, entity, input, both types. */
  says: string[];
}

/** The same mistakes that wiring.types.ts proves tsc rejects, here without types. */
const mistakes: Mistake[] = [
  {
    file: "branch-no-else.js",
    entity: "branch-no-else.report",
    at: ['conditional("open")', "conditional"],
    says: ['conditional "open" has no else', ".else().then(...) or .else().fail("],
  },
  {
    file: "branch-outputs-differ.js",
    entity: "branch-outputs-differ.report",
    at: ['conditional("sign")', "describeN"],
    says: ['conditional "sign": case 2 gives "o0" as string where the first case gives int'],
  },
  {
    file: "branch-compare-kinds.js",
    entity: "branch-compare-kinds.report",
    at: ['conditional("cmp")', "eq"],
    says: ['cannot compare workflow input "n" (int) with workflow input "x" (float)'],
  },
  {
    file: "branch-case-output-outside.js",
    entity: "branch-case-output-outside.report",
    at: ["return square({ n: inside });", "square"],
    says: ['input "n" of node n1', 'output "o0" of node n0-n0', "runs inside a conditional; read the conditional's result instead"],
  },
  {
    file: "map-nothing-mapped.js",
    entity: "map-nothing-mapped.report",
    at: ["map(square)({ n: 3 })", "({ n: 3 })"],
    says: ["node n0 (map of map-nothing-mapped.square) maps over nothing"],
  },
  {
    file: "map-wrong-elements.js",
    entity: "map-wrong-elements.report",
    at: ["map(square)({ n: names })", "({ n: names })"],
    says: ['input "n" of node n0 (map of map-wrong-elements.square) expects list<int>, but workflow input "names" is list<string>', "a list of int to map over, or one int for every item"],
  },
  {
    file: "with-on-subworkflow.js",
    entity: "with-on-subworkflow.report",
    at: ["inner({ n }).with({ retries: 2 })", "({ retries: 2 })"],
    says: ["node n0 (with-on-subworkflow.inner): .with(...) overrides apply to task calls and maps of tasks, not to a workflow"],
  },
  {
    file: "with-unknown-setting.js",
    entity: "with-unknown-setting.report",
    at: ["square({ n }).with({ retry: 2 })", "({ retry: 2 })"],
    says: ['.with(...) has no setting "retry"', "it takes name, retries, timeout"],
  },
  {
    file: "on-failure-missing-input.js",
    entity: "on-failure-missing-input.report",
    at: ["export const report = workflow(", "workflow"],
    says: ['onFailure on-failure-missing-input.cleanup needs input "bucket" (string), which the workflow does not have'],
  },
  {
    file: "string-into-int.js",
    entity: "string-into-int.report",
    at: ["return double({ n: text });", "double"],
    says: ['input "n" of node n1 (string-into-int.double) expects int, but output "o0" of node n0 (string-into-int.label) is string'],
  },
  {
    file: "int-into-float.js",
    entity: "int-into-float.report",
    at: ["half({ x: count() })", "half"],
    says: ['input "x" of node n1 (int-into-float.half) expects float, but output "o0" of node n0 (int-into-float.count) is int'],
  },
  {
    file: "missing-input.js",
    entity: "missing-input.raise",
    at: ["payMultiplier({ rows: pay })", "payMultiplier"],
    says: ["node n0 (missing-input.payMultiplier)", 'missing input "scalar" (int)'],
  },
  {
    file: "unknown-input.js",
    entity: "unknown-input.raise",
    at: ["payMultiplier({ rows: pay, scalar: 2, factor: 3 })", "payMultiplier"],
    says: ["node n0 (unknown-input.payMultiplier)", 'no input "factor"', "its inputs are rows, scalar"],
  },
  {
    file: "wrong-constant.js",
    entity: "wrong-constant.raise",
    at: ['payMultiplier({ rows: pay, scalar: "3" })', "payMultiplier"],
    says: ['input "scalar" of node n0 (wrong-constant.payMultiplier)', "expected int", 'got string "3"'],
  },
  {
    file: "unknown-output.js",
    entity: "unknown-output.spend",
    at: ["return totals.totl;", "totl"],
    says: ['node n0 (unknown-output.totalSpend) has no output "totl"', "its outputs are total, count"],
  },
  {
    file: "whole-node.js",
    entity: "whole-node.spend",
    at: ["half({ x: totalSpend({ pay }) })", "half"],
    says: ['input "x" of node n1 (whole-node.half)', "all outputs of node n0", ".total, .count"],
  },
  {
    file: "list-into-int.js",
    entity: "list-into-int.report",
    at: ["double({ n: counts() })", "double"],
    says: ['input "n" of node n1 (list-into-int.double) expects int, but output "o0" of node n0 (list-into-int.counts) is list<int>'],
  },
  {
    file: "optional-into-int.js",
    entity: "optional-into-int.report",
    at: ["double({ n: maybeCount() })", "double"],
    says: ['input "n" of node n1 (optional-into-int.double) expects int, but output "o0" of node n0 (optional-into-int.maybeCount) is int?'],
  },
  {
    file: "no-outputs-as-value.js",
    entity: "no-outputs-as-value.report",
    at: ['double({ n: log({ text: "start" }) })', "double"],
    says: ['input "n" of node n1 (no-outputs-as-value.double)', "node n0 (no-outputs-as-value.log), which has no outputs"],
  },
  {
    file: "struct-wrong-shape.js",
    entity: "struct-wrong-shape.badges",
    at: ['printBadge({ badge: { name: "ada" } })', "printBadge"],
    says: ['input "badge" of node n0 (struct-wrong-shape.printBadge)', "expected struct{id}", 'got object {"name":"ada"}', ".id: "],
  },
  {
    file: "enum-not-in-enum.js",
    entity: "enum-not-in-enum.signs",
    at: ['paint({ color: "blue" })', "paint"],
    says: ['input "color" of node n0 (enum-not-in-enum.paint)', "expected enum(red|green)", 'got string "blue"'],
  },
  {
    file: "workflow-returns-wrong-type.js",
    entity: "workflow-returns-wrong-type.report",
    // A returned value has no call of its own; the problem points at the workflow's declaration.
    at: ["export const report = workflow(", "workflow"],
    says: ['workflow output "o0" expects float, but output "o0" of node n0 (workflow-returns-wrong-type.label) is string'],
  },
  {
    file: "launch-plan-fixed-unknown.js",
    entity: "nightly_unknown",
    at: ["export const nightly = launchPlan(", "launchPlan"],
    says: ['fixedInputs names "m", which is not an input of the workflow (inputs: n)'],
  },
  {
    file: "launch-plan-fixed-wrong-type.js",
    entity: "nightly_wrong_type",
    at: ["export const nightly = launchPlan(", "launchPlan"],
    says: ['fixedInputs.n: expected int, got string "3"'],
  },
  {
    file: "struct-from-references.js",
    entity: "struct-from-references.shop",
    at: ["place({ order: { name: who", "place"],
    says: [
      'input "order" of node n1 (struct-from-references.place) expects struct{name, qty}; references can be combined only into lists and maps, not into an object for it',
      'order.name is workflow input "who", order.qty is output "o0" of node n0 (struct-from-references.count); pass them to a task that builds the value from them',
    ],
  },
  {
    file: "launch-plan-call-fixed.js",
    entity: "launch-plan-call-fixed.outer",
    at: ["addTen({ a, b: 5 })", "addTen"],
    says: ['node n0 (add_ten) is given input "b", which the launch plan fixes'],
  },
  {
    file: "cache-ignores-non-input.js",
    entity: "cache-ignores-non-input.fetchRows",
    at: ["export const fetchRows = task(", "task"],
    says: ['cache.ignoredInputs names "today", which is not an input (inputs: day)'],
  },
];

/** Mistakes that tsc accepts today (see the report of wiring.types.ts); only the compiler stands between them and Flyte. */
const compilerOnlyMistakes: Mistake[] = [
  {
    file: "struct-extra-fields.js",
    entity: "struct-extra-fields.welcome",
    at: ["greet({ who: hire() })", "greet"],
    says: ['input "who" of node n1 (struct-extra-fields.greet) expects struct{name}, but output "o0" of node n0 (struct-extra-fields.hire) is struct{name, pay}'],
  },
  {
    file: "union-not-covered.js",
    entity: "union-not-covered.report",
    at: ["show({ value: measure() })", "show"],
    says: ['input "value" of node n1 (union-not-covered.show) expects int | string, but output "o0" of node n0 (union-not-covered.measure) is int | float'],
  },
  {
    file: "workflow-extra-output.js",
    entity: "workflow-extra-output.report",
    at: ["export const report = workflow(", "workflow"],
    says: ['its body returns "extra", which is not a declared output (outputs: total)'],
  },
  {
    file: "kickoff-not-an-input.js",
    entity: "every_day",
    at: ["export const everyDay = launchPlan(", "launchPlan"],
    says: ['schedule.kickoffTimeInput names "when", which is not an input of the workflow'],
  },
];

/**
 * Rules FlyteAdmin (and tsflyte serve) applies at registration that need no registry: the compiler applies the same
 * ones (registration-rules.ts), so `compile`, `register` and `run --remote` stop at the user's line instead.
 */
const registrationMistakes: Mistake[] = [
  {
    file: "scheduled-input-unbound.js",
    entity: "every_day_unbound",
    at: ["export const everyDay = launchPlan(", "launchPlan"],
    says: ['a scheduled launch plan cannot leave a required input unbound: give "region" a default or a fixed value'],
  },
  {
    file: "kickoff-fixed.js",
    entity: "every_day_fixed",
    at: ["export const everyDay = launchPlan(", "launchPlan"],
    says: ['schedule.kickoffTimeInput "at" is fixed by the launch plan, so the schedule cannot set it'],
  },
  {
    file: "kickoff-not-datetime.js",
    entity: "every_day_string",
    at: ["export const everyDay = launchPlan(", "launchPlan"],
    says: ['schedule.kickoffTimeInput "day" must be a datetime input, but it is string'],
  },
  {
    file: "launch-plan-bad-label.js",
    entity: "nightly_labelled",
    at: ["export const nightly = launchPlan(", "launchPlan"],
    says: ['labels key "team name" is not a valid Kubernetes label key'],
  },
  {
    file: "gpu-limits.js",
    entity: "gpu-limits.train",
    at: ["export const train = task(", "task"],
    says: ["gpu requests (1) must equal gpu limits (2)"],
  },
  {
    file: "requests-over-limits.js",
    entity: "requests-over-limits.load",
    at: ["export const load = task(", "task"],
    says: ["memory requests are greater than its limits; raise the limit or lower the request"],
  },
  {
    file: "datetime-out-of-range.js",
    entity: "far_away",
    at: ["export const farAway = launchPlan(", "launchPlan"],
    says: ["defaultInputs.at: expected datetime, got Date +010000-01-01T00:00:00.000Z (outside the years 1 to 9999 that Flyte takes)"],
  },
  {
    file: "name-too-long.js",
    entity: `shout_${"a".repeat(250)}`,
    at: ["export const shout = task(", "task"],
    says: ["is not a valid name: use up to 255 letters"],
  },
];

const allMistakes = [...mistakes, ...compilerOnlyMistakes, ...registrationMistakes];

function assertReported(problems: CompileProblem[], message: string, mistake: Mistake): void {
  const location = locate(mistake.file, ...mistake.at);
  const problem = problems.find((p) => p.entity === mistake.entity);
  assert.ok(problem, `no problem for ${mistake.entity} among:\n${message}`);
  assert.equal(problem.location, location, problem.message);
  for (const part of mistake.says) assert.ok(problem.message.includes(part), `${JSON.stringify(part)} is not in: ${problem.message}`);
  // The error's own message is what a caller that only prints err.message shows: location and entity lead.
  assert.ok(message.includes(`${location}: ${mistake.entity}: ${problem.message}`), message);
}

for (const mistake of allMistakes) {
  test(`${mistake.file} is rejected with the entity, node, input, types and its line`, async () => {
    const err = await compileError([join(fixtures, mistake.file)]);
    assert.equal(err.problems.length, 1, err.message);
    assertReported(err.problems, err.message, mistake);
  });
}

test("every fixture module is checked by a test here", () => {
  const files = readdirSync(fixtures).filter((f) => f.endsWith(".js")).sort();
  const covered = allMistakes.map((m) => m.file).sort();
  assert.deepEqual(files, covered);
});

test("two broken modules in one folder are reported together, each at its own line", async () => {
  const err = await compileError([join(fixtures, "two-broken")]);
  assert.equal(err.problems.length, 2, err.message);
  assertReported(err.problems, err.message, {
    file: "two-broken/first.js",
    entity: "two-broken.first.first",
    at: ["double({ n: label() })", "double"],
    says: ['input "n" of node n1 (two-broken.first.double) expects int, but output "o0" of node n0 (two-broken.first.label) is string'],
  });
  assertReported(err.problems, err.message, {
    file: "two-broken/second.js",
    entity: "two-broken.second.second",
    at: ["scale({ x })", "scale"],
    says: ['node n0 (two-broken.second.scale) is missing input "factor" (float)'],
  });
});

test("a folder of many broken modules reports every mistake once, none hiding another", async () => {
  const err = await compileError([fixtures]);
  assert.equal(err.problems.length, allMistakes.length + 2, err.message);
  for (const mistake of allMistakes) assertReported(err.problems, err.message, mistake);
});

test("the built CLI exits 2 with the problem on stderr, no stack trace, and writes nothing", () => {
  const out = join(mkdtempSync(join(tmpdir(), "tsflyte-mistakes-")), "package");
  try {
    const child = spawnSync(process.execPath, ["bin/run.js", "compile", join(fixtures, "string-into-int.js"), "-o", out], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    assert.equal(child.status, 2, child.stderr);
    const location = locate("string-into-int.js", "return double({ n: text });", "double");
    assert.equal(
      child.stderr.trim(),
      [
        "Error: compile failed with 1 problem:",
        `  ${location}  string-into-int.report: input "n" of node n1 (string-into-int.double) expects int, but output "o0" of node n0 (string-into-int.label) is string`,
      ].join("\n"),
    );
    assert.doesNotMatch(child.stderr, /^\s+at /m);
    assert.equal(child.stdout, "");
    assert.equal(existsSync(out), false, "no package folder may be written when compiling fails");
  } finally {
    rmSync(join(out, ".."), { recursive: true, force: true });
  }
});
