// Starts the shared k8s test-bed (real etcd, kube-apiserver, controller-manager and scheduler on loopback) for a test file.
// Never skips when the binaries are missing (it says how to build them), and never leaves the control plane running.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { constants } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface Testbed {
  /** `$RUN/kubeconfig`: the admin (system:masters) kubeconfig. */
  kubeconfig: string;
  /** The run dir, `$K8S_TESTBED_RUN`. */
  run: string;
  /** `https://127.0.0.1:PORT`. */
  server: string;
  /** `$RUN/env` parsed: KUBECONFIG, K8S_TESTBED_RUN, K8S_TESTBED_SERVER, K8S_TESTBED_TOKEN, K8S_TESTBED_CA, ... */
  env: Record<string, string>;
  /** Runs stop.sh; safe to call twice. */
  stop(): Promise<void>;
}

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** `K8S_TESTBED_DIR`, else `<project root>/../shared/k8s-testbed`, else `/work/shared/k8s-testbed`. */
export function testbedDir(): string {
  const candidates = [process.env.K8S_TESTBED_DIR, join(projectRoot, "..", "shared", "k8s-testbed"), "/work/shared/k8s-testbed"];
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, "start.sh"))) return dir;
  }
  throw new Error(
    "The k8s test-bed scripts (start.sh, build.sh) are not in $K8S_TESTBED_DIR, " +
      `${join(projectRoot, "..", "shared", "k8s-testbed")} or /work/shared/k8s-testbed. Set K8S_TESTBED_DIR to the folder that has them.`,
  );
}

/** Runs `start.sh --controllers [--crds]` and waits for it; takes 8-15 s. */
export async function startTestbed(options: { crds?: boolean } = {}): Promise<Testbed> {
  const dir = testbedDir();
  const args = ["--controllers", ...(options.crds ? ["--crds"] : [])];
  const { code, stdout, stderr } = await runScript(join(dir, "start.sh"), args);
  const tail = stderr.trimEnd().split("\n").slice(-30).join("\n");
  if (code !== 0) {
    const build = relative(projectRoot, join(dir, "build.sh")) || join(dir, "build.sh");
    if (/not found at .*build\.sh/.test(stderr)) {
      throw new Error(
        `The k8s test-bed binaries (kube-apiserver, kube-controller-manager, kube-scheduler) are not built: run \`${build}\` ` +
          `once on this machine (6-10 min), then run the tests again. start.sh said:\n${tail}`,
      );
    }
    throw new Error(`The k8s test-bed did not start (${join(dir, "start.sh")} ${args.join(" ")} exited ${code}). If its binaries are missing, run \`${build}\`. Its output:\n${tail}`);
  }
  const kubeconfig = stdout.trim().split("\n").pop() ?? "";
  const run = dirname(kubeconfig);
  const env = parseEnvFile(readFileSync(join(run, "env"), "utf8"));
  const stopScript = join(dir, "stop.sh");
  // A test file that ends without calling stop() still takes its control plane down with it.
  const stopAtExit = () => {
    try {
      execFileSync(stopScript, [run], { stdio: "ignore" });
    } catch {
      // Nothing more can be done while the process exits.
    }
  };
  process.on("exit", stopAtExit);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      process.off("exit", stopAtExit);
      const result = await runScript(stopScript, [run]);
      if (result.code !== 0) throw new Error(`${stopScript} ${run} exited ${result.code}:\n${result.stderr}`);
    })();
    return stopped;
  };
  return { kubeconfig, run, server: env.K8S_TESTBED_SERVER, env, stop };
}

function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0 && !line.startsWith("#")) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

function runScript(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(script, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code, signal) => resolvePromise({ code: code ?? 128 + (signal ? constants.signals[signal] : 0), stdout, stderr }));
  });
}
