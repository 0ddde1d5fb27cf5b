// resolveConfig: which file is read, flags > environment > file > defaults for every setting, and errors that point
// at file:line:col without ever quoting the token. Never reads the real home or process.env: each test has its own.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { resolveConfig, chooseConfigFile, type ConfigFlags } from "../../../src/lib/config/config.js";
import { UserError } from "../../../src/lib/errors.js";

const token = "tok-3f9a1c77e2b54d0aa1b2c3d4e5f60718";

interface Sandbox {
  home: string;
  cwd: string;
  write(path: string, text: string): string;
  resolve(flags?: ConfigFlags, env?: NodeJS.ProcessEnv): ReturnType<typeof resolveConfig>;
}

function sandbox(t: TestContext): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-config-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const home = join(dir, "home");
  const cwd = join(dir, "work");
  mkdirSync(home);
  mkdirSync(cwd);
  return {
    home,
    cwd,
    write(path, text) {
      const full = join(dir, path);
      mkdirSync(join(full, ".."), { recursive: true });
      writeFileSync(full, text);
      return full;
    },
    resolve: (flags = {}, env = {}) => resolveConfig(flags, { env, home, cwd }),
  };
}

async function userError(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected an error");
}

const demoConfig = "admin:\n  endpoint: dns:///127.0.0.1:30080\n  insecure: true\ntask:\n  project: flytesnacks\n  domain: development\n";

test("with no file and no environment, only the defaults", async (t) => {
  const s = sandbox(t);
  assert.deepEqual(await s.resolve(), {
    project: "flytesnacks",
    domain: "development",
    dotViewer: "http://graph.flyte.org/#",
    target: "local",
    targetFrom: "default",
    kubernetes: { kubeconfig: join(s.home, ".kube/config"), namespaceTemplate: "{project}-{domain}", serviceAccount: "default", imagePullBackOffGraceMs: 180_000, from: "defaults" },
  });
});

test("the file `tsflyte demo start` writes resolves to plain http on loopback", async (t) => {
  const s = sandbox(t);
  const file = s.write("home/.flyte/config.yaml", demoConfig.replace("flytesnacks", "demo"));
  assert.deepEqual(await s.resolve(), {
    file,
    admin: { url: "http://127.0.0.1:30080", endpoint: "dns:///127.0.0.1:30080", insecure: true, from: `${file}:2:13: admin.endpoint` },
    project: "demo",
    domain: "development",
    dotViewer: "http://graph.flyte.org/#",
    target: "admin",
    targetFrom: "default",
    kubernetes: { kubeconfig: join(s.home, ".kube/config"), namespaceTemplate: "{project}-{domain}", serviceAccount: "default", imagePullBackOffGraceMs: 180_000, from: "defaults" },
  });
});

test("project and domain: flag beats environment beats file beats default", async (t) => {
  const s = sandbox(t);
  const env = { TSFLYTE_PROJECT: "env-p", TSFLYTE_DOMAIN: "env-d" };
  assert.deepEqual(await pick(s.resolve()), ["flytesnacks", "development"]);
  s.write("home/.flyte/config.yaml", "task:\n  project: file-p\n  domain: file-d\n");
  assert.deepEqual(await pick(s.resolve()), ["file-p", "file-d"]);
  assert.deepEqual(await pick(s.resolve({}, env)), ["env-p", "env-d"]);
  assert.deepEqual(await pick(s.resolve({ project: "flag-p", domain: "flag-d" }, env)), ["flag-p", "flag-d"]);
  assert.deepEqual(await pick(s.resolve({ project: "flag-p" }, { TSFLYTE_DOMAIN: "env-d" })), ["flag-p", "env-d"]);
  // `VAR= tsflyte …` clears a variable, as shells mean it to.
  assert.deepEqual(await pick(s.resolve({}, { TSFLYTE_PROJECT: "", TSFLYTE_DOMAIN: "" })), ["file-p", "file-d"]);

  async function pick(config: ReturnType<typeof resolveConfig>): Promise<[string, string]> {
    const { project, domain } = await config;
    return [project, domain];
  }
});

