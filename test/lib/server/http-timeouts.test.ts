// Covers the connection timeouts of `tsflyte serve`: a real server on an ephemeral loopback port, and a real socket
// that sends its headers and then trickles a body (or trickles the headers). Short timeouts are set through the
// server's options; what is asserted is that the server ends the connection itself, never how fast.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { defaultHttpTimeouts, startServer, type RunningServer } from "../../../src/lib/server/server.js";

describe("serve closes connections that do not finish their request in time", () => {
  let dir: string;
  let server: RunningServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tsflyte-http-timeouts-"));
    server = await startServer({
      port: 0,
      db: `sqlite:${join(dir, "tsflyte.db")}`,
      storage: pathToFileURL(join(dir, "data")).href,
      workers: 1,
      httpTimeouts: { headersMs: 1_000, requestMs: 2_000 },
    });
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Opens a socket, writes `first`, then one byte of `rest` every 100 ms until the server ends the connection.
   * Resolves with what the server answered and how many trickled bytes it took; rejects if the client ran out first.
   */
  function trickle(first: string, rest: string): Promise<{ answer: string; trickled: number }> {
    return new Promise((resolve, reject) => {
      const socket: Socket = connect(server.port, "127.0.0.1");
      let answer = "";
      let trickled = 0;
      let timer: NodeJS.Timeout | undefined;
      socket.on("data", (chunk) => (answer += chunk.toString("latin1")));
      socket.on("error", () => undefined);
      socket.on("close", () => {
        clearInterval(timer);
        if (trickled < rest.length) resolve({ answer, trickled });
        else reject(new Error(`the client sent everything (${trickled} bytes) and the server never closed the connection`));
      });
      socket.on("connect", () => {
        socket.write(first);
        timer = setInterval(() => {
          if (trickled >= rest.length) {
            clearInterval(timer);
            socket.end();
            return;
          }
          socket.write(rest[trickled++]);
        }, 100);
      });
    });
  }

  test("headers, then a body one byte at a time: the server answers 408 and closes before the body is done", async () => {
    const body = JSON.stringify({ id: { project: "flytesnacks", domain: "development", name: "x".repeat(600) } });
    const headers = `POST /api/v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const { answer, trickled } = await trickle(headers, body);
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(trickled < body.length, "closed by the server while the body was still coming");
  });

  test("headers one byte at a time: the server closes before they are done", async () => {
    const headers = `GET /api/v1/projects HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${"s".repeat(600)}\r\n\r\n`;
    const { answer, trickled } = await trickle("", headers);
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(trickled < headers.length, "closed by the server while the headers were still coming");
  });

  test("a prompt request on the same server is answered", async () => {
    const response = await fetch(`${server.url}/healthcheck`);
    assert.equal(response.status, 200);
  });

  test("the documented defaults", () => {
    assert.deepEqual(defaultHttpTimeouts, { headersMs: 20_000, requestMs: 120_000, keepAliveMs: 5_000 });
  });
});
