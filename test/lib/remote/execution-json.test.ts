// The protobuf-free renaming `get execution` uses: FlyteAdmin's snake_case JSON must come out exactly as the protobuf
// runtime writes proto3 JSON, map keys (input names) and Struct contents untouched.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, toJson, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromMs, durationFromMs } from "@bufbuild/protobuf/wkt";
import { ExecutionListSchema, ExecutionSchema } from "../../../src/lib/idl/gen/flyteidl/admin/execution_pb.js";
import { executionViewFromJson, fieldSelectorFilters, toProtoJsonNames } from "../../../src/lib/remote/execution-json.js";

function sample() {
  return create(ExecutionSchema, {
    id: { project: "flytesnacks", domain: "development", name: "abc" },
    spec: {
      launchPlan: { resourceType: 3, project: "flytesnacks", domain: "development", name: "wf.calc", version: "v1" },
      inputs: {
        literals: {
          max_rows: { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "integer", value: 3n } } } } } },
          point_struct: { value: { case: "scalar", value: { value: { case: "generic", value: { snake_key: 1, nested_obj: { inner_key: "x" } } } } }, metadata: { my_meta: "v" } },
          many_things: {
            value: {
              case: "map",
              value: { literals: { inner_name: { value: { case: "scalar", value: { value: { case: "primitive", value: { value: { case: "stringValue", value: "s" } } } } } } } },
            },
          },
        },
      },
      metadata: { mode: 1, systemMetadata: { executionCluster: "c" }, referenceExecution: { project: "p", domain: "d", name: "src_exec" } },
      labels: { values: { team_name: "data" } },
      overwriteCache: true,
      maxParallelism: 25,
    },
    closure: {
      phase: 4,
      startedAt: timestampFromMs(Date.UTC(2026, 10, 26, 6, 0, 0, 123)),
      createdAt: timestampFromMs(Date.UTC(2026, 10, 26, 5, 59, 59, 0)),
      duration: durationFromMs(1500),
      outputResult: { case: "error", value: { code: "USER:Boom", message: "it broke", kind: 1, errorUri: "" } },
      workflowId: { resourceType: 2, project: "flytesnacks", domain: "development", name: "wf.calc", version: "v1" },
    },
  });
}

test("snake_case JSON renamed by the table equals the runtime's proto3 JSON, input names and Struct keys kept", () => {
  const message = sample();
  const snake = toJson(ExecutionSchema, message, { useProtoFieldName: true, alwaysEmitImplicit: true });
  const camel = toJson(ExecutionSchema, message, { alwaysEmitImplicit: true });
  assert.deepEqual(toProtoJsonNames(snake, "flyteidl.admin.Execution"), camel);
  // FlyteAdmin writes unset messages as null: they are left out, as proto3 JSON does.
  const withNulls = { ...(snake as JsonObject), closure: { ...((snake as JsonObject).closure as JsonObject), state_change_details: null } };
  assert.deepEqual(toProtoJsonNames(withNulls, "flyteidl.admin.Execution"), camel);
  // Already camelCase (a server that answers in JSON names) passes through unchanged.
  assert.deepEqual(toProtoJsonNames(camel, "flyteidl.admin.Execution"), camel);
  const renamed = toProtoJsonNames(snake, "flyteidl.admin.Execution") as any;
  assert.ok("max_rows" in renamed.spec.inputs.literals);
  assert.deepEqual(renamed.spec.inputs.literals.point_struct.scalar.generic, { snake_key: 1, nested_obj: { inner_key: "x" } });
  assert.deepEqual(renamed.spec.labels.values, { team_name: "data" });
});

test("lists rename too, and unknown fields from a newer FlyteAdmin pass through", () => {
  const list = create(ExecutionListSchema, { executions: [sample(), sample()], token: "t" });
  const snake = toJson(ExecutionListSchema, list, { useProtoFieldName: true, alwaysEmitImplicit: true }) as JsonObject;
  (snake.executions as JsonObject[])[0].brand_new_field = { some_key: 1 };
  const out = toProtoJsonNames(snake, "flyteidl.admin.ExecutionList") as any;
  assert.deepEqual(out.executions[0].brand_new_field, { some_key: 1 });
  assert.equal(out.executions[1].spec.overwriteCache, true);
});

test("the view reads name, launch, phase, mode, times and error from the JSON", () => {
  const json = toJson(ExecutionSchema, sample(), { alwaysEmitImplicit: true }) as JsonObject;
  const view = executionViewFromJson(json);
  assert.deepEqual(
    { ...view, execution: undefined },
    {
      name: "abc",
      project: "flytesnacks",
      domain: "development",
      launched: { kind: "workflow", name: "wf.calc", version: "v1" },
      phase: "SUCCEEDED",
      mode: "SCHEDULED",
      createdAt: "2026-11-26T05:59:59Z",
      sourceExecution: "src_exec",
      startedAt: "2026-11-26T06:00:00.123Z",
      duration: "1.500s",
      error: { kind: "USER", code: "USER:Boom", message: "it broke" },
      execution: undefined,
    },
  );
});

test("field selectors become FlyteAdmin filters; junk is a clear error", () => {
  assert.equal(fieldSelectorFilters("phase=FAILED, execution.name!=x"), "eq(phase,FAILED)+ne(name,x)");
  assert.equal(fieldSelectorFilters(""), undefined);
  assert.throws(() => fieldSelectorFilters("phase"), /"phase" is not key=value/);
});
