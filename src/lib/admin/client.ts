// The control-plane client: FlyteAdmin's REST surface (`/api/v1`) over node:http(s), JSON in and out, every
// failure mapped to one clear error with a stable exit code. Never logs, prints or puts a token in an error.
import type { Agent as HttpAgent, IncomingMessage } from "node:http";
import { NotFoundError, UnreachableError, UserError } from "../errors.js";

export interface AdminConnection {
  /** Base URL, `http://host:port` or `https://host[:port]`, no trailing slash. */
  url: string;
  /** The endpoint as configured (e.g. `dns:///127.0.0.1:30080`), for messages. */
  endpoint: string;
  authToken?: string;
  /** Where the endpoint was set (an environment variable, or `FILE:line:col: admin.endpoint`), for messages. */
  from?: string;
  /** Per request; default 30 s. */
  timeoutMs?: number;
  /**
   * Why a QUEUED execution has not started, where the target can tell (Kubernetes: its driver pod's waiting reason);
   * FlyteAdmin's Execution has no field for it. May end an execution that can never start.
   */
  pendingReason?: (key: { project: string; domain: string; name: string }) => Promise<string | undefined>;
}

export type Query = Record<string, string | number | boolean | undefined>;

const statusBrand = Symbol.for("tsflyte.AdminStatus");

/** The HTTP status and gRPC code name a failed request answered with, when it got an answer. */
export function adminStatusOf(error: unknown): { status: number; code: string } | undefined {
  return typeof error === "object" && error !== null ? (error as Record<symbol, { status: number; code: string } | undefined>)[statusBrand] : undefined;
}

/** gRPC status numbers, for a FlyteAdmin (grpc-gateway) that answers `{code: 5}` instead of a name. */
const grpcNames: Record<number, string> = {
  3: "InvalidArgument",
  5: "NotFound",
  6: "AlreadyExists",
  7: "PermissionDenied",
  9: "FailedPrecondition",
  13: "Internal",
  14: "Unavailable",
  16: "Unauthenticated",
};

export class AdminClient {
  private agent?: Promise<HttpAgent>;

  constructor(readonly connection: AdminConnection) {}

  get<T = any>(path: string, query?: Query): Promise<T> {
    return this.request<T>("GET", path, { query });
  }

