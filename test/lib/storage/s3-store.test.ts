// The s3:// blob store against a real S3-compatible server (s3rver with Signature V4 checked): every BlobStore method,
// put ordering, clear errors that never show a secret, both addressing styles, and tsflyte-execute over s3:// URIs.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import dns from "node:dns";
import fs from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { buildCodeBundle } from "../../../src/lib/compiler/bundle.js";
import { decodeErrorDocument } from "../../../src/lib/engine/error-document.js";
import { InProcessRunner } from "../../../src/lib/engine/in-process.js";
import { UserError } from "../../../src/lib/errors.js";
import { runTsflyteExecute } from "../../../src/lib/execute/execute.js";
import { LiteralMapSchema } from "../../../src/lib/idl/gen/flyteidl/core/literals_pb.js";
import { FileBlobStore } from "../../../src/lib/storage/file-store.js";
import { joinUri } from "../../../src/lib/storage/file-uri.js";
import { openBlobStore } from "../../../src/lib/storage/open.js";
import { S3Client, xmlBlocks, xmlElement } from "../../../src/lib/storage/s3-client.js";
import { S3BlobStore, s3OptionsFromEnv, type S3Options } from "../../../src/lib/storage/s3-store.js";
import { t } from "../../../src/lib/types/types.js";
import { startS3Server, type S3Server } from "../../support/s3-server.js";
import { fixtureDir, literalMap, repoRoot } from "../execute/support.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const sha256 = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

let s3: S3Server;
const stores: S3BlobStore[] = [];
const tempDirs: string[] = [];
let prefixSeq = 0;

before(async () => {
  s3 = await startS3Server();
});

after(async () => {
  await Promise.all(stores.map((store) => store.close().catch(() => undefined)));
  await s3.close();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A store on the test server under a prefix of its own, so tests do not see each other's objects. */
function newStore(options: S3Options = {}): S3BlobStore {
  const store = new S3BlobStore(`s3://${s3.bucket}/t${prefixSeq++}`, {
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ...options,
  });
  stores.push(store);
  return store;
}

function tempDir(): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "tsflyte-s3-test-")));
  tempDirs.push(dir);
  return dir;
}

/** Every file under dir, relative with "/", sorted. */
function tree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).split(path.sep).join("/"))
    .sort();
}

/** Requests the server got since `from` (an index into s3.requests). */
function requestsSince(from: number) {
  return s3.requests.slice(from);
}

test("put is seen by read and exists before flush; flush lands every put in S3", async () => {
  const store = newStore();
  const a = `${store.baseUri}/metadata/n0/data/inputs.pb`;
  const b = `${store.baseUri}/metadata/n0/data/0/outputs.pb`;
  store.put(a, bytes("inputs"));
  store.put(b, bytes("outputs"));
  assert.equal(text(await store.read(a)), "inputs");
  assert.equal(await store.exists(b), true);
  assert.equal(await store.exists(`${store.baseUri}/metadata/n0`), true, "a folder with queued puts under it exists");
  await store.flush();
  // A second store has no queue: what it reads came from S3.
  const fresh = newStore();
  assert.equal(text(await fresh.read(a)), "inputs");
  assert.equal(text(await fresh.read(b)), "outputs");
  assert.equal(await fresh.exists(b), true);
  assert.equal(await fresh.exists(`${store.baseUri}/metadata/n0`), true, "a key prefix with objects under it is a folder that exists");
  assert.equal(await fresh.exists(`${store.baseUri}/metadata/nothing.pb`), false);
  assert.equal(store.localPath(), undefined);
});

test("puts to one URI land in call order, even when an earlier body is much larger", async () => {
  const store = newStore();
  const uri = `${store.baseUri}/ordered.pb`;
  const from = s3.requests.length;
  // Sent at once, the 4 MiB body would finish after the small ones and overwrite them.
  store.put(uri, new Uint8Array(4 * 1024 * 1024).fill(1));
  store.put(uri, bytes("second"));
  store.put(uri, bytes("third"));
  store.send();
  assert.equal(text(await store.read(uri)), "third", "read sees the latest queued put");
  await store.flush();
  assert.equal(text(await newStore().read(uri)), "third");
  assert.equal(requestsSince(from).filter((r) => r.method === "PUT").length, 3);
});

