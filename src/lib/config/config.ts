// Resolves tsflyte's settings once per command: flags beat environment, environment beats the config file, the file beats defaults.
// Never puts the bearer token anywhere but AdminSettings.authToken (not in a message, not in another field); never imports yaml up front.
//
// Environment variables: FLYTECTL_CONFIG (the file), TSFLYTE_ADMIN_ENDPOINT, TSFLYTE_ADMIN_INSECURE, TSFLYTE_AUTH_TOKEN,
// TSFLYTE_AUTH_TOKEN_FILE, TSFLYTE_CONSOLE_ENDPOINT, TSFLYTE_PROJECT, TSFLYTE_DOMAIN, TSFLYTE_DOT_VIEWER, TSFLYTE_TARGET,
// TSFLYTE_K8S_NAMESPACE (a template), TSFLYTE_K8S_STORAGE, TSFLYTE_K8S_CONTEXT; and KUBECONFIG, whose first path is used
// only when kubernetes.kubeconfig is not in the file (kubectl's own variable, so the file's choice for tsflyte wins).
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { delimiter, dirname, join, posix, resolve } from "node:path";
import { UserError } from "../errors.js";
import { nearestName } from "../inputs/suggest.js";
import { parseConfigFile, type ConfigFileSettings, type FileSetting, type KubernetesFileSettings } from "./config-file.js";
import { normalizeAdminEndpoint } from "./endpoint.js";

export const defaultProject = "flytesnacks";
export const defaultDomain = "development";
/** flytectl's `-o doturl` prefix: the percent-encoded DOT text follows it. */
export const defaultDotViewer = "http://graph.flyte.org/#";
export const defaultNamespaceTemplate = "{project}-{domain}";
export const defaultServiceAccount = "default";
/** Flyte's 3 minutes of ImagePullBackOff before an attempt fails. */
export const defaultImagePullBackOffGraceMs = 180_000;

export type Target = "local" | "admin" | "kubernetes";
export const targets: readonly Target[] = ["local", "admin", "kubernetes"];

export interface ConfigFlags {
  config?: string;
  project?: string;
  domain?: string;
  /** local, admin or kubernetes; anything else is refused with where it came from. */
  target?: string;
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

export interface KubernetesSettings {
  /** Absolute path: kubernetes.kubeconfig (~ expanded, relative to the config file's folder), else the first path of KUBECONFIG (colon-separated), else ~/.kube/config. */
  kubeconfig: string;
  context?: string;
  /** With {project} and {domain} placeholders; default "{project}-{domain}". */
  namespaceTemplate: string;
  /** Default "default". */
  serviceAccount: string;
  /** s3://bucket[/prefix] or file:///path; required to use the target (see below). No trailing slash. */
  storage?: string;
  s3?: { endpoint?: string; region?: string; forcePathStyle?: boolean; credentialsSecret?: string };
  interruptible?: { tolerations?: Array<Record<string, unknown>>; nodeSelector?: Record<string, string> };
  /** How long a task pod may sit in ImagePullBackOff before its attempt fails; default 180 s (Flyte's 3 minutes). Key: kubernetes.imagePullBackOffGrace, a duration like "3m", "90s". */
  imagePullBackOffGraceMs: number;
  /** The pod annotation an execution's IAM role (iamRoleARN) is written to, when configured; else iam.amazonaws.com/role (FlyteAdmin's roleNameKey in Flyte's charts). Key: kubernetes.iamRoleAnnotation. */
  iamRoleAnnotation?: string;
  /** Where the section was read, for messages: `FILE:line:col: kubernetes` or "defaults". */
  from: string;
}

export interface ResolvedConfig {
  /** The config file that was read (absolute path), if any. */
  file?: string;
  admin?: AdminSettings;
  consoleEndpoint?: string;
  project: string;
  domain: string;
  dotViewer: string;
  /** Which target remote commands use: --target, then TSFLYTE_TARGET, then `target:` in the file, then "admin" when an admin endpoint is configured, else "local". */
  target: Target;
  /** Where the target was chosen, for messages: "--target", "TSFLYTE_TARGET", `FILE:line:col: target`, or "default". */
  targetFrom: string;
  /** Always set (defaults applied) so that `--target kubernetes` works with KUBECONFIG alone; `storage` may then be missing. */
  kubernetes: KubernetesSettings;
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
  const target = resolveTarget(flags, env, file.target, admin !== undefined);
  // Checked also when another target is used: a mistake in the file is reported where it is, not on the day it is needed.
  const kubernetes = resolveKubernetes(env, file.kubernetes, { home, cwd, configFile: choice.path });

