// Covers reading an execution spec file: the plain result, where keys were written, and every problem reported at
// once as `file:line:col: key: message`. Must never share temp folders between tests or depend on the cwd.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { UserError } from "../../../src/lib/errors.js";
import { ExecutionSpecError, parseExecutionSpec, readExecutionSpec } from "../../../src/lib/execspec/index.js";

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsflyte-execspec-"));
  tempDirs.push(dir);
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** The problems of a spec that must not parse, as the lines of the error's message. */
async function problemLines(text: string): Promise<string[]> {
  try {
    await parseExecutionSpec(text, "spec.yaml");
  } catch (e) {
    assert.ok(e instanceof ExecutionSpecError, `an ExecutionSpecError, got ${String(e)}`);
    assert.ok(e instanceof UserError);
    assert.equal(e.message.split("\n").length, e.problems.length, "one line per problem");
    return e.message.split("\n");
  }
  assert.fail("the spec parsed");
}

const valid = `iamRoleARN: "arn:aws:iam::1:role/r"
inputs:
  x: 3 # a comment
  words:
    - a
    - b
  point:
    x: 1.5
envs:
  FOO: bar
kubeServiceAcct: ""
targetDomain: development
targetProject: flytesnacks
task: my.module.t1
version: v2
overwriteCache: true
`;

describe("a valid spec", () => {
  test("gives plain inputs, envs, the entity and the optional settings", async () => {
    const spec = await parseExecutionSpec(valid, "spec.yaml");
    assert.equal(spec.file, "spec.yaml");
    assert.equal(spec.kind, "task");
    assert.equal(spec.name, "my.module.t1");
    assert.equal(spec.version, "v2");
    assert.deepEqual(spec.inputs, { x: 3, words: ["a", "b"], point: { x: 1.5 } });
    assert.deepEqual(spec.envs, { FOO: "bar" });
    assert.equal(spec.targetProject, "flytesnacks");
    assert.equal(spec.targetDomain, "development");
    assert.equal(spec.iamRoleARN, "arn:aws:iam::1:role/r");
    assert.equal(spec.kubeServiceAcct, undefined, "an empty string means not set");
    assert.equal(spec.overwriteCache, true);
  });

  test("remembers where every key and list item was written", async () => {
    const spec = await parseExecutionSpec(valid, "spec.yaml");
    assert.deepEqual(spec.positions.get("inputs"), { line: 2, col: 1 });
    assert.deepEqual(spec.positions.get("inputs.x"), { line: 3, col: 3 });
    assert.deepEqual(spec.positions.get("inputs.words[1]"), { line: 6, col: 7 });
    assert.deepEqual(spec.positions.get("inputs.point.x"), { line: 8, col: 5 });
    assert.deepEqual(spec.positions.get("envs.FOO"), { line: 10, col: 3 });
    assert.deepEqual(spec.positions.get("task"), { line: 14, col: 1 });
  });

  test("flytectl's other keys: clusterPool and targetExecutionCluster, with envs in the order written", async () => {
    // The keys flytectl's task_execution_spec_with_iamrole.yaml and its executionConfig carry (our own values).
    const text = 'iamRoleARN: "arn:aws:iam::1:role/batch"\nkubeServiceAcct: ""\ntask: my.module.t1\nversion: v2\nclusterPool: gpu\ntargetExecutionCluster: eu-1\nenvs:\n  ZED: "1"\n  ALPHA: "a=b"\n';
    const spec = await parseExecutionSpec(text, "spec.yaml");
    assert.equal(spec.clusterPool, "gpu");
    assert.equal(spec.targetExecutionCluster, "eu-1");
    assert.equal(spec.iamRoleARN, "arn:aws:iam::1:role/batch");
    assert.equal(spec.kubeServiceAcct, undefined);
    assert.deepEqual(Object.entries(spec.envs), [["ZED", "1"], ["ALPHA", "a=b"]]);
    assert.deepEqual(spec.positions.get("clusterPool"), { line: 5, col: 1 });
    const empty = await parseExecutionSpec("task: t\nclusterPool: ''\ntargetExecutionCluster:\n", "spec.yaml");
    assert.equal(empty.clusterPool, undefined);
    assert.equal(empty.targetExecutionCluster, undefined);
  });

  test("`workflow:` names a launch plan; empty and null values mean not set", async () => {
    const spec = await parseExecutionSpec("workflow: my.lp\ninputs:\nenvs:\nversion:\ntargetProject: ''\n", "lp.yaml");
    assert.equal(spec.kind, "launchPlan");
    assert.equal(spec.name, "my.lp");
    assert.deepEqual(spec.inputs, {});
    assert.deepEqual(spec.envs, {});
    assert.equal(spec.version, undefined);
    assert.equal(spec.targetProject, undefined);
    assert.equal(spec.overwriteCache, undefined);
  });

  test("YAML 1.2: yes and dates stay strings, for the inputs' types to judge", async () => {
    const spec = await parseExecutionSpec("task: t\ninputs:\n  a: yes\n  b: 2026-01-31\n", "s.yaml");
    assert.deepEqual(spec.inputs, { a: "yes", b: "2026-01-31" });
  });

  test("readExecutionSpec reads a real file and names it as given", async () => {
    const file = tempFile("exec.yaml", valid);
    const spec = await readExecutionSpec(file);
    assert.equal(spec.file, file);
    assert.equal(spec.name, "my.module.t1");
    // The validator is compiled once and reused.
    const again = await readExecutionSpec(file);
    assert.deepEqual(again.inputs, spec.inputs);
  });

  test("readExecutionSpec: a missing file is a UserError naming it", async () => {
    const dir = path.dirname(tempFile("other.yaml", ""));
    const missing = path.join(dir, "nope.yaml");
    await assert.rejects(readExecutionSpec(missing), (e: unknown) => e instanceof UserError && e.message.includes(`${missing} does not exist`));
    await assert.rejects(readExecutionSpec(dir), (e: unknown) => e instanceof UserError && e.message.includes("is a folder"));
  });
});

