// The code bundle reader: tsflyte's own ustar bundles, and archives GNU tar makes in pax and GNU formats, gzipped or
// not, with names too long for a ustar header. Never extracts an entry outside the target folder.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { gzipSync } from "node:zlib";
import { buildCodeBundle } from "../../../src/lib/compiler/bundle.js";
import { extractTar, readTar, TarError } from "../../../src/lib/execute/untar.js";
import { fixtureDir, removeTempDirs, tempDir } from "./support.js";

after(removeTempDirs);

const hasTar = spawnSync("tar", ["--version"]).status === 0;

test("a bundle from buildCodeBundle, plain and gzipped, extracts to the same files", async () => {
  const bundle = await buildCodeBundle(fixtureDir, ["tasks.ts"]);
  for (const archive of [bundle.tar, gzipSync(bundle.tar)]) {
    const entries = readTar(archive);
    assert.deepEqual(
      entries.map((e) => e.path),
      bundle.files.map((f) => f.path),
    );
    const out = tempDir("tsflyte-untar-");
    assert.equal(extractTar(archive, out), bundle.files.length);
    for (const file of bundle.files) assert.deepEqual(readFileSync(join(out, file.path)), file.contents);
  }
});

for (const format of ["pax", "gnu"] as const) {
  test(`GNU tar's ${format} format with a long path, gzipped`, { skip: !hasTar && "no tar on this machine" }, () => {
    const src = tempDir("tsflyte-untar-src-");
    const deep = join("a-rather-long-folder-name-that-goes-on".repeat(2), "and-on-and-on-past-the-hundred-byte-ustar-name-field");
    mkdirSync(join(src, deep), { recursive: true });
    writeFileSync(join(src, deep, "module.ts"), "export const x = 1;\n");
    writeFileSync(join(src, "top.ts"), "export const y = 2;\n");
    const archive = join(tempDir("tsflyte-untar-archive-"), "code.tar.gz");
    const made = spawnSync("tar", [`--format=${format}`, "-czf", archive, "-C", src, "."]);
    assert.equal(made.status, 0, made.stderr.toString());
    const out = tempDir("tsflyte-untar-out-");
    extractTar(readFileSync(archive), out);
    assert.equal(readFileSync(join(out, deep, "module.ts"), "utf8"), "export const x = 1;\n");
    assert.equal(readFileSync(join(out, "top.ts"), "utf8"), "export const y = 2;\n");
  });
}

test("an entry that climbs out of the folder, or bytes that are not a tar, are refused", () => {
  const header = Buffer.alloc(512);
  header.write("../escape.ts", 0, "utf8");
  header.write("0000644\0", 100, "ascii");
  header.write("00000000001\0", 124, "ascii");
  header.write("        ", 148, "ascii");
  header.write("0", 156, "ascii");
  header.write("ustar\0", 257, "ascii");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  const archive = Buffer.concat([header, Buffer.from("x"), Buffer.alloc(511), Buffer.alloc(1024)]);
  assert.throws(() => readTar(archive), (e: unknown) => e instanceof TarError && /outside its root/.test(e.message));
  assert.throws(() => readTar(Buffer.from("not a tar at all".repeat(64))), TarError);
});
