// A bare HTTP client for tests of the control-plane API: sends exactly the path, headers and body it is given
// (no URL normalization, so `..` and percent-encodings reach the server as written) and reads the whole answer.
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";

export interface ApiAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  json: any;
}

export interface ApiRequest {
  method?: string;
  /** JSON-encoded unless a string or bytes. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Sends the body without Content-Length (chunked), as a streaming client does. */
  chunked?: boolean;
  /** Leaves out the Authorization header the client adds. */
  anonymous?: boolean;
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  async call(path: string, options: ApiRequest = {}): Promise<ApiAnswer> {
    const url = new URL(this.baseUrl);
    const body =
      options.body === undefined
        ? undefined
        : typeof options.body === "string" || options.body instanceof Uint8Array
          ? Buffer.from(options.body as string | Uint8Array)
          : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    if (this.token && !options.anonymous) headers.Authorization = `Bearer ${this.token}`;
    if (body && !options.chunked) headers["Content-Length"] = String(body.length);
    if (body && !headers["Content-Type"] && !(options.body instanceof Uint8Array) && typeof options.body !== "string") headers["Content-Type"] = "application/json";
    return new Promise<ApiAnswer>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, method: options.method ?? "GET", path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const buffer = Buffer.concat(chunks);
          const text = buffer.toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buffer, text, json });
        });
      });
      req.on("error", reject);
      if (body && options.chunked) {
        // Small writes, so the server sees a stream rather than one buffer.
        const step = 64 * 1024;
        for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
        req.end();
      } else {
        req.end(body);
      }
    });
  }

  get(path: string, options: ApiRequest = {}): Promise<ApiAnswer> {
    return this.call(path, { ...options, method: "GET" });
  }

  post(path: string, body: unknown, options: ApiRequest = {}): Promise<ApiAnswer> {
    return this.call(path, { ...options, method: "POST", body });
  }

  put(path: string, body: unknown, options: ApiRequest = {}): Promise<ApiAnswer> {
    return this.call(path, { ...options, method: "PUT", body });
  }

  delete(path: string, body?: unknown, options: ApiRequest = {}): Promise<ApiAnswer> {
    return this.call(path, { ...options, method: "DELETE", body });
  }
}
