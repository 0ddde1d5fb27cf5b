// An esbuild plugin for bundles of a user's modules: `import.meta.url`, `.filename` and `.dirname` keep naming each
// source file, not the bundle in a cache folder. Never moves a line or a column, so source maps stay exact.
import { readFileSync } from "node:fs";
import { dirname, extname, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type { Plugin } from "esbuild";

const metaReplacements: [RegExp, string, (path: string) => string][] = [
  // Same length as what they replace, so no column of the line moves; defined at the end, so no line moves.
  [/\bimport\.meta\.url\b/g, "__tsflyte_url()", (p) => pathToFileURL(p).href],
  [/\bimport\.meta\.filename\b/g, "__tsflyte_filename()", (p) => p],
  [/\bimport\.meta\.dirname\b/g, "__tsflyte_dirname()", (p) => dirname(p)],
];

export const ownImportMeta: Plugin = {
  name: "tsflyte-own-import-meta",
  setup(b) {
    b.onLoad({ filter: /\.(ts|tsx|mts|cts|js|mjs|cjs|jsx)$/ }, (args) => {
      if (args.path.split(sep).includes("node_modules")) return undefined;
      let contents = readFileSync(args.path, "utf8");
      if (!contents.includes("import.meta")) return undefined;
      const defined: string[] = [];
      for (const [pattern, call, value] of metaReplacements) {
        if (contents.search(pattern) < 0) continue;
        contents = contents.replace(pattern, call);
        defined.push(`function ${call.slice(0, -2)}() { return ${JSON.stringify(value(args.path))}; }`);
      }
      return { contents: `${contents}\n${defined.join("\n")}\n`, loader: loaderFor(args.path) };
    });
  },
};

function loaderFor(path: string): "ts" | "tsx" | "js" | "jsx" {
  const ext = extname(path);
  if (ext === ".tsx") return "tsx";
  if (ext === ".jsx") return "jsx";
  if (ext === ".ts" || ext === ".mts" || ext === ".cts") return "ts";
  return "js";
}
