// error.pb both ways: an AttemptError as the flyteidl.core.ErrorDocument a task container writes, and back.
// Never loses the user's stack: it is the document's message, as flytekit writes the traceback there.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ContainerError_Kind, ErrorDocumentSchema } from "../idl/gen/flyteidl/core/errors_pb.js";
import { ExecutionError_ErrorKind } from "../idl/gen/flyteidl/core/execution_pb.js";
import type { AttemptError } from "./runner.js";

/** The document's message: the stack when there is one (it starts with the message), else the message. */
function documentMessage(error: AttemptError): string {
  if (!error.stack) return error.message;
  return error.stack.includes(error.message) ? error.stack : `${error.message}\n${error.stack}`;
}

export function encodeErrorDocument(error: AttemptError): Uint8Array {
  return toBinary(
    ErrorDocumentSchema,
    create(ErrorDocumentSchema, {
      error: {
        code: error.code,
        message: documentMessage(error),
        kind: error.recoverable ? ContainerError_Kind.RECOVERABLE : ContainerError_Kind.NON_RECOVERABLE,
        origin: error.kind === "USER" ? ExecutionError_ErrorKind.USER : ExecutionError_ErrorKind.SYSTEM,
      },
    }),
  );
}

const stackLine = /\n\s+at /;

/**
 * The AttemptError an error.pb records. A message that holds a stack gives both: the text before its first
 * `at` line (without a leading `Code: `) as the message, the whole text as the stack.
 */
export function decodeErrorDocument(bytes: Uint8Array): AttemptError {
  const doc = fromBinary(ErrorDocumentSchema, bytes);
  const error = doc.error;
  const code = error?.code || "Unknown";
  const text = error?.message ?? "";
  const kind = error?.origin === ExecutionError_ErrorKind.USER ? "USER" : "SYSTEM";
  const recoverable = error?.kind !== ContainerError_Kind.NON_RECOVERABLE;
  const at = text.search(stackLine);
  if (at < 0) return { kind, recoverable, code, message: text };
  const head = text.slice(0, at);
  return { kind, recoverable, code, message: head.startsWith(`${code}: `) ? head.slice(code.length + 2) : head, stack: text };
}
