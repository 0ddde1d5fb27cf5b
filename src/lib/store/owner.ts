// Which process owns a running execution, and whether that process still runs, so a crashed run can be failed.
// Must never call a live process dead: when in doubt (no /proc, no permission) the answer is "alive".
import { readFileSync } from "node:fs";
import { hostname } from "node:os";

/** The process that runs an execution, as ExecutionRecord.owner stores it. */
export interface ExecutionOwner {
  host: string;
  pid: number;
  /**
   * When the process started, only ever compared for equality: on Linux the raw start time from
   * `/proc/<pid>/stat` (clock ticks since boot), elsewhere milliseconds since the epoch.
   */
  startedAt: number;
}

let self: ExecutionOwner | undefined;
/** Whether this host's owners carry /proc start times; decided once, with the same answer currentOwner used. */
let procStartTimes: boolean | undefined;

/** This process. The start time tells it apart from a later process that is given the same pid. */
export function currentOwner(): ExecutionOwner {
  if (!self) {
    const proc = readProcStat("self");
    procStartTimes = proc !== undefined;
    self = { host: hostname(), pid: process.pid, startedAt: proc ? proc.startTicks : Math.round(Date.now() - process.uptime() * 1000) };
  }
  return { ...self };
}

/**
 * Whether the process that `currentOwner()` described on this host still runs. On Linux a pid that now belongs
 * to a process started at another time, and a zombie, count as gone; elsewhere only the pid can be checked.
 */
export function isOwnerAlive(owner: { pid: number; startedAt: number }): boolean {
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  if (procStartTimes === undefined) currentOwner();
  if (procStartTimes) {
    const proc = readProcStat(owner.pid);
    if (proc) return proc.startTicks === owner.startedAt && proc.state !== "Z" && proc.state !== "X";
  }
  // No /proc entry can also mean hidepid hides another user's process, so the kernel has the last word.
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

interface ProcStat {
  state: string;
  startTicks: number;
}

/** `/proc/<pid>/stat` fields 3 (state) and 22 (starttime), or undefined when it cannot be read. */
function readProcStat(pid: number | "self"): ProcStat | undefined {
  if (process.platform !== "linux") return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // Field 2 is the command name in parentheses and may itself contain spaces and ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const startTicks = Number(fields[22 - 3]);
  return state && Number.isSafeInteger(startTicks) ? { state, startTicks } : undefined;
}