test("endpoint and insecure: environment beats file; without insecure the scheme is https", async (t) => {
  const s = sandbox(t);
  assert.equal((await s.resolve()).admin, undefined);
  const file = s.write("home/.flyte/config.yaml", "admin:\n  endpoint: dns:///file.example.com:81\n");
  assert.deepEqual((await s.resolve()).admin, { url: "https://file.example.com:81", endpoint: "dns:///file.example.com:81", insecure: false, from: `${file}:2:13: admin.endpoint` });
  s.write("home/.flyte/config.yaml", "admin:\n  endpoint: dns:///file.example.com:81\n  insecure: true\n");
  assert.equal((await s.resolve()).admin?.url, "http://file.example.com:81");
  assert.equal((await s.resolve({}, { TSFLYTE_ADMIN_INSECURE: "false" })).admin?.url, "https://file.example.com:81");
  assert.equal((await s.resolve({}, { TSFLYTE_ADMIN_INSECURE: "0" })).admin?.url, "https://file.example.com:81");
  assert.deepEqual((await s.resolve({}, { TSFLYTE_ADMIN_ENDPOINT: "env.example.com:82" })).admin, {
    url: "http://env.example.com:82",
    endpoint: "env.example.com:82",
    insecure: true,
    from: "TSFLYTE_ADMIN_ENDPOINT",
  });
  assert.equal((await s.resolve({}, { TSFLYTE_ADMIN_ENDPOINT: "https://env.example.com" })).admin?.url, "https://env.example.com");
  assert.equal((await s.resolve({}, { TSFLYTE_ADMIN_ENDPOINT: "dns:///env.example.com", TSFLYTE_ADMIN_INSECURE: "TRUE" })).admin?.url, "http://env.example.com");
  assert.equal((await s.resolve({}, { TSFLYTE_ADMIN_ENDPOINT: "env.example.com", TSFLYTE_ADMIN_INSECURE: "1" })).admin?.url, "http://env.example.com");
});

test("TSFLYTE_ADMIN_INSECURE takes true, false, 1 or 0 and nothing else", async (t) => {
  const s = sandbox(t);
  const e = await userError(s.resolve({}, { TSFLYTE_ADMIN_ENDPOINT: "h:1", TSFLYTE_ADMIN_INSECURE: "yes" }));
  assert.equal(e.message, 'TSFLYTE_ADMIN_INSECURE: expected true, false, 1 or 0, found "yes"');
});

test("token: TSFLYTE_AUTH_TOKEN beats TSFLYTE_AUTH_TOKEN_FILE beats admin.authTokenFile beats none", async (t) => {
  const s = sandbox(t);
  s.write("home/.flyte/token", "file-token-from-config\nsecond line is ignored\n");
  s.write("work/env-token", "env-file-token\r\n");
  s.write("home/.flyte/config.yaml", "admin:\n  endpoint: dns:///127.0.0.1:30080\n  insecure: true\n");
  assert.equal((await s.resolve()).admin?.authToken, undefined);
  assert.equal("authToken" in (await s.resolve()).admin!, false);
  // Relative to the config file's folder.
  s.write("home/.flyte/config.yaml", "admin:\n  endpoint: dns:///127.0.0.1:30080\n  insecure: true\n  authTokenFile: token\n");
  assert.equal((await s.resolve()).admin?.authToken, "file-token-from-config");
  // Relative to the working folder.
  assert.equal((await s.resolve({}, { TSFLYTE_AUTH_TOKEN_FILE: "env-token" })).admin?.authToken, "env-file-token");
  assert.equal((await s.resolve({}, { TSFLYTE_AUTH_TOKEN_FILE: "env-token", TSFLYTE_AUTH_TOKEN: token })).admin?.authToken, token);
});

test("admin.authTokenFile expands ~ to the home folder given", async (t) => {
  const s = sandbox(t);
  s.write("home/secrets/flyte-token", `${token}\n`);
  s.write("elsewhere/config.yaml", "admin:\n  endpoint: flyte.example.com\n  authTokenFile: ~/secrets/flyte-token\n");
  const config = await s.resolve({ config: "../elsewhere/config.yaml" });
  assert.equal(config.admin?.authToken, token);
  assert.equal(config.admin?.url, "https://flyte.example.com");
});

