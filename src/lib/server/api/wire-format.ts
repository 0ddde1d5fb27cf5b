// FlyteAdmin's wire formats over node:http: strict proto3 JSON in (camelCase or snake_case), snake_case JSON with
// every field out, binary protobuf either way when asked. Never reads a body past its size limit.
import type { IncomingMessage, ServerResponse } from "node:http";
import { create, fromBinary, fromJson, toBinary, toJson, type DescMessage, type JsonObject, type JsonValue, type MessageShape } from "@bufbuild/protobuf";
import { ApiError, invalidArgument, tooLarge } from "./api-error.js";

/** JSON and protobuf request bodies: larger ones are refused with 413 before they are read. */
export const defaultJsonBodyLimit = 10 * 1024 * 1024;

const protobufTypes = new Set(["application/octet-stream", "application/x-protobuf", "application/protobuf"]);
const jsonTypes = new Set(["application/json", "text/json"]);

function mediaType(header: string | undefined): string {
  return (header ?? "").split(";")[0].trim().toLowerCase();
}

/** Whether the client asked for binary protobuf (flyteconsole does) rather than JSON. */
export function wantsProtobuf(req: IncomingMessage): boolean {
  const accept = (req.headers.accept ?? "").toLowerCase();
  if (accept.includes("application/json")) return false;
  return [...protobufTypes].some((t) => accept.includes(t));
}

/** The whole body, refusing (413) as soon as it is known to exceed `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(`the request body is ${declared} bytes; the limit is ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  // Not destroying the request on a refusal keeps the socket open for the 413 answer.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(`the request body is larger than the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/**
 * The body decoded as `schema`: binary protobuf for protobuf content types, else JSON with unknown keys, bad enums
 * and wrong scalar types refused. An empty body is the empty message, as grpc-gateway treats it.
 */
export async function readMessage<Desc extends DescMessage>(req: IncomingMessage, schema: Desc, limit: number): Promise<MessageShape<Desc>> {
  return (await readRequest(req, schema, limit)).message;
}

/**
 * Like readMessage, and also the JSON object as sent (absent for protobuf bodies): proto3 cannot tell an enum left
 * out from one set to its zero value, and some fields must not default silently.
 */
export async function readRequest<Desc extends DescMessage>(
  req: IncomingMessage,
  schema: Desc,
  limit: number,
): Promise<{ message: MessageShape<Desc>; json?: JsonObject }> {
  const type = mediaType(req.headers["content-type"]);
  const isProtobuf = protobufTypes.has(type);
  if (type !== "" && !isProtobuf && !jsonTypes.has(type)) {
    throw new ApiError("InvalidArgument", `unsupported Content-Type "${type}"; send application/json or application/octet-stream (protobuf)`, { status: 415 });
  }
  const body = await readBody(req, limit);
  if (isProtobuf) {
    try {
      return { message: fromBinary(schema, body, { readUnknownFields: false }) };
    } catch (e) {
      throw invalidArgument(`the request body is not a valid ${schema.typeName} in binary protobuf: ${(e as Error).message}`);
    }
  }
  const text = body.toString("utf8").trim();
  if (text === "") return { message: create(schema), json: {} };
  let json: JsonValue;
  try {
    json = JSON.parse(text) as JsonValue;
  } catch (e) {
    throw invalidArgument(`the request body is not valid JSON: ${(e as Error).message}`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw invalidArgument(`the request body must be a JSON object (${schema.typeName}), got ${Array.isArray(json) ? "an array" : json === null ? "null" : typeof json}`);
  }
  return { message: decodeJson(schema, json, "the request body"), json };
}

/** A JSON value decoded strictly as `schema`; the codec's message names the offending key or field. */
export function decodeJson<Desc extends DescMessage>(schema: Desc, json: JsonValue, what: string): MessageShape<Desc> {
  try {
    return fromJson(schema, json);
  } catch (e) {
    throw invalidArgument(`${what} is not a valid ${schema.typeName}: ${(e as Error).message}`);
  }
}

/**
 * The message as FlyteAdmin's gateway writes it (protojson with EmitUnpopulated): snake_case names, enums by name,
 * every scalar and list present, and an unset message field as null rather than left out.
 */
export function messageJson<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): JsonValue {
  const json = toJson(schema, message, { useProtoFieldName: true, alwaysEmitImplicit: true });
  addUnsetMessageFields(schema, json);
  return json;
}

function addUnsetMessageFields(schema: DescMessage, json: JsonValue | undefined): void {
  // Well-known types have their own JSON forms (a timestamp string, a Struct object), not fields.
  if (schema.typeName.startsWith("google.protobuf.") || json === null || typeof json !== "object" || Array.isArray(json)) return;
  for (const field of schema.fields) {
    const value = json[field.name];
    if (field.fieldKind === "message") {
      // Unset oneof members stay out, as protojson leaves them.
      if (value === undefined && field.oneof === undefined) json[field.name] = null;
      else addUnsetMessageFields(field.message, value);
    } else if (field.fieldKind === "list" && field.listKind === "message" && Array.isArray(value)) {
      for (const item of value) addUnsetMessageFields(field.message, item);
    } else if (field.fieldKind === "map" && field.mapKind === "message" && value && typeof value === "object" && !Array.isArray(value)) {
      for (const item of Object.values(value)) addUnsetMessageFields(field.message, item);
    }
  }
}

export function sendMessage<Desc extends DescMessage>(req: IncomingMessage, res: ServerResponse, schema: Desc, message: MessageShape<Desc>, status = 200): void {
  if (wantsProtobuf(req)) {
    send(res, status, "application/octet-stream", toBinary(schema, message));
    return;
  }
  sendJson(res, status, messageJson(schema, message));
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, "application/json", Buffer.from(JSON.stringify(value)), headers);
}

export function send(res: ServerResponse, status: number, contentType: string, body: Uint8Array | string, headers: Record<string, string> = {}): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, { "Content-Type": contentType, "Content-Length": String(bytes.byteLength), ...headers });
  res.end(bytes);
}

/**
 * The error body: grpc-gateway's `{error, code, message}`, with the code by name so that clients and people read
 * the same thing.
 */
export function sendError(res: ServerResponse, error: ApiError): void {
  const headers = { ...error.headers };
  // A body we refused is still on the wire; closing stops the client from sending the rest to nobody.
  if (error.status === 413) headers.Connection = "close";
  sendJson(res, error.status, { error: error.message, code: error.code, message: error.message }, headers);
}
