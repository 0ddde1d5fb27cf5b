// Generates strict protobuf-es codecs for Flyte IDL v1 (core, admin, event) from the protos shipped in
// @flyteorg/flyteidl. Offline and deterministic; the output folder is git-ignored and rebuilt by `npm run build`.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const idlPackage = dirname(require.resolve("@flyteorg/flyteidl/package.json"));
const { version } = JSON.parse(readFileSync(join(idlPackage, "package.json"), "utf8"));
const outDir = join(root, "src/lib/idl/gen");
const stamp = join(outDir, ".flyteidl-version");

const jsonNames = join(outDir, "json-names.ts");
/** The JSON field-name table `get execution` reads instead of loading the codecs (scripts/gen-json-names.ts). */
function writeJsonNames() {
  execFileSync(process.execPath, ["--import", "tsx", join(root, "scripts/gen-json-names.ts"), jsonNames], { cwd: root, stdio: "inherit" });
}

if (existsSync(stamp) && readFileSync(stamp, "utf8") === version && !process.argv.includes("--force")) {
  if (!existsSync(jsonNames)) writeJsonNames();
  process.exit(0);
}

// buf ignores inputs under node_modules, so work on a copy.
const work = join(root, "build/protos");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
cpSync(join(idlPackage, "protos/flyteidl"), join(work, "flyteidl"), { recursive: true });
writeFileSync(join(work, "buf.yaml"), "version: v2\n");
const plugin = join(root, "node_modules/.bin/protoc-gen-es");
writeFileSync(
  join(work, "buf.gen.yaml"),
  [
    "version: v2",
    "plugins:",
    `  - local: ${JSON.stringify(plugin)}`,
    `    out: ${JSON.stringify(outDir)}`,
    "    opt: [target=ts, import_extension=js]",
    "",
  ].join("\n"),
);
rmSync(outDir, { recursive: true, force: true });
const buf = join(root, "node_modules/.bin/buf");
const paths = ["core", "admin", "event"].flatMap((d) => ["--path", `flyteidl/${d}`]);
execFileSync(buf, ["generate", ...paths], { cwd: work, stdio: "inherit" });
writeJsonNames();
writeFileSync(stamp, version);
console.log(`generated Flyte IDL ${version} codecs in ${outDir}`);
