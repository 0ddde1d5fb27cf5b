// Parses a flytectl-style config.yaml into the few settings tsflyte uses, each with its file:line:col for messages.
// Never quotes file content beyond the offending value (a config file may hold other secrets), and never reads other files.
import { UserError, describeValue } from "../errors.js";
import { nearestName } from "../inputs/suggest.js";
import { checkFileSize } from "../user-file.js";

/** A value from the config file and where it was written: `file:line:col: admin.endpoint`. */
export interface FileSetting<T> {
  value: T;
  where: string;
}

export interface ConfigFileSettings {
  adminEndpoint?: FileSetting<string>;
  adminInsecure?: FileSetting<boolean>;
  authTokenFile?: FileSetting<string>;
  consoleEndpoint?: FileSetting<string>;
  project?: FileSetting<string>;
  domain?: FileSetting<string>;
  dotViewer?: FileSetting<string>;
  target?: FileSetting<string>;
  kubernetes?: KubernetesFileSettings;
}

/**
 * The `kubernetes:` section, tsflyte's own and so read strictly: an unknown key is an error. Shapes are checked here,
 * where positions are known; values that the environment can also set (namespace, storage, …) are checked by the resolver.
 */
export interface KubernetesFileSettings {
  /** Where `kubernetes:` is written: `file:line:col: kubernetes`. */
  where: string;
  kubeconfig?: FileSetting<string>;
  context?: FileSetting<string>;
  namespace?: FileSetting<string>;
  serviceAccount?: FileSetting<string>;
  storage?: FileSetting<string>;
  s3Endpoint?: FileSetting<string>;
  s3Region?: FileSetting<string>;
  s3ForcePathStyle?: FileSetting<boolean>;
  s3CredentialsSecret?: FileSetting<string>;
  /** Each a Kubernetes Toleration, already checked: only its five keys, operator and effect from their enums. */
  tolerations?: FileSetting<Array<Record<string, unknown>>>;
  nodeSelector?: FileSetting<Record<string, string>>;
  imagePullBackOffGrace?: FileSetting<string>;
  /** Already checked: an annotation key (name or prefix/name). */
  iamRoleAnnotation?: FileSetting<string>;
}

type Path = readonly (string | number)[];

const knownKeys: { path: [string] | [string, string]; type: "string" | "boolean"; setting: Exclude<keyof ConfigFileSettings, "kubernetes"> }[] = [
  { path: ["admin", "endpoint"], type: "string", setting: "adminEndpoint" },
  { path: ["admin", "insecure"], type: "boolean", setting: "adminInsecure" },
  { path: ["admin", "authTokenFile"], type: "string", setting: "authTokenFile" },
  { path: ["console", "endpoint"], type: "string", setting: "consoleEndpoint" },
  { path: ["task", "project"], type: "string", setting: "project" },
  { path: ["task", "domain"], type: "string", setting: "domain" },
  { path: ["dotViewer"], type: "string", setting: "dotViewer" },
  { path: ["target"], type: "string", setting: "target" },
];

const kubernetesKeys = ["kubeconfig", "context", "namespace", "serviceAccount", "storage", "s3", "interruptible", "imagePullBackOffGrace", "iamRoleAnnotation"];
const s3Keys = ["endpoint", "region", "forcePathStyle", "credentialsSecret"];
const interruptibleKeys = ["tolerations", "nodeSelector"];
const tolerationKeys = ["key", "operator", "value", "effect", "tolerationSeconds"];
const tolerationOperators = ["Exists", "Equal"];
const tolerationEffects = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

/** Where things are written in the file, for messages. */
interface Locator {
  /** `file:line:col` of the value at `path`, else of its nearest written parent. */
  value(path: Path): string;
  /** `file:line:col` of the key that ends `path`, where `key:` is written. */
  key(path: Path): string;
}

/**
 * `file` is the absolute path, used only in messages. Unknown top-level keys are ignored (flytectl files carry many)
 * unless they look like a misspelt `kubernetes` or `target`; inside `kubernetes:` every key must be known.
 */
