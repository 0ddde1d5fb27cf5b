// The control plane's HTTP API as one node:http request handler: bearer-token check, routing to FlyteAdmin's
// REST paths, errors as `{error, code}` with gRPC code names, one log line per request. Never logs tokens,
// Authorization headers or bodies, and never answers a bug with its stack trace.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { create } from "@bufbuild/protobuf";
import { GetVersionResponseSchema } from "../../idl/gen/flyteidl/admin/version_pb.js";
import { isStoreUnavailable } from "../../store/unavailable.js";
import { tsflyteVersion } from "../../version.js";
import { defaultLimits, type ApiContext, type ApiDeps } from "./api-context.js";
import { ApiError } from "./api-error.js";
import { executionRoutes } from "./executions.js";
import { nodeExecutionRoutes } from "./node-executions.js";
import { signalRoutes } from "./signals.js";
import { projectRoutes } from "./projects.js";
import { registryRoutes } from "./registry.js";
import { RegistryReader } from "./registry-reader.js";
import { QueryParams, Router, decodePathSegments, type Route } from "./router.js";
import { uploadRoutes } from "./uploads.js";
import { send, sendError, sendMessage } from "./wire-format.js";

export type { ApiDeps } from "./api-context.js";

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Compares digests, so neither the token's length nor its content shows in the time a check takes. */
function tokenMatches(presented: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(presented), expected);
}

/** The principal a request acts as; throws 401 when the server has a token and the request does not carry it. */
function authenticate(req: IncomingMessage, expected: Buffer | undefined): string {
  if (!expected) return "anonymous";
  const header = req.headers.authorization;
  const m = typeof header === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (m && tokenMatches(m[1], expected)) return "tsflyte";
  throw new ApiError(
    "Unauthenticated",
    header ? "the bearer token is not valid for this server" : "this server needs a bearer token: send Authorization: Bearer <token>",
    { headers: { "WWW-Authenticate": header ? 'Bearer realm="tsflyte", error="invalid_token"' : 'Bearer realm="tsflyte"' } },
  );
}

/** Upload URLs carry their one-time credential in the path; the log shows only that there was one. */
function loggedPath(pathname: string): string {
  return pathname.startsWith("/upload/") ? "/upload/…" : pathname;
}

/** The request handler for `tsflyte serve`: mount it on a node:http server. */
export function createApiHandler(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const ctx: ApiContext = {
    deps,
    registry: new RegistryReader(deps.store),
    limits: { ...defaultLimits, ...deps.limits },
    now: deps.now ?? Date.now,
  };
  const expectedToken = deps.authToken ? digest(deps.authToken) : undefined;
  const uploads = uploadRoutes(ctx);
  const publicRoutes: Route[] = [
    {
      method: "GET",
      path: "/healthcheck",
      public: true,
      async handle({ res }) {
        send(res, 200, "text/plain; charset=utf-8", "ok\n");
      },
    },
    ...uploads.publicRoutes,
  ];
  const versionRoute: Route = {
    method: "GET",
    path: "/api/v1/version",
    async handle({ req, res, query }) {
      query.allowOnly([]);
      sendMessage(req, res, GetVersionResponseSchema, create(GetVersionResponseSchema, { controlPlaneVersion: { Version: tsflyteVersion, Build: "tsflyte", BuildTime: "" } }));
    },
  };
  const router = new Router([
    ...publicRoutes,
    versionRoute,
    ...projectRoutes(ctx),
    ...registryRoutes(ctx),
    ...executionRoutes(ctx),
    ...nodeExecutionRoutes(ctx),
    ...signalRoutes(ctx),
    ...uploads.routes,
  ]);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = req.method ?? "GET";
    const target = req.url ?? "/";
    const q = target.indexOf("?");
    const pathname = q < 0 ? target : target.slice(0, q);
    try {
      // Only origin-form targets: an absolute URL or `*` names no resource of this server.
      if (!pathname.startsWith("/")) throw new ApiError("InvalidArgument", "the request target must be a path starting with /");
      const segments = decodePathSegments(pathname);
      // Everything under /api/v1 and the log links need the token, even paths that do not exist.
      const guarded = (segments[0] === "api" && segments[1] === "v1") || segments[0] === "logs";
      let principal = guarded ? authenticate(req, expectedToken) : "anonymous";
      const { route, params } = router.match(method, segments);
      if (!guarded && !route.public) principal = authenticate(req, expectedToken);
      await route.handle({ req, res, params, query: new QueryParams(q < 0 ? "" : target.slice(q)), principal });
    } catch (e) {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      // A refused request whose body was not read: closing spares reading the rest just to reuse the connection.
      if (!req.complete) res.setHeader("Connection", "close");
      if (e instanceof ApiError) {
        sendError(res, e);
      } else if (isStoreUnavailable(e)) {
        // Not this request's fault, and not for good: the client may send it again shortly.
        deps.log?.(`the database is unavailable answering ${method} ${loggedPath(pathname)}: ${(e as Error).message}`);
        sendError(res, storeUnavailable());
      } else if (isStorageFull(e)) {
        // The blob store's disk (or quota) is full: nothing was created, and the same request may succeed once there is room.
        deps.log?.(`the blob store is full answering ${method} ${loggedPath(pathname)}: ${(e as Error).message}`);
        sendError(res, storageFull());
      } else {
        deps.onInternalError?.(e);
        deps.log?.(`internal error answering ${method} ${loggedPath(pathname)}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        sendError(res, new ApiError("Internal", "internal error; the server log has the details"));
      }
    } finally {
      deps.log?.(`${method} ${loggedPath(pathname)} ${res.statusCode} ${(performance.now() - started).toFixed(1)}ms`);
    }
  }

  return (req, res) => {
    void handle(req, res);
  };
}

/** Seconds a client should wait before it asks again while the database is down (Retry-After). */
export const storeRetryAfterSeconds = 5;

/** A write that failed for want of room: ENOSPC (the disk is full), EDQUOT (a quota is used up). */
function isStorageFull(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

function storageFull(): ApiError {
  return new ApiError("Unavailable", `the blob store is full right now, so nothing was created; try again in ${storeRetryAfterSeconds} seconds, once there is room.`, {
    headers: { "Retry-After": String(storeRetryAfterSeconds) },
  });
}

function storeUnavailable(): ApiError {
  return new ApiError("Unavailable", `the database is unavailable right now; executions resume by themselves once it is back. Try again in ${storeRetryAfterSeconds} seconds.`, {
    headers: { "Retry-After": String(storeRetryAfterSeconds) },
  });
}
