// The blob store in S3 (AWS, MinIO, any S3-compatible server): `s3://bucket/key` URIs, write-behind puts as bounded
// concurrent PUTs, awaited transfers hashed as the file store hashes them. Never shows a credential; never loses a put's error.
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { UserError } from "../errors.js";
import type { BlobStore } from "./blob-store.js";
import { directoryDigest, hashBytes, hashFile, listFiles, mapLimited } from "./content-hash.js";
import { joinUri } from "./file-uri.js";
import type { S3Client, S3ClientSettings } from "./s3-client.js";

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3Options {
  /** `http://minio:9000`; AWS's regional endpoint `https://s3.<region>.amazonaws.com` when not given. */
  endpoint?: string;
  region?: string;
  /** Name the bucket in the path (`host/bucket/key`) rather than the host name (`bucket.host/key`): MinIO wants this. */
  forcePathStyle?: boolean;
  credentials?: S3Credentials;
}

/** Where an s3:// URI points: its bucket and its key, percent-decoded. */
export interface S3Location {
  uri: string;
  bucket: string;
  key: string;
}

/** Requests in flight at once per store: enough to keep a link busy, few enough not to trip S3's request limits. */
const requestConcurrency = 16;
/** Files up to this size are read once into memory to upload; larger ones are hashed, then streamed. */
const inMemoryUploadBytes = 8 * 1024 * 1024;

/**
 * S3 settings from the environment, as a pod gets them: TSFLYTE_S3_ENDPOINT, TSFLYTE_S3_REGION (else AWS_REGION,
 * AWS_DEFAULT_REGION, us-east-1), TSFLYTE_S3_FORCE_PATH_STYLE (true/1), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN. A half-given key pair is a UserError; no keys at all means unsigned requests (a public bucket).
 */
export function s3OptionsFromEnv(env: Record<string, string | undefined> = process.env): S3Options {
  const options: S3Options = { region: env.TSFLYTE_S3_REGION || env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1" };
  if (env.TSFLYTE_S3_ENDPOINT) options.endpoint = env.TSFLYTE_S3_ENDPOINT;
  const pathStyle = env.TSFLYTE_S3_FORCE_PATH_STYLE?.trim();
  if (pathStyle) {
    if (/^(true|1)$/i.test(pathStyle)) options.forcePathStyle = true;
    else if (/^(false|0)$/i.test(pathStyle)) options.forcePathStyle = false;
    else throw new UserError(`TSFLYTE_S3_FORCE_PATH_STYLE is "${pathStyle}", which is neither true nor false; set it to true or false`);
  }
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  if (id && secret) {
    options.credentials = { accessKeyId: id, secretAccessKey: secret };
    if (env.AWS_SESSION_TOKEN) options.credentials.sessionToken = env.AWS_SESSION_TOKEN;
  } else if (id || secret) {
    const [given, missing] = id ? ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] : ["AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"];
    throw new UserError(`${given} is set but ${missing} is not; set both, or neither for a public bucket`);
  }
  return options;
}

/**
 * The bucket and key of `s3://bucket/key`. The key is percent-decoded, because tsflyte builds URIs with each path
 * segment encoded (joinUri); raw characters such as spaces are taken as they are.
 */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]*)(?:\/([\s\S]*))?$/i.exec(uri);
  if (!match || !match[1]) throw new UserError(`${uri} is not an s3:// URI with a bucket; write it as s3://bucket/key`);
  const bucket = match[1];
  if (!/^[A-Za-z0-9._-]+$/.test(bucket)) {
    throw new UserError(`${uri} names the bucket "${bucket}", which is not a valid S3 bucket name; use letters, digits, "." and "-"`);
  }
  let key: string;
  try {
    key = decodeURIComponent(match[2] ?? "");
  } catch {
    throw new UserError(`${uri} has a broken percent-escape in its key; write a literal "%" as %25`);
  }
  return { uri, bucket, key };
}

interface QueuedPut {
  index: number;
  location: S3Location;
  /** `bucket/key`: two spellings of one object (`a%20b`, `a b`) are one queue entry. */
  id: string;
  bytes: Uint8Array;
}

