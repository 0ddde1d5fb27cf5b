// The README's commands, checked against the built CLI's manifest: every `npx tsflyte …` line a user may paste names
// a command that exists and only flags that command takes, and no line calls tsflyte in a way a fresh clone cannot
// (bare `tsflyte`, `node bin/run.js`). The quick start itself runs in .ci/other-nodes and the e2e tests.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { repoRoot } from "../fixtures/local/cli.js";

interface ManifestFlag {
  name: string;
  char?: string;
  type: "boolean" | "option";
  allowNo?: boolean;
}
interface ManifestCommand {
  id: string;
  aliases: string[];
  hiddenAliases?: string[];
  strict?: boolean;
  flags: Record<string, ManifestFlag>;
}

const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
const manifest = JSON.parse(readFileSync(join(repoRoot, "oclif.manifest.json"), "utf8")) as { commands: Record<string, ManifestCommand> };

/**
 * Command lines in the README's shell code blocks, joined where a line ends in `\`: in a block with `$ ` prompts only
 * the prompted lines (the rest is output), otherwise every line. Blocks of YAML, TypeScript, Dockerfile… are skipped.
 */
function commandLines(): { line: number; text: string }[] {
  const found: { line: number; text: string }[] = [];
  const lines = readme.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)/.exec(lines[i]);
    if (!fence) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end].startsWith("```")) end++;
    i = end;
    if (!["", "sh", "bash", "console"].includes(fence[1])) continue;
    const block = lines.slice(start, end);
    const prompted = block.some((l) => l.startsWith("$ "));
    for (let j = 0; j < block.length; j++) {
      if (prompted && !block[j].startsWith("$ ")) continue;
      const at = start + j + 1;
      let text = block[j].replace(/^\$ /, "");
      while (text.endsWith("\\") && j + 1 < block.length) text = text.slice(0, -1) + block[++j].trim();
      found.push({ line: at, text: text.replace(/\s+#.*$/, "") });
    }
  }
  return found;
}

/** Splits a shell line into words the way the shell would for these simple lines (quotes kept together). */
function words(text: string): string[] {
  return [...text.matchAll(/'[^']*'|"[^"]*"|\S+/g)].map((m) => m[0]);
}

/** The command named by the leading words, longest first, and the words after its id. */
function commandFor(argv: string[]): { command: ManifestCommand; rest: string[] } | undefined {
  for (let take = Math.min(3, argv.length); take > 0; take--) {
    const id = argv.slice(0, take).join(":");
    const command = Object.values(manifest.commands).find((c) => c.id === id || c.aliases.includes(id) || c.hiddenAliases?.includes(id));
    if (command) return { command, rest: argv.slice(take) };
  }
  return undefined;
}

describe("the README's commands", () => {
  const lines = commandLines();

  test("call tsflyte the one way that works on a fresh clone: npx tsflyte", () => {
    const bare = lines.filter(({ text }) => /(^|[;&|(]\s*)(tsflyte|node bin\/run\.js)\s/.test(text) && !/\bnpx tsflyte\b/.test(text));
    assert.deepEqual(bare.map((l) => `README.md:${l.line}: ${l.text}`), []);
  });

  test("name commands that exist, with flags those commands take", () => {
    const problems: string[] = [];
    const calls = lines.flatMap(({ line, text }) =>
      text
        .split(/\s*(?:&&|\|\||;|\|)\s*/)
        .filter((part) => part.startsWith("npx tsflyte "))
        .map((part) => ({ line, part })),
    );
    assert.ok(calls.length >= 20, `only ${calls.length} npx tsflyte lines found`);
    for (const { line, part } of calls) {
      const argv = words(part).slice(2);
      if (["--version", "--help", "-h"].includes(argv[0])) continue;
      const leading = argv.slice(0, argv.findIndex((w) => w.startsWith("-")) === -1 ? argv.length : argv.findIndex((w) => w.startsWith("-")));
      const found = commandFor(leading);
      if (!found) {
        problems.push(`README.md:${line}: no command "${leading.slice(0, 2).join(" ")}" in: ${part}`);
        continue;
      }
      const flags = Object.values(found.command.flags);
      const rest = argv.slice(argv.length - found.rest.length - (argv.length - leading.length));
      let positionals = 0;
      for (let i = 0; i < rest.length; i++) {
        const word = rest[i];
        if (word === "--") break;
        if (!word.startsWith("-")) {
          positionals++;
          // `run FILE ENTITY --<input> VALUE`: what follows the entity is its inputs.
          if (found.command.id === "run" && positionals === 2) break;
          continue;
        }
        const name = word.startsWith("--") ? word.slice(2).split("=")[0] : word.slice(1, 2);
        const flag = flags.find((f) => f.name === name || f.char === name || (f.allowNo && name === `no-${f.name}`));
        if (!flag && !["json", "help"].includes(name)) {
          problems.push(`README.md:${line}: ${found.command.id.replace(/:/g, " ")} has no flag ${word}: ${part}`);
          continue;
        }
        if (flag?.type === "option" && !word.includes("=")) i++;
      }
    }
    assert.deepEqual(problems, []);
  });
});