export async function parseConfigFile(text: string, file: string): Promise<ConfigFileSettings> {
  checkFileSize(Buffer.byteLength(text), `the config file ${file}`);
  // tsflyte's own YAML reader: linear in the file's size (the YAML library's duplicate-key check compares every key with
  // every other), with the nesting and alias limits of every file a user writes. It throws YamlFileError, a UserError.
  const { parseUserYaml } = await import("../user-yaml.js");
  const yaml = parseUserYaml(text, file);
  const at = (offset: number | undefined): string => {
    const pos = yaml.lines.linePos(offset ?? 0);
    return `${file}:${pos.line}:${pos.col}`;
  };
  const syntax = yaml.errors[0];
  if (syntax) {
    const more = yaml.errors.length > 1 ? ` (and ${yaml.errors.length - 1} more problem${yaml.errors.length === 2 ? "" : "s"})` : "";
    throw new UserError(`${at(syntax.pos[0])}: ${syntax.message}${more}`, "fix the YAML at that line and column");
  }
  const data = yaml.value;
  if (data === null || data === undefined) return {};

  // Paths as the reader names them: `kubernetes.tolerations[0].key`.
  const pathKey = (path: Path): string => path.reduce<string>((key, step) => (typeof step === "number" ? `${key}[${step}]` : key ? `${key}.${step}` : step), "");
  const locate: Locator = {
    value(path) {
      for (let n = path.length; n > 0; n--) {
        const start = yaml.values.get(pathKey(path.slice(0, n)));
        if (start !== undefined) return at(start);
      }
      return at(yaml.start);
    },
    key(path) {
      const start = yaml.keys.get(pathKey(path));
      return start !== undefined ? at(start) : this.value(path);
    },
  };

  if (!isPlainObject(data)) throw new UserError(`${at(yaml.start)}: expected a mapping at the top level, found ${describeValue(data)}`, "start the file with admin: and its keys below it");
  for (const section of ["admin", "console", "task"]) {
    const value = data[section];
    if (value !== null && value !== undefined && !isPlainObject(value)) throw typeError(locate, [section], "a mapping", value);
  }
  for (const key of Object.keys(data)) {
    // Other top-level keys belong to flytectl and are skipped; a near miss of ours would be skipped silently too.
    const guess = nearestName(key, ["kubernetes"]) ?? nearestName(key, ["target"], 1);
    if (guess && guess !== key) {
      throw new UserError(`${locate.key([key])}: ${key}: unknown key; did you mean ${guess}?`, `tsflyte skips other top-level keys (flytectl's), so spell it ${guess} for tsflyte to read it`);
    }
  }

  const settings: ConfigFileSettings = {};
  for (const key of knownKeys) {
    const parent = key.path.length === 2 ? (data[key.path[0]] as Record<string, unknown> | null | undefined) : data;
    const setting = scalar(locate, key.path, parent?.[key.path[key.path.length - 1]], key.type);
    if (setting) (settings as Record<string, FileSetting<unknown>>)[key.setting] = setting;
  }
  const kubernetes = parseKubernetesSection(locate, data.kubernetes);
  if (kubernetes) settings.kubernetes = kubernetes;
  return settings;
}

function parseKubernetesSection(locate: Locator, section: unknown): KubernetesFileSettings | undefined {
  const root = ["kubernetes"];
  const values = mapping(locate, root, section, kubernetesKeys);
  if (!values) return undefined;
  const settings: KubernetesFileSettings = { where: `${locate.key(root)}: kubernetes` };
  const put = <K extends keyof KubernetesFileSettings>(name: K, setting: KubernetesFileSettings[K] | undefined): void => {
    if (setting !== undefined) settings[name] = setting;
  };
  for (const name of ["kubeconfig", "context", "namespace", "serviceAccount", "storage", "imagePullBackOffGrace"] as const) {
    put(name, scalar(locate, [...root, name], values[name], "string"));
  }
  const s3 = mapping(locate, [...root, "s3"], values.s3, s3Keys);
  if (s3) {
    put("s3Endpoint", scalar(locate, [...root, "s3", "endpoint"], s3.endpoint, "string"));
    put("s3Region", scalar(locate, [...root, "s3", "region"], s3.region, "string"));
    put("s3ForcePathStyle", scalar(locate, [...root, "s3", "forcePathStyle"], s3.forcePathStyle, "boolean"));
    put("s3CredentialsSecret", scalar(locate, [...root, "s3", "credentialsSecret"], s3.credentialsSecret, "string"));
  }
  const roleKey = scalar(locate, [...root, "iamRoleAnnotation"], values.iamRoleAnnotation, "string");
  if (roleKey && !isQualifiedName(roleKey.value)) {
    throw new UserError(`${roleKey.where}: ${JSON.stringify(roleKey.value)} is not an annotation key`, "write it as name or prefix/name, e.g. iam.amazonaws.com/role (the default)");
  }
  put("iamRoleAnnotation", roleKey);
  const interruptible = mapping(locate, [...root, "interruptible"], values.interruptible, interruptibleKeys);
  if (interruptible) {
    put("tolerations", tolerations(locate, [...root, "interruptible", "tolerations"], interruptible.tolerations));
    put("nodeSelector", nodeSelector(locate, [...root, "interruptible", "nodeSelector"], interruptible.nodeSelector));
  }
  return settings;
}

