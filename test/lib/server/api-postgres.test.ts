// Runs the control-plane API suite over PostgreSQL: a real, throwaway server (test/support/postgres.ts) with a
// fresh database. The scheduler is stood in for by a recording ExecutionControl (see api-suite.ts).
import { after, before } from "node:test";
import { openPostgresStore } from "../../../src/lib/store/postgres.js";
import { startPostgres, type TestPostgres } from "../../support/postgres.js";
import { describeApi } from "./api-suite.js";

let server: TestPostgres | undefined;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

describeApi("PostgreSQL", async () => openPostgresStore(await server!.createDatabase()));
