// The file blob store: write-behind puts that reads see at once and flush lands on disk in Flyte's layout, in order,
// with clear errors; uploads and downloads with stable content hashes. Never mocks the file system: real temp dirs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { UserError } from "../../../src/lib/errors.js";
import { FileBlobStore } from "../../../src/lib/storage/file-store.js";
import { fileUriToPath, joinUri } from "../../../src/lib/storage/file-uri.js";
import { attemptOutputPrefix, executionInputsUri, nodeInputsUri } from "../../../src/lib/storage/layout.js";
import { openBlobStore } from "../../../src/lib/storage/open.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const execution = { project: "flytesnacks", domain: "development", name: "f8a3b2c1" };
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const sha256 = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

function withTempDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsflyte-store-"));
    try {
      await fn(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** Every file under dir, relative, sorted. */
function tree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)))
    .sort();
}

test(
  "put is visible to read and exists before flush; flush lands the files in Flyte's layout",
  withTempDir(async (dir) => {
    const store = new FileBlobStore(pathToFileURL(path.join(dir, "data")).href);
    const inputs = nodeInputsUri(store.baseUri, execution, "n0");
    const outputs = `${attemptOutputPrefix(store.baseUri, execution, "n0", 0)}/outputs.pb`;
    store.put(executionInputsUri(store.baseUri, execution), bytes("exec-inputs"));
    store.put(inputs, bytes("n0-inputs"));
    store.put(outputs, bytes("n0-outputs"));
    assert.equal(text(await store.read(inputs)), "n0-inputs");
    assert.equal(await store.exists(outputs), true);
    assert.equal(await store.exists(`${store.baseUri}/metadata/nothing.pb`), false);
    await store.flush();
    const prefix = "metadata/flytesnacks-development-f8a3b2c1";
    assert.deepEqual(tree(path.join(dir, "data")), [`${prefix}/inputs.pb`, `${prefix}/n0/data/0/outputs.pb`, `${prefix}/n0/data/inputs.pb`]);
    assert.equal(fs.readFileSync(path.join(dir, "data", prefix, "n0/data/0/outputs.pb"), "utf8"), "n0-outputs");
    assert.equal(text(await store.read(outputs)), "n0-outputs");
    await store.close();
  }),
);

test(
  "many nodes go through the writer thread; writes to one URI land in call order",
  withTempDir(async (dir) => {
    const store = new FileBlobStore(dir);
    const again = `${store.baseUri}/metadata/again.pb`;
    store.put(again, bytes("first"));
    for (let i = 0; i < 600; i++) {
      store.put(nodeInputsUri(store.baseUri, execution, `n${i}`), bytes(`in ${i}`));
      store.put(`${attemptOutputPrefix(store.baseUri, execution, `n${i}`, 0)}/outputs.pb`, bytes(`out ${i}`));
      if (i % 100 === 0) {
        store.put(again, bytes(`write ${i}`));
        await new Promise((resolve) => setImmediate(resolve)); // spread the writes over several batches
      }
    }
    store.put(again, bytes("last"));
    assert.equal(text(await store.read(again)), "last");
    await store.flush();
    assert.equal(fs.readFileSync(fileUriToPath(again), "utf8"), "last");
    const files = tree(dir);
    assert.equal(files.length, 1201);
    assert.ok(!files.some((f) => f.includes(".tmp-")), "no temporary files are left behind");
    assert.equal(fs.readFileSync(path.join(dir, "metadata/flytesnacks-development-f8a3b2c1/n599/data/0/outputs.pb"), "utf8"), "out 599");
    await store.close();
  }),
);

test(
  "flush rejects naming the URI and the cause when a file stands where a folder must be, once",
  withTempDir(async (dir) => {
    const store = new FileBlobStore(dir);
    fs.writeFileSync(path.join(dir, "metadata"), "in the way");
    const blocked = `${store.baseUri}/metadata/x/inputs.pb`;
    store.put(blocked, bytes("x"));
    store.put(`${store.baseUri}/fine/ok.pb`, bytes("ok"));
    await assert.rejects(store.flush(), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, new RegExp(`could not write ${blocked.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .*(ENOTDIR|EEXIST|not a directory)`));
      return true;
    });
    assert.equal(fs.readFileSync(path.join(dir, "fine/ok.pb"), "utf8"), "ok", "other writes still land");
    await store.flush(); // reported once
    await store.close();
  }),
);

test(
  "a failed write among many on the writer thread is reported by flush",
  withTempDir(async (dir) => {
    const store = new FileBlobStore(dir);
    fs.mkdirSync(path.join(dir, "blocked"));
    fs.writeFileSync(path.join(dir, "blocked/node"), "a file");
    for (let i = 0; i < 400; i++) store.put(`${store.baseUri}/ok/n${i}/inputs.pb`, bytes(String(i)));
    store.put(`${store.baseUri}/blocked/node/data/inputs.pb`, bytes("x"));
    await assert.rejects(store.flush(), /could not write file:.*blocked\/node\/data\/inputs\.pb/);
    assert.equal(fs.readFileSync(path.join(dir, "ok/n399/inputs.pb"), "utf8"), "399");
    await store.close();
  }),
);

