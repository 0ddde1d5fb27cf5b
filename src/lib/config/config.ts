// Resolves tsflyte's settings once per command: flags beat environment, environment beats the config file, the file beats defaults.
// Never puts the bearer token anywhere but AdminSettings.authToken (not in a message, not in another field); never imports yaml up front.
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { UserError } from "../errors.js";
import { parseConfigFile, type ConfigFileSettings, type FileSetting } from "./config-file.js";
import { normalizeAdminEndpoint } from "./endpoint.js";

export const defaultProject = "flytesnacks";
export const defaultDomain = "development";
/** flytectl's `-o doturl` prefix: the percent-encoded DOT text follows it. */
export const defaultDotViewer = "http://graph.flyte.org/#";

export interface ConfigFlags {
  config?: string;
  project?: string;
  domain?: string;
}

export interface AdminSettings {
  /** Base URL: http://host:port when insecure, https://host[:port] otherwise; no trailing slash. */
  url: string;
  /** As configured, for messages (e.g. "dns:///127.0.0.1:30080"). */
  endpoint: string;
  insecure: boolean;
  /** Where the endpoint was set, for messages: `TSFLYTE_ADMIN_ENDPOINT`, or `FILE:line:col: admin.endpoint`. */
  from: string;
  /** The bearer token; never printed, never in an error message. */
  authToken?: string;
}

export interface ResolvedConfig {
  /** The config file that was read (absolute path), if any. */
  file?: string;
  admin?: AdminSettings;
  consoleEndpoint?: string;
  project: string;
  domain: string;
  dotViewer: string;
}

export interface ConfigEnvironment {
  env?: NodeJS.ProcessEnv;
  /** The user's home, for `~/.flyte/config.yaml` and `~` in paths; tests pass a temp folder. */
  home?: string;
  /** Relative paths given with -c or in the environment are taken from here. */
  cwd?: string;
}

/** The config file a command reads, and who named it (nobody: the default under home, which may be absent). */
export interface ConfigFileChoice {
  path: string;
  namedBy?: "-c/--config" | "FLYTECTL_CONFIG";
}

export function defaultConfigFile(home: string = homedir()): string {
  return join(home, ".flyte", "config.yaml");
}

/** `~` and `~/…` as a shell would expand them, for paths written inside files and quoted environment values. */
export function expandHome(path: string, home: string): string {
  if (path === "~") return home;
  if (path.startsWith("~/")) return join(home, path.slice(2));
  return path;
}

export function chooseConfigFile(flags: Pick<ConfigFlags, "config">, options: ConfigEnvironment = {}): ConfigFileChoice {
  const env = options.env ?? process.env;
  const home = options.home ?? homedir();
  const cwd = options.cwd ?? process.cwd();
  if (flags.config) return { path: resolve(cwd, expandHome(flags.config, home)), namedBy: "-c/--config" };
  const fromEnv = nonEmpty(env.FLYTECTL_CONFIG);
  if (fromEnv) return { path: resolve(cwd, expandHome(fromEnv, home)), namedBy: "FLYTECTL_CONFIG" };
  return { path: defaultConfigFile(home) };
}

export async function resolveConfig(flags: ConfigFlags, options: ConfigEnvironment = {}): Promise<ResolvedConfig> {
  const env = options.env ?? process.env;
  const home = options.home ?? homedir();
  const cwd = options.cwd ?? process.cwd();
  const choice = chooseConfigFile(flags, { env, home, cwd });
  const text = await readConfigText(choice);
  const file: ConfigFileSettings = text === undefined ? {} : await parseConfigFile(text, choice.path);

  const insecureEnv = nonEmpty(env.TSFLYTE_ADMIN_INSECURE);
  const insecure = insecureEnv !== undefined ? parseBooleanEnv("TSFLYTE_ADMIN_INSECURE", insecureEnv) : file.adminInsecure?.value;
  const endpoint = envOrFile(env, "TSFLYTE_ADMIN_ENDPOINT", file.adminEndpoint);

  let admin: AdminSettings | undefined;
  if (endpoint) {
    const normalized = normalizeAdminEndpoint(endpoint.value, insecure, endpoint.where);
    admin = { url: normalized.url, endpoint: endpoint.value.trim(), insecure: normalized.insecure, from: endpoint.where };
    // Read only when there is somewhere to send it: local commands must not fail on a stale token file.
    const authToken = await resolveAuthToken(env, file, { home, cwd, configFile: choice.path });
    if (authToken !== undefined) admin.authToken = authToken;
  }

  const consoleSetting = envOrFile(env, "TSFLYTE_CONSOLE_ENDPOINT", file.consoleEndpoint);
  const dotSetting = envOrFile(env, "TSFLYTE_DOT_VIEWER", file.dotViewer);

  return {
    ...(text !== undefined ? { file: choice.path } : {}),
    ...(admin ? { admin } : {}),
    ...(consoleSetting ? { consoleEndpoint: httpUrl(consoleSetting.value, consoleSetting.where, "http://127.0.0.1:30080/console").replace(/\/+$/, "") } : {}),
    project: flags.project ?? nonEmpty(env.TSFLYTE_PROJECT) ?? file.project?.value ?? defaultProject,
    domain: flags.domain ?? nonEmpty(env.TSFLYTE_DOMAIN) ?? file.domain?.value ?? defaultDomain,
    dotViewer: dotSetting ? httpUrl(dotSetting.value, dotSetting.where, defaultDotViewer) : defaultDotViewer,
  };
}

