// Hand-made history for the render tests: records as the engine writes them and the views built from them.
// No store or blob store here; values and logs are put straight into the views.
import { executionJson, executionToAdmin, type ExecutionDetailsView, type NodeView } from "../../src/lib/engine/history.js";
import type { ExecutionRecord } from "../../src/lib/store/records.js";

export const t0 = Date.UTC(2024, 4, 1, 12, 0, 0);

export function executionRecord(overrides: Partial<ExecutionRecord> = {}): ExecutionRecord {
  return {
    project: "flytesnacks",
    domain: "development",
    name: "a1b2c3",
    launchKind: "workflow",
    launchName: "examples.spend.calculateSpend",
    launchVersion: "local",
    mode: "MANUAL",
    phase: "SUCCEEDED",
    inputsUri: "file:///data/metadata/flytesnacks-development-a1b2c3/inputs.pb",
    outputsUri: "file:///data/metadata/flytesnacks-development-a1b2c3/outputs.pb",
    overwriteCache: false,
    maxParallelism: 25,
    createdAt: t0,
    startedAt: t0 + 5,
    updatedAt: t0 + 1_317,
    endedAt: t0 + 1_317,
    ...overrides,
  };
}

export const userStack = [
  "Error: spend must not be negative: -3",
  "    at totalSpend (file:///home/ann/flows/examples/spend.ts:21:11)",
  "    at runTask (file:///opt/app/node_modules/tsflyte/dist/lib/engine/in-process.js:40:20)",
  "    at AsyncLocalStorage.run (node:async_hooks:346:14)",
  "    at async Promise.all (index 0)",
  "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
  "    at async /home/ann/flows/examples/helpers.ts:8:3",
  "    at async runNode (/opt/app/node_modules/tsflyte/dist/lib/engine/runner.js:77:9)",
].join("\n");

function failedAttempt(attempt: number): NodeView["attempts"][number] {
  return {
    attempt,
    phase: "FAILED",
    runner: "in-process",
    startedAt: new Date(t0 + 400 + attempt * 100).toISOString(),
    duration: "0.020s",
    error: { kind: "USER", code: "Error", message: "spend must not be negative: -3", recoverable: true, stack: userStack },
    ...(attempt === 1 ? { logs: "computing totals\n" } : {}),
  };
}

/** A workflow whose subworkflow node n1 fails in its second task after three attempts. */
export function failedDetails(): ExecutionDetailsView {
  const record = executionRecord({
    phase: "FAILED",
    outputsUri: undefined,
    error: { kind: "USER", code: "RetriesExhausted|Error", message: "node n1 failed: node n1-0-n1 failed" },
  });
  return {
    execution: executionJson(executionToAdmin(record)),
    inputs: { emp: { name: "ann", spend: [1, -3] }, year: 2024 },
    nodes: [
      {
        nodeId: "n0",
        specNodeId: "n0",
        entity: { kind: "task", name: "examples.spend.payMultiplier" },
        phase: "SUCCEEDED",
        cacheStatus: "CACHE_HIT",
        startedAt: new Date(t0 + 10).toISOString(),
        duration: "0.012s",
        inputs: { year: 2024 },
        outputs: { o0: 1.5 },
        attempts: [],
      },
      {
        nodeId: "n1",
        specNodeId: "n1",
        entity: { kind: "workflow", name: "examples.spend.totals" },
        phase: "FAILED",
        startedAt: new Date(t0 + 30).toISOString(),
        duration: "1.250s",
        error: { kind: "USER", code: "SubworkflowFailed", message: "node n1-0-n1 failed" },
        attempts: [],
        children: [
          {
            nodeId: "n1-0-n0",
            specNodeId: "n0",
            entity: { kind: "task", name: "examples.spend.sumSpend" },
            phase: "SUCCEEDED",
            cacheStatus: "CACHE_POPULATED",
            duration: "0.101s",
            attempts: [{ attempt: 1, phase: "SUCCEEDED", runner: "in-process", startedAt: new Date(t0 + 40).toISOString(), duration: "0.100s" }],
          },
          {
            nodeId: "n1-0-n1",
            specNodeId: "n1",
            entity: { kind: "task", name: "examples.spend.totalSpend" },
            phase: "FAILED",
            cacheStatus: "CACHE_MISS",
            duration: "0.900s",
            error: { kind: "USER", code: "RetriesExhausted|Error", message: "[3/3] currentAttempt done. Last Error: USER::spend must not be negative: -3" },
            retries: 2,
            attempts: [failedAttempt(1), failedAttempt(2), failedAttempt(3)],
          },
        ],
      },
    ],
  };
}