test("flush rejects with the first failed put, once, naming the bucket; the next flush is clean", async () => {
  const store = new S3BlobStore("s3://no-such-bucket/x", {
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  stores.push(store);
  store.put("s3://no-such-bucket/x/first.pb", bytes("1"));
  store.put("s3://no-such-bucket/x/second.pb", bytes("2"));
  await assert.rejects(store.flush(), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, /^the S3 bucket no-such-bucket does not exist at http:\/\/127\.0\.0\.1:\d+ \(asked to write s3:\/\/no-such-bucket\/x\/first\.pb\) \(and 1 more write\)$/);
    assert.match(e.hint ?? "", /create the bucket/);
    return true;
  });
  await store.flush();
  assert.throws(() => store.put("file:///tmp/x.pb", bytes("x")), /only takes s3:\/\/ URIs/);
});

test("write stores one object at once; read of a missing key or of a folder says which URI", async () => {
  const store = newStore();
  const uri = `${store.baseUri}/now/blob.pb`;
  await store.write(uri, bytes("now"));
  assert.equal(text(await newStore().read(uri)), "now");
  await assert.rejects(store.read(`${store.baseUri}/now/missing.pb`), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.message, `no data at ${store.baseUri}/now/missing.pb`);
    return true;
  });
  await assert.rejects(store.read(`${store.baseUri}/now`), (e: unknown) => e instanceof UserError && e.message === `${store.baseUri}/now is a directory, not a single blob`);
  await assert.rejects(store.downloadFile(`${store.baseUri}/gone.pb`, path.join(tempDir(), "x")), /^UserError: no data at s3:\/\/.*\/gone\.pb$/);
});

test("exists is one HEAD for an object and adds one listing only for a key that is not one", async () => {
  const store = newStore();
  await store.write(`${store.baseUri}/dir/file.txt`, bytes("x"));
  let from = s3.requests.length;
  assert.equal(await store.exists(`${store.baseUri}/dir/file.txt`), true);
  assert.deepEqual(requestsSince(from).map((r) => r.method), ["HEAD"]);
  from = s3.requests.length;
  assert.equal(await store.exists(`${store.baseUri}/dir`), true);
  assert.deepEqual(requestsSince(from).map((r) => r.method), ["HEAD", "GET"]);
  assert.match(requestsSince(from)[1].url, /[?&]list-type=2(&|$)/);
  assert.equal(await store.exists(`${store.baseUri}/dir/other.txt`), false);
});

test("a key with spaces, +, %, & and UTF-8 is stored under its decoded name and reads back by either spelling", async () => {
  const store = newStore();
  const name = "a b+c 100% R&D é€😀.txt";
  const encoded = joinUri(`${store.baseUri}/keys`, name);
  assert.ok(encoded.endsWith("/keys/a%20b%2Bc%20100%25%20R%26D%20%C3%A9%E2%82%AC%F0%9F%98%80.txt"), encoded);
  const from = s3.requests.length;
  await store.write(encoded, bytes("odd name"));
  const prefix = store.baseUri.split("/")[3];
  assert.equal(requestsSince(from)[0].url, `/${s3.bucket}/${prefix}/keys/a%20b%2Bc%20100%25%20R%26D%20%C3%A9%E2%82%AC%F0%9F%98%80.txt`, "sent RFC 3986-encoded");
  assert.equal(text(await store.read(`${store.baseUri}/keys/a b+c 100%25 R&D é€😀.txt`)), "odd name");
  const out = tempDir();
  await store.downloadDirectory(`${store.baseUri}/keys`, out);
  assert.deepEqual(tree(out), [name], "the key S3 lists is the decoded name");
  assert.equal(fs.readFileSync(path.join(out, name), "utf8"), "odd name");
  await assert.rejects(store.read(`${store.baseUri}/keys/100%zz`), /broken percent-escape.*write a literal "%" as %25/);
});

