// The workflow a dynamic workflow's attempt built (a DynamicJobSpec), made runnable: its ids resolved to entities of
// this process (an in-process run) or to registered ones (what the spec carries, then the registry). Runs nothing.
import type { IrClosure, IrRoot } from "./from-ir.js";
import { executableFromIr, idKey, nodeReference, planNode, topologicalOrder } from "./from-ir.js";
import type { ExecWorkflow, Executable } from "./executable.js";
import type { DynamicOutcome } from "./runner.js";
import { executableOf, type NameOf } from "./from-sdk.js";
import { withNestedNodes } from "../compiler/registration-ids.js";
import { UserError } from "../errors.js";

export interface DynamicResolution {
  /** Names of this process's entities: needed when the spec came with them (an in-process run). */
  nameOf?: NameOf;
  /** Registered entities the spec names but does not carry (see EngineEnv.resolveReferences). */
  resolveReferences?: (refs: IrRoot[]) => Promise<IrClosure>;
}

/** The workflow a DynamicJobSpec describes, its ids resolved to this process's entities or to registered ones. */
export async function dynamicWorkflow(name: string, dynamic: DynamicOutcome, resolve: DynamicResolution): Promise<ExecWorkflow> {
  const { spec, entities } = dynamic;
  let get: (ref: IrRoot) => Executable;
  if (entities) {
    const nameOf = resolve.nameOf!;
    get = (ref) => executableOf(entities.get(`${ref.kind}:${ref.id.name}`)!, nameOf);
  } else {
    const carried: IrClosure = {
      tasks: new Map(spec.tasks.filter((t) => t.id).map((t) => [idKey(t.id!), t])),
      workflows: new Map(spec.subworkflows.filter((w) => w.id).map((w) => [idKey(w.id!), w])),
      launchPlans: new Map(),
    };
    const missing = withNestedNodes(spec.nodes).flatMap((node) => {
      const ref = nodeReference(node);
      return ref && !(ref.kind === "task" ? carried.tasks : ref.kind === "workflow" ? carried.workflows : carried.launchPlans).has(idKey(ref.id)) ? [ref] : [];
    });
    let closure = carried;
    if (missing.length) {
      if (!resolve.resolveReferences) throw new UserError(`the dynamic workflow of ${name} calls ${missing.map((r) => r.id.name).join(", ")}, which its spec does not carry`);
      const found = await resolve.resolveReferences(missing);
      closure = {
        tasks: new Map([...found.tasks, ...carried.tasks]),
        workflows: new Map([...found.workflows, ...carried.workflows]),
        launchPlans: new Map([...found.launchPlans, ...carried.launchPlans]),
      };
    }
    const built = new Map<string, Executable>();
    get = (ref) => {
      const key = `${ref.kind}:${idKey(ref.id)}`;
      let executable = built.get(key);
      if (!executable) built.set(key, (executable = executableFromIr(ref, closure)));
      return executable;
    };
  }
  const planned = new Map(spec.nodes.map((node) => [node.id, planNode(name, node, get)] as const));
  const plan = {
    nodes: topologicalOrder(name, planned),
    outputs: Object.fromEntries(spec.outputs.filter((b) => b.binding).map((b) => [b.var, b.binding!])),
  };
  return {
    kind: "workflow",
    name,
    failFast: true,
    plan: () => plan,
    completeInputs: (given) => given,
    inputNames: [],
    outputNames: Object.keys(plan.outputs),
  };
}

