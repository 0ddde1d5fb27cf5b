// initConfig: the flytectl-format file it writes reads back through resolveConfig to the same endpoint, and an
// existing file survives unless forced. Never writes outside its temp directory.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initConfig } from "../../../src/lib/config/init.js";
import { resolveConfig } from "../../../src/lib/config/config.js";
import { UserError } from "../../../src/lib/errors.js";

function paths(t: TestContext): { home: string; cwd: string } {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-config-init-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cwd = join(dir, "work");
  mkdirSync(cwd);
  return { home: join(dir, "home"), cwd };
}

test("writes ~/.flyte/config.yaml, creating the folder, in flytectl's format", async (t) => {
  const p = paths(t);
  const result = await initConfig({ host: "127.0.0.1:30080", insecure: true }, p);
  const file = join(p.home, ".flyte", "config.yaml");
  assert.deepEqual(result, { file, endpoint: "dns:///127.0.0.1:30080", insecure: true });
  assert.equal(
    readFileSync(file, "utf8"),
    "# Written by `tsflyte config init`; tsflyte and flytectl both read it.\nadmin:\n  endpoint: dns:///127.0.0.1:30080\n  insecure: true\n",
  );
  const config = await resolveConfig({}, { env: {}, ...p });
  assert.deepEqual(config.admin, { url: "http://127.0.0.1:30080", endpoint: "dns:///127.0.0.1:30080", insecure: true, from: `${file}:3:13: admin.endpoint` });
  assert.deepEqual(readdirSync(join(p.home, ".flyte")), ["config.yaml"]);
});

test("--host forms: host:port, http:// (insecure), https://, and project/domain only when given", async (t) => {
  const p = paths(t);
  const cases: [Parameters<typeof initConfig>[0], string, boolean, string][] = [
    [{ host: "flyte.example.com" }, "dns:///flyte.example.com", false, "https://flyte.example.com"],
    [{ host: "http://10.0.0.5:8089/" }, "dns:///10.0.0.5:8089", true, "http://10.0.0.5:8089"],
    [{ host: "https://flyte.example.com:8443" }, "dns:///flyte.example.com:8443", false, "https://flyte.example.com:8443"],
    [{ host: "dns:///[::1]:30080", insecure: true }, "dns:///[::1]:30080", true, "http://[::1]:30080"],
  ];
  for (const [options, endpoint, insecure, url] of cases) {
    const result = await initConfig({ ...options, config: "c.yaml", force: true }, p);
    assert.deepEqual([result.endpoint, result.insecure], [endpoint, insecure], options.host);
    const config = await resolveConfig({ config: "c.yaml" }, { env: {}, ...p });
    assert.equal(config.admin?.url, url);
    assert.equal(config.admin?.endpoint, endpoint);
  }
  await initConfig({ host: "h:1", config: "c.yaml", force: true, project: "acme", domain: "yes" }, p);
  const config = await resolveConfig({ config: "c.yaml" }, { env: {}, ...p });
  assert.deepEqual([config.project, config.domain], ["acme", "yes"]);
  assert.ok(readFileSync(join(p.cwd, "c.yaml"), "utf8").endsWith('\ntask:\n  project: acme\n  domain: "yes"\n'));
});

test("an existing file is kept unless forced, and nothing half-written is left behind", async (t) => {
  const p = paths(t);
  const file = join(p.cwd, "config.yaml");
  writeFileSync(file, "keep: me\n");
  await assert.rejects(initConfig({ host: "h:1", config: file }, p), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.message, `the config file ${file} already exists; pass --force to overwrite it`);
    return true;
  });
  assert.equal(readFileSync(file, "utf8"), "keep: me\n");
  await initConfig({ host: "h:1", config: file, force: true }, p);
  assert.match(readFileSync(file, "utf8"), /endpoint: dns:\/\/\/h:1/);
  assert.deepEqual(readdirSync(p.cwd), ["config.yaml"]);
});

test("junk hosts and contradictions are refused before anything is written", async (t) => {
  const p = paths(t);
  await assert.rejects(initConfig({ host: "h:1/api", config: "c.yaml" }, p), /^UserError: --host: "h:1\/api" has a path/);
  await assert.rejects(initConfig({ host: "https://h", insecure: true, config: "c.yaml" }, p), /asks for TLS \(https:\/\/\) but --insecure turns it off/);
  await assert.rejects(initConfig({ host: "", config: "c.yaml" }, p), /--host: "" is empty/);
  assert.deepEqual(readdirSync(p.cwd), []);
  mkdirSync(join(p.cwd, "dir"));
  await assert.rejects(initConfig({ host: "h:1", config: "dir", force: true }, p), /cannot write the config file .*dir: it is a folder/);
  assert.deepEqual(readdirSync(join(p.cwd, "dir")), []);
  assert.deepEqual(readdirSync(p.cwd), ["dir"]);
});
