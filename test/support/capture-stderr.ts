// Runs an oclif command in-process and keeps what it wrote to stderr and the exit code it ended with, for the
// command tests. Never captures stdout: that is the test runner's own channel to its parent process.

export async function captureStderr(fn: () => Promise<unknown>): Promise<{ stderr: string; result?: unknown; exitCode?: number }> {
  const err: string[] = [];
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    return { stderr: err.join(""), result: await fn() };
  } catch (e) {
    const exitCode = (e as { oclif?: { exit?: number } }).oclif?.exit;
    if (exitCode === undefined) throw e;
    return { stderr: err.join(""), exitCode };
  } finally {
    process.stderr.write = writeErr;
  }
}
