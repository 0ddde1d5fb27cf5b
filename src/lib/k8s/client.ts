// The parts of @kubernetes/client-node that tsflyte uses, re-exported by name: the bundler then keeps only what they
// reach, and loading the client takes half the time the whole package does. Never add a `export *` here.
export {
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  ServerConfiguration,
  Watch,
  createConfiguration,
  setHeaderOptions,
} from "@kubernetes/client-node";
export type { ConfigurationOptions, RequestContext, SecurityAuthentication } from "@kubernetes/client-node";
