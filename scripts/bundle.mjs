// Bundles dist/ with esbuild: each command, the SDK entry, the help class and the loader hooks become entry
// points sharing chunks, so a command loads a handful of files instead of hundreds. Declarations come from tsc.
import { build } from "esbuild";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;

function commandFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return commandFiles(path);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : [];
  });
}

const entryPoints = [
  "src/index.ts",
  "src/help.ts",
  "src/hooks/command-not-found.ts",
  "src/lib/compiler/loader-hooks.ts",
  // The task container entrypoint (bin/tsflyte-execute) and the warm worker the subprocess runner starts.
  { in: "src/lib/execute/main.ts", out: "execute" },
  { in: "src/lib/engine/worker-process.ts", out: "execute-worker" },
  // The scheduler thread of `tsflyte serve`.
  { in: "src/lib/server/scheduler-thread.ts", out: "server-scheduler" },
  ...commandFiles(join(root, "src/commands")).map((f) => relative(root, f)),
];

await build({
  absWorkingDir: root,
  entryPoints,
  outdir: "dist",
  outbase: "src",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  chunkNames: "chunks/[name]-[hash]",
  // Kept as imports: oclif must be the instance that loads the commands; the rest are native, CommonJS, or
  // large and loaded lazily.
  external: ["@oclif/core", "@oclif/plugin-help", "better-sqlite3", "esbuild", "ajv", "@hpcc-js/wasm-graphviz", "apache-arrow", "hyparquet", "hyparquet-writer", "pg"],
  // yaml's Node entry is CommonJS spread over many files (about 50 ms to load); its ESM build bundles into one
  // chunk that loads in about 12 ms.
  alias: { yaml: "./node_modules/yaml/browser/index.js" },
  // Bundled CommonJS packages (@kubernetes/client-node's dependencies) call require() for Node's own modules,
  // which an ES module lacks: every output file gets one, bound to its own location.
  banner: { js: 'import { createRequire as __tsflyteCreateRequire } from "node:module"; const require = __tsflyteCreateRequire(import.meta.url);' },
  // Less text to read and parse at start-up (the Kubernetes client's chunk goes from 5.4 to 2.4 MB, about 100 ms
  // off the driver's start); names are kept, so stack traces still read, and the linked source maps map them back.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: "linked",
  sourcesContent: false,
  logLevel: "warning",
});