test("S3's XML answers are read with entities decoded once, also from servers that ignore encoding-type=url", () => {
  const list =
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>' +
    "<IsTruncated>true</IsTruncated><NextContinuationToken>1/a+b=</NextContinuationToken>" +
    "<Contents><Key>R&amp;D &lt;draft&gt; &#x27;q&#39; &amp;lt;.txt</Key><Size>3</Size></Contents>" +
    "<Contents><Key>plain.txt</Key><Owner><ID>x</ID></Owner></Contents></ListBucketResult>";
  assert.deepEqual(
    xmlBlocks(list, "Contents").map((c) => xmlElement(c, "Key")),
    ["R&D <draft> 'q' &lt;.txt", "plain.txt"],
  );
  assert.equal(xmlElement(list, "NextContinuationToken"), "1/a+b=");
  assert.equal(xmlElement(list, "Missing"), undefined);
  const error = "<Error><Code>NoSuchKey</Code><Message>The resource you requested does not exist</Message><Resource>/b/k</Resource></Error>";
  assert.deepEqual([xmlElement(error, "Code"), xmlElement(error, "Message")], ["NoSuchKey", "The resource you requested does not exist"]);
});

test("uploadFile and downloadFile round-trip small and streamed (over 8 MiB) files with their sha256", async () => {
  const store = newStore();
  const dir = tempDir();
  const small = path.join(dir, "small.txt");
  fs.writeFileSync(small, "hello");
  const big = path.join(dir, "big.bin");
  const bigBytes = Buffer.alloc(9 * 1024 * 1024 + 7);
  for (let i = 0; i < bigBytes.length; i += 4096) bigBytes[i] = i % 251;
  fs.writeFileSync(big, bigBytes);
  assert.deepEqual(await store.uploadFile(small, `${store.baseUri}/files/small.txt`), { sha256: sha256("hello"), size: 5 });
  assert.deepEqual(await store.uploadFile(big, `${store.baseUri}/files/big.bin`), { sha256: sha256(bigBytes), size: bigBytes.length });
  const back = path.join(dir, "back", "deeper", "big.bin");
  await store.downloadFile(`${store.baseUri}/files/big.bin`, back);
  assert.equal(sha256(fs.readFileSync(back)), sha256(bigBytes));
  assert.deepEqual(fs.readdirSync(path.dirname(back)), ["big.bin"], "no temp file is left next to the download");
  await store.downloadFile(`${store.baseUri}/files/small.txt`, path.join(dir, "back", "small.txt"));
  assert.equal(fs.readFileSync(path.join(dir, "back", "small.txt"), "utf8"), "hello");
  await assert.rejects(store.uploadFile(path.join(dir, "nope.txt"), `${store.baseUri}/files/nope.txt`), /^UserError: no file at .*nope\.txt to upload$/);
  await assert.rejects(store.uploadFile(dir, `${store.baseUri}/files/dir`), /is not a file; upload a directory as a directory/);
});

