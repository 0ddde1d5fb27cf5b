// Writes a flytectl-format config file for `tsflyte config init`: the admin endpoint, insecure, and project/domain when given.
// Never replaces a file unless forced, never leaves a half-written file behind, and never writes a token.
import { mkdir, rename, stat, unlink, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, resolve } from "node:path";
import { UserError } from "../errors.js";
import { defaultConfigFile, expandHome } from "./config.js";
import { normalizeAdminEndpoint } from "./endpoint.js";

export interface InitConfigOptions {
  /** host:port, or http(s)://host[:port]; an explicit http:// means insecure. */
  host: string;
  insecure?: boolean;
  force?: boolean;
  /** Written as task.project / task.domain only when given. */
  project?: string;
  domain?: string;
  /** The file to write (-c/--config); default ~/.flyte/config.yaml. */
  config?: string;
}

/** What `config init --json` prints. */
export interface InitConfigResult {
  file: string;
  /** As written: dns:///host:port. */
  endpoint: string;
  insecure: boolean;
}

export async function initConfig(options: InitConfigOptions, paths: { home?: string; cwd?: string } = {}): Promise<InitConfigResult> {
  const home = paths.home ?? homedir();
  const file = options.config ? resolve(paths.cwd ?? process.cwd(), expandHome(options.config, home)) : defaultConfigFile(home);
  if (/^https:\/\//i.test(options.host.trim()) && options.insecure) {
    throw new UserError(`--host ${options.host} asks for TLS (https://) but --insecure turns it off`, "drop --insecure, or write the host as http://… for plain http");
  }
  const endpoint = normalizeAdminEndpoint(options.host, options.insecure, "--host");
  const result: InitConfigResult = { file, endpoint: `dns:///${endpoint.hostPort}`, insecure: endpoint.insecure };

  if (!options.force && (await exists(file))) {
    throw new UserError(`the config file ${file} already exists; pass --force to overwrite it`, "or write another file with --config FILE");
  }
  const lines = [
    "# Written by `tsflyte config init`; tsflyte and flytectl both read it.",
    "admin:",
    `  endpoint: ${yamlScalar(result.endpoint)}`,
    `  insecure: ${result.insecure}`,
  ];
  if (options.project !== undefined || options.domain !== undefined) {
    lines.push("task:");
    if (options.project !== undefined) lines.push(`  project: ${yamlScalar(options.project)}`);
    if (options.domain !== undefined) lines.push(`  domain: ${yamlScalar(options.domain)}`);
  }
  await writeAtomically(file, `${lines.join("\n")}\n`);
  return result;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    throw new UserError(`cannot check the config file ${file}: ${code ?? (e as Error).message}`, "check the permissions of its folder");
  }
}

// A reader (or a crash) sees the old file or the new one, never half of one: rename within a folder is atomic.
async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(temp, text, { flag: "w" });
    await rename(temp, file);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code;
    const problem = code === "EISDIR" || code === "ENOTEMPTY" ? "it is a folder" : code === "EACCES" ? "permission denied" : (code ?? (e as Error).message);
    throw new UserError(`cannot write the config file ${file}: ${problem}`, "choose another file with --config FILE");
  }
}

/** A plain YAML scalar when it cannot be misread as another type, else a JSON string (valid YAML). */
function yamlScalar(text: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_./:-]*$/.test(text) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(text);
  return plain ? text : JSON.stringify(text);
}
