// A benchmark's PostgreSQL round: a throwaway PostgreSQL for the length of `measure`, or the reason there is none here
// (the round is then reported as skipped, not failed). Never leaves the server running.
export async function onThrowawayPostgres<T>(measure: (url: string) => Promise<T>): Promise<T | { skipped: string }> {
  let postgres: { url: string; stop: () => Promise<void> };
  try {
    const { startPostgres } = await import("../../test/support/postgres.js");
    postgres = await startPostgres();
  } catch (e) {
    return { skipped: `no PostgreSQL could be started (${(e as Error).message.split("\n")[0]})` };
  }
  try {
    return await measure(postgres.url);
  } finally {
    await postgres.stop();
  }
}
