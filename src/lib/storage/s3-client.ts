// The S3 calls the s3:// blob store makes (PUT, GET, HEAD, ListObjectsV2), signed with Signature V4 by aws4 over node:http(s),
// bounded in number, on one keep-alive agent. Never puts a secret key or session token in a message: all text is redacted.
import { createReadStream, createWriteStream } from "node:fs";
import { rename, unlink } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import { createRequire } from "node:module";
import { isIP } from "node:net";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type Aws4 from "aws4";
import { UserError } from "../errors.js";
import { hashBytes } from "./content-hash.js";
import type { S3Credentials, S3Location } from "./s3-store.js";

// Loaded with require, not bundled: aws4 is CommonJS and requires Node's built-ins, which esbuild's ESM output
// (dist/) cannot do ("Dynamic require of "url" is not supported"). It is a dependency, so it is installed.
const aws4 = createRequire(import.meta.url)("aws4") as typeof Aws4;

/** What the client needs, resolved and checked by the store (see s3-store.ts for the defaults). */
export interface S3ClientSettings {
  /** `https://s3.us-east-1.amazonaws.com`, `http://minio:9000`; a path after the host prefixes every request. */
  endpoint: URL;
  region: string;
  forcePathStyle: boolean;
  /** Requests are sent unsigned without them (a public bucket). */
  credentials?: S3Credentials;
  /** Requests in flight at once. */
  concurrency: number;
}

/** The body of a PUT: bytes, or a local file whose size and sha256 are known (streamed, re-opened on a retry). */
export type PutBody = Uint8Array | { path: string; size: number; sha256: string };

/** S3 accepts at most this many bytes in one PUT; more needs a multipart upload. */
const maxSinglePutBytes = 5 * 1024 ** 3;
const attempts = 3;
const idleTimeoutMs = 60_000;
const emptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/** Network errors worth one more try: a keep-alive socket the server closed as we reused it, a dropped link. */
const transientCodes = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "ECONNABORTED", "ERR_S3_IDLE_TIMEOUT"]);

/** RFC 3986 encoding of one path segment or query value, as Signature V4 wants it: everything but A-Z a-z 0-9 - _ . ~ */
function encodeStrict(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function encodeKey(key: string): string {
  return key.split("/").map(encodeStrict).join("/");
}

interface Slot {
  start: () => void;
}

/**
 * At most `limit` requests at once. Urgent ones (reads, `write`) go before queued background writes, so a request that
 * must answer soon does not wait behind hundreds of write-behind puts.
 */
class RequestSlots {
  private running = 0;
  private readonly urgent: Slot[] = [];
  private readonly background: Slot[] = [];
  constructor(private readonly limit: number) {}

  run<T>(urgent: boolean, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const slot: Slot = {
        start: () => {
          this.running++;
          fn()
            .then(resolve, reject)
            .finally(() => {
              this.running--;
              this.next();
            });
        },
      };
      (urgent ? this.urgent : this.background).push(slot);
      this.next();
    });
  }

  private next(): void {
    while (this.running < this.limit) {
      const slot = this.urgent.shift() ?? this.background.shift();
      if (!slot) return;
      slot.start();
    }
  }
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The whole body, except for a successful GET streamed to a file. */
  body: Buffer;
}

interface RequestSpec {
  method: "GET" | "PUT" | "HEAD";
  location: S3Location;
  /** Bucket-level request (ListObjectsV2): no key in the path. */
  bucketOnly?: boolean;
  query?: Array<[string, string]>;
  body?: PutBody;
  /** Streams a 200 answer's body to this file (via a temp name) instead of keeping it. */
  toFile?: string;
  urgent: boolean;
  /** What the caller was doing, for messages: "read", "write", "list", "check". */
  action: string;
}

let tempSeq = 0;

/** One S3 endpoint with one set of credentials. */
export class S3Client {
  readonly endpoint: URL;
  readonly region: string;
  readonly forcePathStyle: boolean;
  // A private field: util.inspect and JSON.stringify of the client (or of a store holding it) never show it.
  readonly #credentials: S3Credentials | undefined;
  private readonly agent: http.Agent;
  private readonly slots: RequestSlots;

