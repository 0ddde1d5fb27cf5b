// The public face of input handling for `run FILE ENTITY`: flags, inputs files, conversion, help and schema.
// Never depends on oclif or on a command: the command passes argv in and renders what comes back.
export { inputFlagNames, kebabCase, parseInputArgs, type InputFlag, type ParsedInputArgs } from "./flags.js";
export { convertFileValue, convertInputValue, parseDatetime, type ConvertOptions } from "./convert.js";
export { readInputsFile, type InputsFile } from "./file.js";
export { resolveInputs, type ResolveInputsOptions } from "./resolve.js";
export { describeInputs, formatDuration, inputsJsonSchema, type InputHelpRow, type InputsSchemaOptions } from "./describe.js";
export { InputValueError, InputsError, renderProblem, type InputProblem } from "./problems.js";
