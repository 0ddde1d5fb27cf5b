// Inputs and outputs read back from the blob store for the `data/...` endpoints and execution answers: the
// LiteralMap when it is small enough to inline, always its URI and size. Never fails an answer over a missing blob.
import { create, fromBinary } from "@bufbuild/protobuf";
import { UrlBlobSchema, type UrlBlob } from "../../idl/gen/flyteidl/admin/common_pb.js";
import { LiteralMapSchema, type LiteralMap } from "../../idl/gen/flyteidl/core/literals_pb.js";
import type { ApiContext } from "./api-context.js";

export interface StoredLiteralMap {
  /** Absent when the blob is larger than the inline limit. */
  map?: LiteralMap;
  blob: UrlBlob;
}

/** The LiteralMap at `uri`; undefined when there is no URI or nothing readable there (not written yet, or lost). */
export async function readStoredLiteralMap(ctx: ApiContext, uri: string | undefined): Promise<StoredLiteralMap | undefined> {
  if (!uri) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = await ctx.deps.blobs.read(uri);
  } catch {
    return undefined;
  }
  const blob = create(UrlBlobSchema, { url: uri, bytes: BigInt(bytes.byteLength) });
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
