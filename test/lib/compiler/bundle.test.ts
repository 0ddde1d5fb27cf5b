// Covers the code bundle (which files, byte-reproducible ustar bytes) and content-hash versions.
// Must never depend on the machine: temp paths, clocks and file order may differ and the bytes may not.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { buildCodeBundle, contentVersion } from "../../../src/lib/compiler/bundle.js";

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function writeProject(files: Record<string, string>): string {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "tsflyte-bundle-")));
  tempDirs.push(root);
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  return root;
}

const sampleProject = {
  "package.json": JSON.stringify({ name: "demo", type: "module", dependencies: { "some-dep": "1.0.0" } }),
  "package-lock.json": JSON.stringify({ name: "demo", lockfileVersion: 3 }),
  "src/workflow.ts": 'import { helper } from "./lib/helper.js";\nimport dep from "some-dep";\nexport const wf = helper + dep;\n',
  "src/lib/helper.ts": 'import { deep } from "./deep";\nexport const helper: string = "h" + deep;\n',
  "src/lib/deep.ts": "export const deep: string = 'd';\n",
  "src/unused.ts": "export const unused = 1;\n",
  "node_modules/some-dep/package.json": JSON.stringify({ name: "some-dep", main: "index.js" }),
  "node_modules/some-dep/index.js": "module.exports = 'dep';\n",
};

interface TarEntry {
  name: string;
  mode: string;
  uid: string;
  gid: string;
  mtime: string;
  uname: string;
  gname: string;
  typeflag: string;
  magic: string;
  contents: Buffer;
}

