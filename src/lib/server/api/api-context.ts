// What every part of the control-plane API shares: the dependencies the server hands in, the registry reader and
// the limits. Never holds per-request state.
import type { BlobStore } from "../../storage/blob-store.js";
import type { ControlPlaneStore, TaskExecutionRecord } from "../../store/records.js";
import type { ExecutionControl } from "../control.js";
import type { RegistryReader } from "./registry-reader.js";

export interface ApiDeps {
  store: ControlPlaneStore;
  /** inputs.pb and the rest, in Flyte's layout (storage/layout.ts); uploads land here too. */
  blobs: BlobStore;
  control: ExecutionControl;
  /** When set, every /api/v1 request and log link needs `Authorization: Bearer <token>`. */
  authToken?: string;
  /** Where clients reach this server, e.g. `http://127.0.0.1:30080`: for log links and upload URLs. */
  publicUrl: () => string;
  /**
   * Where an attempt's logs are linked from; default: this server's `/logs/…` path. An API served only for the
   * length of one command (the Kubernetes target) links the durable blob instead.
   */
  logLink?: (attempt: TaskExecutionRecord) => string;
  /** Told of every error that is not an ApiError before the client gets a bare "internal error". */
  onInternalError?: (error: unknown) => void;
  /** One line per request; never given tokens, Authorization headers or bodies. */
  log?: (line: string) => void;
  /** Overrides of the default limits, for tests and for operators. */
  limits?: Partial<ApiLimits>;
  /** The clock; tests pass a fixed one. */
  now?: () => number;
}

export interface ApiLimits {
  /** JSON and protobuf request bodies (413 above). */
  requestBodyBytes: number;
  /** One upload through a signed URL (413 above). */
  uploadBytes: number;
  /** The longest an upload URL may stay valid. */
  uploadUrlMaxSeconds: number;
  /** Inputs and outputs larger than this are left out of `data/...` answers (the URI is still given). */
  inlineDataBytes: number;
}

export const defaultLimits: ApiLimits = {
  requestBodyBytes: 10 * 1024 * 1024,
  uploadBytes: 2 * 1024 * 1024 * 1024,
  uploadUrlMaxSeconds: 24 * 3600,
  inlineDataBytes: 10 * 1024 * 1024,
};

export interface ApiContext {
  deps: ApiDeps;
  registry: RegistryReader;
  limits: ApiLimits;
  now(): number;
}
