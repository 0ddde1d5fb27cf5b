// The control plane's HTTP API (`tsflyte serve`): FlyteAdmin's REST surface over a ControlPlaneStore, a blob
// store and the scheduler. What the server module imports; nothing here starts a server or a scheduler.
export { createApiHandler } from "./handler.js";
export type { ApiDeps, ApiLimits } from "./api-context.js";
export { defaultLimits } from "./api-context.js";
export { seedDefaults, defaultProject } from "./projects.js";
export { domains } from "./resource-names.js";
