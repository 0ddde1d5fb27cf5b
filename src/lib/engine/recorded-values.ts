// Where a recorded literal map lives: inline in its row when small, in the blob store by URI when large or when a
// process outside the engine reads or wrote it. Never reports the URI of a file that was not written.
import { fromBinary } from "@bufbuild/protobuf";
import { LiteralMapSchema, type LiteralMap } from "../idl/gen/flyteidl/core/literals_pb.js";
import type { BlobStore } from "../storage/blob-store.js";

/**
 * Inputs, outputs and logs up to this many bytes live in their rows (64 KiB: a LiteralMap of scalars, short lists and
 * small structs, and the URIs of offloaded files and tables); larger ones are written to the blob store, as Flyte does.
 */
export const inlineLimitBytes = 64 * 1024;

/** A value as a row records it: its bytes inline, its URI, or both (a file that a worker wrote and we read back). */
export interface RecordedValue {
  inline?: Uint8Array;
  uri?: string;
}

/** Records `bytes` inline when small; otherwise queues them at `uri` and records the URI. */
export function placeValue(bytes: Uint8Array, uri: string, blobs: BlobStore): RecordedValue {
  if (bytes.byteLength <= inlineLimitBytes) return { inline: bytes };
  blobs.put(uri, bytes);
  return { uri };
}

/** The bytes a row records: inline, else read from its URI; undefined when there are none or they cannot be read. */
export async function readRecordedBytes(blobs: BlobStore, value: RecordedValue): Promise<Uint8Array | undefined> {
  if (value.inline) return value.inline;
  if (!value.uri) return undefined;
  try {
    return await blobs.read(value.uri);
  } catch {
    return undefined;
  }
}

/** The literal map a row records, or undefined when it has none or it cannot be read (never written, or lost). */
export async function readRecordedLiteralMap(blobs: BlobStore, value: RecordedValue): Promise<LiteralMap | undefined> {
  const bytes = await readRecordedBytes(blobs, value);
  if (!bytes) return undefined;
  try {
    return fromBinary(LiteralMapSchema, bytes);
  } catch {
    return undefined;
  }
}

/** The inputs of a record: `{ inline: inputs, uri: inputsUri }`. */
export function recordedInputs(record: { inputs?: Uint8Array; inputsUri?: string }): RecordedValue {
  return { inline: record.inputs, uri: record.inputsUri };
}

/** The outputs of a record: `{ inline: outputs, uri: outputsUri }`. */
export function recordedOutputs(record: { outputs?: Uint8Array; outputsUri?: string }): RecordedValue {
  return { inline: record.outputs, uri: record.outputsUri };
}

/** A placed value as a record's inputs fields, with only the fields that are set. */
export function inputsFields(value: RecordedValue): { inputs?: Uint8Array; inputsUri?: string } {
  const fields: { inputs?: Uint8Array; inputsUri?: string } = {};
  if (value.inline) fields.inputs = value.inline;
  if (value.uri) fields.inputsUri = value.uri;
  return fields;
}

/** A placed value as a record's outputs fields, with only the fields that are set. */
export function outputsFields(value: RecordedValue): { outputs?: Uint8Array; outputsUri?: string } {
  const fields: { outputs?: Uint8Array; outputsUri?: string } = {};
  if (value.inline) fields.outputs = value.inline;
  if (value.uri) fields.outputsUri = value.uri;
  return fields;
}