for (const [where, count] of [
  ["on the caller's thread", 1],
  ["on the writer thread", 400],
] as const) {
  test(
    `a writer's failed write is reported to that writer only, by each of its flushes, never to another writer (${where})`,
    withTempDir(async (dir) => {
      const store = new FileBlobStore(dir);
      const failing = store.writer();
      const bystander = store.writer();
      fs.writeFileSync(path.join(dir, "blocked"), "a file where a folder must be");
      for (let i = 0; i < count; i++) bystander.put(`${store.baseUri}/ok/n${i}/inputs.pb`, bytes(String(i)));
      failing.put(`${store.baseUri}/blocked/n3/data/inputs.pb`, bytes("x"));
      bystander.put(`${store.baseUri}/ok/last.pb`, bytes("last"));
      // The bystander flushes first and covers the failed write: it is not the bystander's error.
      await bystander.flush();
      assert.equal(fs.readFileSync(path.join(dir, "ok/last.pb"), "utf8"), "last");
      await assert.rejects(failing.flush(), /could not write file:.*blocked\/n3\/data\/inputs\.pb/);
      // Whichever of its flushes comes next fails too: what that writer recorded is incomplete.
      failing.put(`${store.baseUri}/ok/after.pb`, bytes("after"));
      await assert.rejects(failing.flush(), /blocked\/n3\/data\/inputs\.pb/);
      await store.flush(); // the store's own writes did not fail
      const later = store.writer();
      later.put(`${store.baseUri}/ok/later.pb`, bytes("later"));
      await later.flush();
      await store.close();
    }),
  );
}

test(
  "read of a missing URI is a UserError naming it; non-file URIs are refused",
  withTempDir(async (dir) => {
    const store = new FileBlobStore(dir);
    const missing = `${store.baseUri}/metadata/none/outputs.pb`;
    await assert.rejects(store.read(missing), (e: unknown) => e instanceof UserError && e.message === `no data at ${missing}`);
    await assert.rejects(store.read(store.baseUri), /is a directory/);
    assert.throws(() => store.put("s3://bucket/key", bytes("x")), UserError);
    await store.close();
  }),
);

test(
  "uploadFile and downloadFile round-trip bytes; equal content gives the equal sha256 wherever it is",
  withTempDir(async (dir) => {
    const store = new FileBlobStore(path.join(dir, "store"));
    const content = "id,amount\n1,2.5\n";
    const a = path.join(dir, "in a folder with spaces", "spend é.csv");
    const b = path.join(dir, "elsewhere.csv");
    fs.mkdirSync(path.dirname(a));
    fs.writeFileSync(a, content);
    fs.writeFileSync(b, content);
    const uriA = joinUri(`${store.baseUri}/raw/x/0`, "spend é.csv");
    assert.ok(uriA.endsWith("/raw/x/0/spend%20%C3%A9.csv"));
    const upA = await store.uploadFile(a, uriA);
    const upB = await store.uploadFile(b, `${store.baseUri}/raw/x/1/elsewhere.csv`);
    assert.deepEqual(upA, { sha256: sha256(content), size: content.length });
    assert.equal(upB.sha256, upA.sha256);
    assert.equal(store.localPath(uriA), path.join(dir, "store/raw/x/0/spend é.csv"));
    assert.equal(fs.readFileSync(store.localPath(uriA)!, "utf8"), content);
    const back = path.join(dir, "back", "copy.csv");
    await store.downloadFile(uriA, back);
    assert.equal(fs.readFileSync(back, "utf8"), content);
    // a user's own file outside the store is read in place
    assert.equal(text(await store.read(pathToFileURL(a).href)), content);
    // uploading a file onto itself keeps it and still hashes it
    assert.equal((await store.uploadFile(store.localPath(uriA)!, uriA)).sha256, upA.sha256);
    await assert.rejects(store.uploadFile(path.join(dir, "nope.csv"), `${store.baseUri}/raw/x/2/nope.csv`), /no file at .*nope\.csv/);
    await store.close();
  }),
);

test(
  "uploadDirectory and downloadDirectory round-trip a tree; its hash depends on names and contents only",
  withTempDir(async (dir) => {
    const store = new FileBlobStore(path.join(dir, "store"));
    const makeTree = (root: string, extra = "") => {
      fs.mkdirSync(path.join(root, "sub", "deeper"), { recursive: true });
      fs.writeFileSync(path.join(root, "a.txt"), "alpha");
      fs.writeFileSync(path.join(root, "sub", "b.txt"), "beta");
      fs.writeFileSync(path.join(root, "sub", "deeper", `c${extra}.txt`), "gamma");
    };
    makeTree(path.join(dir, "one"));
    makeTree(path.join(dir, "two"));
    makeTree(path.join(dir, "three"), "-renamed");
    const up1 = await store.uploadDirectory(path.join(dir, "one"), `${store.baseUri}/raw/d/0/one`);
    const up2 = await store.uploadDirectory(path.join(dir, "two"), `${store.baseUri}/raw/d/1/two`);
    const up3 = await store.uploadDirectory(path.join(dir, "three"), `${store.baseUri}/raw/d/2/three`);
    assert.equal(up1.files, 3);
    assert.equal(up1.sha256, up2.sha256);
    assert.notEqual(up1.sha256, up3.sha256);
    await store.downloadDirectory(`${store.baseUri}/raw/d/0/one`, path.join(dir, "back"));
    assert.deepEqual(tree(path.join(dir, "back")), ["a.txt", "sub/b.txt", "sub/deeper/c.txt"]);
    assert.equal(fs.readFileSync(path.join(dir, "back/sub/deeper/c.txt"), "utf8"), "gamma");
    await assert.rejects(store.downloadDirectory(`${store.baseUri}/raw/none`, path.join(dir, "x")), /no data at/);
    await store.close();
  }),
);