test("no endpoint, no token read: a stale token file does not break local commands", async (t) => {
  const s = sandbox(t);
  s.write("home/.flyte/config.yaml", "admin:\n  authTokenFile: /nonexistent/token\n");
  assert.equal((await s.resolve({}, { TSFLYTE_AUTH_TOKEN_FILE: "/nonexistent/either" })).admin, undefined);
});

test("-c beats FLYTECTL_CONFIG beats ~/.flyte/config.yaml; relative paths come from the working folder", async (t) => {
  const s = sandbox(t);
  const home = s.write("home/.flyte/config.yaml", "task:\n  project: from-home\n");
  const fromEnv = s.write("work/env.yaml", "task:\n  project: from-env\n");
  const fromFlag = s.write("work/sub/flag.yaml", "task:\n  project: from-flag\n");
  const viaHome = await s.resolve();
  assert.deepEqual([viaHome.file, viaHome.project], [home, "from-home"]);
  const viaEnv = await s.resolve({}, { FLYTECTL_CONFIG: "env.yaml" });
  assert.deepEqual([viaEnv.file, viaEnv.project], [fromEnv, "from-env"]);
  const viaFlag = await s.resolve({ config: "sub/flag.yaml" }, { FLYTECTL_CONFIG: "env.yaml" });
  assert.deepEqual([viaFlag.file, viaFlag.project], [fromFlag, "from-flag"]);
  assert.deepEqual(chooseConfigFile({}, { env: { FLYTECTL_CONFIG: "~/x.yaml" }, home: s.home, cwd: s.cwd }), { path: join(s.home, "x.yaml"), namedBy: "FLYTECTL_CONFIG" });
  assert.deepEqual(chooseConfigFile({}, { env: { FLYTECTL_CONFIG: "" }, home: s.home, cwd: s.cwd }), { path: home });
});

test("a config file someone named must exist; the default one need not", async (t) => {
  const s = sandbox(t);
  const byFlag = await userError(s.resolve({ config: "missing.yaml" }));
  assert.equal(byFlag.message, `the config file ${join(s.cwd, "missing.yaml")} (named by -c/--config) does not exist`);
  assert.match(byFlag.hint ?? "", /tsflyte config init/);
  const byEnv = await userError(s.resolve({}, { FLYTECTL_CONFIG: "/nowhere/config.yaml" }));
  assert.equal(byEnv.message, "the config file /nowhere/config.yaml (named by FLYTECTL_CONFIG) does not exist");
  assert.match(byEnv.hint ?? "", /unset FLYTECTL_CONFIG/);
  const folder = await userError(s.resolve({ config: "." }));
  assert.match(folder.message, /is a folder, not a file$/);
  assert.equal((await s.resolve()).file, undefined);
});

test("a YAML syntax error or a key written twice is reported as file:line:col", async (t) => {
  const s = sandbox(t);
  const file = s.write("home/.flyte/config.yaml", "admin:\n  endpoint: dns:///h:1\n  insecure: true\nadmin: {}\n");
  const dup = await userError(s.resolve());
  assert.equal(dup.message, `${file}:4:1: the key admin is written twice; keep one`);
  s.write("home/.flyte/config.yaml", "admin:\n  endpoint: [dns:///h:1\ntask:\n  project: p\n");
  assert.match((await userError(s.resolve())).message, new RegExp(`^${escape(file)}:\\d+:\\d+: `));
  s.write("home/.flyte/config.yaml", "admin:\n  endpoint: \"dns:///h:1\n");
  assert.equal((await userError(s.resolve())).message, `${file}:3:1: Missing closing "quote`);
});

