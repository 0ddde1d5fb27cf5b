// The environment a task container gets from FlytePropeller (flyteplugins' GetExecutionEnvVars), written by the
// subprocess runner and read back by tsflyte-execute into the task's context. Never invents values Flyte does not send
// except TSFLYTE_NODE_ID: Flyte has no node-id variable, so it is also derived from the output prefix.
import type { TaskAttempt } from "../engine/runner.js";
import type { ExecutionKey } from "../store/records.js";

export const attemptEnvNames = {
  executionId: "FLYTE_INTERNAL_EXECUTION_ID",
  executionProject: "FLYTE_INTERNAL_EXECUTION_PROJECT",
  executionDomain: "FLYTE_INTERNAL_EXECUTION_DOMAIN",
  taskProject: "FLYTE_INTERNAL_TASK_PROJECT",
  taskDomain: "FLYTE_INTERNAL_TASK_DOMAIN",
  taskName: "FLYTE_INTERNAL_TASK_NAME",
  taskVersion: "FLYTE_INTERNAL_TASK_VERSION",
  attempt: "FLYTE_ATTEMPT_NUMBER",
  nodeId: "TSFLYTE_NODE_ID",
} as const;

type TaskId = NonNullable<TaskAttempt["taskId"]>;

/** The names a pod's env takes on every Kubernetes version, and that any process environment can hold. */
const envNameRe = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * Why `name` cannot be one of an execution's envs (spec.envs, `--envs`), or undefined when it can. The names tsflyte
 * sets for every attempt are refused rather than overridden: the attempt would no longer know what it is.
 */
export function executionEnvNameProblem(name: string): string | undefined {
  if (!envNameRe.test(name)) return `${JSON.stringify(name)} is not an environment variable name: use letters, digits, "_", "-" and ".", not starting with a digit`;
  if (name.startsWith("FLYTE_INTERNAL_") || name === attemptEnvNames.attempt || name.startsWith("TSFLYTE_")) {
    return `${name} is set by tsflyte for every task (FLYTE_INTERNAL_*, FLYTE_ATTEMPT_NUMBER and TSFLYTE_* are reserved); choose another name`;
  }
  return undefined;
}

/** What a pod running this attempt would find in its environment. */
export function attemptEnvironment(attempt: TaskAttempt, taskId: TaskId | undefined = attempt.taskId): Record<string, string> {
  const n = attemptEnvNames;
  const env: Record<string, string> = {
    [n.executionId]: attempt.execution.name,
    [n.executionProject]: attempt.execution.project,
    [n.executionDomain]: attempt.execution.domain,
    [n.attempt]: String(attempt.attempt),
    [n.nodeId]: attempt.nodeId,
  };
  if (taskId) {
    env[n.taskProject] = taskId.project;
    env[n.taskDomain] = taskId.domain;
    env[n.taskName] = taskId.name;
    env[n.taskVersion] = taskId.version;
  }
  return env;
}

export interface AttemptIdentity {
  execution: ExecutionKey;
  nodeId: string;
  attempt: number;
  taskId?: TaskId;
}

/** The attempt tsflyte-execute runs, as its environment and output prefix describe it; blanks where nothing says. */
export function attemptIdentity(env: Record<string, string | undefined>, outputPrefix: string): AttemptIdentity {
  const n = attemptEnvNames;
  const attempt = Number.parseInt(env[n.attempt] ?? "", 10);
  const taskName = env[n.taskName];
  return {
    execution: { project: env[n.executionProject] ?? "", domain: env[n.executionDomain] ?? "", name: env[n.executionId] ?? "" },
    nodeId: env[n.nodeId] || nodeIdOfOutputPrefix(outputPrefix) || "",
    attempt: Number.isInteger(attempt) && attempt >= 0 ? attempt : 0,
    taskId: taskName
      ? { project: env[n.taskProject] ?? "", domain: env[n.taskDomain] ?? "", name: taskName, version: env[n.taskVersion] ?? "" }
      : undefined,
  };
}

/** Flyte's and tsflyte's layouts both end an attempt's output prefix in `<nodeId>/data/<attempt>`. */
function nodeIdOfOutputPrefix(prefix: string): string | undefined {
  const match = /\/([^/]+)\/data\/\d+\/?$/.exec(prefix);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}