/** A mapping whose keys are all in `keys`; undefined when not written (absent or null). */
function mapping(locate: Locator, path: Path, value: unknown, keys: readonly string[]): Record<string, unknown> | undefined {
  if (value === null || value === undefined) return undefined;
  if (!isPlainObject(value)) throw typeError(locate, path, "a mapping", value);
  for (const key of Object.keys(value)) {
    if (keys.includes(key)) continue;
    const guess = nearestName(key, keys, Math.max(2, Math.floor(key.length / 5)));
    const parent = showPath(path);
    throw new UserError(
      `${locate.key([...path, key])}: ${parent}.${key}: unknown key${guess ? `; did you mean ${parent}.${guess}?` : ""}`,
      `the keys of ${parent} are ${keys.join(", ")}`,
    );
  }
  return value;
}

/** A string or boolean setting; undefined when not written. `endpoint:` with nothing after it is YAML null: not written. */
function scalar(locate: Locator, path: Path, value: unknown, type: "string"): FileSetting<string> | undefined;
function scalar(locate: Locator, path: Path, value: unknown, type: "boolean"): FileSetting<boolean> | undefined;
function scalar(locate: Locator, path: Path, value: unknown, type: "string" | "boolean"): FileSetting<string | boolean> | undefined;
function scalar(locate: Locator, path: Path, value: unknown, type: "string" | "boolean"): FileSetting<string | boolean> | undefined {
  if (value === null || value === undefined) return undefined;
  if (type === "boolean" && typeof value !== "boolean") throw typeError(locate, path, "a boolean", value);
  if (type === "string" && typeof value !== "string") throw typeError(locate, path, "a string", value);
  if (value === "") throw typeError(locate, path, "a non-empty string", value);
  return { value: value as string | boolean, where: `${locate.value(path)}: ${showPath(path)}` };
}

/** Kubernetes Tolerations, checked as the API server would (ValidateTolerations) so a bad one fails here, not at pod creation. */
function tolerations(locate: Locator, path: Path, value: unknown): FileSetting<Array<Record<string, unknown>>> | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Array.isArray(value)) throw typeError(locate, path, "a list of tolerations", value);
  const checked = value.map((item: unknown, index): Record<string, unknown> => {
    const at = [...path, index];
    const toleration = mapping(locate, at, item, tolerationKeys);
    if (!toleration) throw typeError(locate, at, "a toleration (a mapping with key, operator, value, effect, tolerationSeconds)", item);
    const fail = (field: string | undefined, problem: string, hint: string): never => {
      const where = field === undefined ? locate.value(at) : locate.value([...at, field]);
      throw new UserError(`${where}: ${showPath(field === undefined ? at : [...at, field])}: ${problem}`, hint);
    };
    const { key, operator, value: tolerated, effect, tolerationSeconds } = toleration;
    for (const field of ["key", "operator", "value", "effect"]) {
      const v = toleration[field];
      if (v !== undefined && v !== null && typeof v !== "string") fail(field, `expected a string, found ${describeValue(v)}`, `write ${field} as a string, quoted if it looks like a number or a boolean`);
    }
    if (typeof key === "string" && key !== "" && !isQualifiedName(key)) {
      fail("key", `${JSON.stringify(key)} is not a label key`, "write it as name or prefix/name: letters, digits, '-', '_' and '.', at most 63 characters after the prefix");
    }
    if (operator !== undefined && operator !== null && !tolerationOperators.includes(operator as string)) {
      const guess = tolerationOperators.find((o) => o.toLowerCase() === String(operator).toLowerCase());
      fail("operator", `expected Exists or Equal, found ${describeValue(operator)}`, guess ? `operators are case-sensitive: write ${guess}` : "leave it out for Equal");
    }
    const exists = operator === "Exists";
    if (exists && typeof tolerated === "string" && tolerated !== "") fail("value", "must be left out when operator is Exists", "remove value, or use operator: Equal");
    if (!exists && typeof tolerated === "string" && !isLabelValue(tolerated)) {
      fail("value", `${JSON.stringify(tolerated)} is not a label value`, "use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit");
    }
    if ((key === undefined || key === null || key === "") && !exists) {
      fail(undefined, "a toleration without key must have operator: Exists (it then tolerates every taint)", "add the taint's key, or operator: Exists");
    }
    if (effect !== undefined && effect !== null && !tolerationEffects.includes(effect as string)) {
      const guess = tolerationEffects.find((e) => e.toLowerCase() === String(effect).toLowerCase());
      fail("effect", `expected NoSchedule, PreferNoSchedule or NoExecute, found ${describeValue(effect)}`, guess ? `effects are case-sensitive: write ${guess}` : "leave it out to match every effect");
    }
    if (tolerationSeconds !== undefined && tolerationSeconds !== null) {
      if (typeof tolerationSeconds !== "number" || !Number.isSafeInteger(tolerationSeconds)) {
        fail("tolerationSeconds", `expected a whole number of seconds, found ${describeValue(tolerationSeconds)}`, "write it as e.g. 300");
      }
      if (effect !== "NoExecute") fail("tolerationSeconds", "needs effect: NoExecute", "add effect: NoExecute, or remove tolerationSeconds");
    }
    // Nulls are keys not written; the rest goes to the pod as written.
    return Object.fromEntries(Object.entries(toleration).filter(([, v]) => v !== null && v !== undefined));
  });
  return { value: checked, where: `${locate.value(path)}: ${showPath(path)}` };
}