test(
  "close flushes what is queued and refuses later writes",
  withTempDir(async (dir) => {
    const store = new FileBlobStore(dir);
    for (let i = 0; i < 50; i++) store.put(`${store.baseUri}/m/n${i}/inputs.pb`, bytes(`v${i}`));
    await store.close();
    assert.equal(fs.readFileSync(path.join(dir, "m/n49/inputs.pb"), "utf8"), "v49");
    assert.throws(() => store.put(`${store.baseUri}/m/late.pb`, bytes("late")), /closed/);
  }),
);

test(
  "flushSync writes everything queued before it returns, for signal handlers",
  withTempDir(async (dir) => {
    const store = new FileBlobStore(dir);
    for (let i = 0; i < 300; i++) store.put(`${store.baseUri}/s/n${i}.pb`, bytes(`v${i}`));
    await new Promise((resolve) => setTimeout(resolve, 20)); // let the writer thread be mid-way, or not yet started
    for (let i = 300; i < 600; i++) store.put(`${store.baseUri}/s/n${i}.pb`, bytes(`v${i}`));
    store.flushSync();
    assert.equal(tree(path.join(dir, "s")).length, 600);
    assert.equal(fs.readFileSync(path.join(dir, "s/n599.pb"), "utf8"), "v599");
    store.put(`${store.baseUri}/s/after.pb`, bytes("after")); // a new writer thread takes over
    await store.close();
    assert.equal(fs.readFileSync(path.join(dir, "s/after.pb"), "utf8"), "after");
  }),
);

function runChild(dir: string, code: string): void {
  execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    cwd: repoRoot,
    env: { ...process.env, STORE_DIR: dir },
    timeout: 60_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

test(
  "queued writes survive the end of the process: natural exit and process.exit(); an idle store does not hold it open",
  withTempDir(async (dir) => {
    const script = (ending: string) => `
      import { FileBlobStore } from "./src/lib/storage/file-store.ts";
      const store = new FileBlobStore(process.env.STORE_DIR);
      for (let i = 0; i < 1500; i++) store.put(store.baseUri + "/${ending}/n" + i + "/data/inputs.pb", new TextEncoder().encode("v" + i));
      ${ending === "exit" ? "process.exit(0);" : ""}`;
    runChild(dir, script("natural"));
    runChild(dir, script("exit"));
    for (const ending of ["natural", "exit"]) {
      const files = tree(path.join(dir, ending));
      assert.equal(files.length, 1500, ending);
      assert.equal(fs.readFileSync(path.join(dir, ending, "n1499/data/inputs.pb"), "utf8"), "v1499");
    }
    // flushed and idle, without close: the process must still end by itself (execFileSync would time out)
    runChild(dir, `
      import { FileBlobStore } from "./src/lib/storage/file-store.ts";
      const store = new FileBlobStore(process.env.STORE_DIR);
      store.put(store.baseUri + "/idle/x.pb", new Uint8Array([1]));
      await store.flush();
      await new Promise((r) => setTimeout(r, 50));`);
    assert.ok(fs.existsSync(path.join(dir, "idle/x.pb")));
  }),
);

test(
  "openBlobStore takes file:// URIs and absolute paths and names the supported schemes otherwise",
  withTempDir(async (dir) => {
    const byUri = openBlobStore(pathToFileURL(path.join(dir, "a b")).href);
    assert.equal(byUri.baseUri, pathToFileURL(path.join(dir, "a b")).href);
    assert.ok(fs.statSync(path.join(dir, "a b")).isDirectory());
    assert.equal(byUri.localPath(`${byUri.baseUri}/x%23y.pb`), path.join(dir, "a b", "x#y.pb"));
    const byPath = openBlobStore(path.join(dir, "plain") + "/");
    assert.equal(byPath.baseUri, pathToFileURL(path.join(dir, "plain")).href);
    assert.equal(openBlobStore("s3://my-bucket/data").baseUri, "s3://my-bucket/data");
    assert.throws(() => openBlobStore("gs://b/d"), /gs:\/\/ scheme is not supported/);
    assert.throws(() => openBlobStore("relative/data"), /give a file:\/\/ URI or an absolute path/);
    assert.throws(() => fileUriToPath("file:///tmp/a?b"), /"\?" or "#"/);
  }),
);