  return {
    ...(text !== undefined ? { file: choice.path } : {}),
    ...(admin ? { admin } : {}),
    ...(consoleSetting ? { consoleEndpoint: httpUrl(consoleSetting.value, consoleSetting.where, "http://127.0.0.1:30080/console").replace(/\/+$/, "") } : {}),
    project: flags.project ?? nonEmpty(env.TSFLYTE_PROJECT) ?? file.project?.value ?? defaultProject,
    domain: flags.domain ?? nonEmpty(env.TSFLYTE_DOMAIN) ?? file.domain?.value ?? defaultDomain,
    dotViewer: dotSetting ? httpUrl(dotSetting.value, dotSetting.where, defaultDotViewer) : defaultDotViewer,
    target: target.value,
    targetFrom: target.where,
    kubernetes,
  };
}

/**
 * The Kubernetes namespace a project and domain run in: the template with {project} and {domain} filled in.
 * Refuses a result that is not a namespace name (a DNS label of at most 63 characters), naming the template and its origin.
 */
export function namespaceFor(settings: Pick<KubernetesSettings, "namespaceTemplate" | "from">, project: string, domain: string): string {
  // One pass, so a project name is never searched for a {domain}.
  const namespace = settings.namespaceTemplate.replace(/\{(project|domain)\}/g, (_, name: string) => (name === "project" ? project : domain));
  const problem = dnsLabelProblem(namespace);
  if (problem === undefined) return namespace;
  const origin =
    settings.namespaceTemplate === defaultNamespaceTemplate
      ? "the default"
      : settings.from === "defaults"
        ? "TSFLYTE_K8S_NAMESPACE"
        : `TSFLYTE_K8S_NAMESPACE, else kubernetes.namespace in ${settings.from}`;
  throw new UserError(
    `the namespace template ${JSON.stringify(settings.namespaceTemplate)} (${origin}) gives ${JSON.stringify(namespace)} for project ${JSON.stringify(project)} and domain ${JSON.stringify(domain)}, which is not a Kubernetes namespace name: it ${problem}`,
    "set kubernetes.namespace (or TSFLYTE_K8S_NAMESPACE) to a template that gives lowercase letters, digits and '-', at most 63, e.g. \"{project}-{domain}\" or a fixed \"flyte\"",
  );
}

function resolveTarget(flags: ConfigFlags, env: NodeJS.ProcessEnv, fromFile: FileSetting<string> | undefined, hasAdmin: boolean): { value: Target; where: string } {
  const chosen = flags.target !== undefined ? { value: flags.target, where: "--target" } : envOrFile(env, "TSFLYTE_TARGET", fromFile);
  if (!chosen) return { value: hasAdmin ? "admin" : "local", where: "default" };
  const value = chosen.value.trim();
  if ((targets as readonly string[]).includes(value)) return { value: value as Target, where: chosen.where };
  const aliases: Record<string, Target> = { k8s: "kubernetes", kube: "kubernetes", flyteadmin: "admin", remote: "admin" };
  const alias = aliases[value.toLowerCase()];
  const guess = alias ?? nearestName(value, targets);
  const hint = alias ? `${value} is spelled ${alias} here` : guess ? `did you mean ${guess}?` : "local runs here, admin on the configured control plane, kubernetes in the cluster of the kubeconfig";
  throw new UserError(`${chosen.where}: ${JSON.stringify(chosen.value)} is not a target; the targets are local, admin and kubernetes`, hint);
}

function resolveKubernetes(
  env: NodeJS.ProcessEnv,
  file: KubernetesFileSettings | undefined,
  paths: { home: string; cwd: string; configFile: string },
): KubernetesSettings {
  const namespace = envOrFile(env, "TSFLYTE_K8S_NAMESPACE", file?.namespace);
  const storage = envOrFile(env, "TSFLYTE_K8S_STORAGE", file?.storage);
  const context = envOrFile(env, "TSFLYTE_K8S_CONTEXT", file?.context);
  const serviceAccount = file?.serviceAccount;
  const settings: KubernetesSettings = {
    kubeconfig: kubeconfigPath(env, file?.kubeconfig, paths),
    ...(context ? { context: context.value.trim() } : {}),
    namespaceTemplate: namespace ? namespaceTemplate(namespace.value, namespace.where) : defaultNamespaceTemplate,
    serviceAccount: serviceAccount ? dnsSubdomain(serviceAccount.value, serviceAccount.where, "a service account", "default") : defaultServiceAccount,
    ...(storage ? { storage: storageUrl(storage.value, storage.where) } : {}),
    imagePullBackOffGraceMs: file?.imagePullBackOffGrace ? durationMs(file.imagePullBackOffGrace.value, file.imagePullBackOffGrace.where) : defaultImagePullBackOffGraceMs,
    ...(file?.iamRoleAnnotation ? { iamRoleAnnotation: file.iamRoleAnnotation.value } : {}),
    from: file?.where ?? "defaults",
  };
  const s3: NonNullable<KubernetesSettings["s3"]> = {};
  if (file?.s3Endpoint) s3.endpoint = httpUrl(file.s3Endpoint.value, file.s3Endpoint.where, "http://minio.flyte.svc:9000").replace(/\/+$/, "");
  if (file?.s3Region) s3.region = file.s3Region.value.trim();
  if (file?.s3ForcePathStyle) s3.forcePathStyle = file.s3ForcePathStyle.value;
  if (file?.s3CredentialsSecret) s3.credentialsSecret = dnsSubdomain(file.s3CredentialsSecret.value, file.s3CredentialsSecret.where, "a Secret", "flyte-s3-credentials");
  if (Object.keys(s3).length > 0) settings.s3 = s3;
  const interruptible: NonNullable<KubernetesSettings["interruptible"]> = {};
  if (file?.tolerations) interruptible.tolerations = file.tolerations.value;
  if (file?.nodeSelector) interruptible.nodeSelector = file.nodeSelector.value;
  if (Object.keys(interruptible).length > 0) settings.interruptible = interruptible;
  return settings;
}

/** The file's kubeconfig beats KUBECONFIG: KUBECONFIG is kubectl's, and a tsflyte config that names one means it. */
function kubeconfigPath(env: NodeJS.ProcessEnv, fromFile: FileSetting<string> | undefined, paths: { home: string; cwd: string; configFile: string }): string {
  if (fromFile) return resolve(dirname(paths.configFile), expandHome(fromFile.value.trim(), paths.home));
  // kubectl merges every file in KUBECONFIG; tsflyte reads one, the first, as kubectl writes changes to it.
  const first = nonEmpty(env.KUBECONFIG)
    ?.split(delimiter)
    .map((entry) => entry.trim())
    .find((entry) => entry !== "");
  if (first !== undefined) return resolve(paths.cwd, expandHome(first, paths.home));
  return join(paths.home, ".kube", "config");
}

function namespaceTemplate(value: string, where: string): string {
  const template = value.trim();
  const hint = 'write it with lowercase letters, digits, \'-\' and the placeholders {project} and {domain}, e.g. "{project}-{domain}" or "flyte-{domain}"';
  const placeholder = /\{([^{}]*)\}/g;
  for (const match of template.matchAll(placeholder)) {
    if (match[1] === "project" || match[1] === "domain") continue;
    const guess = nearestName(match[1], ["project", "domain"]);
    throw new UserError(`${where}: ${JSON.stringify(template)} has the placeholder ${match[0]}${guess ? `; did you mean {${guess}}?` : ""}`, hint);
  }
  const literal = template.replace(placeholder, "");
  const bad = /[^a-z0-9-]/.exec(literal);
  if (bad) throw new UserError(`${where}: ${JSON.stringify(template)} has ${JSON.stringify(bad[0])}, which a namespace name cannot have`, hint);
  if (literal.length === template.length) {
    const problem = dnsLabelProblem(template);
    if (problem !== undefined) throw new UserError(`${where}: ${JSON.stringify(template)} is not a namespace name: it ${problem}`, hint);
    return template;
  }
  // What holds for every project and domain is checked now; the rest when a namespace is made (namespaceFor).
  if (template.startsWith("-") || template.endsWith("-")) throw new UserError(`${where}: ${JSON.stringify(template)} gives namespace names that start or end with '-'`, hint);
  if (template.replace(placeholder, "x").length > 63) throw new UserError(`${where}: ${JSON.stringify(template)} gives namespace names longer than 63 characters`, hint);
  return template;
}

/** Why `name` is not a DNS label (RFC 1123, as Kubernetes checks namespace names), or undefined if it is one. */
function dnsLabelProblem(name: string): string | undefined {
  if (name === "") return "is empty";
  if (name.length > 63) return `has ${name.length} characters, more than 63`;
  if (/[^a-z0-9-]/.test(name)) return "has characters other than lowercase letters, digits and '-'";
  if (name.startsWith("-") || name.endsWith("-")) return "starts or ends with '-'";
  return undefined;
}

/** A DNS subdomain (RFC 1123), as Kubernetes names service accounts and Secrets. */
function dnsSubdomain(value: string, where: string, what: string, example: string): string {
  const name = value.trim();
  if (name.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name)) return name;
  throw new UserError(`${where}: ${JSON.stringify(value)} is not the name of ${what}`, `use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, e.g. ${example}`);
}