test("uploadDirectory gives the same sha256 as the file store for the same tree; downloadDirectory brings it back", async () => {
  const store = newStore();
  const src = tempDir();
  for (const [rel, content] of [
    ["top.txt", "top"],
    ["a/one.txt", "one"],
    ["a/b/two.txt", "two"],
    ["a/b/c/three with space.txt", "three"],
    ["z.bin", "\u0000\u0001"],
  ]) {
    fs.mkdirSync(path.join(src, path.dirname(rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), content);
  }
  fs.mkdirSync(path.join(src, "empty"));
  const fileStore = new FileBlobStore(path.join(tempDir(), "data"));
  const local = await fileStore.uploadDirectory(src, `${fileStore.baseUri}/tree`);
  await fileStore.close();
  const uploaded = await store.uploadDirectory(src, `${store.baseUri}/tree`);
  assert.deepEqual(uploaded, local);
  assert.equal(uploaded.files, 5);
  const out = path.join(tempDir(), "out");
  await store.downloadDirectory(`${store.baseUri}/tree`, out);
  assert.deepEqual(tree(out), tree(src));
  assert.equal(fs.readFileSync(path.join(out, "a/b/c/three with space.txt"), "utf8"), "three");
  // A queued put under the folder is part of it, as on disk.
  store.put(`${store.baseUri}/tree/a/queued.txt`, bytes("queued"));
  const out2 = path.join(tempDir(), "out2");
  await store.downloadDirectory(`${store.baseUri}/tree`, out2);
  assert.equal(fs.readFileSync(path.join(out2, "a/queued.txt"), "utf8"), "queued");
  await store.flush();

  const empty = tempDir();
  assert.deepEqual(await store.uploadDirectory(empty, `${store.baseUri}/empty-dir`), { sha256: sha256(""), files: 0 });
  assert.equal(await store.exists(`${store.baseUri}/empty-dir`), true, "an uploaded empty directory exists");
  const emptyOut = path.join(tempDir(), "empty-out");
  await store.downloadDirectory(`${store.baseUri}/empty-dir`, emptyOut);
  assert.deepEqual(fs.readdirSync(emptyOut), []);

  await assert.rejects(store.downloadDirectory(`${store.baseUri}/tree/top.txt`, tempDir()), /tree\/top\.txt is a file, not a directory$/);
  await assert.rejects(store.downloadDirectory(`${store.baseUri}/no-tree`, tempDir()), /^UserError: no data at s3:\/\/.*\/no-tree$/);
  await assert.rejects(store.uploadDirectory(path.join(src, "missing"), `${store.baseUri}/x`), /no directory at .*missing to upload/);
});

test("listing follows ListObjectsV2 continuation tokens to the last page", async () => {
  const store = newStore();
  const names = ["1", "2", "3", "4", "5", "6", "7"].map((n) => `page/${n}.txt`);
  await Promise.all(names.map((n) => store.write(`${store.baseUri}/${n}`, bytes(n))));
  const prefix = store.baseUri.slice(`s3://${s3.bucket}/`.length);
  const client = new S3Client({ endpoint: new URL(s3.endpoint), region: s3.region, forcePathStyle: true, concurrency: 4, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  const from = s3.requests.length;
  const keys = await client.listKeys({ uri: `${store.baseUri}/page`, bucket: s3.bucket, key: `${prefix}/page` }, `${prefix}/page/`, { pageSize: 3 });
  client.close();
  assert.deepEqual(keys, names.map((n) => `${prefix}/${n}`));
  const lists = requestsSince(from);
  assert.equal(lists.length, 3, "7 keys in pages of 3");
  assert.ok(!lists[0].url.includes("continuation-token"));
  assert.ok(lists[1].url.includes("continuation-token=") && lists[2].url.includes("continuation-token="));
});

test("a wrong secret key is S3's 403, a UserError naming the bucket and the variables to check; no secret anywhere", async () => {
  const secret = "wrong-secret-7Hq2Xv9kLmN3pQrStUvWxYz0123456789abcd";
  const token = "session-token-FQoGZXIvYXdzEJr-not-real-0123456789";
  const store = newStore({ credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: secret, sessionToken: token } });
  const uri = `${store.baseUri}/denied.pb`;
  const from = s3.requests.length;
  const failures: unknown[] = [];
  await store.read(uri).catch((e: unknown) => failures.push(e));
  await store.write(uri, bytes("x")).catch((e: unknown) => failures.push(e));
  await store.exists(uri).catch((e: unknown) => failures.push(e));
  store.put(uri, bytes("x"));
  await store.flush().catch((e: unknown) => failures.push(e));
  assert.equal(failures.length, 4);
  assert.equal(requestsSince(from).length, 4, "a 403 is not retried");
  for (const e of failures) {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, new RegExp(`^access to the S3 bucket ${s3.bucket} was denied \\(SignatureDoesNotMatch(: The request signature we calculated .*)?\\) when asked to`));
    assert.ok(e.message.includes(uri), e.message);
    assert.match(e.hint ?? "", /check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    // The server's answer carries the canonical request, session token included, as S3's does.
    for (const shown of [e.message, e.hint ?? "", e.stack ?? "", inspect(e, { depth: 5 }), JSON.stringify(e)]) {
      assert.ok(!shown.includes(secret), `the secret key is shown: ${shown}`);
      assert.ok(!shown.includes(token), `the session token is shown: ${shown}`);
    }
  }
  for (const shown of [inspect(store, { depth: 10, showHidden: true }), JSON.stringify(store)]) {
    assert.ok(!shown.includes(secret) && !shown.includes(token), `the store shows a secret: ${shown}`);
  }
});

test("an unreachable endpoint is a UserError naming the endpoint, the URI and ECONNREFUSED, with where to fix it", async () => {
  const port = await closedPort();
  const store = newStore({ endpoint: `http://127.0.0.1:${port}` });
  const started = Date.now();
  await assert.rejects(store.read(`${store.baseUri}/x.pb`), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.message, `cannot reach the S3 endpoint http://127.0.0.1:${port} for ${store.baseUri}/x.pb: ECONNREFUSED`);
    assert.match(e.hint ?? "", /kubernetes\.s3\.endpoint.*TSFLYTE_S3_ENDPOINT/);
    return true;
  });
  assert.ok(Date.now() - started < 5_000, "a refused connection is not retried for long");
});

