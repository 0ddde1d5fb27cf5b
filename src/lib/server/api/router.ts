// Matches a request to one route of the API by method and decoded path segments, in the shape of admin.proto's
// HTTP annotations (`/api/v1/tasks/:project/:domain/:name`). Never lets a segment carry a separator or `..`.
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, invalidArgument } from "./api-error.js";
import { hasControlCharacter } from "./resource-names.js";

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Path parameters by name, percent-decoded and checked for path trouble. */
  params: Record<string, string>;
  query: QueryParams;
  /** Who asks: "tsflyte" for a caller holding the server's token, "anonymous" when the server has none. */
  principal: string;
}

export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** `/api/v1/tasks/:project/:domain`: literal segments and `:name` parameters. */
  path: string;
  /** Served without the bearer token: the health check, and uploads whose URL carries its own credential. */
  public?: boolean;
  handle(ctx: RequestContext): Promise<void>;
}

interface CompiledRoute extends Route {
  segments: string[];
  literals: number;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

/** Decodes each segment of a path; a segment that decodes to a separator, `.`, `..` or a control character is refused. */
export function decodePathSegments(pathname: string): string[] {
  const raw = pathname.split("/").slice(1);
  if (raw.length > 0 && raw[raw.length - 1] === "") raw.pop();
  return raw.map((segment) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw invalidArgument(`the path segment "${segment.slice(0, 80)}" is not valid percent-encoding`);
    }
    if (decoded === "" || decoded === "." || decoded === ".." || decoded.includes("/") || decoded.includes("\\") || hasControlCharacter(decoded)) {
      throw invalidArgument(`the path segment ${JSON.stringify(decoded.slice(0, 80))} is not allowed: no empty segments, ".", "..", "/", "\\" or control characters`);
    }
    return decoded;
  });
}

export class Router {
  readonly #routes: CompiledRoute[];

  constructor(routes: Route[]) {
    this.#routes = routes
      .map((r) => {
        const segments = r.path.split("/").slice(1);
        return { ...r, segments, literals: segments.filter((s) => !s.startsWith(":")).length };
      })
      // Literal segments win over parameters: `executions/relaunch` before `executions/:project`.
      .sort((a, b) => b.literals - a.literals);
  }

  /** The route for this method and path; a 404 when no route has this path, a 405 naming the allowed methods. */
  match(method: string, segments: string[]): RouteMatch {
    const allowed = new Set<string>();
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, segments);
      if (!params) continue;
      if (route.method === method) return { route, params };
      allowed.add(route.method);
    }
    if (allowed.size > 0) {
      const allow = [...allowed].sort().join(", ");
      throw new ApiError("Unimplemented", `${method} is not allowed here; use ${allow}`, { status: 405, headers: { Allow: allow } });
    }
    throw new ApiError("NotFound", "no such endpoint; the API is under /api/v1 (see flyteidl service/admin.proto)");
  }
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(":")) params[pattern[i].slice(1)] = segments[i];
    else if (pattern[i] !== segments[i]) return undefined;
  }
  return params;
}

/**
 * Query parameters in grpc-gateway's style (`limit`, `sort_by.key`, camelCase accepted too). Unknown names are
 * refused, so that a misspelt `sortBy.kye` is not silently ignored.
 */
export class QueryParams {
  readonly #params = new Map<string, string>();
  readonly #raw = new Map<string, string>();

  constructor(search: string) {
    const text = search.startsWith("?") ? search.slice(1) : search;
    for (const pair of text.split("&")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      const rawValue = eq < 0 ? "" : pair.slice(eq + 1);
      const name = decodeQueryPart(rawName, true);
      this.#params.set(snakeCase(name), decodeQueryPart(rawValue, true));
      // Filters join expressions with "+", which form decoding would turn into a space.
      this.#raw.set(snakeCase(name), decodeQueryPart(rawValue, false));
    }
  }

  get(name: string): string | undefined {
    return this.#params.get(name);
  }

  /** The value with "+" kept as "+": for `filters`, whose expressions FlyteAdmin joins with "+". */
  getKeepingPlus(name: string): string | undefined {
    return this.#raw.get(name);
  }

  /** Refuses any parameter not in `allowed` (snake_case names), naming it and the ones this endpoint takes. */
  allowOnly(allowed: readonly string[]): void {
    const unknown = [...this.#params.keys()].filter((k) => !allowed.includes(k));
    if (unknown.length) {
      throw invalidArgument(
        `unknown query parameter${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `"${u}"`).join(", ")}; this endpoint takes ${allowed.length ? allowed.join(", ") : "none"}`,
      );
    }
  }
}

function decodeQueryPart(part: string, plusIsSpace: boolean): string {
  try {
    return decodeURIComponent(plusIsSpace ? part.replace(/\+/g, " ") : part);
  } catch {
    throw invalidArgument(`the query parameter "${part.slice(0, 80)}" is not valid percent-encoding`);
  }
}

/** `sortBy.key` → `sort_by.key`, as proto3 JSON accepts both spellings. */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