test("a known key of the wrong type is reported as file:line:col: key: expected …, found …", async (t) => {
  const s = sandbox(t);
  const file = s.write("home/.flyte/config.yaml", "admin:\n  endpoint: dns:///h:1\n  insecure: yes\n");
  const e = await userError(s.resolve());
  assert.equal(e.message, `${file}:3:13: admin.insecure: expected a boolean, found string "yes"`);
  assert.match(e.hint ?? "", /true or false/);
  const cases: [string, string][] = [
    ["task:\n  project: 42\n", `${file}:2:12: task.project: expected a string, found number 42`],
    ["task:\n  domain: [a, b]\n", `${file}:2:11: task.domain: expected a string, found array ["a","b"]`],
    ["admin: dns:///h:1\n", `${file}:1:8: admin: expected a mapping, found string "dns:///h:1"`],
    ["admin:\n  endpoint: ''\n", `${file}:2:13: admin.endpoint: expected a non-empty string, found string ""`],
    ["dotViewer: true\n", `${file}:1:12: dotViewer: expected a string, found boolean true`],
    ["console:\n  endpoint: 8080\n", `${file}:2:13: console.endpoint: expected a string, found number 8080`],
    ["- admin\n", `${file}:1:1: expected a mapping at the top level, found array ["admin"]`],
  ];
  for (const [text, message] of cases) {
    s.write("home/.flyte/config.yaml", text);
    assert.equal((await userError(s.resolve())).message, message);
  }
});

test("unknown keys, nulls and comments are fine: a full flytectl file reads", async (t) => {
  const s = sandbox(t);
  s.write(
    "home/.flyte/config.yaml",
    [
      "# flytectl sandbox config",
      "admin:",
      "  # For GRPC endpoints you might want to use dns:///flyte.myexample.com",
      "  endpoint: localhost:30080",
      "  authType: Pkce",
      "  insecure: true",
      "  clientId: flytepropeller",
      "console:",
      "  endpoint: http://localhost:30080/console/",
      "logger:",
      "  show-source: true",
      "  level: 0",
      "storage:",
      "  type: stow",
      "  stow: {kind: s3, config: {region: us-east-1}}",
      "task:",
      "  project:",
      "",
    ].join("\n"),
  );
  const config = await s.resolve();
  assert.equal(config.admin?.url, "http://localhost:30080");
  assert.equal(config.consoleEndpoint, "http://localhost:30080/console");
  assert.equal(config.project, "flytesnacks");
  s.write("home/.flyte/config.yaml", "");
  assert.equal((await s.resolve()).project, "flytesnacks");
});

test("console endpoint and DOT viewer: environment beats file beats default", async (t) => {
  const s = sandbox(t);
  assert.equal((await s.resolve()).consoleEndpoint, undefined);
  s.write("home/.flyte/config.yaml", "console:\n  endpoint: https://file.example.com/console\ndotViewer: https://dot.file/#\n");
  let config = await s.resolve();
  assert.deepEqual([config.consoleEndpoint, config.dotViewer], ["https://file.example.com/console", "https://dot.file/#"]);
  config = await s.resolve({}, { TSFLYTE_CONSOLE_ENDPOINT: "http://env.example.com/", TSFLYTE_DOT_VIEWER: "http://dot.env/?g=" });
  assert.deepEqual([config.consoleEndpoint, config.dotViewer], ["http://env.example.com", "http://dot.env/?g="]);
  const bad = await userError(s.resolve({}, { TSFLYTE_DOT_VIEWER: "graph.flyte.org" }));
  assert.equal(bad.message, 'TSFLYTE_DOT_VIEWER: "graph.flyte.org" is not an http:// or https:// URL');
});

test("a junk endpoint says where it was written", async (t) => {
  const s = sandbox(t);
  const file = s.write("home/.flyte/config.yaml", "admin:\n  endpoint: dns:///127.0.0.1:30080/api/v1\n");
  assert.match((await userError(s.resolve())).message, new RegExp(`^${escape(file)}:2:13: admin\\.endpoint: "dns:///127\\.0\\.0\\.1:30080/api/v1" has a path`));
  assert.match((await userError(s.resolve({}, { TSFLYTE_ADMIN_ENDPOINT: "flyte example.com" }))).message, /^TSFLYTE_ADMIN_ENDPOINT: "flyte example\.com" contains a space$/);
});