test("S3's error code and message are passed on: a request signed for the wrong region", async () => {
  const store = newStore({ region: "eu-west-3" });
  await assert.rejects(
    store.read(`${store.baseUri}/x.pb`),
    /^UserError: could not read s3:\/\/tsflyte-test\/t\d+\/x\.pb: S3 answered 400 \(AuthorizationHeaderMalformed: The authorization header is malformed; the region 'eu-west-3' is wrong; expecting 'us-east-1'\)$/,
  );
});

test("path style names the bucket in the path; virtual-hosted style in the host name", async () => {
  // `<bucket>.s3.localhost` does not resolve on every machine: this test alone resolves *.localhost to loopback.
  const lookup = dns.lookup;
  dns.lookup = ((hostname: string, ...rest: unknown[]) =>
    (lookup as (...args: unknown[]) => void).call(dns, hostname.endsWith(".localhost") ? "127.0.0.1" : hostname, ...rest)) as typeof dns.lookup;
  try {
    const port = new URL(s3.endpoint).port;
    const byIp = newStore();
    let from = s3.requests.length;
    await byIp.write(`${byIp.baseUri}/style.txt`, bytes("ip"));
    assert.deepEqual(requestsSince(from).map((r) => [r.host, r.url]), [[`127.0.0.1:${port}`, `/${s3.bucket}/${byIp.baseUri.split("/")[3]}/style.txt`]], "an IP endpoint is always path style");

    const pathStyle = newStore({ endpoint: `http://s3.localhost:${port}`, forcePathStyle: true });
    from = s3.requests.length;
    await pathStyle.write(`${pathStyle.baseUri}/style.txt`, bytes("path"));
    assert.equal(text(await pathStyle.read(`${pathStyle.baseUri}/style.txt`)), "path");
    assert.deepEqual(requestsSince(from)[0], { method: "PUT", host: `s3.localhost:${port}`, url: `/${s3.bucket}/${pathStyle.baseUri.split("/")[3]}/style.txt` });

    const virtual = newStore({ endpoint: `http://s3.localhost:${port}`, forcePathStyle: false });
    from = s3.requests.length;
    await virtual.write(`${virtual.baseUri}/style.txt`, bytes("virtual"));
    assert.equal(text(await virtual.read(`${virtual.baseUri}/style.txt`)), "virtual");
    assert.equal(await virtual.exists(`${virtual.baseUri}`), true);
    const seen = requestsSince(from);
    assert.deepEqual(seen[0], { method: "PUT", host: `${s3.bucket}.s3.localhost:${port}`, url: `/${virtual.baseUri.split("/")[3]}/style.txt` });
    assert.ok(seen.every((r) => r.host === `${s3.bucket}.s3.localhost:${port}`), JSON.stringify(seen));
    // Both styles name the same object.
    assert.equal(text(await pathStyle.read(`${virtual.baseUri}/style.txt`)), "virtual");
  } finally {
    dns.lookup = lookup;
  }
});

