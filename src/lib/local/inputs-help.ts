// The inputs of one entity in a module, for `tsflyte run FILE ENTITY --help`. Loads the module; never runs it.
import { relative } from "node:path";
import { describeInputs, type InputHelpRow } from "../inputs/describe.js";
import { loadEntity } from "./service.js";

export interface EntityInputsHelp {
  file: string;
  entity: string;
  name: string;
  kind: "task" | "workflow" | "launchPlan";
  description?: string;
  inputs: InputHelpRow[];
}

export async function entityInputsHelp(file: string, entity: string): Promise<EntityInputsHelp> {
  const loaded = await loadEntity(file, entity);
  return {
    file: relative(process.cwd(), loaded.file) || loaded.file,
    entity,
    name: loaded.name,
    kind: loaded.definition.kind,
    description: loaded.definition.description,
    inputs: describeInputs(loaded.definition.inputs),
  };
}
