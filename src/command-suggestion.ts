// "Did you mean …?" for a mistyped command or topic (`get exectuion` → `get execution`, `creat execution` →
// `create execution`), shared by oclif's command_not_found hook and the help class. Never guesses beyond nearestName's reach.
import { UserError } from "./lib/errors.js";
import { nearestName } from "./lib/inputs/suggest.js";

/** What this needs of an oclif command as the config lists it: its id (an alias's own id for an alias's entry). */
export interface ListedCommand {
  id: string;
  hidden?: boolean;
  aliases?: string[];
  hiddenAliases?: string[];
}

/**
 * The error for a command id oclif did not find. oclif joins every word before the first flag into the id
 * (`get exectuion NAME --details` → `get:exectuion:NAME`), so the words are walked one topic level at a time,
 * each unknown word replaced by the nearest known one there, until they name a command; the words after it and
 * `argv` are its arguments, kept in the suggested command line.
 */
export function unknownCommandError(commands: readonly ListedCommand[], id: string, argv: readonly string[], bin = "tsflyte"): UserError {
  const canonical = new Map<string, string>();
  for (const c of commands) {
    if (c.hidden) continue;
    canonical.set(c.id, c.id);
    for (const alias of [...(c.aliases ?? []), ...(c.hiddenAliases ?? [])]) canonical.set(alias.replaceAll(" ", ":"), c.id);
  }
  const known = [...canonical.keys()];
  const words = id.split(":");
  const fixed: string[] = [];
  let typed = 0;
  for (const word of words) {
    if (canonical.has(fixed.join(":"))) break;
    const children = childrenOf(known, fixed);
    const next = children.includes(word) ? word : nearestName(word, children);
    typed++;
    if (next === undefined) {
      const where = fixed.length ? `${bin} ${fixed.join(" ")}` : bin;
      const choices = childrenOf([...new Set(canonical.values())], fixed).sort().join(", ");
      return new UserError(
        `${bin} has no command "${words.slice(0, typed).join(" ")}"`,
        `\`${where} --help\` lists ${fixed.length ? `the ${fixed.join(" ")} commands` : "the commands"}: ${choices}`,
      );
    }
    fixed.push(next);
  }
  const target = canonical.get(fixed.join(":"));
  const rest = [...words.slice(typed), ...argv].map(shellWord);
  const suggestion = [bin, ...(target ? target.split(":") : fixed), ...rest].join(" ");
  return new UserError(`${bin} has no command "${words.slice(0, typed).join(" ")}"`, `did you mean \`${suggestion}\`?`);
}

/** The words that may follow `prefix` in a known id: a command's or a topic's next word. */
function childrenOf(known: readonly string[], prefix: readonly string[]): string[] {
  const head = prefix.length ? `${prefix.join(":")}:` : "";
  const out = new Set<string>();
  for (const id of known) if (id.startsWith(head)) out.add(id.slice(head.length).split(":")[0]);
  return [...out];
}

/** A word as a shell reads it back: plain words as they are, anything else in single quotes. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