test("an empty, missing or unusable token file is named, and the token never is", async (t) => {
  const s = sandbox(t);
  const empty = s.write("work/empty-token", "\nsecond\n");
  const e = await userError(s.resolve({}, { TSFLYTE_ADMIN_ENDPOINT: "h:1", TSFLYTE_AUTH_TOKEN_FILE: "empty-token" }));
  assert.equal(e.message, `TSFLYTE_AUTH_TOKEN_FILE: the token file ${empty} is empty`);
  const file = s.write("home/.flyte/config.yaml", "admin:\n  endpoint: h:1\n  authTokenFile: missing-token\n");
  const missing = await userError(s.resolve());
  assert.equal(missing.message, `${file}:3:18: admin.authTokenFile: the token file ${join(s.home, ".flyte/missing-token")} does not exist`);
});

test("the token never appears in an error message, a hint, or any other field", async (t) => {
  const s = sandbox(t);
  const spaced = s.write("work/spaced", `${token} ${token}\n`);
  s.write("work/good", `${token}\n`);
  const failures: NodeJS.ProcessEnv[] = [
    { TSFLYTE_ADMIN_ENDPOINT: "h:1", TSFLYTE_AUTH_TOKEN: `${token} extra` },
    { TSFLYTE_ADMIN_ENDPOINT: "h:1", TSFLYTE_AUTH_TOKEN: `${token}\u0007` },
    { TSFLYTE_ADMIN_ENDPOINT: "h:1", TSFLYTE_AUTH_TOKEN_FILE: spaced },
    { TSFLYTE_ADMIN_ENDPOINT: `https://${token}@h:1`, TSFLYTE_AUTH_TOKEN: token },
    { TSFLYTE_ADMIN_ENDPOINT: `https://user:${token}@h:1` },
    { TSFLYTE_ADMIN_ENDPOINT: "h:1/x", TSFLYTE_AUTH_TOKEN_FILE: "good" },
    { TSFLYTE_CONSOLE_ENDPOINT: `https://u:${token}@console`, TSFLYTE_ADMIN_ENDPOINT: "h:1", TSFLYTE_AUTH_TOKEN: token },
  ];
  for (const env of failures) {
    const e = await userError(s.resolve({}, env));
    assert.ok(!e.message.includes(token) && !(e.hint ?? "").includes(token) && !String(e.stack).includes(token), e.message);
  }
  const config = await s.resolve({}, { TSFLYTE_ADMIN_ENDPOINT: "h:1", TSFLYTE_AUTH_TOKEN_FILE: "good" });
  assert.equal(config.admin?.authToken, token);
  assert.ok(!JSON.stringify({ ...config, admin: { ...config.admin, authToken: undefined } }).includes(token));
});

test("yaml is loaded only when there is a file to parse", async (t) => {
  const s = sandbox(t);
  const file = s.write("work/config.yaml", "task:\n  project: p\n");
  const root = fileURLToPath(new URL("../../../", import.meta.url));
  const script = `
    import { createRequire } from "node:module";
    import { resolveConfig } from "./src/lib/config/config.ts";
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes("/node_modules/yaml/"));
    await resolveConfig({}, { env: {}, home: ${JSON.stringify(s.home)} });
    const before = loaded();
    await resolveConfig({ config: ${JSON.stringify(file)} }, { env: {}, home: ${JSON.stringify(s.home)} });
    process.stdout.write(JSON.stringify({ before, after: loaded() }));`;
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout), { before: false, after: true });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

test("a config file over the size cap is refused before it is parsed, naming its size, the cap and how to raise it", async (t) => {
  const s = sandbox(t);
  const file = s.write("home/.flyte/config.yaml", `${demoConfig}# ${"x".repeat(5 * 1024 * 1024)}\n`);
  const saved = process.env.TSFLYTE_MAX_FILE_SIZE;
  t.after(() => {
    if (saved === undefined) delete process.env.TSFLYTE_MAX_FILE_SIZE;
    else process.env.TSFLYTE_MAX_FILE_SIZE = saved;
  });
  delete process.env.TSFLYTE_MAX_FILE_SIZE;
  const error = await userError(s.resolve());
  assert.equal(error.message, `the config file ${file} is 5 MiB, more than the 4 MiB tsflyte reads from a file`);
  assert.equal(error.hint, "if the file is meant to be this large, raise the cap: TSFLYTE_MAX_FILE_SIZE=6MiB");
  process.env.TSFLYTE_MAX_FILE_SIZE = "6MiB";
  assert.equal((await s.resolve()).project, "flytesnacks");
});
