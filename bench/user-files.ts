// Benchmarks reading the files users write: an execution spec and an inputs file with 5k…160k keys, beside
// JSON.parse of the same data as the anchor, to show the cost per key stays flat (linear). Never asserts timings.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseExecutionSpec } from "../src/lib/execspec/parse.js";
import { readInputsFile } from "../src/lib/inputs/file.js";
import { maxFileSizeVariable } from "../src/lib/user-file.js";

const sizes = [5_000, 20_000, 40_000, 80_000, 160_000];

/** CPU time of this process (all threads) and wall time, in seconds. */
async function measure(fn: () => unknown): Promise<{ cpu: number; wall: number }> {
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  await fn();
  const cpu = process.cpuUsage(cpu0);
  return { cpu: (cpu.user + cpu.system) / 1e6, wall: (performance.now() - wall0) / 1000 };
}

const specText = (n: number) => ["workflow: my.wf", "version: v1", "inputs:", "  x: 3", "envs:", ...Array.from({ length: n }, (_, i) => `  VAR_${i}: value-${i}`), ""].join("\n");
const inputsText = (n: number) => [...Array.from({ length: n }, (_, i) => `key_${i}: value-${i}`), ""].join("\n");
const jsonText = (n: number) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`VAR_${i}`, `value-${i}`])));

const dir = mkdtempSync(join(tmpdir(), "tsflyte-bench-user-files-"));
// The largest files here are above the default cap; the cap is not what is measured.
process.env[maxFileSizeVariable] = "64MiB";
try {
  await parseExecutionSpec(specText(100), "warm.yaml");
  console.log("keys     MB     exec spec cpu (µs/key)   inputs file cpu (µs/key)   JSON.parse cpu (µs/key)");
  for (const n of sizes) {
    const spec = specText(n);
    const inputsFile = join(dir, `inputs-${n}.yaml`);
    writeFileSync(inputsFile, inputsText(n));
    const json = jsonText(n);
    const specTime = await measure(() => parseExecutionSpec(spec, "spec.yaml"));
    const inputsTime = await measure(() => readInputsFile(inputsFile));
    const jsonTime = await measure(() => JSON.parse(json));
    const perKey = (s: number) => `${((s * 1e6) / n).toFixed(1)}`.padStart(6);
    console.log(
      `${String(n).padEnd(8)} ${(spec.length / 2 ** 20).toFixed(2).padEnd(6)} ${specTime.cpu.toFixed(2).padStart(6)} s (${perKey(specTime.cpu)})        ` +
        `${inputsTime.cpu.toFixed(2).padStart(6)} s (${perKey(inputsTime.cpu)})          ${jsonTime.cpu.toFixed(3).padStart(6)} s (${perKey(jsonTime.cpu)})`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
