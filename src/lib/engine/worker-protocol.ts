// The messages between the worker pool and its warm worker processes, and the marker that ends an attempt's output.
// Never carries data the blob store holds: inputs, outputs and errors go through files, as they do for a pod.

/** Pool → worker: run tsflyte-execute with these arguments (without the command), environment and folder. */
export interface RunRequestMessage {
  type: "run";
  id: number;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

export type WorkerMessage =
  | { type: "ready" }
  | {
      type: "done";
      id: number;
      /** What tsflyte-execute would have exited with (see ExecuteResult). */
      exitCode: number;
      /** The task's console output and tsflyte-execute's own messages. */
      logs: string;
      /** The task crashed its process (process.exit, an uncaught error): this worker must not run another. */
      retire: boolean;
      /** The streams that got an end marker: those written to since the last one. Quiet streams get none. */
      marked: Array<"stdout" | "stderr">;
    };

/**
 * Written to the worker's stdout or stderr after an attempt that wrote to it, before "done": what came before it on
 * that stream is the attempt's output, whatever order the pipes and the IPC channel deliver in.
 */
export function attemptEndMarker(id: number): string {
  return `\u001b[tsflyte-attempt-end:${id}]\u001b\n`;
}

// The escape characters are the point: task output does not hold them in this order.
// eslint-disable-next-line no-control-regex
export const attemptEndPattern = /\u001b\[tsflyte-attempt-end:(\d+)\]\u001b\n/;
