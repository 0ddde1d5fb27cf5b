// Parses a flytectl-style config.yaml into the few settings tsflyte uses, each with its file:line:col for messages.
// Never quotes file content beyond the offending value (a config file may hold other secrets), and never reads other files.
import { UserError, describeValue } from "../errors.js";

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
}

const knownKeys: { path: [string] | [string, string]; type: "string" | "boolean"; setting: keyof ConfigFileSettings }[] = [
  { path: ["admin", "endpoint"], type: "string", setting: "adminEndpoint" },
  { path: ["admin", "insecure"], type: "boolean", setting: "adminInsecure" },
  { path: ["admin", "authTokenFile"], type: "string", setting: "authTokenFile" },
  { path: ["console", "endpoint"], type: "string", setting: "consoleEndpoint" },
  { path: ["task", "project"], type: "string", setting: "project" },
  { path: ["task", "domain"], type: "string", setting: "domain" },
  { path: ["dotViewer"], type: "string", setting: "dotViewer" },
];

/** `file` is the absolute path, used only in messages. Unknown keys are ignored: flytectl files carry many. */
export async function parseConfigFile(text: string, file: string): Promise<ConfigFileSettings> {
  const { parseDocument, LineCounter, isMap, isAlias } = await import("yaml");
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number | undefined): string => {
    const pos = lines.linePos(offset ?? 0);
    return `${file}:${pos.line}:${pos.col}`;
  };
  const syntax = doc.errors[0];
  if (syntax) {
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more problem${doc.errors.length === 2 ? "" : "s"})` : "";
    throw new UserError(`${at(syntax.pos[0])}: ${syntax.message}${more}`, "fix the YAML at that line and column");
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (e) {
    // toJS refuses alias bombs and other resolution problems; the message says which.
    throw new UserError(`${file}: ${(e as Error).message}`, "simplify the YAML anchors and aliases in it");
  }
  if (data === null || data === undefined) return {};

  // The node at a path, through aliases, so a problem can point at the line that holds it.
  const nodeAt = (path: string[]): { range?: [number, number, number] | null } | undefined => {
    let node: unknown = doc.contents;
    for (const key of path) {
      if (isAlias(node)) node = node.resolve(doc);
      if (!isMap(node)) return undefined;
      node = node.get(key, true);
    }
    return node as { range?: [number, number, number] | null } | undefined;
  };
  const position = (path: string[]): string => {
    for (let n = path.length; n > 0; n--) {
      const node = nodeAt(path.slice(0, n));
      if (node?.range) return at(node.range[0]);
    }
    return at(0);
  };
  const typeError = (path: string[], expected: string, value: unknown): UserError =>
    new UserError(`${position(path)}: ${path.join(".")}: expected ${expected}, found ${describeValue(value)}`, hintFor(path, expected));

  if (!isPlainObject(data)) throw new UserError(`${at(doc.contents?.range?.[0])}: expected a mapping at the top level, found ${describeValue(data)}`, "start the file with admin: and its keys below it");
  for (const section of ["admin", "console", "task"]) {
    const value = data[section];
    if (value !== null && value !== undefined && !isPlainObject(value)) throw typeError([section], "a mapping", value);
  }

  const settings: ConfigFileSettings = {};
  for (const key of knownKeys) {
    const parent = key.path.length === 2 ? (data[key.path[0]] as Record<string, unknown> | null | undefined) : data;
    const value = parent?.[key.path[key.path.length - 1]];
    // `endpoint:` with nothing after it is YAML null: treated as not written.
    if (value === null || value === undefined) continue;
    if (key.type === "boolean" && typeof value !== "boolean") throw typeError(key.path, "a boolean", value);
    if (key.type === "string" && typeof value !== "string") throw typeError(key.path, "a string", value);
    if (value === "") throw typeError(key.path, "a non-empty string", value);
    const where = `${position(key.path)}: ${key.path.join(".")}`;
    (settings as Record<string, FileSetting<unknown>>)[key.setting] = { value, where };
  }
  return settings;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function hintFor(path: string[], expected: string): string {
  if (expected === "a boolean") return `write ${path.join(".")} as true or false (yes/no are strings in YAML 1.2)`;
  if (expected === "a mapping") return `put the keys of ${path.join(".")} on the lines below it, indented`;
  return `write ${path.join(".")} as a string, quoted if it looks like a number`;
}
