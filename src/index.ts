// The package entry users import: the authoring API (`task`, `workflow`, `launchPlan`, `t`) and its types.
// Never imports the CLI, the compiler or anything heavy, so importing tsflyte stays fast.
export { task, workflow, launchPlan } from "./lib/sdk/declare.js";
export { conditional, map, after, dynamic } from "./lib/sdk/control-flow.js";
export type { Conditional, Cases, MapInputs, MapOutputs } from "./lib/sdk/control-flow.js";
export { approve, waitForInput, sleep } from "./lib/sdk/gates.js";
export type { GateOptions, WaitForInputOptions } from "./lib/sdk/gates.js";
export type { Condition, NodeOverrides, MapOptions } from "./lib/sdk/trace.js";
export type { FlyteErrorValue } from "./lib/types/types.js";
export type { Task, Workflow, LaunchPlan, LaunchPlanOptions, LaunchPlanInputs } from "./lib/sdk/declare.js";
export { t } from "./lib/types/types.js";
export type { AnyType, ValueOf, StructOptions, DataFrameOptions } from "./lib/types/types.js";
export { FlyteFile, FlyteDirectory, StructuredDataset } from "./lib/types/values.js";
export type {
  Ref,
  RefOf,
  Bindable,
  CallInputs,
  CallResult,
  InputValues,
  OutputValues,
  InputsDecl,
  OutputsDecl,
  NodeHandle,
} from "./lib/sdk/interface.js";
export type { TaskOptions, WorkflowOptions, FailurePolicy, TaskContext, TaskPlugin, Resources, CacheOptions, Schedule } from "./lib/sdk/options.js";
export { UserError, CompileError, TypeMismatchError, NonRetryableError, ExecutionFailedError } from "./lib/errors.js";
