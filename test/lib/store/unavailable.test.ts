// Which store errors are an outage to wait out (a locked SQLite file here, on a real file), and that waiting ends
// once the store answers; a wrong request is never retried.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { isStoreUnavailable, retryWhileUnavailable, StoreUnavailableError } from "../../../src/lib/store/unavailable.js";

const dir = mkdtempSync(join(tmpdir(), "tsflyte-unavailable-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a SQLite file locked by another connection is unavailable; a retried write goes through once the lock is released", async () => {
  const file = join(dir, "locked.db");
  const holder = new Database(file);
  holder.exec("CREATE TABLE t (x INTEGER PRIMARY KEY)");
  const writer = new Database(file);
  writer.pragma("busy_timeout = 0");
  holder.exec("BEGIN EXCLUSIVE");
  let tries = 0;
  const lines: string[] = [];
  const written = retryWhileUnavailable(
    async () => {
      tries++;
      return writer.prepare("INSERT INTO t (x) VALUES (1)").run().changes;
    },
    { log: (line) => lines.push(line), what: "execution p/d/x" },
  );
  await new Promise((resolve) => setTimeout(resolve, 700));
  holder.exec("COMMIT");
  assert.equal(await written, 1);
  assert.ok(tries >= 2, `tried ${tries} times`);
  assert.match(lines[0], /the database is unavailable \(database is locked\); execution p\/d\/x waits for it/);
  assert.match(lines[1], /the database is back after \d+\.\d s; execution p\/d\/x goes on/);
  // A wrong request is thrown at once, not retried.
  let constraintTries = 0;
  await assert.rejects(
    retryWhileUnavailable(async () => {
      constraintTries++;
      return writer.prepare("INSERT INTO t (x) VALUES (1)").run();
    }),
    (e: unknown) => !isStoreUnavailable(e) && (e as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY",
  );
  assert.equal(constraintTries, 1);
  holder.close();
  writer.close();
});

test("what counts as unavailable: PostgreSQL shutdown and connection SQLSTATEs and the store's own error, not socket codes from elsewhere", () => {
  const withCode = (code: string, name = "error") => Object.assign(new Error("x"), { code, name });
  for (const code of ["57P01", "57P02", "57P03", "08006", "08001", "53300"]) assert.equal(isStoreUnavailable(withCode(code)), true, code);
  for (const code of ["SQLITE_BUSY", "SQLITE_FULL", "SQLITE_IOERR_WRITE"]) assert.equal(isStoreUnavailable(withCode(code, "SqliteError")), true, code);
  assert.equal(isStoreUnavailable(new StoreUnavailableError("the PostgreSQL server at h:5432 is unreachable")), true);
  // A missing file or a broken worker pipe is not the database going away.
  for (const code of ["ENOENT", "EPIPE", "23505", "42P01", "SQLITE_CONSTRAINT"]) assert.equal(isStoreUnavailable(withCode(code)), false, code);
});
