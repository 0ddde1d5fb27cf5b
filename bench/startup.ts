// Benchmarks start-up: wall time of `tsflyte --version` and `tsflyte run` on a one-task workflow, beside `node -e 0` and
// a minimal oclif CLI, as child processes interleaved in the same run. Never asserts timings and never builds the CLI.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkBuild, describeMachine, loadAverage, median, minimalCli, printTable, projectRoot, timeInRounds, type Subject } from "./support/child-timing.js";

const goalRatio = 2;
const rounds = 12;

console.log(`goal: \`tsflyte run\` of a one-task workflow within ${goalRatio}x of a minimal oclif CLI's start-up`);
console.log(describeMachine());
if (!checkBuild(["dist/commands/run.js", "oclif.manifest.json"])) {
  process.exitCode = 1;
} else {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-bench-startup-"));
  try {
    const home = join(dir, "home");
    const minimalPlain = await minimalCli(dir, false);
    const minimalManifest = await minimalCli(dir, true);
    const tsflyte = join(projectRoot, "bin/run.js");
    const runArgs = [tsflyte, "run", "examples/hello.ts", "hello", "--who", "bench"];
    const subjects: Subject[] = [
      { label: "node -e 0", args: ["-e", "0"], expect: /^$/ },
      { label: "minimal oclif hello (no manifest)", args: [minimalPlain, "hello"], expect: /^hello$/m },
      { label: "minimal oclif hello (manifest)", args: [minimalManifest, "hello"], expect: /^hello$/m },
      { label: "tsflyte --version", args: [tsflyte, "--version"], expect: /^tsflyte\/\d/ },
      { label: "tsflyte run examples/hello.ts hello", args: runArgs, expect: /SUCCEEDED[\s\S]*hello, bench/, env: { ...process.env, TSFLYTE_HOME: home } },
    ];
    console.log(`wall time from spawn to exit of each child process (${process.execPath}), cwd ${projectRoot}`);
    console.log(`${rounds} rounds after one untimed warm-up round (which also creates the run's TSFLYTE_HOME in ${dir});`);
    console.log("each round runs every command once, in an order rotated by one per round; every run's exit code and output checked");
    console.log("ratio = median / median of the minimal oclif CLI with a manifest (tsflyte ships one: oclif.manifest.json from `npm run build`)");
    console.log(`tsflyte run: ${runArgs.slice(1).join(" ")} (a workflow of one task; history in a SQLite file, data in file://)`);
    console.log("");

    const times = await timeInRounds(subjects, rounds);

    const reference = "minimal oclif hello (manifest)";
    const m = (label: string) => median(times.get(label)!);
    const ref = m(reference);
    printTable(
      ["command", "median ms", "min ms", "ratio"],
      subjects.map((s) => {
        const ms = times.get(s.label)!;
        return [s.label, median(ms).toFixed(0), Math.min(...ms).toFixed(0), `${(median(ms) / ref).toFixed(2)}x`];
      }),
    );
    console.log("");
    const nodeMs = m("node -e 0");
    const run = m("tsflyte run examples/hello.ts hello");
    const ratio = run / m(reference);
    const byMin = Math.min(...times.get("tsflyte run examples/hello.ts hello")!) / Math.min(...times.get(reference)!);
    console.log(`tsflyte run / minimal oclif (manifest): ${ratio.toFixed(2)}x by median, ${byMin.toFixed(2)}x by min — goal ${ratio <= goalRatio ? "met" : "missed"}`);
    console.log(`tsflyte run / minimal oclif (no manifest): ${(run / m("minimal oclif hello (no manifest)")).toFixed(2)}x`);
    console.log(`tsflyte --version / minimal oclif (manifest): ${(m("tsflyte --version") / m(reference)).toFixed(2)}x`);
    console.log(
      `above node -e 0 (${nodeMs.toFixed(0)} ms): minimal oclif (manifest) +${(m(reference) - nodeMs).toFixed(0)} ms, ` +
        `tsflyte --version +${(m("tsflyte --version") - nodeMs).toFixed(0)} ms, tsflyte run +${(run - nodeMs).toFixed(0)} ms`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log("");
console.log(`loadavg at end: ${loadAverage()}`);
