// The rules FlyteAdmin applies to project ids, domains, entity names, versions, execution names and upload
// paths, each failing with one sentence that says which value broke which rule. Never normalizes a value.
import { randomBytes } from "node:crypto";
import { invalidArgument } from "./api-error.js";

/** Domains are set system-wide, as in FlyteAdmin's default configuration. */
export const domains = ["development", "staging", "production"] as const;

const projectIdRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const executionNameRe = /^[a-z][a-z\-0-9]*$/;
// FlyteAdmin takes any version that url.QueryEscape leaves alone: letters, digits and -_.~
const versionRe = /^[A-Za-z0-9_.~-]+$/;
// Flyte entity names are dotted module paths; tsflyte's look like `examples.spend.calculateSpend`.
const entityNameRe = /^[A-Za-z0-9_.:-]+$/;

export const maxExecutionNameLength = 63;

/** NUL and the other control characters, which no name, path or header may carry. */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Values that must never reach a path or a URI built from a name. */
function hasPathTrouble(value: string): boolean {
  return value === "." || value === ".." || value.includes("/") || value.includes("\\") || hasControlCharacter(value);
}

function show(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

export function checkProjectId(id: string, field = "project"): void {
  if (!id) throw invalidArgument(`${field} is required`);
  if (id.length > 63 || !projectIdRe.test(id)) {
    throw invalidArgument(`${field} ${show(id)} is not a valid project id: use at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit`);
  }
}

export function checkDomain(domain: string, field = "domain"): void {
  if (!domain) throw invalidArgument(`${field} is required`);
  if (!(domains as readonly string[]).includes(domain)) {
    throw invalidArgument(`domain ${show(domain)} is unrecognized by the system; the domains are ${domains.join(", ")}`);
  }
}

export function checkEntityName(name: string, field = "name"): void {
  if (!name) throw invalidArgument(`${field} is required`);
  if (name.length > 255 || hasPathTrouble(name) || !entityNameRe.test(name)) {
    throw invalidArgument(`${field} ${show(name)} is not a valid name: use up to 255 letters, digits and "_", ".", ":", "-"`);
  }
}

export function checkVersion(version: string, field = "version"): void {
  if (!version) throw invalidArgument(`${field} is required`);
  if (version.length > 128 || hasPathTrouble(version) || !versionRe.test(version)) {
    throw invalidArgument(`${field} ${show(version)} must be URL-safe: use up to 128 letters, digits and "_", ".", "~", "-"`);
  }
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
