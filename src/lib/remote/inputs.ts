// Inputs for a remote execution: files, directories and tables given as local paths are staged with the same
// offloading local runs use, then uploaded through the control plane's data proxy. Never leaves staged files behind.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type { Literal, LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import { UserError } from "../errors.js";
import type { AnyType } from "../types/types.js";
import { valuesToLiteralMap } from "../engine/offload.js";
import { openBlobStore } from "../storage/open.js";
import { fileUriToPath } from "../storage/file-uri.js";
import type { AdminClient } from "../admin/client.js";

/** Uploads one local file through the data proxy under `root`; resolves to its URI in the control plane's store. */
export async function uploadThroughDataProxy(
  client: AdminClient,
  target: { project: string; domain: string },
  bytes: Uint8Array,
  filename: string,
  root: string,
): Promise<string> {
  const md5 = createHash("md5").update(bytes).digest("base64");
  const location = await client.post<{ signed_url?: string; signedUrl?: string; native_url?: string; nativeUrl?: string }>("/api/v1/dataproxy/artifact_urn", {
    project: target.project,
    domain: target.domain,
    filename,
    filename_root: root,
    content_md5: md5,
  });
  const signed = location.signed_url ?? location.signedUrl;
  const native = location.native_url ?? location.nativeUrl;
  if (!signed || !native) throw new UserError("the control plane's data proxy answered without signed_url and native_url");
  await client.upload(signed, bytes, md5);
  return native;
}

/**
 * Converts input values to literals for a control plane. Values that are already URIs (s3://, file://, …) stay as
 * they are; local files, directories and tables are uploaded, each under a fresh root so names never collide.
 */
export async function remoteInputLiterals(
  client: AdminClient,
  target: { project: string; domain: string },
  types: Record<string, AnyType>,
  values: Record<string, unknown>,
): Promise<LiteralMap> {
  const staging = mkdtempSync(join(tmpdir(), "tsflyte-inputs-"));
  try {
    const store = openBlobStore(pathToFileURL(staging).href);
    const literals = await valuesToLiteralMap(types, values, { store, rawPrefix: `${store.baseUri}/inputs`, at: "input" });
    await store.flush();
    const rewrite = async (uri: string): Promise<string> => (uri.startsWith(`${store.baseUri}/`) ? uploadLocalPath(client, target, fileUriToPath(uri)) : uri);
    for (const literal of Object.values(literals.literals)) await rewriteUris(literal, rewrite);
    return literals;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Uploads a local file, or every file of a local directory under one root, through the data proxy; resolves to the
 * URI of the file or of the directory in the control plane's store.
 */
export async function uploadLocalPath(client: AdminClient, target: { project: string; domain: string }, local: string): Promise<string> {
  const root = randomBytes(12).toString("hex");
  if (!statSync(local).isDirectory()) return uploadThroughDataProxy(client, target, readFileSync(local), local.split(sep).pop()!, root);
  const files = walk(local);
  if (files.length === 0) throw new UserError(`${local}: an empty directory cannot be uploaded`);
  let dirUri = "";
  for (const file of files) {
    const rel = relative(local, file).split(sep).join("/");
    const native = await uploadThroughDataProxy(client, target, readFileSync(file), rel, root);
    dirUri = native.slice(0, native.length - rel.length).replace(/\/+$/, "");
  }
  return dirUri;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

/** Rewrites every blob and structured-dataset URI inside a literal, in place. */
async function rewriteUris(literal: Literal, rewrite: (uri: string) => Promise<string>): Promise<void> {
  const v = literal.value;
  if (v.case === "collection") for (const l of v.value.literals) await rewriteUris(l, rewrite);
  else if (v.case === "map") for (const l of Object.values(v.value.literals)) await rewriteUris(l, rewrite);
  else if (v.case === "scalar") {
    const s = v.value.value;
    if (s.case === "blob") s.value.uri = await rewrite(s.value.uri);
    else if (s.case === "structuredDataset") s.value.uri = await rewrite(s.value.uri);
    else if (s.case === "union" && s.value.value) await rewriteUris(s.value.value, rewrite);
  }
}
