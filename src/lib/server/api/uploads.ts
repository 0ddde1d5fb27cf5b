// Uploads in FlyteAdmin's data proxy style: `POST /api/v1/dataproxy/artifact_urn` hands out a one-time, expiring
// URL on this server; `PUT` to it streams the bytes to a temp file, checks size and MD5, and only then moves them
// into the blob store. Never makes a partial or unverified upload visible.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { finished } from "node:stream/promises";
import type { JsonValue } from "@bufbuild/protobuf";
import { joinUri } from "../../storage/file-uri.js";
import type { ApiContext } from "./api-context.js";
import { ApiError, invalidArgument, tooLarge } from "./api-error.js";
import { requireProjectAndDomain } from "./projects.js";
import { checkPathSegment, checkRelativePath } from "./resource-names.js";
import type { RequestContext, Route } from "./router.js";
import { readBody, send, sendJson } from "./wire-format.js";

interface UploadTicket {
  nativeUrl: string;
  md5: Buffer;
  expiresAt: number;
}

const defaultExpirySeconds = 3600;
// Each ticket is a few hundred bytes; this bounds what a client asking for URLs and never using them can hold.
const maxOpenTickets = 10_000;

/** flyteidl.service.CreateUploadLocationRequest, by hand: the service protos are not among the generated codecs. */
interface UploadLocationRequest {
  project: string;
  domain: string;
  filename: string;
  expiresInSeconds: number;
  contentMd5: Buffer;
  filenameRoot: string;
}

const requestFields: Record<string, keyof UploadLocationRequest | "addContentMd5Metadata" | "org"> = {
  project: "project",
  domain: "domain",
  filename: "filename",
  expires_in: "expiresInSeconds",
  expiresIn: "expiresInSeconds",
  content_md5: "contentMd5",
  contentMd5: "contentMd5",
  filename_root: "filenameRoot",
  filenameRoot: "filenameRoot",
  add_content_md5_metadata: "addContentMd5Metadata",
  addContentMd5Metadata: "addContentMd5Metadata",
  org: "org",
};

function parseUploadRequest(json: JsonValue): UploadLocationRequest {
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw invalidArgument("the request body must be a JSON object (CreateUploadLocationRequest)");
  const out: UploadLocationRequest = { project: "", domain: "", filename: "", expiresInSeconds: 0, contentMd5: Buffer.alloc(0), filenameRoot: "" };
  for (const [key, value] of Object.entries(json)) {
    const field = requestFields[key];
    if (!field) throw invalidArgument(`the request body is not a valid flyteidl.service.CreateUploadLocationRequest: key "${key}" is unknown`);
    if (value === null) continue;
    const text = (): string => {
      if (typeof value !== "string") throw invalidArgument(`${key} must be a string`);
      return value;
    };
    switch (field) {
      case "project":
      case "domain":
      case "filename":
      case "filenameRoot":
        out[field] = text();
        break;
      case "org":
        if (text()) throw invalidArgument("org is not supported by tsflyte; leave it empty");
        break;
      case "addContentMd5Metadata":
        if (typeof value !== "boolean") throw invalidArgument(`${key} must be true or false`);
        break;
      case "expiresInSeconds": {
        const m = /^(\d{1,10})(\.\d{1,9})?s$/.exec(text());
        if (!m) throw invalidArgument(`${key} "${text()}" is not a duration such as "3600s"`);
        out.expiresInSeconds = Number(m[1]) + Number(m[2] ?? 0);
        break;
      }
      case "contentMd5": {
        const s = text();
        if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) throw invalidArgument(`${key} must be base64`);
        out.contentMd5 = Buffer.from(s.replace(/-/g, "+").replace(/_/g, "/"), "base64");
        break;
      }
    }
  }
  return out;
}

/** RFC 4648 base32 in lowercase without padding: a path-safe, deterministic name for an MD5. */
function base32(bytes: Buffer): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

export class UploadTickets {
  readonly #tickets = new Map<string, UploadTicket>();

