// error.pb both ways: an AttemptError as the flyteidl.core.ErrorDocument a task container writes, and back.
// Never loses the user's stack: it is the document's message (bounded, see error-text.ts), as flytekit writes the traceback there.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ContainerError_Kind, ErrorDocumentSchema } from "../idl/gen/flyteidl/core/errors_pb.js";
import { ExecutionError_ErrorKind } from "../idl/gen/flyteidl/core/execution_pb.js";
import { errorText, splitErrorText } from "./error-text.js";
import type { AttemptError } from "./runner.js";

export function encodeErrorDocument(error: AttemptError): Uint8Array {
  return toBinary(
    ErrorDocumentSchema,
    create(ErrorDocumentSchema, {
      error: {
        code: error.code,
        message: errorText(error),
        kind: error.recoverable ? ContainerError_Kind.RECOVERABLE : ContainerError_Kind.NON_RECOVERABLE,
        origin: error.kind === "USER" ? ExecutionError_ErrorKind.USER : ExecutionError_ErrorKind.SYSTEM,
      },
    }),
  );
}

/**
 * The AttemptError an error.pb records. A message that holds a stack gives both: the text before its first
 * `at` line (without a leading `Code: `) as the message, the whole text as the stack.
 */
export function decodeErrorDocument(bytes: Uint8Array): AttemptError {
  const doc = fromBinary(ErrorDocumentSchema, bytes);
  const error = doc.error;
  const code = error?.code || "Unknown";
  const kind = error?.origin === ExecutionError_ErrorKind.USER ? "USER" : "SYSTEM";
  const recoverable = error?.kind !== ContainerError_Kind.NON_RECOVERABLE;
  return { kind, recoverable, code, ...splitErrorText(error?.message ?? "", code) };
}