function nodeSelector(locate: Locator, path: Path, value: unknown): FileSetting<Record<string, string>> | undefined {
  if (value === null || value === undefined) return undefined;
  if (!isPlainObject(value)) throw typeError(locate, path, "a mapping of node labels to values", value);
  for (const [label, v] of Object.entries(value)) {
    if (!isQualifiedName(label)) {
      throw new UserError(`${locate.key([...path, label])}: ${showPath(path)}: ${JSON.stringify(label)} is not a label key`, "write it as name or prefix/name, e.g. node.kubernetes.io/instance-type");
    }
    if (typeof v !== "string") throw typeError(locate, [...path, label], "a string", v);
    if (!isLabelValue(v)) {
      throw new UserError(`${locate.value([...path, label])}: ${showPath([...path, label])}: ${JSON.stringify(v)} is not a label value`, "use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit");
    }
  }
  return { value: value as Record<string, string>, where: `${locate.value(path)}: ${showPath(path)}` };
}

/** A label key: `name` or `prefix/name`, the prefix a DNS subdomain (Kubernetes IsQualifiedName). */
function isQualifiedName(text: string): boolean {
  const slash = text.lastIndexOf("/");
  const prefix = slash === -1 ? undefined : text.slice(0, slash);
  const name = slash === -1 ? text : text.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(prefix))) return false;
  return name.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name);
}

/** A label value: empty, or up to 63 characters that start and end alphanumeric (Kubernetes IsValidLabelValue). */
function isLabelValue(text: string): boolean {
  return text.length <= 63 && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(text);
}

function typeError(locate: Locator, path: Path, expected: string, value: unknown): UserError {
  return new UserError(`${locate.value(path)}: ${showPath(path)}: expected ${expected}, found ${describeValue(value)}`, hintFor(path, expected));
}

/** `kubernetes.interruptible.tolerations[0].effect`, as a person would write the path. */
function showPath(path: Path): string {
  return path.map((step, i) => (typeof step === "number" ? `[${step}]` : i === 0 ? step : `.${step}`)).join("");
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function hintFor(path: Path, expected: string): string {
  const shown = showPath(path);
  if (expected === "a boolean") return `write ${shown} as true or false (yes/no are strings in YAML 1.2)`;
  if (expected === "a mapping") return `put the keys of ${shown} on the lines below it, indented`;
  if (expected.startsWith("a list")) return `write ${shown} as a list, one "- key: …" item a line`;
  if (expected.startsWith("a mapping of")) return `write ${shown} as label: value lines below it, indented`;
  if (expected.startsWith("a toleration")) return `write each item of the list as a mapping, e.g. - {key: spot, operator: Exists, effect: NoSchedule}`;
  return `write ${shown} as a string, quoted if it looks like a number or a boolean`;
}