  issue(ticket: UploadTicket, now: number): string {
    for (const [token, t] of this.#tickets) if (t.expiresAt <= now) this.#tickets.delete(token);
    if (this.#tickets.size >= maxOpenTickets) throw new ApiError("ResourceExhausted", "too many unused upload URLs are open; use or let some expire first");
    const token = randomBytes(32).toString("base64url");
    this.#tickets.set(token, ticket);
    return token;
  }

  /** The ticket for a token, removed: a URL works once, whatever the outcome. */
  take(token: string, now: number): UploadTicket | undefined {
    const ticket = this.#tickets.get(token);
    this.#tickets.delete(token);
    return ticket && ticket.expiresAt > now ? ticket : undefined;
  }
}

async function createUploadLocation(ctx: ApiContext, tickets: UploadTickets, { req, res, query }: RequestContext): Promise<void> {
  query.allowOnly([]);
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "" && type !== "application/json") {
    throw new ApiError("InvalidArgument", `unsupported Content-Type "${type}"; send the request as application/json`, { status: 415 });
  }
  const body = (await readBody(req, ctx.limits.requestBodyBytes)).toString("utf8").trim();
  let json: JsonValue;
  try {
    json = body ? (JSON.parse(body) as JsonValue) : {};
  } catch (e) {
    throw invalidArgument(`the request body is not valid JSON: ${(e as Error).message}`);
  }
  const request = parseUploadRequest(json);
  await requireProjectAndDomain(ctx, request.project, request.domain);
  if (request.contentMd5.length !== 16) throw invalidArgument("content_md5 is required: the 16-byte MD5 of the content, base64-encoded");
  const segments = checkRelativePath(request.filename, "filename");
  if (request.filenameRoot) checkPathSegment(request.filenameRoot, "filename_root");
  const seconds = request.expiresInSeconds || defaultExpirySeconds;
  if (seconds > ctx.limits.uploadUrlMaxSeconds) throw invalidArgument(`expires_in ${seconds}s is longer than the limit of ${ctx.limits.uploadUrlMaxSeconds}s`);
  const root = request.filenameRoot || base32(request.contentMd5);
  const nativeUrl = joinUri(ctx.deps.blobs.baseUri, ["uploads", request.project, request.domain, root, ...segments].join("/"));
  const now = ctx.now();
  const expiresAt = now + seconds * 1000;
  const token = tickets.issue({ nativeUrl, md5: request.contentMd5, expiresAt }, now);
  sendJson(res, 200, {
    signed_url: `${ctx.deps.publicUrl().replace(/\/+$/, "")}/upload/${token}`,
    native_url: nativeUrl,
    expires_at: new Date(expiresAt).toISOString(),
    headers: { "Content-MD5": request.contentMd5.toString("base64") },
  });
}

async function receiveUpload(ctx: ApiContext, tickets: UploadTickets, { req, res, params }: RequestContext): Promise<void> {
  const ticket = tickets.take(params.ticket, ctx.now());
  if (!ticket) throw new ApiError("PermissionDenied", "this upload URL is unknown, expired or already used; request a new one");
  const limit = ctx.limits.uploadBytes;
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(`the upload is ${declared} bytes; the limit is ${limit} bytes`);
  const sentMd5 = req.headers["content-md5"];
  if (typeof sentMd5 === "string" && !sameBytes(Buffer.from(sentMd5, "base64"), ticket.md5)) {
    throw invalidArgument("the Content-MD5 header does not match the content_md5 this URL was issued for");
  }
  const dir = await mkdtemp(join(tmpdir(), "tsflyte-upload-"));
  try {
    const file = join(dir, "upload");
    const out = createWriteStream(file);
    const hash = createHash("md5");
    let size = 0;
    try {
      // Not destroying the request on a refusal keeps the socket open for the 413 answer.
      for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) throw tooLarge(`the upload is larger than the limit of ${limit} bytes`);
        hash.update(chunk);
        if (!out.write(chunk)) await once(out, "drain");
      }
      out.end();
      await finished(out);
    } catch (e) {
      out.destroy();
      throw e;
    }
    const md5 = hash.digest();
    if (!sameBytes(md5, ticket.md5)) {
      throw invalidArgument(`the uploaded bytes (MD5 ${md5.toString("base64")}) do not match the content_md5 this URL was issued for (${ticket.md5.toString("base64")})`);
    }
    await ctx.deps.blobs.uploadFile(file, ticket.nativeUrl);
    send(res, 200, "text/plain; charset=utf-8", "", { ETag: `"${md5.toString("hex")}"` });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function uploadRoutes(ctx: ApiContext): { routes: Route[]; publicRoutes: Route[] } {
  const tickets = new UploadTickets();
  return {
    routes: [{ method: "POST", path: "/api/v1/dataproxy/artifact_urn", handle: (rc) => createUploadLocation(ctx, tickets, rc) }],
    // The one-time token in the URL is the credential, as with a signed S3 URL: no bearer token needed.
    publicRoutes: [{ method: "PUT", path: "/upload/:ticket", public: true, handle: (rc) => receiveUpload(ctx, tickets, rc) }],
  };
}