describe("problems, each at file:line:col", () => {
  test("a YAML syntax error, with where and what", async () => {
    assert.deepEqual(await problemLines("task: t\ninputs:\n  x: [1, 2\nversion: v1\n"), [
      "spec.yaml:4:1: flow sequence in block collection must be sufficiently indented and end with a ]",
    ]);
    assert.deepEqual(await problemLines('task: "abc\n'), ["spec.yaml:2:1: missing closing \"quote"]);
  });

  test("a key written twice", async () => {
    assert.deepEqual(await problemLines("task: t\nversion: a\nversion: b\n"), [
      'spec.yaml:3:1: the key version is written twice; keep one',
    ]);
    assert.deepEqual(await problemLines('task: t\nenvs:\n  "A B": x\n  "A B": y\n'), [
      'spec.yaml:4:3: the key "A B" is written twice; keep one',
    ]);
  });

  test("an empty file is an empty mapping, as an inputs file's is: it names no task or workflow", async () => {
    const none = "neither task nor workflow is set; add `task: NAME` to run a task, or `workflow: NAME` to run a launch plan";
    assert.deepEqual(await problemLines(""), [`spec.yaml:1:1: the file is empty, so ${none}`]);
    assert.deepEqual(await problemLines("# only a comment\n"), [`spec.yaml:1:1: the file is empty, so ${none}`]);
    assert.deepEqual(await problemLines("{}\n"), [`spec.yaml:1:1: the file sets no keys, so ${none}`]);
  });

  test("a file that is not a mapping", async () => {
    assert.deepEqual(await problemLines("- task: t\n"), [
      "spec.yaml:1:1: the file holds a list; its top level must be a mapping such as `task: NAME`",
    ]);
  });

  test("an unknown top-level key suggests the nearest known one, or lists them", async () => {
    assert.deepEqual(await problemLines("task: t\ntargetProjet: p\n"), [
      'spec.yaml:2:1: targetProjet: unknown key "targetProjet"; did you mean "targetProject"?',
    ]);
    assert.deepEqual(await problemLines("task: t\nkubeServiceAccount: sa\n"), [
      'spec.yaml:2:1: kubeServiceAccount: unknown key "kubeServiceAccount"; did you mean "kubeServiceAcct"?',
    ]);
    assert.deepEqual(await problemLines("task: t\nfoo: 1\n"), [
      'spec.yaml:2:1: foo: unknown key "foo"; the keys are: iamRoleARN, inputs, envs, kubeServiceAcct, clusterPool, targetExecutionCluster, targetDomain, targetProject, task, workflow, version, overwriteCache',
    ]);
  });

  test("wrong types say what was expected and what was found", async () => {
    const text = "task: t\nversion: 2\nenvs:\n  FOO: 3\n  BAR: ok\n  ON: true\noverwriteCache: yes\ninputs: [1]\ntargetDomain: {a: 1}\n";
    assert.deepEqual(await problemLines(text), [
      'spec.yaml:2:1: version: expected a string, found number 2; put it in quotes: "2"',
      'spec.yaml:4:3: envs.FOO: expected a string, found number 3; put it in quotes: "3"',
      'spec.yaml:6:3: envs.ON: expected a string, found boolean true; put it in quotes: "true"',
      'spec.yaml:7:1: overwriteCache: expected true or false, found string "yes"',
      "spec.yaml:8:1: inputs: expected a mapping of input names to values, found array [1]",
      'spec.yaml:9:1: targetDomain: expected a string, found object {"a":1}',
    ]);
  });

  test("envs names: every bad or reserved one at its key", async () => {
    assert.deepEqual(await problemLines('task: t\nenvs:\n  OK: "1"\n  "A B": x\n  FLYTE_INTERNAL_EXECUTION_ID: mine\n  TSFLYTE_S3_ENDPOINT: http://x\n  9LIVES: "9"\n'), [
      'spec.yaml:4:3: envs.A B: "A B" is not an environment variable name: use letters, digits, "_", "-" and ".", not starting with a digit',
      "spec.yaml:5:3: envs.FLYTE_INTERNAL_EXECUTION_ID: FLYTE_INTERNAL_EXECUTION_ID is set by tsflyte for every task (FLYTE_INTERNAL_*, FLYTE_ATTEMPT_NUMBER and TSFLYTE_* are reserved); choose another name",
      "spec.yaml:6:3: envs.TSFLYTE_S3_ENDPOINT: TSFLYTE_S3_ENDPOINT is set by tsflyte for every task (FLYTE_INTERNAL_*, FLYTE_ATTEMPT_NUMBER and TSFLYTE_* are reserved); choose another name",
      'spec.yaml:7:3: envs.9LIVES: "9LIVES" is not an environment variable name: use letters, digits, "_", "-" and ".", not starting with a digit',
    ]);
  });

  test("both task and workflow, or neither, is one problem naming both", async () => {
    assert.deepEqual(await problemLines("task: t\nworkflow: w\nversion: v\n"), [
      "spec.yaml:2:1: workflow: both task and workflow are set; keep task to run a task, or workflow to run a launch plan",
    ]);
    assert.deepEqual(await problemLines("version: v\ninputs: {}\n"), [
      "spec.yaml:1:1: neither task nor workflow is set; add `task: NAME` to run a task, or `workflow: NAME` to run a launch plan",
    ]);
  });

  test("task and workflow must be non-empty names", async () => {
    assert.deepEqual(await problemLines('task: ""\n'), ['spec.yaml:1:1: task: expected a non-empty name, found string ""']);
    assert.deepEqual(await problemLines("workflow: 3\n"), ["spec.yaml:1:1: workflow: expected a string, found number 3; put it in quotes: \"3\""]);
  });

  test("every problem at once, in file order, in one error with structured problems", async () => {
    const text = "verison: v1\nenvs:\n  A: 1\ntask: t\nworkflow: w\n";
    try {
      await parseExecutionSpec(text, "multi.yaml");
      assert.fail("parsed");
    } catch (e) {
      assert.ok(e instanceof ExecutionSpecError);
      assert.deepEqual(e.problems, [
        { file: "multi.yaml", line: 1, col: 1, key: "verison", message: 'unknown key "verison"; did you mean "version"?' },
        { file: "multi.yaml", line: 3, col: 3, key: "envs.A", message: 'expected a string, found number 1; put it in quotes: "1"' },
        {
          file: "multi.yaml",
          line: 5,
          col: 1,
          key: "workflow",
          message: "both task and workflow are set; keep task to run a task, or workflow to run a launch plan",
        },
      ]);
    }
  });
});

