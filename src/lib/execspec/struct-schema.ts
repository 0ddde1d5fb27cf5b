// Checks the struct values of an execution spec against the JSON Schema registered with their type, so a value the
// task's own schema would refuse is caught in the file, with its place. Never fails on a schema ajv cannot compile:
// the task checks its inputs again when it runs.
import type { LiteralType } from "../idl/gen/flyteidl/core/types_pb.js";
import { SimpleType } from "../idl/gen/flyteidl/core/types_pb.js";

type Validate = ((value: unknown) => boolean) & { errors?: { instancePath: string; message?: string; params?: Record<string, unknown> }[] | null };

const compiled = new Map<string, Validate | undefined>();

async function validatorFor(schema: Record<string, unknown>): Promise<Validate | undefined> {
  const text = JSON.stringify(schema);
  if (compiled.has(text)) return compiled.get(text);
  const { Ajv2020 } = await import("ajv/dist/2020.js");
  // `$schema` names a draft ajv may not load; the keywords structs use mean the same in every draft.
  const { $schema: _ignored, ...rest } = schema;
  let validate: Validate | undefined;
  try {
    validate = new Ajv2020({ strict: false, allErrors: true }).compile(rest) as Validate;
  } catch {
    validate = undefined;
  }
  compiled.set(text, validate);
  return validate;
}

/** `/rows/0/pay` as a key path under `key`: `inputs.emp[0].pay`. */
function keyPath(key: string, instancePath: string): string {
  return instancePath
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : `${acc}.${seg}`), key);
}

/** Every place in `value` (typed `lt`) where a struct breaks its schema, as key paths and messages. */
export async function structProblems(lt: LiteralType, value: unknown, key: string): Promise<{ key: string; message: string }[]> {
  const t = lt.type;
  if (t.case === "simple" && t.value === SimpleType.STRUCT) {
    const schema = lt.metadata as Record<string, unknown> | undefined;
    if (!schema || Object.keys(schema).length === 0) return [];
    const validate = await validatorFor(schema);
    if (!validate || validate(value)) return [];
    return (validate.errors ?? []).map((e) => {
      const missing = typeof e.params?.missingProperty === "string" ? e.params.missingProperty : undefined;
      const extra = typeof e.params?.additionalProperty === "string" ? e.params.additionalProperty : undefined;
      const at = keyPath(key, e.instancePath);
      if (missing) return { key: at, message: `missing ${JSON.stringify(missing)}, which the struct's schema requires` };
      if (extra) return { key: `${at}.${extra}`, message: "not a field of the struct's schema" };
      return { key: at, message: `${e.message ?? "does not match the struct's schema"} (from the struct's schema)` };
    });
  }
  if (t.case === "collectionType" && Array.isArray(value)) {
    return (await Promise.all(value.map((item, i) => structProblems(t.value, item, `${key}[${i}]`)))).flat();
  }
  if (t.case === "mapValueType" && typeof value === "object" && value !== null && !Array.isArray(value)) {
    return (await Promise.all(Object.entries(value).map(([k, item]) => structProblems(t.value, item, `${key}.${k}`)))).flat();
  }
  return [];
}
