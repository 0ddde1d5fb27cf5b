// Opens the control plane's store from the `--db` a server is given: a SQLite file or a PostgreSQL URL.
// Loads only the driver that the value names; never guesses at a value it does not recognise.
import { UserError } from "../errors.js";
import type { ControlPlaneStore } from "./records.js";

const acceptedForms =
  "sqlite:PATH (e.g. sqlite:./tsflyte.db or sqlite:/var/lib/tsflyte/metadata.db), a plain file path, " +
  "or postgres://USER:PASSWORD@HOST:PORT/DATABASE (postgresql:// works too)";

/** `sqlite:PATH`, a plain path (relative to the working directory, or absolute), or `postgres://…`/`postgresql://…`. */
export async function openControlPlaneStore(db: string): Promise<ControlPlaneStore> {
  const target = parseDatabaseOption(db);
  if (target.kind === "postgres") {
    const { openPostgresStore } = await import("./postgres.js");
    return openPostgresStore(target.url);
  }
  const { openSqliteStore } = await import("./sqlite.js");
  return openSqliteStore(target.path);
}

export type DatabaseTarget = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

/** Which database a `--db` value names; a UserError listing the accepted forms for anything else. */
export function parseDatabaseOption(db: string): DatabaseTarget {
  if (db.trim() === "") throw new UserError("The database is empty.", `Give one of: ${acceptedForms}.`);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(db)?.[1].toLowerCase();
  if (scheme === "postgres" || scheme === "postgresql") {
    if (!db.slice(scheme.length + 1).startsWith("//")) {
      // Not echoed: whatever follows may hold a password.
      throw new UserError(`The ${scheme}: database is not a URL: it needs // after ${scheme}:.`, `Give one of: ${acceptedForms}.`);
    }
    return { kind: "postgres", url: db };
  }
  if (scheme === "sqlite") {
    const path = db.slice("sqlite:".length);
    // SQLAlchemy spells a relative path sqlite:///x.db and an absolute one sqlite:////x.db; rather than guess
    // which convention was meant, ask for the plain path.
    if (path.startsWith("//")) {
      throw new UserError(
        `The database ${db} has // after sqlite:, which could mean a relative or an absolute path.`,
        "Write the path right after sqlite:, e.g. sqlite:./tsflyte.db or sqlite:/var/lib/tsflyte/metadata.db.",
      );
    }
    if (path === "") throw new UserError(`The database ${db} names no file.`, `Give one of: ${acceptedForms}.`);
    return { kind: "sqlite", path };
  }
  // One letter before a colon is a Windows drive (C:\…), not a scheme.
  if (scheme !== undefined && scheme.length > 1) {
    throw new UserError(
      `The database ${redactPassword(db)} uses ${scheme}:, which tsflyte does not support.`,
      `Give one of: ${acceptedForms}. A file whose name has a colon can be written ./NAME.`,
    );
  }
  return { kind: "sqlite", path: db };
}

/** Whatever follows `//` up to the last `@` may hold a password: an error about the value never shows it. */
function redactPassword(db: string): string {
  return db.replace(/\/\/.*@/s, "//***@");
}
