// Parses tsflyte-execute's arguments, exactly as FlytePropeller passes them to a task container (DESIGN.md, the
// task container contract). Never reads the environment or touches files: a bad command line is a usage error.

export interface ExecuteArgs {
  /** `--inputs`: the binary LiteralMap the task reads. */
  inputs: string;
  /** `--output-prefix`: outputs.pb or error.pb go here. */
  outputPrefix: string;
  /** `--raw-output-data-prefix`: files, directories and tables the task returns. */
  rawOutputPrefix: string;
  /** Accepted for the contract; tsflyte tasks have no checkpoint API yet. */
  checkpointPath?: string;
  prevCheckpoint?: string;
  /** `--code-bundle`: the code bundle tar in the blob store; `module` is then relative to its root, else to the cwd. */
  codeBundle?: string;
  /** The task's module, relative to the code bundle or the working directory. */
  module: string;
  exportName: string;
}

export const executeUsage = `usage: tsflyte-execute --inputs URI --output-prefix URI --raw-output-data-prefix URI
                       [--checkpoint-path URI] [--prev-checkpoint URI] [--code-bundle URI]
                       -- MODULE EXPORT

Runs one attempt of a tsflyte task as FlytePropeller runs a task container: reads the LiteralMap at
--inputs, runs EXPORT of MODULE, and writes outputs.pb or error.pb under --output-prefix (exit 0 either way).
MODULE is relative to the code bundle when --code-bundle is given, else to the current folder.
`;

/** Thrown for a command line that does not follow the contract; the caller prints it with the usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const flags = {
  "--inputs": "inputs",
  "--output-prefix": "outputPrefix",
  "--raw-output-data-prefix": "rawOutputPrefix",
  "--checkpoint-path": "checkpointPath",
  "--prev-checkpoint": "prevCheckpoint",
  "--code-bundle": "codeBundle",
} as const satisfies Record<string, keyof ExecuteArgs>;

const required = ["--inputs", "--output-prefix", "--raw-output-data-prefix"] as const;

export function isHelpRequest(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/** The parsed command line; a UsageError naming the first problem otherwise. */
export function parseExecuteArgs(argv: readonly string[]): ExecuteArgs {
  if (argv.length === 0) throw new UsageError("no arguments");
  const given: Partial<Record<keyof ExecuteArgs, string>> = {};
  let i = 0;
  for (; i < argv.length && argv[i] !== "--"; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const key = (flags as Record<string, keyof ExecuteArgs | undefined>)[name];
    if (!key) throw new UsageError(arg.startsWith("-") ? `unknown flag ${name}` : `unexpected argument "${arg}" before "--"`);
    if (key in given) throw new UsageError(`${name} given twice`);
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      // An empty value is fine: FlytePropeller substitutes "" for {{.prevCheckpointPrefix}} on a first attempt.
      if (i + 1 >= argv.length || argv[i + 1] === "--" || flags[argv[i + 1] as keyof typeof flags]) throw new UsageError(`${name} needs a value`);
      value = argv[++i];
    }
    given[key] = value;
  }
  for (const flag of required) {
    if (!given[flags[flag]]) throw new UsageError(`${flag} is required`);
  }
  const positional = argv.slice(i + 1);
  if (i >= argv.length || positional.length < 2) throw new UsageError(`give the task after "--": -- MODULE EXPORT`);
  if (positional.length > 2) throw new UsageError(`expected MODULE EXPORT after "--", got ${positional.length} arguments`);
  const [module, exportName] = positional;
  if (!module || !exportName) throw new UsageError("MODULE and EXPORT must not be empty");
  return {
    inputs: given.inputs!,
    outputPrefix: given.outputPrefix!.replace(/\/+$/, ""),
    rawOutputPrefix: given.rawOutputPrefix!.replace(/\/+$/, ""),
    checkpointPath: given.checkpointPath || undefined,
    prevCheckpoint: given.prevCheckpoint || undefined,
    codeBundle: given.codeBundle || undefined,
    module,
    exportName,
  };
}