/** Reads our ustar archive back field by field, checking each header's checksum on the way. */
function readTar(tar: Buffer): TarEntry[] {
  assert.equal(tar.length % 512, 0, "archive length is a multiple of 512");
  const text = (offset: number, length: number) => tar.subarray(offset, offset + length).toString("utf8").replace(/\0.*$/s, "");
  const entries: TarEntry[] = [];
  let offset = 0;
  while (tar.subarray(offset, offset + 512).some((byte) => byte !== 0)) {
    const header = tar.subarray(offset, offset + 512);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
    assert.equal(parseInt(text(offset + 148, 8), 8), sum, "header checksum");
    const size = parseInt(text(offset + 124, 12), 8);
    const prefix = text(offset + 345, 155);
    const name = text(offset, 100);
    entries.push({
      name: prefix ? `${prefix}/${name}` : name,
      mode: text(offset + 100, 8),
      uid: text(offset + 108, 8),
      gid: text(offset + 116, 8),
      mtime: text(offset + 136, 12),
      uname: text(offset + 265, 32),
      gname: text(offset + 297, 32),
      typeflag: text(offset + 156, 1),
      magic: text(offset + 257, 6),
      contents: Buffer.from(tar.subarray(offset + 512, offset + 512 + size)),
    });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  assert.equal(tar.length - offset, 1024, "ends with exactly two zero blocks");
  assert.ok(tar.subarray(offset).every((byte) => byte === 0));
  return entries;
}

function hasSystemTar(): boolean {
  return spawnSync("tar", ["--version"]).status === 0;
}

describe("buildCodeBundle", () => {
  test("bundles the entry, the project files it imports and the manifests, but not node_modules", async () => {
    const root = writeProject(sampleProject);
    const bundle = await buildCodeBundle(root, [path.join(root, "src/workflow.ts")]);
    assert.equal(bundle.projectRoot, root);
    assert.deepEqual(
      bundle.files.map((f) => f.path),
      ["package-lock.json", "package.json", "src/lib/deep.ts", "src/lib/helper.ts", "src/workflow.ts"],
    );
    assert.equal(bundle.md5, createHash("md5").update(bundle.tar).digest("hex"));
    const entries = readTar(bundle.tar);
    assert.deepEqual(
      entries.map((e) => e.name),
      bundle.files.map((f) => f.path),
    );
    for (const entry of entries) {
      assert.deepEqual(entry.contents, fs.readFileSync(path.join(root, entry.name)));
      assert.equal(entry.mode, "0000644");
      assert.equal(entry.uid, "0000000");
      assert.equal(entry.gid, "0000000");
      assert.equal(entry.mtime, "00000000000");
      assert.equal(entry.uname, "");
      assert.equal(entry.gname, "");
      assert.equal(entry.typeflag, "0");
      assert.equal(entry.magic, "ustar");
    }
  });

  test("gives byte-identical archives for the same files, wherever and whenever they were written", async () => {
    const first = writeProject(sampleProject);
    const again = await buildCodeBundle(first, [path.join(first, "src/workflow.ts")]);
    const second = writeProject(sampleProject);
    const later = new Date(Date.now() + 3_600_000);
    for (const file of ["src/workflow.ts", "src/lib/helper.ts"]) fs.utimesSync(path.join(second, file), later, later);
    fs.chmodSync(path.join(second, "src/lib/deep.ts"), 0o600);
    const [a, b] = await Promise.all([
      buildCodeBundle(first, [path.join(first, "src/workflow.ts")]),
      buildCodeBundle(second, [path.join(second, "src/workflow.ts")]),
    ]);
    assert.ok(a.tar.equals(again.tar));
    assert.ok(a.tar.equals(b.tar));
    assert.equal(a.md5, b.md5);
  });

  test("changes when an imported file changes", async () => {
    const root = writeProject(sampleProject);
    const entry = path.join(root, "src/workflow.ts");
    const before = await buildCodeBundle(root, [entry]);
    fs.appendFileSync(path.join(root, "src/lib/deep.ts"), "export const more = 2;\n");
    const afterChange = await buildCodeBundle(root, [entry]);
    assert.notEqual(afterChange.md5, before.md5);
    fs.writeFileSync(path.join(root, "src/unused.ts"), "export const unused = 2;\n");
    const afterUnrelated = await buildCodeBundle(root, [entry]);
    assert.equal(afterUnrelated.md5, afterChange.md5, "a file nothing imports does not change the bundle");
  });

  test("combines several entry files without duplicates", async () => {
    const root = writeProject({ ...sampleProject, "src/other.ts": 'export { deep } from "./lib/deep.js";\n' });
    const bundle = await buildCodeBundle(root, [path.join(root, "src/workflow.ts"), path.join(root, "src/other.ts")]);
    assert.deepEqual(
      bundle.files.map((f) => f.path),
      ["package-lock.json", "package.json", "src/lib/deep.ts", "src/lib/helper.ts", "src/other.ts", "src/workflow.ts"],
    );
  });

  test("falls back to the entry files and package.json when an import cannot be resolved", async () => {
    const root = writeProject({
      "package.json": "{}",
      "wf.ts": 'import { gone } from "./gone.js";\nimport { helper } from "./helper.js";\nexport const wf = gone + helper;\n',
      "helper.ts": "export const helper = 1;\n",
    });
    const bundle = await buildCodeBundle(root, [path.join(root, "wf.ts")]);
    assert.deepEqual(
      bundle.files.map((f) => f.path),
      ["package.json", "wf.ts"],
    );
  });

  test("stores paths longer than 100 bytes in the ustar prefix so tar extracts them whole", async () => {
    const longDir = `src/${"a".repeat(60)}/${"b".repeat(60)}`;
    const root = writeProject({
      "package.json": "{}",
      "wf.ts": `import { x } from "./${longDir}/x.js";\nexport const wf = x;\n`,
      [`${longDir}/x.ts`]: "export const x = 1;\n",
    });
    const bundle = await buildCodeBundle(root, [path.join(root, "wf.ts")]);
    assert.deepEqual(
      readTar(bundle.tar).map((e) => e.name),
      ["package.json", `${longDir}/x.ts`, "wf.ts"],
    );
    if (!hasSystemTar()) return;
    const archive = path.join(root, "bundle.tar");
    fs.writeFileSync(archive, bundle.tar);
    const listing = spawnSync("tar", ["-tf", archive], { encoding: "utf8" });
    assert.equal(listing.status, 0, listing.stderr);
    assert.deepEqual(listing.stdout.trim().split("\n"), ["package.json", `${longDir}/x.ts`, "wf.ts"]);
  });
});

describe("contentVersion", () => {
  const md5 = "9e107d9d372bb6826bd81d3542a419d6";
  const settings = { image: "ghcr.io/acme/wf:1", resources: { cpu: "1", memory: "1Gi" }, retries: [1, 2] };

  test("is 22 url-safe base64 characters", () => {
    assert.match(contentVersion(md5, settings), /^[A-Za-z0-9_-]{22}$/);
  });

  test("is stable for the same input, whatever the key order", () => {
    const reordered = { retries: [1, 2], resources: { memory: "1Gi", cpu: "1" }, image: "ghcr.io/acme/wf:1" };
    assert.equal(contentVersion(md5, reordered), contentVersion(md5, settings));
    // Pinned so a change to the hashing scheme, which would re-version every user's entities, is deliberate.
    assert.equal(contentVersion(md5, settings), "tHAbWq9BXnkPanTDj7JtCg");
  });

  test("changes when a setting or the bundle changes", () => {
    const base = contentVersion(md5, settings);
    assert.notEqual(contentVersion(md5, { ...settings, resources: { cpu: "2", memory: "1Gi" } }), base);
    assert.notEqual(contentVersion(md5, { ...settings, retries: [2, 1] }), base);
    assert.notEqual(contentVersion("0".repeat(32), settings), base);
  });
});
