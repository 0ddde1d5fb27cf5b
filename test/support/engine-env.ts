// What engine tests share: a real SQLite file and a file:// blob store in a temp folder, and names for SDK entities
// declared in a test. Never leaves the folder behind.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { definitionOf, type Entity } from "../../src/lib/sdk/entity.js";
import type { BlobStore } from "../../src/lib/storage/blob-store.js";
import { openBlobStore } from "../../src/lib/storage/open.js";
import type { MetadataStore } from "../../src/lib/store/records.js";
import { openSqliteStore } from "../../src/lib/store/sqlite.js";

export interface EngineTestEnv {
  store: MetadataStore;
  blobs: BlobStore;
  dir: string;
}

/** Runs `fn` with a fresh store and blob store under a temp folder, then closes both and removes the folder. */
export async function withEngineEnv(prefix: string, fn: (env: EngineTestEnv) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const store = openSqliteStore(join(dir, "tsflyte.db"));
  const blobs = openBlobStore(pathToFileURL(join(dir, "data")).href);
  try {
    await fn({ store, blobs, dir });
  } finally {
    await blobs.flush();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Names entities as the compiler would for ones with `name:`, and `<prefix>.entityN` for the others. */
export function entityNamer(prefix: string): (entity: Entity) => string {
  let counter = 0;
  const names = new Map<unknown, string>();
  return (entity) => {
    const def = definitionOf(entity)!;
    if (!names.has(def)) names.set(def, def.explicitName ?? `${prefix}.entity${counter++}`);
    return names.get(def)!;
  };
}
