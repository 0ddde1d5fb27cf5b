// Runs the shared ControlPlaneStore suite against SqliteStore on real files, each test in a fresh database.
// Must never touch a user's TSFLYTE_HOME: every store lives in its own temp folder, removed at the end.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after } from "node:test";
import { openSqliteStore } from "../../../src/lib/store/sqlite.js";
import { describeControlPlaneStore } from "./control-plane-suite.js";
import { describeSignalStore } from "./signals-suite.js";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "tsflyte-store-contract-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

let stores = 0;
describeControlPlaneStore("SQLite", async () => openSqliteStore(path.join(root, `store-${++stores}`, "metadata.db")));
describeSignalStore("SQLite", async () => openSqliteStore(path.join(root, `store-${++stores}`, "metadata.db")));
