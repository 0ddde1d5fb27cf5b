// `tsflyte config init` driven through its command class with a temp HOME: the file it writes, the --json shape,
// and exit code 2 when it would overwrite. Never touches the real home: HOME points at a temp folder throughout.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ConfigInit from "../../src/commands/config/init.js";
import { resolveConfig } from "../../src/lib/config/config.js";
import { renderConfigInit } from "../../src/render/config.js";
import { captureStderr } from "../support/capture-stderr.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

function tempHome(t: TestContext): string {
  const home = mkdtempSync(join(tmpdir(), "tsflyte-home-"));
  const saved = { HOME: process.env.HOME, FLYTECTL_CONFIG: process.env.FLYTECTL_CONFIG };
  process.env.HOME = home;
  delete process.env.FLYTECTL_CONFIG;
  t.after(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    rmSync(home, { recursive: true, force: true });
  });
  return home;
}


test("config init writes ~/.flyte/config.yaml, creating the folder, and resolveConfig reads the same endpoint back", async (t) => {
  const home = tempHome(t);
  const file = join(home, ".flyte", "config.yaml");
  assert.equal(existsSync(join(home, ".flyte")), false);
  const result = await ConfigInit.run(["--host", "127.0.0.1:30080", "--insecure", "--json"], root);
  assert.deepEqual(result, { file, endpoint: "dns:///127.0.0.1:30080", insecure: true });
  const config = await resolveConfig({}, { env: {}, home });
  assert.equal(config.file, file);
  assert.deepEqual(config.admin, { url: "http://127.0.0.1:30080", endpoint: "dns:///127.0.0.1:30080", insecure: true, from: `${file}:3:13: admin.endpoint` });
  // No -p/-d given: the defaults are not written, so the file does not pin a project.
  assert.doesNotMatch(readFileSync(file, "utf8"), /task:/);
});

test("config init refuses to overwrite without --force (exit 2, names the file) and overwrites with it", async (t) => {
  const home = tempHome(t);
  const file = join(home, ".flyte", "config.yaml");
  mkdirSync(join(home, ".flyte"));
  writeFileSync(file, "admin:\n  endpoint: dns:///old.example.com\n");
  const refused = await captureStderr(() => ConfigInit.run(["--host", "new.example.com"], root));
  assert.equal(refused.exitCode, 2);
  assert.match(refused.stderr, new RegExp(`^Error: the config file ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} already exists; pass --force to overwrite it\\n`));
  assert.equal(readFileSync(file, "utf8"), "admin:\n  endpoint: dns:///old.example.com\n");

  const result = await ConfigInit.run(["--host", "http://new.example.com:8089", "--force", "--project", "acme", "--json"], root);
  assert.deepEqual(result, { file, endpoint: "dns:///new.example.com:8089", insecure: true });
  const config = await resolveConfig({}, { env: {}, home });
  assert.deepEqual([config.admin?.url, config.project, config.domain], ["http://new.example.com:8089", "acme", "development"]);
  assert.doesNotMatch(readFileSync(file, "utf8"), /domain:/);
});

test("config init --config writes that file instead, creating its folders, and -c reads it back", async (t) => {
  const home = tempHome(t);
  const file = join(home, "elsewhere", "deep", "flyte.yaml");
  const result = await ConfigInit.run(["--host", "https://flyte.example.com", "--config", file, "--domain", "staging", "--json"], root);
  assert.deepEqual(result, { file, endpoint: "dns:///flyte.example.com", insecure: false });
  assert.equal(existsSync(join(home, ".flyte")), false);
  const config = await resolveConfig({ config: file }, { env: {}, home });
  assert.deepEqual([config.admin?.url, config.project, config.domain], ["https://flyte.example.com", "flytesnacks", "staging"]);
});

test("config init: a junk host or a missing --host is bad usage (exit 2)", async (t) => {
  tempHome(t);
  const junk = await captureStderr(() => ConfigInit.run(["--host", "flyte.example.com/api"], root));
  assert.equal(junk.exitCode, 2);
  assert.match(junk.stderr, /^Error: --host: "flyte\.example\.com\/api" has a path/);
  const missing = await captureStderr(() => ConfigInit.run([], root));
  assert.equal(missing.exitCode, 2);
  assert.match(missing.stderr, /^Error: --host is required \(the control plane: host:port, or http:\/\/host:port for plain http\)\nHint: `tsflyte --help` shows the usage and examples\n$/);
});

test("the printer names the file, what it points at, and the next step", () => {
  const result = { file: "/home/a/.flyte/config.yaml", endpoint: "dns:///127.0.0.1:30080", insecure: true };
  assert.equal(
    renderConfigInit(result),
    "Wrote /home/a/.flyte/config.yaml: admin.endpoint dns:///127.0.0.1:30080, insecure (plain http).\n" +
      "Next: run a workflow there with `tsflyte run --remote FILE WORKFLOW`.",
  );
  assert.match(renderConfigInit({ ...result, insecure: false }, { shadowedBy: "/etc/flyte.yaml" }), /TLS \(https\)\.\nNote: FLYTECTL_CONFIG=\/etc\/flyte\.yaml is set and wins over this file/);
});
