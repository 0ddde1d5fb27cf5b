// The options users give `task`, `workflow` and `launchPlan`, and the task context a task function receives.
// Types only; checking them is the compiler's job, so declarations stay cheap at import time.
import type { InputsDecl, OutputsDecl } from "./interface.js";
import type { Entity } from "./entity.js";

export type FailurePolicy = "fail-immediately" | "fail-after-executable-nodes-complete";

/** Kubernetes-style quantities: `cpu: "500m"` or `1`, `mem: "100Mi"`. */
export interface Resources {
  cpu?: string | number;
  mem?: string;
  gpu?: string | number;
  ephemeralStorage?: string;
}

export interface CacheOptions<I> {
  /** Bump it to invalidate earlier results of this task. */
  version: string;
  /** Run identical concurrent executions once; the others wait for its result. */
  serialize?: boolean;
  /** Inputs left out of the cache key. */
  ignoredInputs?: readonly (keyof I & string)[];
}

/**
 * Room for task plugins (container tasks, Ray, Spark): a plugin sets the Flyte task type and the plugin
 * configuration recorded in `TaskTemplate.custom`.
 */
export interface TaskPlugin {
  readonly taskType: string;
  readonly taskTypeVersion?: number;
  custom(): Record<string, unknown>;
}

export interface TaskOptions<I extends InputsDecl, O extends OutputsDecl> {
  /** Full name; defaults to `<module path as dots>.<export name>`. */
  name?: string;
  description?: string;
  inputs?: I;
  outputs?: O;
  cache?: CacheOptions<I> | false;
  /** Retries of user errors (a plain thrown Error); system errors have their own budget. */
  retries?: number;
  /** "10m", "1h30m", ISO 8601 or milliseconds. */
  timeout?: string | number;
  interruptible?: boolean;
  requests?: Resources;
  limits?: Resources;
  /** Container image for this task; defaults to the image given at compile or register time. */
  image?: string;
  env?: Record<string, string>;
  plugin?: TaskPlugin;
}

export interface WorkflowOptions<I extends InputsDecl, O extends OutputsDecl> {
  name?: string;
  description?: string;
  inputs?: I;
  outputs?: O;
  /**
   * A task or workflow that runs once when this workflow fails (Flyte's failure node): it gets the workflow's inputs
   * by name and the error as `err: t.error()` when it declares that input. (The policy strings are the older spelling
   * of `failurePolicy`.)
   */
  onFailure?: Entity | FailurePolicy;
  /** Whether a failed node stops the workflow at once (default) or lets running nodes finish. */
  failurePolicy?: FailurePolicy;
}

/** When a launch plan runs by itself: a cron expression, or a fixed rate such as "10m", "1h", "1d". */
export type Schedule =
  | { cron: string; kickoffTimeInput?: string }
  | { rate: string; kickoffTimeInput?: string };

/** What a running task gets as its second argument. */
export interface TaskContext {
  executionId: string;
  nodeId: string;
  /** 0 for the first attempt. */
  attempt: number;
  signal: AbortSignal;
  logger: {
    info(message: string, fields?: Record<string, unknown>): void;
    warn(message: string, fields?: Record<string, unknown>): void;
    error(message: string, fields?: Record<string, unknown>): void;
  };
}
