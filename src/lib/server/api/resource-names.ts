// The rules FlyteAdmin applies to project ids, domains, entity names, versions, execution names and upload
// paths, each failing with one sentence that says which value broke which rule. Never normalizes a value.
import { randomBytes } from "node:crypto";
import { entityNameProblem, hasPathTrouble, projectIdProblem, showValue as show, versionProblem } from "../../compiler/registration-rules.js";
import { invalidArgument } from "./api-error.js";

export { hasControlCharacter } from "../../compiler/registration-rules.js";

/** Domains are set system-wide, as in FlyteAdmin's default configuration. */
export const domains = ["development", "staging", "production"] as const;

const executionNameRe = /^[a-z][a-z\-0-9]*$/;

export const maxExecutionNameLength = 63;

export function checkProjectId(id: string, field = "project"): void {
  const problem = projectIdProblem(id, field);
  if (problem) throw invalidArgument(problem);
}

export function checkDomain(domain: string, field = "domain"): void {
  if (!domain) throw invalidArgument(`${field} is required`);
  if (!(domains as readonly string[]).includes(domain)) {
    throw invalidArgument(`domain ${show(domain)} is unrecognized by the system; the domains are ${domains.join(", ")}`);
  }
}

export function checkEntityName(name: string, field = "name"): void {
  const problem = entityNameProblem(name, field);
  if (problem) throw invalidArgument(problem);
}

export function checkVersion(version: string, field = "version"): void {
  const problem = versionProblem(version, field);
  if (problem) throw invalidArgument(problem);
}

export function checkExecutionName(name: string, field = "name"): void {
  if (name.length > maxExecutionNameLength) {
    throw invalidArgument(`execution ${field} ${show(name)} is ${name.length} characters; the limit is ${maxExecutionNameLength}`);
  }
  if (!executionNameRe.test(name)) {
    throw invalidArgument(`execution ${field} ${show(name)} is invalid: start with a lowercase letter, then use lowercase letters, digits and "-"`);
  }
}

const nameAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

/** FlyteAdmin's generated execution names: "a" and 19 random lowercase letters and digits. */
export function generateExecutionName(): string {
  // 252 is the largest multiple of 36 below 256: rejecting the rest keeps every character equally likely.
  let name = "a";
  while (name.length < 20) {
    for (const byte of randomBytes(32)) {
      if (byte < 252 && name.length < 20) name += nameAlphabet[byte % 36];
    }
  }
  return name;
}

/**
 * One path segment a client chose (an upload's file name or root): no separators, no `.`/`..`, no control
 * characters and none of `?#%`, which would change the URI it ends up in.
 */
export function checkPathSegment(segment: string, field: string): void {
  if (!segment || hasPathTrouble(segment) || /[?#%]/.test(segment) || segment.length > 255) {
    throw invalidArgument(`${field} ${show(segment)} is not allowed in a storage path: no "/", "\\", "..", control characters, "?", "#" or "%"`);
  }
}

/** An upload file name: `file.py` or `pre/fix/file.zip`, each segment checked. */
export function checkRelativePath(path: string, field: string): string[] {
  if (!path) throw invalidArgument(`${field} is required`);
  if (path.length > 1024) throw invalidArgument(`${field} is longer than 1024 characters`);
  const segments = path.split("/");
  for (const s of segments) checkPathSegment(s, field);
  return segments;
}
