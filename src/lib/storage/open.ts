// Opens the blob store a configured URI names: `file://…` or an absolute path (this machine's disk), `s3://bucket[/prefix]`.
// Never falls back to another store: an unknown scheme is a UserError that lists the supported ones.
import { isAbsolute } from "node:path";
import { UserError } from "../errors.js";
import type { BlobStore } from "./blob-store.js";
import { FileBlobStore } from "./file-store.js";
// Light: the S3 store loads its HTTP client (node:https, aws4) on its first request, not here.
import { S3BlobStore, s3OptionsFromEnv, type S3Options } from "./s3-store.js";

const supported = "file:// URIs, absolute paths and s3:// URIs";

/** `options.s3`: the S3 settings; each one not given comes from the environment (see s3OptionsFromEnv). */
export function openBlobStore(uri: string, options?: { s3?: S3Options }): BlobStore {
  if (uri.startsWith("file://") || isAbsolute(uri)) return new FileBlobStore(uri);
  if (/^s3:\/\//i.test(uri)) return new S3BlobStore(uri, options?.s3 ?? s3OptionsFromEnv());
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1];
  if (scheme) throw new UserError(`blob store ${uri}: the ${scheme}:// scheme is not supported; supported are ${supported}`);
  throw new UserError(`blob store ${uri}: give a file:// URI or an absolute path, or an s3:// URI (supported: ${supported})`);
}
