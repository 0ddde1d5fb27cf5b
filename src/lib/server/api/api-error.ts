// Errors the control-plane API answers with: a gRPC code name as FlyteAdmin uses them, the HTTP status
// grpc-gateway maps it to, and one sentence a user can act on. Never carries secrets, bodies or stack traces.

/** The gRPC status codes FlyteAdmin answers with, by name. */
export type GrpcCode =
  | "InvalidArgument"
  | "FailedPrecondition"
  | "OutOfRange"
  | "NotFound"
  | "AlreadyExists"
  | "Aborted"
  | "Unauthenticated"
  | "PermissionDenied"
  | "ResourceExhausted"
  | "Unimplemented"
  | "Unavailable"
  | "Internal";

/** grpc-gateway's mapping from gRPC code to HTTP status. */
const statusOfCode: Record<GrpcCode, number> = {
  InvalidArgument: 400,
  FailedPrecondition: 400,
  OutOfRange: 400,
  NotFound: 404,
  AlreadyExists: 409,
  Aborted: 409,
  Unauthenticated: 401,
  PermissionDenied: 403,
  ResourceExhausted: 429,
  Unimplemented: 501,
  Unavailable: 503,
  Internal: 500,
};

const apiErrorBrand = Symbol.for("tsflyte.ApiError");

export class ApiError extends Error {
  readonly [apiErrorBrand] = true;
  readonly status: number;
  /** Extra response headers, e.g. `Allow` on a 405 or `WWW-Authenticate` on a 401. */
  readonly headers: Record<string, string>;
  constructor(
    readonly code: GrpcCode,
    message: string,
    options: { status?: number; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = options.status ?? statusOfCode[code];
    this.headers = options.headers ?? {};
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[apiErrorBrand] === true;
  }
}

export function invalidArgument(message: string): ApiError {
  return new ApiError("InvalidArgument", message);
}

export function notFound(message: string): ApiError {
  return new ApiError("NotFound", message);
}

export function alreadyExists(message: string): ApiError {
  return new ApiError("AlreadyExists", message);
}

export function failedPrecondition(message: string): ApiError {
  return new ApiError("FailedPrecondition", message);
}

/** A body over the size limit: 413, which is what proxies and clients expect, with gRPC's code name. */
export function tooLarge(message: string): ApiError {
  return new ApiError("ResourceExhausted", message, { status: 413 });
}
