// Records as JSON text in ConfigMaps: a Uint8Array field (an inline LiteralMap) becomes {"$bytes": "<base64>"}, and a
// key of the record's own that starts with "$" gets one more "$", so no user data can pass for bytes. Never loses or
// alters a field: what encodeRecordJson writes, decodeRecordJson reads back equal.

/** The record (or a map of records) as JSON text, its Uint8Arrays tagged. */
export function encodeRecordJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, replaced: unknown) {
    // `replaced` is what toJSON made of the field (a Buffer's is {type, data}); the field itself is on `this`.
    const original = key === "" ? value : this[key];
    if (original instanceof Uint8Array) return { $bytes: Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString("base64") };
    if (replaced === null || typeof replaced !== "object" || Array.isArray(replaced)) return replaced;
    const keys = Object.keys(replaced);
    if (!keys.some((k) => k.startsWith("$"))) return replaced;
    const escaped: Record<string, unknown> = {};
    for (const k of keys) escaped[k.startsWith("$") ? `$${k}` : k] = (replaced as Record<string, unknown>)[k];
    return escaped;
  });
}

/** Reads what encodeRecordJson wrote; text without a "$" key is plain JSON and parsed at JSON.parse's speed. */
export function decodeRecordJson<T>(text: string): T {
  if (!text.includes('"$')) return JSON.parse(text) as T;
  return JSON.parse(text, (_key, value: unknown) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$bytes" && typeof (value as { $bytes: unknown }).$bytes === "string") {
      return new Uint8Array(Buffer.from((value as { $bytes: string }).$bytes, "base64"));
    }
    if (!keys.some((k) => k.startsWith("$$"))) return value;
    const unescaped: Record<string, unknown> = {};
    for (const k of keys) unescaped[k.startsWith("$$") ? k.slice(1) : k] = (value as Record<string, unknown>)[k];
    return unescaped;
  }) as T;
}
