import { t, type ValueOf } from "tsflyte";
const d = t.duration();
const f = t.file();
const i = t.int();
export const a1: { x: ValueOf<typeof d> } = { x: Symbol() };
export const a2: { x: ValueOf<typeof f> } = { x: Symbol() };
export const a3: { x: ValueOf<typeof i> } = { x: Symbol() };
export const a4: { x: (typeof d)["__value"] } = { x: Symbol() };
