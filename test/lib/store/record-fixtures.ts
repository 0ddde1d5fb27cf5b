// Records the store tests write and read back: one of each kind with every field set, and builders for minimal ones.
// Shared by the SQLite tests and the control-plane suite that runs on SQLite and PostgreSQL.
import type { CacheEntryRecord, ExecutionKey, ExecutionRecord, NodeExecutionRecord, TaskExecutionRecord } from "../../../src/lib/store/records.js";

export const key: ExecutionKey = { project: "flytesnacks", domain: "development", name: "abc123" };

export function execution(overrides: Partial<ExecutionRecord> = {}): ExecutionRecord {
  return {
    ...key,
    launchKind: "workflow",
    launchName: "examples.spend.calculateSpend",
    launchVersion: "local",
    mode: "MANUAL",
    phase: "RUNNING",
    inputsUri: "file:///tmp/metadata/flytesnacks-development-abc123/inputs.pb",
    overwriteCache: false,
    maxParallelism: 25,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_500,
    ...overrides,
  };
}

export const fullExecution: ExecutionRecord = execution({
  launchKind: "launchPlan",
  source: { file: "/home/me/project/workflows/spend.ts", exportName: "calculateSpend" },
  mode: "RECOVERED",
  sourceExecution: "zzz999",
  phase: "ABORTED",
  error: { kind: "USER", code: "ValueError", message: "boom", recoverable: false, stack: "at spend.ts:3:7", errorUri: "file:///e/error.pb" },
  outputsUri: "file:///tmp/metadata/flytesnacks-development-abc123/outputs.pb",
  overwriteCache: true,
  owner: { host: "box", pid: 4242, startedAt: 123_456_789 },
  abort: { cause: "wrong inputs, résumé attached", principal: "alice@example.com" },
  launchProject: "shared",
  launchDomain: "production",
  principal: "sdk",
  settings: {
    labels: { team: "spend", "example.com/tier": "gold" },
    annotations: { "example.com/owner": "Zoë <zoe@example.com>", note: "" },
    // In the order given, which a reader may rely on.
    envs: { ZETA: "last letter", ALPHA: "a=b; c", EMPTY: "" },
    serviceAccount: "spend-runner",
    iamRole: "arn:aws:iam::123456789012:role/spend",
    authRole: { assumableIamRole: "arn:aws:iam::123456789012:role/spend", kubernetesServiceAccount: "" },
    rawOutputPrefix: "s3://spend-data/raw",
    clusterPool: "gpu",
    executionClusterLabel: "us-east-1a",
    interruptible: false,
    disableAllNotifications: true,
  },
  startedAt: 1_700_000_000_100,
  endedAt: 1_700_000_000_900,
});

export function node(overrides: Partial<NodeExecutionRecord> = {}): NodeExecutionRecord {
  return {
    project: key.project,
    domain: key.domain,
    executionName: key.name,
    nodeId: "n0",
    specNodeId: "n0",
    entityKind: "task",
    entityName: "examples.spend.sum",
    isParent: false,
    phase: "RUNNING",
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...overrides,
  };
}

export const fullNode: NodeExecutionRecord = node({
  nodeId: "n1-0-n0",
  parentNodeId: "n1",
  entityKind: "workflow",
  isParent: true,
  phase: "RECOVERED",
  cacheStatus: "CACHE_HIT",
  cacheKey: "k-1",
  inputsUri: "file:///in.pb",
  outputsUri: "file:///out.pb",
  error: { kind: "SYSTEM", code: "X", message: "", recoverable: true, stack: "", errorUri: "file:///err.pb" },
  recoveredFrom: "old111",
  startedAt: 1_700_000_000_001,
  endedAt: 1_700_000_000_002,
});

export function task(overrides: Partial<TaskExecutionRecord> = {}): TaskExecutionRecord {
  return {
    project: key.project,
    domain: key.domain,
    executionName: key.name,
    nodeId: "n0",
    attempt: 0,
    taskName: "examples.spend.sum",
    runner: "in-process",
    phase: "RUNNING",
    startedAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...overrides,
  };
}

export const fullTask: TaskExecutionRecord = task({
  attempt: 2,
  runner: "subprocess",
  phase: "RETRYABLE_FAILED",
  error: { kind: "UNKNOWN", code: "OOM", message: "killed" },
  outputsUri: "file:///o.pb",
  logsUri: "file:///logs.txt",
  endedAt: 1_700_000_000_003,
});

export const cacheEntry: CacheEntryRecord = {
  key: "examples.spend.sum:v1:abcdef",
  taskName: "examples.spend.sum",
  cacheVersion: "v1",
  outputsUri: "file:///cached/outputs.pb",
  project: key.project,
  domain: key.domain,
  executionName: key.name,
  nodeId: "n0",
  createdAt: 1_700_000_000_000,
};