test("s3OptionsFromEnv reads TSFLYTE_S3_* and AWS_*; openBlobStore opens s3:// with them", async () => {
  assert.deepEqual(s3OptionsFromEnv({}), { region: "us-east-1" });
  assert.deepEqual(s3OptionsFromEnv({ AWS_DEFAULT_REGION: "eu-north-1", AWS_REGION: "eu-west-1" }), { region: "eu-west-1" });
  assert.deepEqual(
    s3OptionsFromEnv({
      TSFLYTE_S3_ENDPOINT: "http://minio:9000",
      TSFLYTE_S3_REGION: "local",
      AWS_REGION: "eu-west-1",
      TSFLYTE_S3_FORCE_PATH_STYLE: "1",
      AWS_ACCESS_KEY_ID: "id",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_SESSION_TOKEN: "token",
    }),
    { endpoint: "http://minio:9000", region: "local", forcePathStyle: true, credentials: { accessKeyId: "id", secretAccessKey: "secret", sessionToken: "token" } },
  );
  assert.equal(s3OptionsFromEnv({ TSFLYTE_S3_FORCE_PATH_STYLE: "false" }).forcePathStyle, false);
  assert.throws(() => s3OptionsFromEnv({ TSFLYTE_S3_FORCE_PATH_STYLE: "yes" }), /TSFLYTE_S3_FORCE_PATH_STYLE is "yes".*set it to true or false/);
  assert.throws(
    () => s3OptionsFromEnv({ AWS_SECRET_ACCESS_KEY: "s3cr3t-value" }),
    (e: unknown) => e instanceof UserError && e.message === "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not; set both, or neither for a public bucket",
  );

  const aws = openBlobStore("s3://my-bucket/data/", { s3: { region: "eu-central-1" } });
  assert.ok(aws instanceof S3BlobStore);
  assert.equal(aws.baseUri, "s3://my-bucket/data");
  assert.equal(aws.endpoint, "https://s3.eu-central-1.amazonaws.com");
  assert.throws(() => openBlobStore("s3:///data"), /is not an s3:\/\/ URI with a bucket/);
  assert.throws(() => new S3BlobStore("s3://b", { endpoint: "minio 9000" }), /the S3 endpoint "minio 9000" is not a URL/);
  assert.throws(() => new S3BlobStore("s3://b", { endpoint: "minio:9000" }), /the S3 endpoint minio:9000 is not an http:\/\/ or https:\/\/ URL/);
  assert.throws(() => openBlobStore("gs://b/d"), /gs:\/\/ scheme is not supported; supported are file:\/\/ URIs, absolute paths and s3:\/\/ URIs/);

  const store = openBlobStore(`s3://${s3.bucket}/opened`, { s3: { endpoint: s3.endpoint, region: s3.region, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } } });
  stores.push(store as S3BlobStore);
  await store.write(`${store.baseUri}/x.txt`, bytes("opened"));
  assert.equal(text(await newStore().read(`${store.baseUri}/x.txt`)), "opened");
});

// --- tsflyte-execute with s3:// prefixes -------------------------------------------------------------------------

/** Writes inputs.pb for a node in Flyte's layout in S3; returns the contract's three URIs. */
async function s3Attempt(store: S3BlobStore, nodeId: string, values: Parameters<typeof literalMap>[0]) {
  const base = store.baseUri;
  const inputs = `${base}/metadata/p-d-e1/${nodeId}/data/inputs.pb`;
  await store.write(inputs, toBinary(LiteralMapSchema, literalMap(values)));
  return { inputs, outputPrefix: `${base}/metadata/p-d-e1/${nodeId}/data/0`, rawPrefix: `${base}/raw/p-d-e1/${nodeId}/0` };
}

function contract(at: { inputs: string; outputPrefix: string; rawPrefix: string }, module: string, exportName: string, extra: string[] = []): string[] {
  return ["--inputs", at.inputs, "--output-prefix", at.outputPrefix, "--raw-output-data-prefix", at.rawPrefix, "--checkpoint-path", `${at.outputPrefix}/_flytecheckpoints`, "--prev-checkpoint", "", ...extra, "--", module, exportName];
}