  constructor(settings: S3ClientSettings) {
    this.endpoint = settings.endpoint;
    this.region = settings.region;
    this.forcePathStyle = settings.forcePathStyle;
    this.#credentials = settings.credentials;
    this.slots = new RequestSlots(settings.concurrency);
    const Agent = settings.endpoint.protocol === "https:" ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: settings.concurrency });
  }

  /** The endpoint as configured, for messages: scheme, host and port only. */
  get endpointOrigin(): string {
    return this.endpoint.origin;
  }

  /** Whether requests for `bucket` name it in the host name (`bucket.s3.amazonaws.com`) rather than the path. */
  virtualHosted(bucket: string): boolean {
    if (this.forcePathStyle || isIP(this.endpoint.hostname.replace(/^\[|\]$/g, ""))) return false;
    // A bucket that is not one DNS-safe name (upper case, "_", or "." under TLS, which the certificate would not
    // cover) can only be addressed in the path, as the AWS SDKs do.
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes("..")) return false;
    return !(bucket.includes(".") && this.endpoint.protocol === "https:");
  }

  async putObject(location: S3Location, body: PutBody, urgent: boolean): Promise<void> {
    const size = body instanceof Uint8Array ? body.byteLength : body.size;
    if (size > maxSinglePutBytes) {
      throw new UserError(`cannot write ${location.uri}: it is ${size} bytes and one S3 PUT takes at most 5 GiB`, "split the data into several files");
    }
    const answer = await this.request({ method: "PUT", location, body, urgent, action: "write" });
    if (answer.status !== 200) throw this.failure(answer, location, "write");
  }

  /** The object's bytes, or undefined when there is no such key. */
  async getObject(location: S3Location, urgent = true): Promise<Uint8Array | undefined> {
    const answer = await this.request({ method: "GET", location, urgent, action: "read" });
    if (answer.status === 200) return new Uint8Array(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength);
    if (answer.status === 404 && s3ErrorCode(answer) === "NoSuchKey") return undefined;
    throw this.failure(answer, location, "read");
  }

  /** Streams the object into `path` (temp name + rename); false when there is no such key. */
  async getObjectToFile(location: S3Location, path: string): Promise<boolean> {
    const answer = await this.request({ method: "GET", location, toFile: path, urgent: true, action: "download" });
    if (answer.status === 200) return true;
    if (answer.status === 404 && s3ErrorCode(answer) === "NoSuchKey") return false;
    throw this.failure(answer, location, "download");
  }

  /** Whether the key holds an object (HEAD). A HEAD answer has no body, so a missing bucket also reads as false. */
  async headObject(location: S3Location): Promise<boolean> {
    const answer = await this.request({ method: "HEAD", location, bucketOnly: location.key === "", urgent: true, action: "check" });
    if (answer.status === 200) return true;
    if (answer.status === 404) return false;
    throw this.failure(answer, location, "check");
  }

  /**
   * Every key under `prefix` (ListObjectsV2, following continuation tokens), or the first `limit` of them.
   * `location` is what the caller asked about, for messages.
   */
  async listKeys(location: S3Location, prefix: string, options: { limit?: number; pageSize?: number } = {}): Promise<string[]> {
    const keys: string[] = [];
    const limit = options.limit ?? Infinity;
    let token: string | undefined;
    do {
      const pageSize = Math.min(options.pageSize ?? 1000, limit - keys.length);
      const query: Array<[string, string]> = [
        ["list-type", "2"],
        ["prefix", prefix],
        ["max-keys", String(pageSize)],
        // Keys may hold characters XML 1.0 cannot carry; S3 then sends them URL-encoded (and says so).
        ["encoding-type", "url"],
      ];
      if (token) query.push(["continuation-token", token]);
      const answer = await this.request({ method: "GET", location, bucketOnly: true, query, urgent: true, action: "list" });
      if (answer.status !== 200) throw this.failure(answer, location, "list");
      const xml = answer.body.toString("utf8");
      const urlEncoded = xmlElement(xml, "EncodingType") === "url";
      for (const contents of xmlBlocks(xml, "Contents")) {
        const raw = xmlElement(contents, "Key");
        if (raw === undefined) continue;
        keys.push(urlEncoded ? decodeURIComponent(raw.replace(/\+/g, " ")) : raw);
      }
      token = xmlElement(xml, "IsTruncated") === "true" ? xmlElement(xml, "NextContinuationToken") : undefined;
    } while (token && keys.length < limit);
    return keys;
  }

  /** Closes idle keep-alive connections; requests still running finish first. */
  close(): void {
    this.agent.destroy();
  }

  private async request(spec: RequestSpec): Promise<Answer> {
    return this.slots.run(spec.urgent, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          const answer = await this.once(spec);
          if (answer.status >= 500 && attempt < attempts) {
            await pause(attempt);
            continue;
          }
          return answer;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code && transientCodes.has(code) && attempt < attempts) {
            await pause(attempt);
            continue;
          }
          throw this.unreachable(e, spec);
        }
      }
    });
  }

  /** One HTTP exchange; rejects only when no answer came (network, TLS, timeout). */
  private once(spec: RequestSpec): Promise<Answer> {
    const { location } = spec;
    const virtual = this.virtualHosted(location.bucket);
    const base = this.endpoint.pathname.replace(/\/+$/, "");
    const keyPath = spec.bucketOnly ? "" : encodeKey(location.key);
    const path = virtual ? `${base}/${keyPath}` : `${base}/${encodeStrict(location.bucket)}${spec.bucketOnly ? "" : `/${keyPath}`}`;
    const query = spec.query?.map(([k, v]) => `${encodeStrict(k)}=${encodeStrict(v)}`).join("&");
    const hostname = virtual ? `${location.bucket}.${this.endpoint.hostname}` : this.endpoint.hostname;
    const headers: Record<string, string> = {
      Host: this.endpoint.port ? `${hostname}:${this.endpoint.port}` : hostname,
      "X-Amz-Content-Sha256": spec.body === undefined ? emptySha256 : bodySha256(spec.body),
    };
    if (spec.body !== undefined) {
      headers["Content-Length"] = String(spec.body instanceof Uint8Array ? spec.body.byteLength : spec.body.size);
      headers["Content-Type"] = "application/octet-stream";
    }
    let requestPath = query ? `${path}?${query}` : path;
    const credentials = this.#credentials;
    if (credentials) {
      const signed = aws4.sign({ method: spec.method, host: hostname, path: requestPath, headers, service: "s3", region: this.region }, credentials);
      requestPath = signed.path ?? requestPath;
      Object.assign(headers, signed.headers);
    }
    const send = this.endpoint.protocol === "https:" ? https.request : http.request;
    return new Promise<Answer>((resolve, reject) => {
      // A virtual-hosted bucket is its own host name: S3 resolves it to the servers that hold the bucket.
      const req = send({
        hostname: hostname.replace(/^\[|\]$/g, ""),
        port: this.endpoint.port || undefined,
        method: spec.method,
        path: requestPath,
        headers,
        agent: this.agent,
      });
      req.setTimeout(idleTimeoutMs, () => req.destroy(Object.assign(new Error("no answer"), { code: "ERR_S3_IDLE_TIMEOUT" })));
      req.on("error", reject);
      req.on("response", (res) => {
        if (spec.toFile && res.statusCode === 200) {
          streamToFile(res, spec.toFile).then(() => resolve({ status: 200, headers: res.headers, body: Buffer.alloc(0) }), reject);
          return;
        }
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      const body = spec.body;
      if (body === undefined) req.end();
      else if (body instanceof Uint8Array) req.end(body);
      else {
        const file = createReadStream(body.path);
        file.on("error", (e) => localErrors.add(e));
        pipeline(file, req).catch(reject);
      }
    });
  }

  /** A request that got no answer: the endpoint is down, unknown, or too slow. */
  private unreachable(e: unknown, spec: RequestSpec): UserError {
    if (e instanceof UserError) return e;
    const code = (e as NodeJS.ErrnoException).code;
    const { bucket, uri } = spec.location;
    const host = this.virtualHosted(bucket) ? ` (as ${bucket}.${this.endpoint.host})` : "";
    if (code === "ERR_S3_IDLE_TIMEOUT") {
      return new UserError(
        this.redact(`the S3 endpoint ${this.endpointOrigin}${host} stopped answering for ${idleTimeoutMs / 1000} s while asked to ${spec.action} ${uri}`),
        "check the network between here and the endpoint, then try again",
      );
    }
    if (localErrors.has(e as object)) {
      // This machine's file failed (the upload's source vanished, the disk is full): not the endpoint's fault.
      return new UserError(this.redact(`could not ${spec.action} ${uri}: ${e instanceof Error ? e.message : String(e)}`));
    }
    const reason = code ?? (e instanceof Error ? e.message : String(e));
    const hint =
      code === "ENOTFOUND" && host
        ? "requests name the bucket in the host name, which must resolve; for MinIO and other local servers set kubernetes.s3.forcePathStyle (TSFLYTE_S3_FORCE_PATH_STYLE=true), else check kubernetes.s3.endpoint (TSFLYTE_S3_ENDPOINT)"
        : "check kubernetes.s3.endpoint in the config (TSFLYTE_S3_ENDPOINT in a pod) and that the S3 server is up and reachable from here";
    return new UserError(this.redact(`cannot reach the S3 endpoint ${this.endpointOrigin}${host} for ${uri}: ${reason}`), hint);
  }

  /** An answer that is not what was asked for, as one sentence naming the URI; S3's own code and message included. */
  private failure(answer: Answer, location: S3Location, action: string): UserError {
    const code = s3ErrorCode(answer);
    const xml = answer.body.toString("utf8");
    const message = xmlElement(xml, "Message");
    const said = code ? ` (${code}${message ? `: ${message}` : ""})` : ` (HTTP ${answer.status})`;
    const { bucket, uri } = location;
    // S3 names the bucket's region in a header (301 PermanentRedirect) or in the body (400 AuthorizationHeaderMalformed).
    const bucketRegion = headerValue(answer.headers["x-amz-bucket-region"]) ?? xmlElement(xml, "Region");
    if (answer.status === 403) {
      const hint = this.#credentials
        ? "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), and that they may use this bucket"
        : "no credentials were given: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (kubernetes.s3.credentialsSecret in a pod)";
      return new UserError(this.redact(`access to the S3 bucket ${bucket} was denied${said} when asked to ${action} ${uri}`), hint);
    }
    if (answer.status === 404 && code === "NoSuchBucket") {
      return new UserError(
        this.redact(`the S3 bucket ${bucket} does not exist at ${this.endpointOrigin} (asked to ${action} ${uri})`),
        "create the bucket, or fix the bucket in the storage URI, kubernetes.s3.endpoint or TSFLYTE_S3_ENDPOINT",
      );
    }
    if (bucketRegion && bucketRegion !== this.region) {
      return new UserError(
        this.redact(`the S3 bucket ${bucket} is in region ${bucketRegion}, not ${this.region}${said} (asked to ${action} ${uri})`),
        `set kubernetes.s3.region (TSFLYTE_S3_REGION) to ${bucketRegion}`,
      );
    }
    return new UserError(this.redact(`could not ${action} ${uri}: S3 answered ${answer.status}${said}`));
  }

  /** Removes the secret key and session token from text that came from elsewhere (an S3 answer, a Node error). */
  private redact(text: string): string {
    let out = text;
    for (const secret of [this.#credentials?.secretAccessKey, this.#credentials?.sessionToken]) {
      // Real keys are 40 characters and more; replacing a 1-3 character one would only garble bucket names.
      if (secret && secret.length >= 4) out = out.split(secret).join("[redacted]");
    }
    return out;
  }
}

function bodySha256(body: PutBody): string {
  return body instanceof Uint8Array ? hashBytes(body) : body.sha256;
}

/** Errors of this machine's files (an upload's source, a download's target), told apart from network errors. */
const localErrors = new WeakSet<object>();

function markLocal(e: unknown): never {
  if (typeof e === "object" && e !== null) localErrors.add(e);
  throw e;
}

async function streamToFile(res: Readable, path: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${tempSeq++}`;
  const file = createWriteStream(tmp);
  file.on("error", (e) => localErrors.add(e));
  try {
    await pipeline(res, file);
    await rename(tmp, path).catch(markLocal);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

function pause(attempt: number): Promise<void> {
  // 100 ms, then 200 ms, with jitter so concurrent retries do not arrive together.
  return new Promise((resolve) => setTimeout(resolve, 100 * 2 ** (attempt - 1) * (0.5 + Math.random())));
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function s3ErrorCode(answer: Answer): string | undefined {
  return xmlElement(answer.body.toString("utf8"), "Code") ?? headerValue(answer.headers["x-amz-error-code"]);
}

// --- a tiny XML reader for S3's small, flat answers (ListBucketResult, Error): elements by name, entities decoded.

/** The raw inner markup of every `<tag>…</tag>` in `xml`, in order (attributes on the tag are allowed); not decoded. */
export function xmlBlocks(xml: string, tag: string): string[] {
  const out: string[] = [];
  const pattern = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, "g");
  for (let m = pattern.exec(xml); m; m = pattern.exec(xml)) out.push(m[1]);
  return out;
}

/** The text of the first leaf element `<tag>…</tag>`, entities decoded (once), or undefined. */
export function xmlElement(xml: string, tag: string): string | undefined {
  const pattern = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`);
  const m = pattern.exec(xml);
  return m ? decodeXml(m[1]) : undefined;
}

const namedEntities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === "#") {
      const point = name[1] === "x" || name[1] === "X" ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      return Number.isFinite(point) && point <= 0x10ffff ? String.fromCodePoint(point) : whole;
    }
    return namedEntities[name] ?? whole;
  });
}
