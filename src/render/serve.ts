// What `tsflyte serve` prints once listening: the address, where data lives, and whether auth is on.
// Never prints the token or a database password.
import type { RunningServer, ServeOptions } from "../lib/server/server.js";

export function describeServing(server: RunningServer, options: ServeOptions): string {
  const lines = [
    `tsflyte serve listening on ${server.url}`,
    `  database: ${redactPassword(options.db)}`,
    `  storage:  ${options.storage}`,
    `  auth:     ${options.authToken ? "bearer token required" : "none (listening on loopback only)"}`,
  ];
  if (!options.authToken && server.host !== "127.0.0.1" && server.host !== "localhost" && server.host !== "::1") {
    lines[3] = "  auth:     none — anyone who can reach this address can run code; pass --auth-token-file";
  }
  if (server.resumed) lines.push(`  resumed ${server.resumed} unfinished execution${server.resumed === 1 ? "" : "s"}`);
  return lines.join("\n");
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`. */
export function redactPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}
