// normalizeAdminEndpoint: dns:/// stripping, scheme choice, and a clear refusal for endpoints tsflyte cannot use.
// Never touches the network or the file system.
import { test } from "node:test";
import assert from "node:assert/strict";
import { normalizeAdminEndpoint } from "../../../src/lib/config/endpoint.js";
import { UserError } from "../../../src/lib/errors.js";

test("dns:/// is stripped and insecure picks http, its absence https", () => {
  assert.deepEqual(normalizeAdminEndpoint("dns:///127.0.0.1:30080", true, "x"), { url: "http://127.0.0.1:30080", insecure: true, hostPort: "127.0.0.1:30080" });
  assert.deepEqual(normalizeAdminEndpoint("dns:///127.0.0.1:30080", false, "x"), { url: "https://127.0.0.1:30080", insecure: false, hostPort: "127.0.0.1:30080" });
  assert.equal(normalizeAdminEndpoint("flyte.example.com", undefined, "x").url, "https://flyte.example.com");
  assert.equal(normalizeAdminEndpoint("localhost:30080", true, "x").url, "http://localhost:30080");
  assert.equal(normalizeAdminEndpoint("DNS:///Flyte.Example.com:443/", false, "x").url, "https://flyte.example.com");
  assert.equal(normalizeAdminEndpoint("dns:///[::1]:30080", true, "x").url, "http://[::1]:30080");
  assert.equal(normalizeAdminEndpoint("  flyte-admin_1.svc:81  ", true, "x").url, "http://flyte-admin_1.svc:81");
});

test("an explicit http:// or https:// wins over insecure", () => {
  assert.deepEqual(normalizeAdminEndpoint("http://127.0.0.1:30080", false, "x"), { url: "http://127.0.0.1:30080", insecure: true, hostPort: "127.0.0.1:30080" });
  assert.deepEqual(normalizeAdminEndpoint("https://flyte.example.com:8443/", true, "x"), { url: "https://flyte.example.com:8443", insecure: false, hostPort: "flyte.example.com:8443" });
  assert.equal(normalizeAdminEndpoint("dns:///http://127.0.0.1:1", undefined, "x").url, "http://127.0.0.1:1");
});

test("junk is refused with where it came from, what is wrong and how to write it", () => {
  const cases: [string, RegExp][] = [
    ["", /^TSFLYTE_ADMIN_ENDPOINT: "" is empty$/],
    ["   ", /is empty/],
    ["127.0.0.1 :30080", /^TSFLYTE_ADMIN_ENDPOINT: "127\.0\.0\.1 :30080" contains a space$/],
    ["127.0.0.1:30080/api/v1", /has a path; tsflyte adds \/api\/v1 itself/],
    ["https://flyte.example.com/console", /has a path/],
    ["dns:///", /has no host/],
    ["grpc://flyte.example.com", /has the scheme grpc:\/\//],
    ["host:0", /has the port 0, outside 1–65535/],
    ["host:70000", /outside 1–65535/],
    ["host:port", /is not a host or host:port/],
    ["-bad-.com", /is not a host or host:port/],
    ["a:b:c", /is not a host or host:port/],
  ];
  for (const [endpoint, message] of cases) {
    assert.throws(
      () => normalizeAdminEndpoint(endpoint, true, "TSFLYTE_ADMIN_ENDPOINT"),
      (e: unknown) => e instanceof UserError && message.test(e.message) && /host:port/.test(e.hint ?? ""),
      endpoint,
    );
  }
});

test("user info in an endpoint is refused without being echoed", () => {
  for (const endpoint of ["https://me:s3cr3t-t0ken@flyte.example.com", "s3cr3t-t0ken@flyte.example.com:443"]) {
    assert.throws(
      () => normalizeAdminEndpoint(endpoint, false, "admin.endpoint"),
      (e: unknown) => e instanceof UserError && /holds user info/.test(e.message) && !e.message.includes("s3cr3t") && !(e.hint ?? "").includes("s3cr3t"),
    );
  }
});
