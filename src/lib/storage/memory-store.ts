// A blob store in memory, for entities called directly from user code: their data never outlives the call.
// Never touches the disk except to read a local file the caller uploads or to write one it downloads.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { UserError } from "../errors.js";
import type { BlobStore } from "./blob-store.js";
import { directoryDigest, hashBytes, listFiles } from "./content-hash.js";
import { joinUri } from "./file-uri.js";

export class MemoryBlobStore implements BlobStore {
  readonly baseUri = "memory://tsflyte";
  private readonly blobs = new Map<string, Uint8Array>();

  put(uri: string, bytes: Uint8Array): void {
    this.blobs.set(uri, bytes);
  }
  send(): void {}
  async flush(): Promise<void> {}
  async write(uri: string, bytes: Uint8Array): Promise<void> {
    this.blobs.set(uri, bytes);
  }
  async read(uri: string): Promise<Uint8Array> {
    const bytes = this.blobs.get(uri);
    if (bytes) return bytes;
    if (uri.startsWith("file://")) return readFileSync(new URL(uri));
    throw new UserError(`no data at ${uri}`);
  }
  async exists(uri: string): Promise<boolean> {
    return this.blobs.has(uri);
  }
  async uploadFile(localPath: string, uri: string): Promise<{ sha256: string; size: number }> {
    const bytes = readFileSync(localPath);
    this.blobs.set(uri, bytes);
    return { sha256: hashBytes(bytes), size: bytes.length };
  }
  async uploadDirectory(localPath: string, uri: string): Promise<{ sha256: string; files: number }> {
    const entries = [];
    for (const relativePath of await listFiles(localPath)) {
      const { sha256 } = await this.uploadFile(join(localPath, ...relativePath.split("/")), joinUri(uri, relativePath));
      entries.push({ relativePath, sha256 });
    }
    return { sha256: directoryDigest(entries), files: entries.length };
  }
  async downloadFile(uri: string, localPath: string): Promise<void> {
    mkdirSync(dirname(localPath), { recursive: true });
    writeFileSync(localPath, await this.read(uri));
  }
  async downloadDirectory(uri: string, localPath: string): Promise<void> {
    for (const [key, bytes] of this.blobs) {
      if (!key.startsWith(`${uri}/`)) continue;
      const target = join(localPath, ...key.slice(uri.length + 1).split("/"));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, bytes);
    }
  }
  localPath(): string | undefined {
    return undefined;
  }
}