/** The file's text; undefined when the default file is absent. A file someone named must exist. */
async function readConfigText(choice: ConfigFileChoice): Promise<string | undefined> {
  try {
    return await readFile(choice.path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const missing = code === "ENOENT" || code === "ENOTDIR";
    if (missing && !choice.namedBy) return undefined;
    const named = choice.namedBy ? ` (named by ${choice.namedBy})` : "";
    const problem = missing ? "does not exist" : code === "EISDIR" ? "is a folder, not a file" : code === "EACCES" ? "cannot be read: permission denied" : `cannot be read: ${code ?? (e as Error).message}`;
    const hint = missing
      ? choice.namedBy === "FLYTECTL_CONFIG"
        ? "fix or unset FLYTECTL_CONFIG, or create the file with `tsflyte config init --host HOST --config FILE`"
        : "check the path, or create the file with `tsflyte config init --host HOST --config FILE`"
      : "point -c/--config at a readable YAML file";
    throw new UserError(`the config file ${choice.path}${named} ${problem}`, hint);
  }
}

async function resolveAuthToken(
  env: NodeJS.ProcessEnv,
  file: ConfigFileSettings,
  paths: { home: string; cwd: string; configFile: string },
): Promise<string | undefined> {
  const direct = nonEmpty(env.TSFLYTE_AUTH_TOKEN);
  if (direct !== undefined) return checkToken(direct.trim(), "TSFLYTE_AUTH_TOKEN");
  const fromEnv = nonEmpty(env.TSFLYTE_AUTH_TOKEN_FILE);
  if (fromEnv !== undefined) return readAuthTokenFile(resolve(paths.cwd, expandHome(fromEnv, paths.home)), "TSFLYTE_AUTH_TOKEN_FILE");
  if (file.authTokenFile) {
    // Relative to the config file, so a config and its token can move together.
    const path = resolve(dirname(paths.configFile), expandHome(file.authTokenFile.value, paths.home));
    return readAuthTokenFile(path, file.authTokenFile.where);
  }
  return undefined;
}

async function readAuthTokenFile(path: string, where: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem = code === "ENOENT" || code === "ENOTDIR" ? "does not exist" : code === "EISDIR" ? "is a folder, not a file" : code === "EACCES" ? "cannot be read: permission denied" : `cannot be read: ${code ?? "unknown error"}`;
    throw new UserError(`${where}: the token file ${path} ${problem}`, "point it at a file whose first line is the bearer token");
  }
  const token = text.split(/\r?\n/)[0].trim();
  if (token === "") throw new UserError(`${where}: the token file ${path} is empty`, "put the bearer token on its first line");
  return checkToken(token, `${where}: the first line of the token file ${path}`);
}

/** A token that cannot go in an Authorization header is refused here, without quoting it. */
function checkToken(token: string, where: string): string {
  if (token === "") throw new UserError(`${where} is empty`, "set it to the bearer token, or unset it");
  if (/[^\x21-\x7e]/.test(token)) {
    throw new UserError(`${where} holds a space, a control character or a non-ASCII character, which a bearer token cannot have`, "write the token as one word");
  }
  return token;
}

function parseBooleanEnv(name: string, value: string): boolean {
  if (/^(true|1)$/i.test(value.trim())) return true;
  if (/^(false|0)$/i.test(value.trim())) return false;
  throw new UserError(`${name}: expected true, false, 1 or 0, found ${JSON.stringify(value)}`, `set ${name}=true for plain http, or unset it`);
}

function httpUrl(value: string, where: string, example: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value.trim());
  } catch {
    url = undefined;
  }
  if (url && (url.username || url.password)) throw new UserError(`${where}: the URL holds user info, which tsflyte does not send`, `write it without user info, e.g. ${example}`);
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || /\s/.test(value.trim())) {
    throw new UserError(`${where}: ${JSON.stringify(value)} is not an http:// or https:// URL`, `write it as e.g. ${example}`);
  }
  return value.trim();
}

function envOrFile(env: NodeJS.ProcessEnv, name: string, fromFile: FileSetting<string> | undefined): FileSetting<string> | undefined {
  const value = nonEmpty(env[name]);
  return value !== undefined ? { value, where: name } : fromFile;
}

/** An environment variable set to "" counts as unset, as shells use `VAR= command` to clear one. */
function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