  post<T = any>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, { body });
  }

  put<T = any>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PUT", path, { body });
  }

  delete<T = any>(path: string, body: unknown): Promise<T> {
    return this.request<T>("DELETE", path, { body });
  }

  /** One request under `/api/v1` (or any path starting with `/`), answered JSON parsed. */
  async request<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
    const url = new URL(this.connection.url + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body) headers["Content-Type"] = "application/json";
    const answer = await this.send(method, url, headers, body);
    if (answer.status >= 200 && answer.status < 300) {
      if (answer.body.length === 0) return undefined as T;
      try {
        return JSON.parse(answer.body.toString("utf8")) as T;
      } catch {
        throw new UnreachableError(`${this.where()} answered ${method} ${url.pathname} with something that is not JSON; is it a Flyte or tsflyte control plane?`);
      }
    }
    throw this.answerError(method, url, answer.status, answer.body);
  }

  /** PUTs bytes to a signed URL from the data proxy, with their MD5 as the server asked for. */
  async upload(signedUrl: string, bytes: Uint8Array, md5Base64: string): Promise<void> {
    const url = new URL(signedUrl);
    const headers = { "Content-Type": "application/octet-stream", "Content-MD5": md5Base64 };
    const answer = await this.send("PUT", url, headers, bytes, url.origin === new URL(this.connection.url).origin);
    if (answer.status >= 300) throw this.answerError("PUT", url, answer.status, answer.body);
  }

  /** Reads a text resource of the control plane, such as an attempt's log link. */
  async text(uri: string): Promise<string> {
    const url = new URL(uri, this.connection.url);
    const answer = await this.send("GET", url, { Accept: "text/plain" }, undefined, url.origin === new URL(this.connection.url).origin);
    if (answer.status >= 300) throw this.answerError("GET", url, answer.status, answer.body);
    return answer.body.toString("utf8");
  }

  /** Lets the process exit: idle keep-alive connections are closed. */
  async close(): Promise<void> {
    if (this.agent) (await this.agent).destroy();
  }

  /** One keep-alive agent per client: registering hundreds of entities reuses a handful of connections. */
  private keepAliveAgent(mod: { Agent: new (options: { keepAlive: boolean; maxSockets: number }) => HttpAgent }): Promise<HttpAgent> {
    return (this.agent ??= Promise.resolve(new mod.Agent({ keepAlive: true, maxSockets: 16 })));
  }

  private where(): string {
    return `the control plane at ${this.connection.endpoint}`;
  }

  private configNote(): string {
    return this.connection.from ? ` (endpoint set by ${this.connection.from})` : "";
  }

  private async send(method: string, url: URL, headers: Record<string, string>, body: Uint8Array | undefined, withToken = true): Promise<{ status: number; body: Buffer }> {
    const secure = url.protocol === "https:";
    const mod = secure ? await import("node:https") : await import("node:http");
    const agent = new URL(this.connection.url).protocol === url.protocol ? await this.keepAliveAgent(mod) : undefined;
    const allHeaders: Record<string, string> = { ...headers };
    if (body) allHeaders["Content-Length"] = String(body.byteLength);
    if (withToken && this.connection.authToken) allHeaders.Authorization = `Bearer ${this.connection.authToken}`;
    const timeoutMs = this.connection.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method, headers: allHeaders, agent }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on("error", (e) => reject(this.networkError(e)));
      });
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error("timeout"), { code: "TSFLYTE_TIMEOUT" })));
      req.on("error", (e) => reject(this.networkError(e, timeoutMs)));
      req.end(body);
    });
  }

  private networkError(error: Error & { code?: string }, timeoutMs = 30_000): UnreachableError {
    const code = error.code ?? "";
    const what =
      code === "ENOTFOUND" || code === "EAI_AGAIN"
        ? `its host name does not resolve (DNS ${code})`
        : code === "ECONNREFUSED"
          ? "connection refused"
          : code === "TSFLYTE_TIMEOUT" || code === "ETIMEDOUT"
            ? `no answer within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`} (timeout)`
            : code === "ECONNRESET" || code === "EPIPE"
              ? "the connection was closed"
              : /CERT|SSL|TLS|EPROTO/i.test(code) || /ssl|tls|certificate/i.test(error.message)
                ? `TLS failed (${code || error.message}); for a server without TLS set admin.insecure: true`
                : `${code || error.message}`;
    // One line, as a user scans it: which endpoint, what failed, and where that endpoint was set.
    return new UnreachableError(`cannot reach ${this.where()}: ${what}${this.configNote()}`);
  }

  private answerError(method: string, url: URL, status: number, body: Buffer): Error {
    let message = "";
    let code = "";
    try {
      const parsed = JSON.parse(body.toString("utf8")) as { message?: unknown; error?: unknown; code?: unknown };
      message = typeof parsed.message === "string" ? parsed.message : typeof parsed.error === "string" ? parsed.error : "";
      code = typeof parsed.code === "string" ? parsed.code : typeof parsed.code === "number" ? (grpcNames[parsed.code] ?? String(parsed.code)) : "";
    } catch {
      message = body.toString("utf8").slice(0, 300).trim();
    }
    const said = message || `HTTP ${status}`;
    let error: Error;
    if (status === 401 || status === 403) {
      const fix = this.connection.authToken ? "the token was not accepted; check TSFLYTE_AUTH_TOKEN or admin.authTokenFile" : "it needs a token: set TSFLYTE_AUTH_TOKEN or admin.authTokenFile";
      error = new UnreachableError(`${this.where()} refused the request (${status} ${status === 401 ? "unauthorized" : "forbidden"}): ${fix}${this.configNote()}`);
    } else if (status === 404 && code !== "Unimplemented") {
      error = new NotFoundError(message || `${method} ${url.pathname}: not found on ${this.where()}`);
    } else if (status >= 500 || status === 429) {
      error = new UnreachableError(`${this.where()} failed to answer ${method} ${url.pathname} (${status}${code ? ` ${code}` : ""}): ${said}`);
    } else {
      error = new UserError(said);
    }
    return Object.assign(error, { [statusBrand]: { status, code } });
  }
}
