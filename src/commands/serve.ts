// `tsflyte serve`: runs the control plane (HTTP API, scheduler, task workers) in the foreground until stopped.
// Thin: flags in, one lib call; never prints the auth token or a database password.
import { Flags } from "@oclif/core";
import { BaseCommand } from "../base-command.js";

export default class Serve extends BaseCommand {
  static override summary = "run the control plane: the FlyteAdmin-shaped API, the scheduler and task workers";
  static override description =
    "Executions sent with --remote, registered entities and their history live in the database; task attempts run in warm worker processes.\n\nStop it with Ctrl-C or SIGTERM: it stops listening and starts no new execution or attempt; attempts already running get the --grace period to finish, then are interrupted. A second Ctrl-C interrupts them at once; a third exits without recording them. Interrupted attempts are recorded ABORTED (code Interrupted) and attempts that were waiting for a worker stay QUEUED: neither counts against the task's retries or the system-failure budget. Every unfinished execution resumes when the server starts again on the same database.";
  static override examples = [
    "<%= config.bin %> serve",
    "<%= config.bin %> serve --port 30080 --db sqlite:./tsflyte.db --storage file:///var/lib/tsflyte/data",
    "<%= config.bin %> serve --host 0.0.0.0 --db postgres://tsflyte@db.internal/tsflyte --auth-token-file /etc/tsflyte/token --workers 8",
    "<%= config.bin %> serve --grace 5m",
  ];
  static override flags = {
    host: Flags.string({ summary: "address to listen on", default: "127.0.0.1" }),
    port: Flags.integer({ summary: "port to listen on (0 picks a free one)", default: 30080, min: 0, max: 65535 }),
    db: Flags.string({ summary: "database: sqlite:PATH or postgres://… (default: sqlite under $TSFLYTE_HOME/server)" }),
    storage: Flags.string({ summary: "blob store: file://DIR (default: $TSFLYTE_HOME/server/data)" }),
    workers: Flags.integer({ summary: "task attempts running at once, each in a warm worker process (default: CPUs)", min: 1 }),
    lease: Flags.string({
      summary: "PostgreSQL: how long a server's hold on an execution lasts unless renewed (default 30s)",
      description: "Several servers may share one PostgreSQL database; each runs the executions it holds a lease of, renewing it every third of this. Another server takes an execution over once its lease has run out (e.g. its server was killed).",
    }),
    "auth-token-file": Flags.file({ summary: "require Authorization: Bearer <token>, the first line of this file", exists: true }),
    grace: Flags.string({ summary: "on Ctrl-C/SIGTERM, how long running attempts may finish before they are interrupted (e.g. 30s, 5m, 0s)", default: "30s" }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Serve);
    const { serveUntilStopped } = await import("../lib/server/server.js");
    const { tsflyteHome } = await import("../lib/home.js");
    const { describeServing } = await import("../render/serve.js");
    await serveUntilStopped(
      { host: flags.host, port: flags.port, db: flags.db, storage: flags.storage, workers: flags.workers, authTokenFile: flags["auth-token-file"], grace: flags.grace, lease: flags.lease },
      tsflyteHome(),
      (server, options) => this.log(describeServing(server, options)),
    );
  }
}
