// Runs every test file under test/ with node's test runner (TypeScript through tsx) and ends with the
// plain "N passed, N failed" line CI reads. Never hides a failure: the exit code is the runner's.
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const only = process.argv.slice(2);

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules" || name === "fixtures" || name.startsWith(".")) return [];
    if (statSync(path).isDirectory()) return find(path);
    return /\.test\.(ts|mts|js|mjs)$/.test(name) ? [path] : [];
  });
}

// Arguments are test files or folders of them.
const given = only.flatMap((f) => (statSync(f).isDirectory() ? find(f) : [f]));
const files = (only.length ? given : find(join(root, "test"))).map((f) => relative(root, f)).sort();
const child = spawn(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", "--test-concurrency=2", ...files],
  { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
);
// The spec reporter prints its summary before the details of failures, so keep every summary line seen.
const totals = {};
let pending = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  const lines = (pending + chunk.toString()).split("\n");
  pending = lines.pop();
  for (const line of lines) {
    const m = /^ℹ (pass|fail|cancelled) (\d+)$/.exec(line.trim());
    if (m) totals[m[1]] = Number(m[2]);
  }
});
child.on("close", (code) => {
  const count = (label) => totals[label] ?? 0;
  const passed = count("pass");
  const failed = count("fail") + count("cancelled");
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code ?? 1);
});