describe("hostile and odd spec files", () => {
  test("an alias bomb is one problem at the alias that crosses the budget", async () => {
    const lines = ["task: my.module.t1", "inputs:", "  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
    for (const [name, prev] of [["b", "a"], ["c", "b"], ["d", "c"], ["e", "d"], ["f", "e"], ["g", "f"]]) {
      lines.push(`  ${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    }
    const file = tempFile("bomb.yaml", `${lines.join("\n")}\n`);
    await assert.rejects(readExecutionSpec(file), (e: unknown) => {
      assert.ok(e instanceof ExecutionSpecError, String(e));
      assert.equal(e.problems.length, 1);
      assert.match(e.message, new RegExp(`^${file.replace(/[.]/g, "\\.")}:8:10: aliases here stand for more than 100,000 values in all`));
      return true;
    });
  });

  test("nesting deeper than 100 levels, and an alias inside its own anchor, are located", async () => {
    assert.deepEqual(await problemLines(`task: t\ninputs:\n  x: ${"[".repeat(20_000)}\n`), [
      "spec.yaml:3:104: mappings and lists nest more than 100 levels deep here; tsflyte reads at most 100 levels",
    ]);
    assert.deepEqual(await problemLines("task: t\ninputs: &i\n  self: *i\n"), [
      "spec.yaml:3:9: the alias *i stands for a value that holds it, which would never end; write the value out instead",
    ]);
  });

  test("a UTF-16 file is refused by name; a UTF-8 byte order mark is read", async () => {
    const utf16 = tempFile("utf16.yaml", "");
    fs.writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("task: t\n", "utf16le")]));
    await assert.rejects(readExecutionSpec(utf16), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.equal(e.message, `execution spec file ${utf16} is UTF-16 (little-endian) text (it starts with a UTF-16 byte order mark); tsflyte reads UTF-8`);
      assert.equal(e.hint, "re-save the file as UTF-8");
      return true;
    });
    const bom = tempFile("bom.yaml", "\uFEFFtask: t\nversion: v1\n");
    const spec = await readExecutionSpec(bom);
    assert.equal(spec.name, "t");
    assert.deepEqual(spec.positions.get("version"), { line: 2, col: 1 });
  });

  test("a file over the size cap is refused before it is parsed; TSFLYTE_MAX_FILE_SIZE raises the cap", async () => {
    const file = tempFile("big.yaml", `task: t\nenvs:\n${Array.from({ length: 200 }, (_, i) => `  VAR_${i}: value-${i}`).join("\n")}\n`);
    const saved = process.env.TSFLYTE_MAX_FILE_SIZE;
    try {
      process.env.TSFLYTE_MAX_FILE_SIZE = "2KiB";
      await assert.rejects(readExecutionSpec(file), (e: unknown) => {
        assert.ok(e instanceof UserError && !(e instanceof ExecutionSpecError));
        assert.match(e.message, /^execution spec file .*big\.yaml is 3\.\d KiB, more than the 2 KiB tsflyte reads from a file$/);
        assert.equal(e.hint, "if the file is meant to be this large, raise the cap: TSFLYTE_MAX_FILE_SIZE=1MiB");
        return true;
      });
      process.env.TSFLYTE_MAX_FILE_SIZE = "4096";
      assert.equal(Object.keys((await readExecutionSpec(file)).envs).length, 200);
    } finally {
      if (saved === undefined) delete process.env.TSFLYTE_MAX_FILE_SIZE;
      else process.env.TSFLYTE_MAX_FILE_SIZE = saved;
    }
  });
});
