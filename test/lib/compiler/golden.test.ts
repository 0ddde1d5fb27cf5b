// Golden tests of the emitted IR: each fixture module compiles to exactly the checked-in proto3 JSON, and every
// entity round-trips through the strict codecs. Never rewrites a golden file unless UPDATE_GOLDEN=1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { equals, fromBinary, fromJson, toBinary, toJson, type DescMessage, type Message } from "@bufbuild/protobuf";
import { compileProject, type CompiledProject } from "../../../src/lib/compiler/compile.js";
import { registrationOrder } from "../../../src/lib/compiler/package.js";

const fixtures = fileURLToPath(new URL("../../fixtures/golden/", import.meta.url));
const goldenDir = fileURLToPath(new URL("../../golden/", import.meta.url));
const update = process.env.UPDATE_GOLDEN === "1";

let compiled: Promise<CompiledProject> | undefined;
function compileFixtures(): Promise<CompiledProject> {
  compiled ??= compileProject({ paths: [fixtures], version: "v1", image: "golden:1" });
  return compiled;
}

function entityJson(schema: DescMessage, message: Message): unknown {
  return toJson(schema, message);
}

async function checkGolden(file: string, prefix: string): Promise<void> {
  const result = await compileFixtures();
  const entries = registrationOrder(result).filter((e) => e.name === prefix || e.name.startsWith(`${prefix}.`));
  assert.ok(entries.length > 0, `no entities named ${prefix}.*`);
  const actual = entries.map((e) => ({ kind: e.kind, name: e.name, message: entityJson(e.schema, e.message) }));
  const path = join(goldenDir, file);
  const text = `${JSON.stringify(actual, null, 2)}\n`;
  if (update || !existsSync(path)) {
    assert.ok(update, `golden file ${file} is missing; run UPDATE_GOLDEN=1 npm test and review it`);
    mkdirSync(goldenDir, { recursive: true });
    writeFileSync(path, text);
  }
  assert.deepEqual(JSON.parse(text), JSON.parse(readFileSync(path, "utf8")), `IR differs from test/golden/${file}`);
}

test("one task", () => checkGolden("one-task.json", "one-task"));
test("a chain of three tasks", () => checkGolden("chain.json", "chain"));
test("a diamond: one split, two branches, one join", () => checkGolden("diamond.json", "diamond"));
test("a subworkflow called twice, carried in the workflow spec", () => checkGolden("subworkflow.json", "subworkflow"));
test("launch plans with a cron schedule, a rate, fixed and default inputs, and a workflow calling one", () =>
  checkGolden("launch-plans.json", "launch-plans"));
test("named outputs", () => checkGolden("named-outputs.json", "named-outputs"));
test("defaults, descriptions, cache, retries, timeout, resources", () => checkGolden("defaults.json", "defaults"));
test("conditionals (nested, and/or, else-fail), maps (concurrency, success ratio, a bound input), after, overrides, a failure node", () =>
  checkGolden("control-flow.json", "control-flow"));
test("gates: approve (of a call's output and of a workflow input), waitForInput (also as a conditional's case), sleep with after, timeouts", () =>
  checkGolden("gates.json", "gates"));
test("every t.* type, as interface and as constants", () => checkGolden("all-types.json", "all-types"));
test("user launch plans by their own names", async () => {
  await checkGolden("launch-plan-names.json", "daily_report");
  const result = await compileFixtures();
  assert.ok(result.launchPlans.some((l) => l.name === "hourly_report" && !l.isDefault));
});

test("every emitted entity round-trips through strict fromJson, toBinary and fromBinary", async () => {
  const result = await compileFixtures();
  const entries = registrationOrder(result);
  assert.ok(entries.length >= 20, `expected the fixtures to give at least 20 entities, got ${entries.length}`);
  for (const { schema, message, name } of entries) {
    const json = toJson(schema, message);
    const fromText = fromJson(schema, json); // strict: unknown fields, bad enums and durations are errors
    assert.ok(equals(schema, fromText, message), `${name}: JSON round trip changed the message`);
    const binary = toBinary(schema, message);
    assert.ok(equals(schema, fromBinary(schema, binary), message), `${name}: binary round trip changed the message`);
  }
});

test("registration order is tasks, then workflows, then launch plans, each sorted by name", async () => {
  const kinds = registrationOrder(await compileFixtures()).map((e) => e.kind);
  const firstWorkflow = kinds.indexOf("workflow");
  const firstPlan = kinds.indexOf("launchPlan");
  assert.ok(kinds.slice(0, firstWorkflow).every((k) => k === "task"));
  assert.ok(kinds.slice(firstWorkflow, firstPlan).every((k) => k === "workflow"));
  assert.ok(kinds.slice(firstPlan).every((k) => k === "launchPlan"));
});
