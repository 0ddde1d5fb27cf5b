// Runs the control-plane API suite over SQLite: a real node:http server, a real SQLite file and a real file blob
// store in a temp folder. The scheduler is stood in for by a recording ExecutionControl (see api-suite.ts).
import { join } from "node:path";
import { openSqliteStore } from "../../../src/lib/store/sqlite.js";
import { describeApi } from "./api-suite.js";

describeApi("SQLite", async (dir) => openSqliteStore(join(dir, "tsflyte.db")));