/** s3://bucket[/prefix] with an S3 bucket name, or file:///absolute/path; a trailing slash is dropped. */
function storageUrl(value: string, where: string): string {
  const text = value.trim();
  const fail = (problem: string): never => {
    const hint = "write it as s3://bucket or s3://bucket/prefix (S3, or an S3-compatible store with kubernetes.s3.endpoint), or as file:///path on a volume every node mounts";
    throw new UserError(`${where}: ${JSON.stringify(value)} ${problem}`, hint);
  };
  if (/[\s?#]/.test(text)) return fail("has a space, '?' or '#'");
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (!scheme) return fail("is not an s3:// or file:// URL");
  const after = text.slice(scheme[0].length);
  const rest = after.replace(/\/+$/, "");
  if (scheme[1] === "s3") {
    const slash = rest.indexOf("/");
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const prefix = slash === -1 ? "" : rest.slice(slash + 1);
    if (bucket === "") return fail("has no bucket");
    const problem = bucketProblem(bucket);
    if (problem) return fail(`has the bucket ${JSON.stringify(bucket)}, which ${problem}`);
    if (prefix !== "" && prefix.split("/").includes("")) return fail("has an empty path segment ('//')");
    return `s3://${rest}`;
  }
  if (scheme[1] === "file") {
    if (!after.startsWith("/")) return fail(after === "" ? "has no path" : "names a host or a relative path; write file:/// and then the absolute path");
    if (rest === "") return fail("is the root folder; name a folder below it");
    const normal = posix.normalize(rest).replace(/\/+$/, "");
    if (normal !== rest) return fail(`is not a plain absolute path; write file://${normal}`);
    return `file://${rest}`;
  }
  const name = scheme[1].toLowerCase();
  if (name === "s3" || name === "file") return fail(`must start with ${name}:// in lowercase`);
  const unsupported = ["gs", "abfs", "abfss", "wasbs", "s3a"].includes(name) ? `; ${name}:// is not supported by the kubernetes target` : "";
  return fail(`has the scheme ${name}://, not s3:// or file://${unsupported}`);
}

/** Why `bucket` is not an S3 bucket name (AWS's general purpose bucket naming rules), or undefined. */
function bucketProblem(bucket: string): string | undefined {
  if (bucket.length < 3 || bucket.length > 63) return "must have 3 to 63 characters";
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket)) return "may have only lowercase letters, digits, '.' and '-', starting and ending with a letter or digit";
  if (bucket.includes("..")) return "has two dots in a row";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return "looks like an IP address";
  return undefined;
}

/** A duration as Go and Flyte write it ("3m", "90s", "1m30s", "500ms", "1.5h"), in milliseconds. */
function durationMs(value: string, where: string): number {
  const text = value.trim();
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < text.length) {
    part.lastIndex = index;
    const match = part.exec(text);
    if (!match) break;
    total += Number(match[1]) * units[match[2]];
    index = part.lastIndex;
  }
  if (text === "" || index !== text.length) throw new UserError(`${where}: ${JSON.stringify(value)} is not a duration`, 'write it as a number with a unit: ms, s, m or h, e.g. "3m" or "90s"');
  return Math.round(total);
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
