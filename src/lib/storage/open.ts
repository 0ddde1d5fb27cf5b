// Opens the blob store a configured URI names: `file://…` or an absolute path today; s3:// comes with Kubernetes.
// Never falls back to another store: an unknown scheme is a UserError that lists the supported ones.
import { isAbsolute } from "node:path";
import { UserError } from "../errors.js";
import type { BlobStore } from "./blob-store.js";
import { FileBlobStore } from "./file-store.js";

const supported = "file:// URIs and absolute paths";

export function openBlobStore(uri: string): BlobStore {
  if (uri.startsWith("file://") || isAbsolute(uri)) return new FileBlobStore(uri);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1];
  if (scheme) {
    throw new UserError(
      `blob store ${uri}: the ${scheme}:// scheme is not supported; supported are ${supported}`,
      scheme.toLowerCase() === "s3" ? "s3:// stores come with Kubernetes execution; use a local folder for now" : undefined,
    );
  }
  throw new UserError(`blob store ${uri}: give a file:// URI or an absolute path (supported: ${supported})`);
}
