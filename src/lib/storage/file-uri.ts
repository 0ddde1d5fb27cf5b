// Turns `file://` URIs into local paths and back, decoding percent-encoding (spaces, non-ASCII) the WHATWG way.
// Never guesses: a URI with a host, a query, a fragment or a broken escape is a UserError naming the URI.
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { UserError } from "../errors.js";

export function isFileUri(uri: string): boolean {
  return uri.startsWith("file://");
}

/** The local path a `file://` URI names. */
export function fileUriToPath(uri: string): string {
  if (!isFileUri(uri)) throw new UserError(`${uri} is not a file:// URI`);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new UserError(`${uri} is not a valid file:// URI`);
  }
  if (url.search || url.hash) {
    throw new UserError(`${uri} has a "?" or "#" part, which a file path cannot have`, "percent-encode them as %3F and %23");
  }
  try {
    return fileURLToPath(url);
  } catch (e) {
    throw new UserError(`${uri} does not name a local file: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The canonical `file://` URI of a local path (absolute, percent-encoded, no trailing slash). */
export function pathToFileUri(path: string): string {
  return pathToFileURL(resolve(path)).href.replace(/\/+$/, "");
}

/** `<uri>/<relative path>` with each segment percent-encoded as a URI path needs. */
export function joinUri(uri: string, relativePath: string): string {
  const segments = relativePath.split("/").filter((s) => s !== "");
  return [uri.replace(/\/+$/, ""), ...segments.map(encodeURIComponent)].join("/");
}
