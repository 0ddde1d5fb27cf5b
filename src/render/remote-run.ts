// What `run --remote` prints: what was registered, the execution it started and where to follow it, and with
// --wait a live progress line on stderr. Pure apart from the reporter, which writes only to the stream it is given.
import type { RemoteRunOutcome } from "../lib/remote/run.js";
import type { ProgressSnapshot } from "../lib/remote/executions.js";
import { progressChanges, progressLine } from "./progress.js";

/** `follow`: the command that shows the execution (see BaseCommand.detailsCommand). */
export function renderRemoteRun(outcome: RemoteRunOutcome, follow = `tsflyte get execution ${outcome.execution.name} --details`): string {
  const { execution, launched, registered } = outcome;
  const scope = `${execution.project}/${execution.domain}`;
  const lines = [
    `Registered ${registered.length} ${registered.length === 1 ? "entity" : "entities"} for ${launched.name} under version ${launched.version}`,
    `Started execution ${execution.name} in ${scope}`,
  ];
  if (outcome.consoleUrl) lines.push(`Console: ${outcome.consoleUrl}`);
  if (!outcome.result) {
    lines.push(`Follow it: ${follow}`);
  }
  return lines.join("\n");
}

export interface ProgressReporter {
  update: (snapshot: ProgressSnapshot) => void;
  end: () => void;
}

/** On a terminal, one line redrawn in place; on a pipe or log file, a line per change. */
export function progressReporter(stream: NodeJS.WriteStream): ProgressReporter {
  let previous: ProgressSnapshot | undefined;
  let drawn = false;
  return {
    update(snapshot) {
      if (stream.isTTY) {
        const width = Math.max(20, (stream.columns ?? 80) - 1);
        stream.write(`\r\u001b[K${progressLine(snapshot).slice(0, width)}`);
        drawn = true;
      } else {
        for (const line of progressChanges(previous, snapshot)) stream.write(`${line}\n`);
      }
      previous = snapshot;
    },
    end() {
      if (drawn) stream.write("\n");
    },
  };
}
