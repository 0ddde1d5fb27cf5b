// The control-plane client against real loopback servers: every way a request can fail becomes one line naming
// the endpoint and what failed, with the exit code's error class, and the token never shows in it.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer, type Server as NetServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { AdminClient, adminStatusOf } from "../../../src/lib/admin/client.js";
import { NotFoundError, UnreachableError, UserError } from "../../../src/lib/errors.js";

const token = "s3cret-token-abcdefghijklmnop";

function listen(server: Server | NetServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
}

async function failure(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  assert.fail("expected the request to fail");
}

describe("AdminClient", () => {
  let http: Server;
  let silent: NetServer;
  let port = 0;
  let silentPort = 0;
  const seen: { auth?: string; accept?: string }[] = [];

  before(async () => {
    http = createServer((req, res) => {
      seen.push({ auth: req.headers.authorization, accept: req.headers.accept });
      const send = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (req.url?.startsWith("/api/v1/ok")) return send(200, { answer: 42 });
      if (req.url?.startsWith("/api/v1/secret")) return req.headers.authorization === `Bearer ${token}` ? send(200, {}) : send(401, { error: "missing or wrong token", code: "Unauthenticated" });
      if (req.url?.startsWith("/api/v1/missing")) return send(404, { error: "execution x does not exist", code: "NotFound" });
      if (req.url?.startsWith("/api/v1/exists")) return send(409, { code: 6, message: "entity already exists" });
      if (req.url?.startsWith("/api/v1/bad")) return send(400, { error: "limit must be a number", code: "InvalidArgument" });
      if (req.url?.startsWith("/api/v1/broken")) return send(500, { error: "database is locked", code: "Internal" });
      res.writeHead(200, { "content-type": "text/html" }).end("<html>not an API</html>");
    });
    // Accepts connections and never answers: a hung control plane.
    silent = createNetServer(() => {});
    port = await listen(http);
    silentPort = await listen(silent);
  });
  after(() => {
    http.close();
    silent.close();
  });

  const client = (url: string, extra: Partial<ConstructorParameters<typeof AdminClient>[0]> = {}) =>
    new AdminClient({ url, endpoint: url.replace(/^https?:\/\//, "dns:///"), from: "/home/u/.flyte/config.yaml:2:13: admin.endpoint", ...extra });

  test("a JSON answer comes back parsed; Accept is explicit and the token is sent as a bearer token", async () => {
    const c = client(`http://127.0.0.1:${port}`, { authToken: token });
    assert.deepEqual(await c.get("/api/v1/ok", { limit: 3, skip: undefined }), { answer: 42 });
    assert.deepEqual(seen.at(-1), { auth: `Bearer ${token}`, accept: "application/json" });
    await c.close();
  });

  test("refused, DNS, TLS and timeout are one line with the endpoint, what failed and where it was set", async () => {
    const refused = await failure(() => client(`http://127.0.0.1:1`).get("/api/v1/ok"));
    assert.ok(refused instanceof UnreachableError);
    assert.equal(refused.message, "cannot reach the control plane at dns:///127.0.0.1:1: connection refused (endpoint set by /home/u/.flyte/config.yaml:2:13: admin.endpoint)");
    const dns = await failure(() => client("http://no-such-host.invalid:30080").get("/api/v1/ok"));
    assert.ok(dns instanceof UnreachableError);
    assert.match(dns.message, /no-such-host\.invalid:30080: its host name does not resolve \(DNS E/);
    const tls = await failure(() => client(`https://127.0.0.1:${port}`).get("/api/v1/ok"));
    assert.ok(tls instanceof UnreachableError);
    assert.match(tls.message, /TLS failed .*admin\.insecure: true/);
    const slow = await failure(() => client(`http://127.0.0.1:${silentPort}`, { timeoutMs: 300 }).get("/api/v1/ok"));
    assert.ok(slow instanceof UnreachableError);
    assert.match(slow.message, /no answer within 300 ms \(timeout\)/);
    for (const e of [refused, dns, tls, slow]) assert.equal(e.message.split("\n").length, 1);
  });

  test("401 is unreachable (exit 4) and says how to give a token, never showing the token", async () => {
    const anonymous = await failure(() => client(`http://127.0.0.1:${port}`).get("/api/v1/secret"));
    assert.ok(anonymous instanceof UnreachableError);
    assert.match(anonymous.message, /refused the request \(401 unauthorized\): it needs a token: set TSFLYTE_AUTH_TOKEN or admin\.authTokenFile/);
    const wrong = await failure(() => client(`http://127.0.0.1:${port}`, { authToken: `${token}x` }).get("/api/v1/secret"));
    assert.match(wrong.message, /the token was not accepted/);
    assert.ok(!wrong.message.includes(token) && !(wrong.stack ?? "").includes(token));
  });

  test("404 is NotFound, 400 a UserError with the server's sentence, 409 carries its gRPC code, 500 is unreachable", async () => {
    const c = client(`http://127.0.0.1:${port}`);
    const missing = await failure(() => c.get("/api/v1/missing"));
    assert.ok(missing instanceof NotFoundError);
    assert.equal(missing.message, "execution x does not exist");
    const bad = await failure(() => c.get("/api/v1/bad"));
    assert.ok(bad instanceof UserError && !(bad instanceof NotFoundError) && !(bad instanceof UnreachableError));
    assert.equal(bad.message, "limit must be a number");
    const exists = await failure(() => c.post("/api/v1/exists", {}));
    assert.deepEqual(adminStatusOf(exists), { status: 409, code: "AlreadyExists" });
    const broken = await failure(() => c.get("/api/v1/broken"));
    assert.ok(broken instanceof UnreachableError);
    assert.match(broken.message, /failed to answer GET \/api\/v1\/broken \(500 Internal\): database is locked/);
    const html = await failure(() => c.get("/api/v1/other"));
    assert.match(html.message, /not JSON; is it a Flyte or tsflyte control plane\?/);
    await c.close();
  });
});
