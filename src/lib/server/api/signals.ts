// FlyteAdmin's SignalService over REST: list an execution's signals, and set one (`POST /api/v1/signals`), its value
// checked against the signal's type. Never sets a signal twice to different values, nor one no gate waits for.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { SignalListSchema, SignalSchema, SignalSetRequestSchema, SignalSetResponseSchema, type Signal } from "../../idl/gen/flyteidl/admin/signal_pb.js";
import { LiteralSchema } from "../../idl/gen/flyteidl/core/literals_pb.js";
import { LiteralTypeSchema } from "../../idl/gen/flyteidl/core/types_pb.js";
import { terminalExecutionPhases, type SignalRecord } from "../../store/records.js";
import { describeLiteralType } from "../../types/compat.js";
import type { ApiContext } from "./api-context.js";
import { alreadyExists, failedPrecondition, invalidArgument, notFound } from "./api-error.js";
import { executionKeyOf, getExecutionOr404 } from "./executions.js";
import { readLimit, readToken, withPageToken } from "./list-params.js";
import { describeLiteral, literalMismatch, withUnionTags } from "./literal-check.js";
import type { Route } from "./router.js";
import { readMessage, sendMessage } from "./wire-format.js";

/** A stored signal as FlyteAdmin's Signal: its id, its type, and its value once set. */
export function signalToAdmin(record: SignalRecord): Signal {
  return create(SignalSchema, {
    id: {
      executionId: { project: record.project, domain: record.domain, name: record.executionName },
      signalId: record.signalId,
    },
    type: fromBinary(LiteralTypeSchema, record.type),
    ...(record.value ? { value: fromBinary(LiteralSchema, record.value) } : {}),
  });
}

export function signalRoutes(ctx: ApiContext): Route[] {
  return [
    {
      method: "GET",
      path: "/api/v1/signals/:project/:domain/:name",
      async handle({ req, res, params, query }) {
        query.allowOnly(["limit", "token", "org"]);
        const key = executionKeyOf(params);
        await getExecutionOr404(ctx, key);
        const token = readToken(query);
        const page = await withPageToken(token, () => ctx.deps.store.listSignals(key, readLimit(query), token));
        sendMessage(req, res, SignalListSchema, create(SignalListSchema, { signals: page.items.map(signalToAdmin), token: page.token ?? "" }));
      },
    },
    {
      method: "POST",
      path: "/api/v1/signals",
      async handle({ req, res, query }) {
        query.allowOnly([]);
        const request = await readMessage(req, SignalSetRequestSchema, ctx.limits.requestBodyBytes);
        const executionId = request.id?.executionId;
        const signalId = request.id?.signalId ?? "";
        if (!executionId || !signalId) throw invalidArgument("id.execution_id and id.signal_id are required: which execution's signal to set");
        const key = executionKeyOf({ project: executionId.project, domain: executionId.domain, name: executionId.name });
        if (!request.value) throw invalidArgument(`value is required: the Literal to set signal "${signalId}" to`);
        const execution = await getExecutionOr404(ctx, key);
        const signalKey = { project: key.project, domain: key.domain, executionName: key.name, signalId };
        const signal = await ctx.deps.store.getSignal(signalKey);
        if (!signal) {
          throw notFound(`execution ${key.name} has no signal "${signalId}" (yet): a signal exists once a gate of the execution waits for it; tsflyte get signal ${key.name} lists them`);
        }
        if (terminalExecutionPhases.has(execution.phase)) {
          throw failedPrecondition(`execution ${key.name} has ended (${execution.phase}), so its signal "${signalId}" can no longer be set`);
        }
        const type = fromBinary(LiteralTypeSchema, signal.type);
        const mismatch = literalMismatch(request.value, type, `signal "${signalId}"`);
        if (mismatch) throw invalidArgument(`${mismatch}; signal "${signalId}" takes ${describeLiteralType(type)}`);
        const outcome = await ctx.deps.store.setSignal(signalKey, toBinary(LiteralSchema, withUnionTags(request.value, type)), ctx.now());
        if (outcome.outcome === "missing") throw notFound(`execution ${key.name} has no signal "${signalId}"`);
        if (outcome.outcome === "conflict") {
          const current = fromBinary(LiteralSchema, outcome.signal.value!);
          throw alreadyExists(`signal "${signalId}" of execution ${key.name} is already set to ${describeLiteral(current)}; a signal is set once`);
        }
        sendMessage(req, res, SignalSetResponseSchema, create(SignalSetResponseSchema, {}));
      },
    },
  ];
}