test("tsflyte-execute runs a task from a code bundle in S3, reading inputs.pb and writing outputs.pb and error.pb there", async () => {
  const store = newStore();
  const bundle = await buildCodeBundle(fixtureDir, ["tasks.ts"]);
  const bundleUri = `${store.baseUri}/code/${bundle.md5}.tar`;
  await store.write(bundleUri, bundle.tar);
  const cwd = tempDir();
  let stderr = "";
  // The S3 settings come from the attempt's environment only, as in a pod: nothing else points at the test server.
  const io = { env: { ...s3.env, TSFLYTE_EXECUTE_CACHE: path.join(cwd, ".cache") }, cwd, runner: new InProcessRunner(), stderr: (s: string) => void (stderr += s) };

  const ok = await s3Attempt(store, "n0", { name: [t.string(), "s3"] });
  const greet = await runTsflyteExecute(contract(ok, "tasks.ts", "greet", ["--code-bundle", bundleUri]), io);
  assert.equal(greet.exitCode, 0, stderr);
  const outputs = fromBinary(LiteralMapSchema, await newStore().read(`${ok.outputPrefix}/outputs.pb`));
  assert.equal(t.string().fromLiteral(outputs.literals.o0, "o0"), "hello s3!");
  assert.equal(await store.exists(`${ok.outputPrefix}/error.pb`), false);

  const bad = await s3Attempt(store, "n1", { why: [t.string(), "the bucket is far"] });
  const fails = await runTsflyteExecute(contract(bad, "tasks.ts", "fails", ["--code-bundle", bundleUri]), io);
  assert.equal(fails.exitCode, 0, stderr);
  const error = decodeErrorDocument(await newStore().read(`${bad.outputPrefix}/error.pb`));
  assert.deepEqual([error.kind, error.code, error.message], ["USER", "Error", "failed because the bucket is far"]);
  assert.equal(await store.exists(`${bad.outputPrefix}/outputs.pb`), false);

  // Keys that do not match the server are a SYSTEM error in the log, not a crash: nothing can be written.
  const denied = await runTsflyteExecute(contract(ok, "tasks.ts", "greet", ["--code-bundle", bundleUri]), {
    ...io,
    env: { ...io.env, AWS_SECRET_ACCESS_KEY: "not-the-secret-key" },
  });
  assert.equal(denied.exitCode, 1);
  assert.match(stderr, /could not write s3:\/\/tsflyte-test\/t\d+\/metadata\/p-d-e1\/n0\/data\/0\/error\.pb: access to the S3 bucket tsflyte-test was denied/);
  assert.ok(!stderr.includes("not-the-secret-key"));
});

test("tsflyte-execute as its own process takes the S3 settings from its environment and uploads a returned file", async () => {
  const store = newStore();
  const at = await s3Attempt(store, "report", { lines: [t.int(), 3] });
  const sandbox = tempDir();
  fs.mkdirSync(path.join(sandbox, "tmp"));
  const run = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "src/lib/execute/main.ts"), ...contract(at, "tasks.ts", "report")], {
      cwd: fixtureDir,
      env: { PATH: process.env.PATH ?? "", HOME: path.join(sandbox, "home"), TMPDIR: path.join(sandbox, "tmp"), TSFLYTE_EXECUTE_CACHE: path.join(sandbox, "cache"), ...s3.env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
  assert.equal(run.code, 0, run.stderr);
  const outputs = fromBinary(LiteralMapSchema, await store.read(`${at.outputPrefix}/outputs.pb`));
  assert.equal(t.int().fromLiteral(outputs.literals.count, "count"), 3);
  const file = outputs.literals.file;
  const blob = file.value.case === "scalar" && file.value.value.value.case === "blob" ? file.value.value.value.value : undefined;
  assert.ok(blob?.uri.startsWith(`${at.rawPrefix}/`), `${blob?.uri} is not under ${at.rawPrefix}`);
  const content = await store.read(blob!.uri);
  assert.equal(text(content), "line 1\nline 2\nline 3");
  assert.equal(file.hash, sha256(content));
});

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
