// `--envs NAME=VALUE` flags of `create execution --execFile`: every name kept as given, bad ones refused.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseEnvsFlags } from "../../../src/lib/remote/exec-spec.js";
import { executionOptionsSpec } from "../../../src/lib/remote/executions.js";

describe("--envs", () => {
  test("each NAME=VALUE is kept, a value may hold = or be empty, and a later flag beats an earlier one", () => {
    assert.deepEqual({ ...parseEnvsFlags(["A=1", "B=x=y", "C=", "A=2"]) }, { A: "2", B: "x=y", C: "" });
  });

  test("__proto__ is a name like any other: it reaches the execution's spec, and no prototype is touched", () => {
    const envs = parseEnvsFlags(["__proto__=x", "LOG=debug"]);
    assert.deepEqual(Object.keys(envs), ["__proto__", "LOG"]);
    assert.deepEqual(executionOptionsSpec({ envs: { ...envs } }).envs, { values: [{ key: "__proto__", value: "x" }, { key: "LOG", value: "debug" }] });
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  test("a flag that is not NAME=VALUE is refused with how to write it", () => {
    assert.throws(() => parseEnvsFlags(["=1"]), /--envs "=1" is not NAME=VALUE/);
    assert.throws(() => parseEnvsFlags(["LOG"]), /write it as e\.g\. --envs LOG_LEVEL=debug|is not NAME=VALUE/);
  });
});
