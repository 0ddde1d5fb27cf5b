// A real S3-compatible server over the filesystem for tests (s3rver in a fresh temp folder on 127.0.0.1), so the same client
// code runs here as against AWS or MinIO, with Signature V4 checked in front of it. Never listens beyond loopback nor leaves files.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The part of s3rver (a CommonJS Koa app without type declarations) used here. */
interface S3rverApp {
  callback(): (req: http.IncomingMessage, res: http.ServerResponse) => void;
  configureBuckets(): Promise<unknown>;
  logger: { close(): void };
  store: {
    getBucket(name: string): Promise<unknown>;
    listObjects(
      bucket: string,
      options: { prefix?: string },
    ): Promise<{ objects: Array<{ key: string; size: number; lastModifiedDate: Date; metadata: Record<string, string> }> }>;
  };
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverApp;
const S3rver = createRequire(import.meta.url)("s3rver") as S3rverConstructor;

/** One request as the server received it, for tests that check how the client addressed the bucket. */
export interface ReceivedS3Request {
  method: string;
  /** The Host header: `127.0.0.1:PORT` (path style) or `<bucket>.s3.localhost:PORT` (virtual-hosted style). */
  host: string;
  /** Path and query as sent, still percent-encoded. */
  url: string;
}

export interface S3Server {
  /** `http://127.0.0.1:PORT`. The server also answers to `s3.localhost` and `<bucket>.s3.localhost` Host headers. */
  endpoint: string;
  region: string;
  /** An empty bucket made at start. */
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** TSFLYTE_S3_* and AWS_* variables that point a child process (tsflyte-execute) at this server. */
  env: Record<string, string>;
  /** Every request received, in order (failed signature checks included). */
  requests: ReceivedS3Request[];
  /** Stops the server, drops its connections and removes its folder; safe to call twice. */
  close(): Promise<void>;
}

// s3rver's only account is S3RVER / S3RVER; the region is what a request's signature must be scoped to.
const region = "us-east-1";
const accessKeyId = "S3RVER";
const secretAccessKey = "S3RVER";
const bucket = "tsflyte-test";

export async function startS3Server(): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), "tsflyte-s3-"));
  let server: http.Server | undefined;
  let app: S3rverApp | undefined;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (server) {
      const listening = server;
      listening.closeAllConnections();
      await new Promise<void>((resolve) => listening.close(() => resolve()));
    }
    app?.logger.close();
    rmSync(directory, { recursive: true, force: true, maxRetries: 5 });
  };
  try {
    // serviceEndpoint "localhost": a Host of `<bucket>.s3.localhost` is a virtual-hosted request for <bucket>, as
    // `<bucket>.s3.amazonaws.com` is on AWS; a Host that is an IP address or `s3.localhost` is path style.
    const s3rver = new S3rver({ directory, silent: true, serviceEndpoint: "localhost", configureBuckets: [{ name: bucket }] });
    app = s3rver;
    // Koa prints 5xx errors to stderr unless the app is silent.
    (s3rver as unknown as { silent: boolean }).silent = true;
    await s3rver.configureBuckets();
    const handle = s3rver.callback();
    const requests: ReceivedS3Request[] = [];
    // s3rver 3.7.1 accepts any Signature V4 from a known access key id (its V4 check is "unimplemented"): the
    // signature is verified here, as S3 does, so a wrong secret gets S3's 403 SignatureDoesNotMatch.
    server = http.createServer((req, res) => {
      requests.push({ method: req.method ?? "", host: req.headers.host ?? "", url: req.url ?? "" });
      const refusal = checkSignatureV4(req);
      if (refusal) {
        sendError(res, refusal);
        return;
      }
      const list = listRequest(req);
      if (!list) {
        handle(req, res);
        return;
      }
      listObjectsV2(s3rver, list).then(
        (xml) => {
          res.writeHead(200, { "content-type": "application/xml" });
          res.end(xml);
        },
        (e: unknown) => sendError(res, isRefusal(e) ? e : { status: 500, code: "InternalError", message: String(e) }),
      );
    });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once("error", reject);
      listening.listen(0, "127.0.0.1", () => resolve());
    });
    const endpoint = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
    return {
      endpoint,
      region,
      bucket,
      accessKeyId,
      secretAccessKey,
      env: {
        TSFLYTE_S3_ENDPOINT: endpoint,
        TSFLYTE_S3_REGION: region,
        TSFLYTE_S3_FORCE_PATH_STYLE: "true",
        AWS_ACCESS_KEY_ID: accessKeyId,
        AWS_SECRET_ACCESS_KEY: secretAccessKey,
      },
      requests,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

interface Refusal {
  status: number;
  code: string;
  message: string;
  /** Extra elements of the Error document; S3 sends these with SignatureDoesNotMatch. */
  detail?: Record<string, string>;
}

/**
 * Checks an Authorization header as S3 does (AWS Signature Version 4, the header form), written from AWS's
 * specification rather than with the client's signer, so a signing mistake in the client cannot cancel itself out.
 * Returns the error S3 would answer with, or undefined when the request is signed correctly.
 */
function checkSignatureV4(req: http.IncomingMessage): Refusal | undefined {
  const authorization = req.headers.authorization;
  if (!authorization) return { status: 403, code: "AccessDenied", message: "Access Denied" };
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (!match) return { status: 400, code: "AuthorizationHeaderMalformed", message: "The authorization header is malformed." };
  const [, keyId, date, scopeRegion, service, signedHeaders, signature] = match;
  if (keyId !== accessKeyId) {
    return { status: 403, code: "InvalidAccessKeyId", message: "The AWS Access Key Id you provided does not exist in our records." };
  }
  if (scopeRegion !== region || service !== "s3") {
    return {
      status: 400,
      code: "AuthorizationHeaderMalformed",
      message: `The authorization header is malformed; the region '${scopeRegion}' is wrong; expecting '${region}'`,
    };
  }
  const amzDate = header(req, "x-amz-date");
  const payloadHash = header(req, "x-amz-content-sha256");
  if (!amzDate || !amzDate.startsWith(date)) return { status: 403, code: "AccessDenied", message: "X-Amz-Date is missing or not of the credential's date" };
  if (!payloadHash) return { status: 400, code: "InvalidRequest", message: "Missing required header for this request: x-amz-content-sha256" };
  const sent = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  if (!Number.isFinite(sent) || Math.abs(Date.now() - sent) > 15 * 60_000) {
    return { status: 403, code: "RequestTimeTooSkewed", message: "The difference between the request time and the current time is too large." };
  }
  const names = signedHeaders.split(";");
  if (!names.includes("host")) return { status: 403, code: "AccessDenied", message: "The host header must be signed" };

  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? "" : url.slice(q + 1);
  // S3's canonical URI: each segment URI-encoded once (no normalization of "." or "//").
  const canonicalUri = rawPath.split("/").map((segment) => encodeRfc3986(decodeURIComponent(segment))).join("/");
  const canonicalQuery = rawQuery
    .split("&")
    .filter((pair) => pair !== "")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const name = eq < 0 ? pair : pair.slice(0, eq);
      const value = eq < 0 ? "" : pair.slice(eq + 1);
      return [encodeRfc3986(decodeURIComponent(name)), encodeRfc3986(decodeURIComponent(value))] as const;
    })
    .sort(([an, av], [bn, bv]) => (an !== bn ? (an < bn ? -1 : 1) : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const canonicalHeaders = names.map((name) => `${name}:${(header(req, name) ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join("\n");
  const scope = `${date}/${region}/s3/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, createHash("sha256").update(canonicalRequest).digest("hex")].join("\n");
  let key: Buffer = createHmac("sha256", `AWS4${secretAccessKey}`).update(date).digest();
  for (const part of [region, "s3", "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
  const expected = createHmac("sha256", key).update(stringToSign).digest("hex");
  if (timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) return undefined;
  return {
    status: 403,
    code: "SignatureDoesNotMatch",
    message: "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    // As S3 does: the canonical request holds every signed header, the session token (x-amz-security-token) too.
    detail: { AWSAccessKeyId: keyId, StringToSign: stringToSign, CanonicalRequest: canonicalRequest },
  };
}

interface ListRequest {
  bucket: string;
  prefix: string;
  maxKeys: number;
  /** The last key of the previous page, from the continuation token, or start-after. */
  after: string;
  token?: string;
  urlEncoded: boolean;
}

/** A ListObjectsV2 request (GET `/bucket?list-type=2` or, virtual-hosted, GET `/?list-type=2`), or undefined. */
function listRequest(req: http.IncomingMessage): ListRequest | undefined {
  if (req.method !== "GET") return undefined;
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.searchParams.get("list-type") !== "2") return undefined;
  const host = (req.headers.host ?? "").replace(/:\d+$/, "");
  const virtual = /^(.+)\.s3\.localhost$/.exec(host)?.[1];
  const segments = url.pathname.split("/").filter((s) => s !== "");
  if (virtual ? segments.length !== 0 : segments.length !== 1) return undefined;
  const token = url.searchParams.get("continuation-token") ?? undefined;
  return {
    bucket: virtual ?? decodeURIComponent(segments[0]),
    prefix: url.searchParams.get("prefix") ?? "",
    maxKeys: Math.min(1000, Number(url.searchParams.get("max-keys") ?? "1000")),
    after: token !== undefined ? Buffer.from(token, "base64").toString("utf8") : (url.searchParams.get("start-after") ?? ""),
    token,
    urlEncoded: url.searchParams.get("encoding-type") === "url",
  };
}

/**
 * ListObjectsV2 over s3rver's own store. s3rver encrypts its continuation tokens with DES, which OpenSSL 3 (Node 17
 * and later) no longer has, so its listing fails as soon as a page is truncated; this answers as S3 does instead.
 */
async function listObjectsV2(app: S3rverApp, list: ListRequest): Promise<string> {
  if (!(await app.store.getBucket(list.bucket))) throw { status: 404, code: "NoSuchBucket", message: "The specified bucket does not exist" } satisfies Refusal;
  const { objects } = await app.store.listObjects(list.bucket, { prefix: list.prefix || undefined });
  // S3 lists keys in UTF-8 binary order.
  const sorted = objects
    .filter((o) => o.key.startsWith(list.prefix) && Buffer.compare(Buffer.from(o.key), Buffer.from(list.after)) > 0)
    .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  const page = sorted.slice(0, list.maxKeys);
  const truncated = sorted.length > page.length;
  // With encoding-type=url S3 URL-encodes keys, a space as "+" (botocore decodes them with unquote_plus).
  const encode = (text: string) => escapeXml(list.urlEncoded ? encodeURIComponent(text).replace(/%20/g, "+") : text);
  const contents = page
    .map(
      (o) =>
        `<Contents><Key>${encode(o.key)}</Key><LastModified>${o.lastModifiedDate.toISOString()}</LastModified>` +
        `<ETag>${escapeXml(o.metadata.etag ?? "")}</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    )
    .join("");
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
    `<Name>${escapeXml(list.bucket)}</Name><Prefix>${encode(list.prefix)}</Prefix><KeyCount>${page.length}</KeyCount>` +
    `<MaxKeys>${list.maxKeys}</MaxKeys>${list.urlEncoded ? "<EncodingType>url</EncodingType>" : ""}<IsTruncated>${truncated}</IsTruncated>` +
    (list.token !== undefined ? `<ContinuationToken>${escapeXml(list.token)}</ContinuationToken>` : "") +
    (truncated ? `<NextContinuationToken>${Buffer.from(page[page.length - 1].key).toString("base64")}</NextContinuationToken>` : "") +
    `${contents}</ListBucketResult>`
  );
}

function isRefusal(e: unknown): e is Refusal {
  return typeof e === "object" && e !== null && typeof (e as Refusal).status === "number" && typeof (e as Refusal).code === "string";
}

function sendError(res: http.ServerResponse, refusal: Refusal): void {
  res.writeHead(refusal.status, { "content-type": "application/xml", "x-amz-error-code": refusal.code });
  res.end(errorXml(refusal));
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function errorXml(refusal: Refusal): string {
  const detail = Object.entries(refusal.detail ?? {})
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join("");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal.code}</Code><Message>${escapeXml(refusal.message)}</Message>${detail}<RequestId>tsflyte-test</RequestId></Error>`;
}
