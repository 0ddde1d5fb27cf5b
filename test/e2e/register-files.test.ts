// Acceptance: Flyte's own artifacts through the built CLI against a real `tsflyte serve` — `compile -o X.tgz`, then
// `register files` into another project, domain and version, then an execution that runs the packaged code; a
// pyflyte-shaped package (our own content, test/fixtures/pyflyte) registered and its schema and failure-node
// inputs written by `get task --execFile`; and bad input refused with exit 2 before anything is registered.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { startedName, assertExit, LocalCli, type CliResult } from "../fixtures/local/cli.js";
import { startServe, type ServeProcess } from "../fixtures/server/harness.js";
import { flytekit1, names, pyflyteCodeBundle, pyflyteEntityFiles, writePackageFile } from "../fixtures/pyflyte/package.js";


describe("Flyte's artifacts: compile -o X.tgz and register files", () => {
  let server: ServeProcess;
  let cli: LocalCli;
  let scratch: LocalCli;
  let work: string;

  const ok = async (args: string[]): Promise<CliResult> => {
    const result = await cli.run(args);
    assertExit(result, 0);
    return result;
  };

  before(async () => {
    scratch = new LocalCli("register-files-server");
    server = await startServe(["--workers", "1"], { TSFLYTE_HOME: scratch.tempDir("tsflyte-register-files-serve-") });
    cli = new LocalCli("register-files", { TSFLYTE_ADMIN_ENDPOINT: server.url });
    work = cli.tempDir("tsflyte-register-files-work-");
    await ok(["create", "project", "--id", "acme", "--name", "acme"]);
  });
  after(async () => {
    await server?.stop("SIGKILL");
    cli?.cleanup();
    scratch?.cleanup();
  });

  test("a package compiled for flytesnacks registers into acme/staging at v7 and runs there", async () => {
    const pkg = join(work, "flyte-package.tgz");
    const compiled = await ok(["compile", "examples/spend.ts", "-o", pkg, "-p", "flytesnacks"]);
    assert.match(compiled.stdout, /^code bundle +→ +fast[0-9a-f]{32}\.tar\.gz$/m);
    assert.match(compiled.stdout, /Register it with: tsflyte register files .*flyte-package\.tgz --version V$/m);

    const missing = await cli.run(["register", "files", pkg, "-p", "acme", "-d", "staging"]);
    assertExit(missing, 2);
    assert.match(missing.stderr, /the package leaves the version to the registrar, and no --version was given/);
    assert.match(missing.stderr, /Hint: pass --version V/);

    const registered = await ok(["register", "files", pkg, "--version", "v7", "-p", "acme", "-d", "staging"]);
    assert.match(registered.stdout, /^\[✔\] task +examples\.spend\.payMultiplier {2}registered$/m);
    assert.match(registered.stdout, /^Code bundle: file:\/\/\S+\/fast[0-9a-f]{32}\.tar$/m);
    assert.match(registered.stdout, /^Successfully registered 5 entities from 5 files in acme\/staging$/m);

    const spec = join(work, "spend.yaml");
    await ok(["get", "launchplan", "examples.spend.calculateSpend", "--version", "v7", "-p", "acme", "-d", "staging", "--execFile", spec]);
    writeFileSync(spec, readFileSync(spec, "utf8").replace('name: ""', "name: ann").replace("pay: 0", "pay: 3"));
    const started = await ok(["create", "execution", "--execFile", spec, "-p", "acme", "-d", "staging"]);
    const name = startedName(started);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const execution = await cli.json<{ closure: { phase: string; error?: { message: string } } }>(["get", "execution", name, "-p", "acme", "-d", "staging", "-o", "json"]);
      if (["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"].includes(execution.closure.phase)) {
        assert.equal(execution.closure.phase, "SUCCEEDED", execution.closure.error?.message);
        break;
      }
      assert.ok(Date.now() < deadline, `execution ${name} still ${execution.closure.phase} after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  test("a pyflyte package registers; --execFile writes its schema and failure-node inputs, and they read back", async () => {
    const pkg = join(work, "pyflyte.tgz");
    writePackageFile(pkg, [...pyflyteEntityFiles(flytekit1), pyflyteCodeBundle()]);
    const result = await cli.json<{ project: string; version: string; entities: { kind: string; name: string; status: string }[] }>(["register", "files", pkg, "--version", "p1", "--json"]);
    assert.equal(result.project, "flytesnacks");
    assert.equal(result.entities.length, 9);
    assert.ok(result.entities.every((e) => e.status === "registered"));

    const listed = await ok(["get", "task", names.readSchema]);
    assert.match(listed.stdout, /schema: schema\{x: int, y: string\} +o0: schema\{x: int\}/);

    const schemaSpec = join(work, "read-schema.yaml");
    await ok(["get", "task", names.readSchema, "--version", "p1", "--execFile", schemaSpec]);
    assert.deepEqual(parseYaml(readFileSync(schemaSpec, "utf8")).inputs, { schema: "/tmp/somedir" });
    writeFileSync(schemaSpec, readFileSync(schemaSpec, "utf8").replace("/tmp/somedir", "s3://bucket/schemas/xy"));
    const schemaRun = await ok(["create", "execution", "--execFile", schemaSpec, "--dryRun"]);
    assert.match(schemaRun.stdout, /schema: "s3:\/\/bucket\/schemas\/xy"/);

    const cleanUpSpec = join(work, "clean-up.yaml");
    await ok(["get", "task", names.cleanUp, "--version", "p1", "--execFile", cleanUpSpec]);
    const text = readFileSync(cleanUpSpec, "utf8");
    assert.deepEqual(parseYaml(text).inputs, { name: "", err: null });
    assert.doesNotMatch(text, /# (name|err)$/m, "a description that repeats the name is left out");
    writeFileSync(cleanUpSpec, text.replace("err: null", "err: { message: cluster gone, failedNodeId: n1 }"));
    const cleanUp = await ok(["create", "execution", "--execFile", cleanUpSpec, "--dryRun"]);
    assert.match(cleanUp.stdout, /err: \{"message":"cluster gone","failedNodeId":"n1"\}/);
  });

  test("files that are no package are refused with exit 2 and nothing registered; --json carries the problems", async () => {
    const junk = join(work, "notes.txt");
    writeFileSync(junk, "not a package");
    const refused = await cli.run(["register", "files", junk, join(work, "absent.pb"), "--version", "z1", "-p", "acme", "-d", "production"]);
    assertExit(refused, 2);
    assert.match(refused.stderr, /^Error: cannot register these files; nothing was registered:\n {2}- .*notes\.txt is neither an entity file \(\.pb\) nor a code bundle \(fast\*\.tar\.gz\)\n {2}- .*absent\.pb: no such file$/m);
    const json = await cli.json<{ error: { message: string; exitCode: number } }>(["register", "files", junk, "--version", "z1", "--json"], 2);
    assert.equal(json.error.exitCode, 2);
    const tasks = await ok(["get", "task", "-p", "acme", "-d", "production"]);
    assert.match(tasks.stdout, /Nothing registered yet/);
  });
});
