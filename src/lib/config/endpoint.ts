// Turns a FlyteAdmin endpoint as people write it (`dns:///host:port`, `host:port`, `https://host`) into a base URL.
// Never echoes user info from an endpoint (it may hold a credential), and never loads anything beyond Node's URL.
import { UserError } from "../errors.js";

export interface AdminEndpoint {
  /** http://host:port or https://host[:port]; no trailing slash. */
  url: string;
  /** Whether the URL is plain http: an explicit scheme decides, otherwise the `insecure` setting does. */
  insecure: boolean;
  /** host[:port], as it goes after `dns:///` in a flytectl config file. */
  hostPort: string;
}

const endpointHint =
  "write it as host:port, e.g. dns:///127.0.0.1:30080 (with admin.insecure: true for plain http) or https://flyte.example.com";

/**
 * `where` names the origin for messages, e.g. `TSFLYTE_ADMIN_ENDPOINT` or `/home/a/.flyte/config.yaml:2:13: admin.endpoint`.
 * An explicit http:// or https:// wins over `insecure`; without one, `insecure` picks http and its absence https.
 */
export function normalizeAdminEndpoint(endpoint: string, insecure: boolean | undefined, where: string): AdminEndpoint {
  function fail(problem: string, shown = JSON.stringify(endpoint)): never {
    throw new UserError(`${where}: ${shown} ${problem}`, endpointHint);
  }
  const text = endpoint.trim();
  if (text === "") fail("is empty");
  if (/\s/.test(text)) fail("contains a space");
  const rest = text.replace(/^dns:\/\/\//i, "");
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(rest);
  let explicit: "http" | "https" | undefined;
  let hostPart = rest;
  if (scheme) {
    const name = scheme[1].toLowerCase();
    if (name !== "http" && name !== "https") fail(`has the scheme ${name}://, which tsflyte cannot use; use dns:///, http:// or https://`);
    explicit = name as "http" | "https";
    hostPart = rest.slice(scheme[0].length);
  }
  const authorityEnd = hostPart.search(/[/?#]/);
  const authority = authorityEnd === -1 ? hostPart : hostPart.slice(0, authorityEnd);
  if (authority.includes("@")) {
    fail("holds user info; put the credential in admin.authTokenFile or TSFLYTE_AUTH_TOKEN", JSON.stringify(text.replace(authority, `***@${authority.slice(authority.lastIndexOf("@") + 1)}`)));
  }
  if (authorityEnd !== -1 && hostPart.slice(authorityEnd) !== "/") fail("has a path; tsflyte adds /api/v1 itself, so give only the host and port");
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?)(?::(\d+))?$/i.exec(authority);
  if (!match) fail(authority === "" ? "has no host" : "is not a host or host:port");
  const port = match[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) fail(`has the port ${port}, outside 1–65535`);
  const useHttp = explicit ? explicit === "http" : insecure === true;
  let url: URL;
  try {
    url = new URL(`${useHttp ? "http" : "https"}://${authority}`);
  } catch {
    return fail("is not a host or host:port");
  }
  return { url: `${url.protocol}//${url.host}`, insecure: useHttp, hostPort: authority };
}
