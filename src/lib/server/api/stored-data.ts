// Inputs and outputs read back from their rows or the blob store for the `data/...` endpoints and execution answers: the
// LiteralMap when it is small enough to inline, always its URI and size. Never fails an answer over a missing blob.
import { create, fromBinary } from "@bufbuild/protobuf";
import { UrlBlobSchema, type UrlBlob } from "../../idl/gen/flyteidl/admin/common_pb.js";
import { LiteralMapSchema, type LiteralMap } from "../../idl/gen/flyteidl/core/literals_pb.js";
import { readRecordedBytes, type RecordedValue } from "../../engine/recorded-values.js";
import type { ApiContext } from "./api-context.js";

export interface StoredLiteralMap {
  /** Absent when the blob is larger than the inline limit. */
  map?: LiteralMap;
  blob: UrlBlob;
}

/**
 * A recorded LiteralMap (inline in its row, or at its URI); undefined when there is none or nothing readable (not
 * written yet, or lost). The UrlBlob names a URI only when there is a file there.
 */
export async function readStoredLiteralMap(ctx: ApiContext, value: RecordedValue): Promise<StoredLiteralMap | undefined> {
  const bytes = await readRecordedBytes(ctx.deps.blobs, value);
  if (!bytes) return undefined;
  const blob = create(UrlBlobSchema, { url: value.uri ?? "", bytes: BigInt(bytes.byteLength) });
  if (bytes.byteLength > ctx.limits.inlineDataBytes) return { blob };
  try {
    return { map: fromBinary(LiteralMapSchema, bytes), blob };
  } catch {
    return { blob };
  }
}

/** The bytes of a blob, or undefined when it is missing. */
export async function readStoredBytes(ctx: ApiContext, uri: string | undefined): Promise<Uint8Array | undefined> {
  if (!uri) return undefined;
  try {
    return await ctx.deps.blobs.read(uri);
  } catch {
    return undefined;
  }
}
