// The execution spec file behind `get task|launchplan NAME --execFile F` and `create execution --execFile F`.
// Never talks to a server or prints: commands fetch the entity, call these, and render what comes back.
export { generateExecutionSpec, type GenerateOptions } from "./generate.js";
export { locateEntityMessage, parseExecutionSpec, readExecutionSpec, specKeyLocation, type ExecutionSpecFile, type SpecPosition } from "./parse.js";
export { specInputsToLiterals, type SpecInputsOptions } from "./inputs.js";
export type { SpecEntity, SpecVariable } from "./entity.js";
export { ExecutionSpecError, type ExecutionSpecProblem } from "../errors.js";
