// What `get signal`, `signal` and `approve` do on the control plane (FlyteAdmin's SignalService): list an execution's
// signals, and set one from a command-line value parsed by the signal's type with the rules of run inputs. Never prints.
import type { JsonValue } from "@bufbuild/protobuf";
import type { AdminClient } from "../admin/client.js";
import type { ResolvedConfig } from "../config/config.js";
import { NotFoundError, UserError } from "../errors.js";
import type { ExecutionKey } from "../store/records.js";
import { withAdmin } from "./connect.js";

/** One signal as the CLI shows it: its id, its type, and its value, or that a gate still waits for it. */
export interface SignalView {
  execution: string;
  signalId: string;
  /** The type as tsflyte writes types: `int`, `boolean`, `list<string>`, … */
  type: string;
  /** The value as plain JSON, once set. */
  value?: unknown;
  state: "waiting" | "set";
}

/** What setting a signal answers: the signal as it now is. */
export interface SetSignalResult {
  signal: SignalView;
}

interface FetchedSignal {
  view: SignalView;
  type: import("../idl/gen/flyteidl/core/types_pb.js").LiteralType;
}

const lenient = { ignoreUnknownFields: true };

function executionPath(key: ExecutionKey): string {
  return [key.project, key.domain, key.name].map(encodeURIComponent).join("/");
}

/** Every signal of an execution, page by page, by signal id. */
async function fetchSignals(client: AdminClient, key: ExecutionKey): Promise<FetchedSignal[]> {
  const { fromJson } = await import("@bufbuild/protobuf");
  const { SignalListSchema } = await import("../idl/gen/flyteidl/admin/signal_pb.js");
  const { describeLiteralType } = await import("../types/compat.js");
  const { literalToPlain } = await import("../types/plain.js");
  const found: FetchedSignal[] = [];
  let token: string | undefined;
  do {
    const json = await client.get<JsonValue>(`/api/v1/signals/${executionPath(key)}`, { limit: 1000, token });
    const page = fromJson(SignalListSchema, json, lenient);
    for (const s of page.signals) {
      if (!s.type) continue;
      const view: SignalView = { execution: key.name, signalId: s.id?.signalId ?? "", type: describeLiteralType(s.type), state: s.value ? "set" : "waiting" };
      if (s.value) view.value = literalToPlain(s.value);
      found.push({ view, type: s.type });
    }
    token = page.token || undefined;
  } while (token);
  return found;
}

/** `get signal EXEC`: the execution's signals. */
export async function getSignals(config: ResolvedConfig, key: ExecutionKey): Promise<SignalView[]> {
  return withAdmin(config, "get signal", async (client) => (await fetchSignals(client, key)).map((s) => s.view));
}

/**
 * `signal EXEC NAME VALUE`: VALUE is read as the signal's type (as `run` reads an input of that type: JSON for lists,
 * maps and structs, a path or URI for files, which are uploaded), then set. A signal no gate waits for yet is NotFound.
 */
export async function setSignalCommand(config: ResolvedConfig, key: ExecutionKey, signalId: string, text: string): Promise<SetSignalResult> {
  return withAdmin(config, "signal", (client) => setSignalFromText(client, key, signalId, text), { writes: true });
}

/** `approve EXEC NAME`: sets an approval signal (a boolean) to true. */
export async function approveCommand(config: ResolvedConfig, key: ExecutionKey, signalId: string): Promise<SetSignalResult> {
  return withAdmin(
    config,
    "approve",
    async (client) => {
      const signal = await findSignal(client, key, signalId);
      if (signal.view.type !== "boolean") {
        throw new UserError(`signal "${signalId}" of execution ${key.name} takes ${signal.view.type}, so it is not an approval`, `give its value with: tsflyte signal ${key.name} ${signalId} VALUE`);
      }
      return setSignalFromText(client, key, signalId, "true", signal);
    },
    { writes: true },
  );
}

async function findSignal(client: AdminClient, key: ExecutionKey, signalId: string): Promise<FetchedSignal> {
  const signals = await fetchSignals(client, key);
  const signal = signals.find((s) => s.view.signalId === signalId);
  if (signal) return signal;
  const known = signals.map((s) => `"${s.view.signalId}"`);
  throw new NotFoundError(
    `execution ${key.name} has no signal "${signalId}"${known.length ? `; its signals are ${known.join(", ")}` : " yet"}`,
    `a signal exists once a gate of the execution waits for it; tsflyte get signal ${key.name} lists them`,
  );
}

async function setSignalFromText(client: AdminClient, key: ExecutionKey, signalId: string, text: string, known?: FetchedSignal): Promise<SetSignalResult> {
  const signal = known ?? (await findSignal(client, key, signalId));
  const { typeFromLiteralType } = await import("../types/from-literal-type.js");
  const { convertInputValue } = await import("../inputs/convert.js");
  const { remoteInputLiterals } = await import("./inputs.js");
  const { toJson } = await import("@bufbuild/protobuf");
  const { LiteralSchema } = await import("../idl/gen/flyteidl/core/literals_pb.js");
  const { literalToPlain } = await import("../types/plain.js");
  const type = typeFromLiteralType(signal.type);
  const value = convertInputValue(type, text, `signal "${signalId}"`);
  const literal = (await remoteInputLiterals(client, key, { [signalId]: type }, { [signalId]: value })).literals[signalId];
  await client.post("/api/v1/signals", {
    id: { execution_id: { project: key.project, domain: key.domain, name: key.name }, signal_id: signalId },
    value: toJson(LiteralSchema, literal),
  });
  return { signal: { ...signal.view, value: literalToPlain(literal), state: "set" } };
}
