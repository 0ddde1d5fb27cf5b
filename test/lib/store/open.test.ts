// Covers choosing the control plane's store from a --db value: SQLite paths in their spellings, PostgreSQL URLs,
// and clear errors for anything else. Must never touch a user's files: SQLite stores live in a temp folder.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { UserError } from "../../../src/lib/errors.js";
import { openControlPlaneStore, parseDatabaseOption } from "../../../src/lib/store/open.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsflyte-open-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("parseDatabaseOption", () => {
  test("sqlite:PATH, relative or absolute, and a plain path name SQLite files", () => {
    assert.deepEqual(parseDatabaseOption("sqlite:./tsflyte.db"), { kind: "sqlite", path: "./tsflyte.db" });
    assert.deepEqual(parseDatabaseOption("sqlite:data/tsflyte.db"), { kind: "sqlite", path: "data/tsflyte.db" });
    assert.deepEqual(parseDatabaseOption("sqlite:/var/lib/tsflyte/metadata.db"), { kind: "sqlite", path: "/var/lib/tsflyte/metadata.db" });
    assert.deepEqual(parseDatabaseOption("SQLite:x.db"), { kind: "sqlite", path: "x.db" });
    assert.deepEqual(parseDatabaseOption("metadata.db"), { kind: "sqlite", path: "metadata.db" });
    assert.deepEqual(parseDatabaseOption("/srv/tsflyte.db"), { kind: "sqlite", path: "/srv/tsflyte.db" });
    assert.deepEqual(parseDatabaseOption("./odd:name.db"), { kind: "sqlite", path: "./odd:name.db" });
    assert.deepEqual(parseDatabaseOption("C:\\tsflyte\\metadata.db"), { kind: "sqlite", path: "C:\\tsflyte\\metadata.db" });
  });

  test("postgres:// and postgresql:// URLs are PostgreSQL, kept as given", () => {
    const url = "postgres://flyte:pw@db.internal:5432/flyte?sslmode=require";
    assert.deepEqual(parseDatabaseOption(url), { kind: "postgres", url });
    assert.deepEqual(parseDatabaseOption("postgresql://localhost/flyte"), { kind: "postgres", url: "postgresql://localhost/flyte" });
  });

  test("anything else is a UserError that lists the accepted forms and never shows a password", () => {
    const cases: [string, RegExp][] = [
      ["", /The database is empty/],
      ["   ", /The database is empty/],
      ["mysql://root:hunter2@db/flyte", /uses mysql:, which tsflyte does not support/],
      ["http://example.com/db", /uses http:/],
      ["sqlite:", /names no file/],
      ["sqlite:///var/lib/x.db", /has \/\/ after sqlite:, which could mean a relative or an absolute path/],
      ["postgres:hunter2@db", /needs \/\/ after postgres:/],
    ];
    for (const [value, message] of cases) {
      assert.throws(
        () => parseDatabaseOption(value),
        (err: unknown) => {
          assert.ok(err instanceof UserError, value);
          assert.match(err.message, message);
          assert.ok(!err.message.includes("hunter2") && !(err.hint ?? "").includes("hunter2"), err.message);
          assert.match(err.hint ?? "", /sqlite:/);
          return true;
        },
      );
    }
  });
});

describe("openControlPlaneStore", () => {
  test("opens a SQLite control plane store from sqlite:ABSOLUTE and from a plain path", async () => {
    for (const db of [`sqlite:${path.join(dir, "a", "tsflyte.db")}`, path.join(dir, "b.db")]) {
      const store = await openControlPlaneStore(db);
      try {
        assert.equal(store.location, db.replace(/^sqlite:/, ""));
        assert.equal(await store.createProject({ id: "p", name: "p", description: "", labels: {}, state: "ACTIVE", createdAt: 1 }), true);
        assert.deepEqual((await store.listProjects()).map((p) => p.id), ["p"]);
      } finally {
        await store.close();
      }
    }
  });

  test("a relative sqlite: path is relative to the working directory", async () => {
    const relative = path.relative(process.cwd(), path.join(dir, "relative.db"));
    const store = await openControlPlaneStore(`sqlite:${relative}`);
    try {
      assert.equal(store.location, path.join(dir, "relative.db"));
    } finally {
      await store.close();
    }
  });

  test("an unsupported value is refused before anything is opened", async () => {
    await assert.rejects(openControlPlaneStore("redis://localhost"), UserError);
  });
});
