// The in-process task runner: calls the task function in this process, with its inputs converted from literals
// and its console output captured per attempt. Never lets one attempt's logs leak into another's.
import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";
import { create } from "@bufbuild/protobuf";
import { LiteralMapSchema, type Literal, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import { describeValue } from "../errors.js";
import type { TaskContext } from "../sdk/options.js";
import type { AnyType } from "../types/types.js";
import { literalMapOf } from "./literal-bytes.js";
import { literalMapToValues, typeNeedsData, valuesToLiteralMap } from "./offload.js";
import type { AttemptError, AttemptOutcome, DynamicOutcome, TaskAttempt, TaskRunner } from "./runner.js";
import { dynamicJobSpec } from "../compiler/emit-dynamic.js";
import { definitionOf, type Entity, type TaskDefinition } from "../sdk/entity.js";
import { traceDynamic } from "../sdk/trace.js";
import { UserError } from "../errors.js";
import { localIdentifier } from "./plan.js";
import { classifyTaskError } from "./task-error.js";

/** Where a task's console output goes besides its attempt's log: nowhere, stderr, or the console as usual. */
export type LogEcho = "none" | "stderr" | "console";

interface LogSink {
  lines: string[];
  echo: LogEcho;
  prefix: string;
  /** Set when the task crashed the process it would have had to itself: process.exit or an uncaught error. */
  crash?: (error: AttemptError) => void;
}

const sinks = new AsyncLocalStorage<LogSink>();
const consoleMethods = ["log", "info", "warn", "error", "debug"] as const;
let consolePatched = false;
const originalConsole: Partial<Record<(typeof consoleMethods)[number], (...args: unknown[]) => void>> = {};

/** Routes console calls made inside a running task to its attempt's log; outside a task nothing changes. */
function patchConsole(): void {
  if (consolePatched) return;
  consolePatched = true;
  for (const method of consoleMethods) {
    const original = console[method].bind(console) as (...args: unknown[]) => void;
    originalConsole[method] = original;
    console[method] = (...args: unknown[]) => {
      const sink = sinks.getStore();
      if (!sink) return original(...args);
      writeLine(sink, method === "log" ? "" : method, format(...args), original);
    };
  }
}

function writeLine(sink: LogSink, level: string, text: string, original?: (...args: unknown[]) => void): void {
  const line = level ? `[${level}] ${text}` : text;
  sink.lines.push(line);
  if (sink.echo === "stderr") process.stderr.write(`${sink.prefix}${line}\n`);
  else if (sink.echo === "console") (original ?? originalConsole.log ?? console.log)(text);
}

function loggerFor(sink: LogSink): TaskContext["logger"] {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    writeLine(sink, level, fields ? `${message} ${JSON.stringify(fields)}` : message, originalConsole.error);
  return { info: write("info"), warn: write("warn"), error: write("error") };
}

let crashesContained = false;

/**
 * In a process of its own, a task that calls process.exit or leaves an uncaught error behind kills its process:
 * a SYSTEM failure. In-process it would kill tsflyte, so while the CLI runs tasks both end only that attempt.
 */
function containCrashes(): void {
  if (crashesContained) return;
  crashesContained = true;
  const exit = process.exit.bind(process);
  process.exit = ((code?: number | string | null) => {
    const sink = sinks.getStore();
    if (!sink?.crash) return exit(code as number | undefined);
    sink.crash({ kind: "SYSTEM", recoverable: true, code: "TaskExited", message: `the task called process.exit(${code ?? ""}), which ends its process` });
    throw new TaskExited();
  }) as typeof process.exit;
  const onCrash = (kind: string) => (error: unknown) => {
    const crash = sinks.getStore()?.crash;
    if (!crash) {
      process.stderr.write(`tsflyte: ${kind} outside any task:\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      return exit(70);
    }
    const message = error instanceof Error ? error.message : String(error);
    crash({ kind: "SYSTEM", recoverable: true, code: "TaskCrashed", message: `the task crashed its process with an ${kind}: ${message}`, stack: error instanceof Error ? error.stack : undefined });
  };
  process.on("uncaughtException", onCrash("uncaught exception"));
  process.on("unhandledRejection", onCrash("unhandled promise rejection"));
}

class TaskExited extends Error {}

export interface InProcessRunnerOptions {
  echo?: LogEcho;
  /** Turn process.exit and uncaught errors inside tasks into SYSTEM failures of their attempt (CLI runs). */
  containCrashes?: boolean;
}

export class InProcessRunner implements TaskRunner {
  readonly name = "in-process";
  private readonly echo: LogEcho;
  private readonly contain: boolean;
  constructor(options: InProcessRunnerOptions = {}) {
    this.echo = options.echo ?? "none";
    this.contain = options.containCrashes ?? false;
    patchConsole();
    if (this.contain) containCrashes();
  }

  async run(attempt: TaskAttempt): Promise<AttemptOutcome> {
    const sink: LogSink = { lines: [], echo: this.echo, prefix: `[${attempt.nodeId}] ` };
    const logs = () => (sink.lines.length ? `${sink.lines.join("\n")}\n` : "");
    let crashed: Promise<AttemptOutcome> | undefined;
    if (this.contain) {
      crashed = new Promise((resolve) => {
        // Stays set after the first crash or the end of the attempt: a late crash of this task is swallowed.
        sink.crash = (error) => resolve({ ok: false, error, logs: logs() });
      });
    }
    const running = this.attempt(attempt, sink, logs);
    return crashed ? Promise.race([running, crashed]) : running;
  }

  private async attempt(attempt: TaskAttempt, sink: LogSink, logs: () => string): Promise<AttemptOutcome> {
    const def = attempt.task.definition;
    if (!def) throw new Error(`the in-process runner needs the task's definition in this process; ${attempt.task.name} has none`);
    try {
      const inputs = await toValues(def.inputs, attempt.inputs, attempt);
      const context: TaskContext = {
        executionId: attempt.execution.name,
        nodeId: attempt.nodeId,
        attempt: attempt.attempt,
        // Made on first use: most tasks never look at their signal or logger.
        get signal() {
          return attempt.signal;
        },
        get logger() {
          return loggerFor(sink);
        },
      };
      if (def.dynamic) return { ok: true, outputs: create(LiteralMapSchema, {}), logs: logs(), dynamic: sinks.run(sink, () => buildDynamic(def, inputs, attempt)) };
      const result = await sinks.run(sink, () => def.fn(inputs, context));
      const outputs = await toLiterals(def.outputs, def.singleOutput, result, attempt);
      return { ok: true, outputs, logs: logs() };
    } catch (thrown) {
      if (thrown instanceof TaskExited) return new Promise(() => undefined); // the crash already ended the attempt
      return { ok: false, error: classifyTaskError(thrown), logs: logs() };
    }
  }
}

/** Names unique per definition, for a process that learns the registered names later (tsflyte-execute). */
function placeholderNames(): (entity: Entity) => string {
  const names = new Map<unknown, string>();
  return (entity) => {
    const definition = definitionOf(entity);
    let name = names.get(definition);
    if (!name) names.set(definition, (name = definition?.explicitName ?? `entity-${names.size}`));
    return name;
  };
}

/** Runs a dynamic workflow's body on its inputs and names what it calls as this process's engine does. */
function buildDynamic(def: TaskDefinition, inputs: Record<string, unknown>, attempt: TaskAttempt): DynamicOutcome {
  const nameOf = attempt.nameOf ?? placeholderNames();
  const traced = traceDynamic(def, inputs, nameOf);
  const entities = new Map<string, Entity>();
  const { spec, problems } = dynamicJobSpec(traced, def, nameOf, (entity, definition) => {
    const name = nameOf(entity);
    entities.set(`${definition.kind}:${name}`, entity);
    return localIdentifier(definition.kind, name);
  });
  if (!spec) throw new UserError(`the dynamic workflow ${attempt.task.name} built a workflow that cannot run:\n  ${problems.join("\n  ")}`);
  return { spec, entities };
}

const needsData = new WeakMap<Record<string, AnyType>, boolean>();

/** Whether any of these types holds files, directories or tables; asked once per task's inputs and outputs. */
function anyNeedsData(types: Record<string, AnyType>): boolean {
  let answer = needsData.get(types);
  if (answer === undefined) needsData.set(types, (answer = Object.values(types).some(typeNeedsData)));
  return answer;
}

async function toValues(types: Record<string, AnyType>, map: LiteralMap, attempt: TaskAttempt): Promise<Record<string, unknown>> {
  if (anyNeedsData(types)) return literalMapToValues(types, map, { store: attempt.blobs, at: "input" });
  const values: Record<string, unknown> = {};
  for (const name in types) {
    const literal = map.literals[name];
    values[name] = literal === undefined ? null : types[name].fromLiteral(literal, name);
  }
  return values;
}

/** Checks what the task returned against its declared outputs; a mismatch is the task's (user) error. */
async function toLiterals(types: Record<string, AnyType>, single: boolean, result: unknown, attempt: TaskAttempt): Promise<LiteralMap> {
  const names = Object.keys(types);
  if (names.length === 0) return create(LiteralMapSchema, {});
  let values: Record<string, unknown>;
  if (single) values = { [names[0]]: result };
  else if (typeof result === "object" && result !== null && !Array.isArray(result)) values = result as Record<string, unknown>;
  else throw new TypeError(`the task returned ${describeValue(result)}; it must return an object with ${names.join(", ")}`);
  if (anyNeedsData(types)) {
    return valuesToLiteralMap(types, values, { store: attempt.blobs, rawPrefix: attempt.rawOutputPrefix, at: "output" });
  }
  const literals: Record<string, Literal> = {};
  for (const name of names) literals[name] = types[name].toLiteral(values[name], single ? "output" : `output ${name}`);
  return literalMapOf(literals);
}
