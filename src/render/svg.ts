// Lays DOT out as SVG (`get workflow -o svg`): graphviz's own `dot` when installed, else the bundled WebAssembly
// graphviz, loaded only when needed. Never runs a shell, never waits on `dot` without a deadline.
import { spawn } from "node:child_process";
import { UserError } from "../lib/errors.js";

export interface RenderSvgOptions {
  /** "auto" (default) prefers `dot` on PATH and falls back to WebAssembly when it is missing. */
  engine?: "auto" | "dot" | "wasm";
}

/** SVG text for DOT: graphviz's `dot -Tsvg` when it is on PATH, else @hpcc-js/wasm-graphviz (already a dependency), loaded lazily. */
export async function renderSvg(dot: string, options: RenderSvgOptions = {}): Promise<string> {
  const engine = options.engine ?? "auto";
  if (engine === "wasm") return renderWithWasm(dot);
  try {
    return await renderWithDotCommand(dot);
  } catch (error) {
    if (engine === "auto" && error instanceof DotNotInstalledError) return renderWithWasm(dot);
    throw error;
  }
}

// Layouts of workflow-sized graphs take well under a second; this only guards against a wedged process.
const dotTimeoutMs = 60_000;

const dotNotInstalledBrand = Symbol.for("tsflyte.DotNotInstalledError");

/** Graphviz's `dot` could not be started; `auto` takes this, and only this, as the cue to use WebAssembly. */
export class DotNotInstalledError extends UserError {
  readonly [dotNotInstalledBrand] = true;
  constructor(command: string) {
    super(`graphviz's \`${command}\` command is not installed or not on PATH`, "install graphviz (e.g. apt-get install graphviz), or render with the built-in WebAssembly engine");
    this.name = "DotNotInstalledError";
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[dotNotInstalledBrand] === true;
  }
}

/** Runs `<command> -Tsvg` with the DOT on stdin; `command` and `timeoutMs` exist so tests can stand in a slow or missing `dot`. */
export function renderWithDotCommand(dot: string, options: { command?: string; timeoutMs?: number } = {}): Promise<string> {
  const command = options.command ?? "dot";
  const timeoutMs = options.timeoutMs ?? dotTimeoutMs;
  return new Promise((resolve, reject) => {
    const child = spawn(command, ["-Tsvg"], { stdio: ["pipe", "pipe", "pipe"], shell: false });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let settled = false;
    const finish = (error: Error | undefined, svg?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(svg ?? "");
    };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      finish(new Error(`graphviz \`${command}\` did not finish within ${timeoutMs / 1000}s and was stopped`));
    }, timeoutMs);
    child.on("error", (error: NodeJS.ErrnoException) => {
      finish(error.code === "ENOENT" ? new DotNotInstalledError(command) : new Error(`could not run graphviz \`${command}\`: ${error.message}`));
    });
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    // `dot` stops reading at a syntax error; the broken pipe that follows says nothing its exit status does not.
    child.stdin.on("error", () => {});
    child.on("close", (code, signal) => {
      const message = Buffer.concat(stderr).toString("utf8").trim();
      if (code === 0) finish(undefined, Buffer.concat(stdout).toString("utf8"));
      else finish(new Error(`graphviz \`${command}\` could not lay out the graph (${signal ? `killed by ${signal}` : `exit code ${code}`})${message ? `: ${message}` : ""}`));
    });
    child.stdin.end(dot);
  });
}

type Graphviz = Awaited<ReturnType<(typeof import("@hpcc-js/wasm-graphviz"))["Graphviz"]["load"]>>;
let wasmGraphviz: Promise<Graphviz> | undefined;

async function renderWithWasm(dot: string): Promise<string> {
  wasmGraphviz ??= import("@hpcc-js/wasm-graphviz").then((m) => m.Graphviz.load());
  // A failed load is not cached, so the next call tries again rather than repeating the old failure.
  const graphviz = await wasmGraphviz.catch((error: unknown) => {
    wasmGraphviz = undefined;
    throw error;
  });
  try {
    return graphviz.layout(dot, "svg", "dot");
  } catch (error) {
    throw new Error(`graphviz (WebAssembly) could not lay out the graph: ${error instanceof Error ? error.message.trim() : String(error)}`);
  }
}