export class S3BlobStore implements BlobStore {
  readonly baseUri: string;
  private readonly settings: Omit<S3ClientSettings, "credentials">;
  // A private field: util.inspect and JSON.stringify of the store never show the keys.
  readonly #credentials: S3Credentials | undefined;
  private clientLoad?: Promise<S3Client>;
  private nextIndex = 0;
  /** The latest put of each object not yet answered by S3: what `read` must see. */
  private readonly latest = new Map<string, QueuedPut>();
  private unsent: QueuedPut[] = [];
  /** The last PUT of each object in flight: the next put of the same object waits for it, so writes land in order. */
  private readonly tails = new Map<string, Promise<void>>();
  private readonly inflight = new Set<Promise<void>>();
  private failures: Array<{ index: number; error: unknown }> = [];
  private sendScheduled = false;
  private closed = false;
  private readonly sendNow = () => this.send();

  /**
   * `baseUri`: `s3://bucket` or `s3://bucket/prefix`. Each option not given comes from the environment
   * (s3OptionsFromEnv); nothing is contacted until the first request.
   */
  constructor(baseUri: string, options?: S3Options) {
    parseS3Uri(baseUri);
    this.baseUri = baseUri.replace(/\/+$/, "");
    let env: S3Options | undefined;
    const fromEnv = (): S3Options => (env ??= s3OptionsFromEnv());
    const region = options?.region || fromEnv().region || "us-east-1";
    const endpoint = options?.endpoint || fromEnv().endpoint || `https://s3.${region}.amazonaws.com`;
    this.settings = {
      endpoint: endpointUrl(endpoint),
      region,
      forcePathStyle: options?.forcePathStyle ?? fromEnv().forcePathStyle ?? false,
      concurrency: requestConcurrency,
    };
    const credentials = options?.credentials ?? fromEnv().credentials;
    if (credentials && (!credentials.accessKeyId || !credentials.secretAccessKey)) {
      throw new UserError("the S3 credentials need both an access key id and a secret access key", "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    }
    this.#credentials = credentials ? { ...credentials } : undefined;
  }

  /** The endpoint requests go to (scheme, host and port), e.g. for a status line. */
  get endpoint(): string {
    return this.settings.endpoint.origin;
  }

  put(uri: string, bytes: Uint8Array): void {
    if (this.closed) throw new Error(`the S3 blob store ${this.baseUri} is closed; cannot write ${uri}`);
    const location = this.location(uri);
    const write: QueuedPut = { index: this.nextIndex++, location, id: objectId(location), bytes };
    this.latest.set(write.id, write);
    this.unsent.push(write);
    if (!this.sendScheduled) {
      this.sendScheduled = true;
      setImmediate(this.sendNow);
    }
  }

  send(): void {
    this.sendScheduled = false;
    const batch = this.unsent;
    if (batch.length === 0) return;
    this.unsent = [];
    const client = this.client();
    for (const write of batch) {
      const previous = this.tails.get(write.id);
      const putOne = async (): Promise<void> => {
        try {
          await (await client).putObject(write.location, write.bytes, false);
        } catch (error) {
          this.failures.push({ index: write.index, error });
        } finally {
          if (this.latest.get(write.id) === write) this.latest.delete(write.id);
        }
      };
      const done = previous ? previous.then(putOne) : putOne();
      this.tails.set(write.id, done);
      this.inflight.add(done);
      void done.then(() => {
        this.inflight.delete(done);
        if (this.tails.get(write.id) === done) this.tails.delete(write.id);
      });
    }
  }

  async flush(): Promise<void> {
    this.send();
    const upto = this.nextIndex;
    await Promise.all([...this.inflight]);
    const failed = this.takeFailures(upto);
    if (failed) throw failed;
  }

  async write(uri: string, bytes: Uint8Array): Promise<void> {
    const location = this.location(uri);
    await (await this.client()).putObject(location, bytes, true);
  }

  async read(uri: string): Promise<Uint8Array> {
    const location = this.location(uri);
    const queued = this.latest.get(objectId(location));
    if (queued) return queued.bytes;
    if (location.key === "" || location.key.endsWith("/")) throw new UserError(`${uri} names a folder, not a single blob`);
    const bytes = await (await this.client()).getObject(location);
    if (bytes) return bytes;
    throw await this.missing(location);
  }

  async exists(uri: string): Promise<boolean> {
    const location = this.location(uri);
    if (this.latest.has(objectId(location)) || this.queuedUnder(location).length > 0) return true;
    const client = await this.client();
    if (await client.headObject(location)) return true;
    // A "directory" is a key prefix in S3: it exists when some object lies under it, as a folder on disk does.
    return location.key !== "" && (await client.listKeys(location, folderPrefix(location.key), { limit: 1 })).length > 0;
  }

  async uploadFile(localPath: string, uri: string): Promise<{ sha256: string; size: number }> {
    const source = resolve(localPath);
    const location = this.location(uri);
    const sourceStat = await stat(source).catch((e: unknown) => {
      throw isErrno(e, "ENOENT") ? new UserError(`no file at ${source} to upload`) : e;
    });
    if (!sourceStat.isFile()) throw new UserError(`${source} is not a file; upload a directory as a directory`);
    const client = await this.client();
    if (sourceStat.size <= inMemoryUploadBytes) {
      const bytes = await readFile(source);
      const sha256 = hashBytes(bytes);
      await client.putObject(location, bytes, true);
      return { sha256, size: bytes.length };
    }
    // Hashed first: S3 checks the body against the x-amz-content-sha256 it is signed with, so what it stores is
    // exactly what the returned hash says (a file changed between the two reads fails the PUT instead).
    const { sha256, size } = await hashFile(source);
    await client.putObject(location, { path: source, size, sha256 }, true);
    return { sha256, size };
  }

  async uploadDirectory(localPath: string, uri: string): Promise<{ sha256: string; files: number }> {
    const source = resolve(localPath);
    const location = this.location(uri);
    const sourceStat = await stat(source).catch((e: unknown) => {
      throw isErrno(e, "ENOENT") ? new UserError(`no directory at ${source} to upload`) : e;
    });
    if (!sourceStat.isDirectory()) throw new UserError(`${source} is not a directory`);
    const files = await listFiles(source);
    const entries = await mapLimited(files, requestConcurrency, async (rel) => ({
      relativePath: rel,
      sha256: (await this.uploadFile(join(source, rel), joinUri(uri, rel))).sha256,
    }));
    if (files.length === 0) {
      // S3 has no folders: an empty object named `<key>/` (what the S3 console makes) lets the empty directory
      // be found by `exists` and downloaded, as the file store's empty folder can.
      const marker = folderPrefix(location.key);
      await (await this.client()).putObject({ uri: `${uri.replace(/\/+$/, "")}/`, bucket: location.bucket, key: marker }, new Uint8Array(0), true);
    }
    return { sha256: directoryDigest(entries), files: files.length };
  }

  async downloadFile(uri: string, localPath: string): Promise<void> {
    const location = this.location(uri);
    const target = resolve(localPath);
    await mkdir(dirname(target), { recursive: true });
    const queued = this.latest.get(objectId(location));
    if (queued) {
      await writeFile(target, queued.bytes);
      return;
    }
    if (!(await (await this.client()).getObjectToFile(location, target))) throw await this.missing(location);
  }

  async downloadDirectory(uri: string, localPath: string): Promise<void> {
    const location = this.location(uri);
    const target = resolve(localPath);
    const prefix = folderPrefix(location.key);
    const client = await this.client();
    const keys = await client.listKeys(location, prefix);
    const queued = this.queuedUnder(location);
    if (keys.length === 0 && queued.length === 0) {
      const isFile = location.key !== "" && (await client.headObject(location));
      throw new UserError(isFile ? `${uri} is a file, not a directory` : `no data at ${uri}`);
    }
    await mkdir(target, { recursive: true });
    const queuedKeys = new Set(queued.map((w) => w.location.key));
    // Keys ending in "/" are folder markers (see uploadDirectory): they hold no file.
    const stored = keys.filter((key) => !key.endsWith("/") && !queuedKeys.has(key));
    await mapLimited(stored, requestConcurrency, async (key) => {
      const to = localTarget(target, key, prefix, uri);
      await mkdir(dirname(to), { recursive: true });
      const object: S3Location = { uri: `s3://${location.bucket}/${key}`, bucket: location.bucket, key };
      if (!(await client.getObjectToFile(object, to))) throw new UserError(`${object.uri} was deleted while ${uri} was being downloaded; try again`);
    });
    for (const write of queued) {
      if (write.location.key.endsWith("/")) continue;
      const to = localTarget(target, write.location.key, prefix, uri);
      await mkdir(dirname(to), { recursive: true });
      await writeFile(to, write.bytes);
    }
  }

  localPath(): string | undefined {
    return undefined;
  }

  /** Flushes, then closes the idle connections; the store takes no more writes. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.closed = true;
      if (this.clientLoad) (await this.clientLoad).close();
    }
  }

  /** The HTTP client, loaded on first use: processes that only use file:// stores never load node:https or aws4. */
  private client(): Promise<S3Client> {
    this.clientLoad ??= import("./s3-client.js").then(({ S3Client }) => new S3Client({ ...this.settings, credentials: this.#credentials }));
    return this.clientLoad;
  }

  private location(uri: string): S3Location {
    if (!/^s3:\/\//i.test(uri)) throw new UserError(`${uri}: the S3 blob store only takes s3:// URIs (base ${this.baseUri})`);
    return parseS3Uri(uri);
  }

  /** Queued puts of objects under the folder `location` names. */
  private queuedUnder(location: S3Location): QueuedPut[] {
    const prefix = folderPrefix(location.key);
    return [...this.latest.values()].filter((w) => w.location.bucket === location.bucket && w.location.key.startsWith(prefix));
  }

  /** The error for a key S3 does not have: a folder's URI read as a blob is told apart from nothing at all. */
  private async missing(location: S3Location): Promise<UserError> {
    const client = await this.client();
    const isFolder = (await client.listKeys(location, folderPrefix(location.key), { limit: 1 })).length > 0;
    return new UserError(isFolder ? `${location.uri} is a directory, not a single blob` : `no data at ${location.uri}`);
  }

  /** The failures among puts below `upto` as one error, each reported once: the first in call order. */
  private takeFailures(upto: number): unknown {
    const mine = this.failures.filter((f) => f.index < upto).sort((a, b) => a.index - b.index);
    if (mine.length === 0) return undefined;
    this.failures = this.failures.filter((f) => f.index >= upto);
    const [first] = mine;
    if (mine.length === 1 || !(first.error instanceof UserError)) return first.error;
    const more = ` (and ${mine.length - 1} more write${mine.length > 2 ? "s" : ""})`;
    return new UserError(`${first.error.message}${more}`, first.error.hint);
  }
}

function objectId(location: S3Location): string {
  return `${location.bucket}/${location.key}`;
}

/** `dir/` for the key `dir` (or `dir/`); "" for a bucket's root. */
function folderPrefix(key: string): string {
  const trimmed = key.replace(/\/+$/, "");
  return trimmed ? `${trimmed}/` : "";
}

/** Where the object `key` under `prefix` goes below `root`; a key that would climb out of it is refused. */
function localTarget(root: string, key: string, prefix: string, uri: string): string {
  const segments = key.slice(prefix.length).split("/").filter((s) => s !== "");
  if (segments.some((s) => s === "." || s === "..")) {
    throw new UserError(`${uri} holds the object "${key}", whose "." or ".." segment would land outside ${root}; rename the object`);
  }
  return join(root, ...segments);
}

function endpointUrl(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UserError(
      `the S3 endpoint "${endpoint}" is not a URL`,
      "write it with its scheme, e.g. https://s3.eu-west-1.amazonaws.com or http://minio:9000 (kubernetes.s3.endpoint or TSFLYTE_S3_ENDPOINT)",
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UserError(`the S3 endpoint ${endpoint} is not an http:// or https:// URL`, "write it as e.g. http://minio:9000");
  }
  if (url.username || url.password) {
    // Not echoed: the URL holds a password.
    throw new UserError(`the S3 endpoint ${url.host} has a user name or password in its URL`, "give the keys as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead");
  }
  if (url.search || url.hash) throw new UserError(`the S3 endpoint ${endpoint} has a "?" or "#" part; give only the scheme, host, port and path`);
  return url;
}

function isErrno(e: unknown, code: string): boolean {
  return typeof e === "object" && e !== null && (e as NodeJS.ErrnoException).code === code;
}
