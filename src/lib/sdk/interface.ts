// Static types of task and workflow interfaces: what a task function receives and returns, what a call in a
// workflow body accepts and gives back. Types only, plus the one helper that normalises declared outputs.
import type { StructuredDataset, FlyteDirectory, FlyteFile } from "../types/values.js";
import {
  isFlyteType,
  type AnyType,
  type DataFrameType,
  type DirectoryType,
  type DurationType,
  type FileType,
  type EnumType,
  type KindOf,
  type ListType,
  type MapType,
  type OptionalType,
  type StringType,
  type UnionType,
  type ValueOf,
} from "../types/types.js";

import type { Condition, NodeOverrides } from "./trace.js";

declare const refBrand: unique symbol;

/**
 * A reference to a value that exists only when the workflow runs: a workflow input or a node's output.
 * `T` is its value type and `K` its Flyte kind, so that wiring checks distinguish int from float.
 */
export interface Ref<T, K extends string> {
  readonly [refBrand]: { readonly value: T; readonly kind: K };
  /** A condition for `conditional(...)`: this value equals a constant or another reference of the same type. */
  eq(other: Comparand<T, K>): Condition;
  ne(other: Comparand<T, K>): Condition;
  gt(other: Ordered<T, K>): Condition;
  gte(other: Ordered<T, K>): Condition;
  lt(other: Ordered<T, K>): Condition;
  lte(other: Ordered<T, K>): Condition;
  isTrue(this: Ref<boolean, K>): Condition;
  isFalse(this: Ref<boolean, K>): Condition;
  isNone(this: Ref<null, K> | Ref<T | null, K>): Condition;
  /** Overrides for the call that made this reference (flytekit's `with_overrides`). */
  with(overrides: NodeOverrides): this;
}

type Primitive = number | string | boolean | Date;
/** What a value may be compared with for (in)equality: a constant or a reference of the same kind; primitives only. */
export type Comparand<T, K extends string> = [NonNullable<T>] extends [Primitive] ? T | Ref<T, K> | (null extends T ? null : never) : never;
/** What a value may be ordered against: numbers, strings, datetimes and durations (ms), never booleans. */
export type Ordered<T, K extends string> = [NonNullable<T>] extends [number | string | Date] ? NonNullable<T> | Ref<T, K> : never;

/** Overrides a call inside a workflow body gives its node (`.with({...})`). */
export interface Overridable {
  with(overrides: NodeOverrides): this;
}

/** The reference type for a value of declared type X. */
export type RefOf<X> = Ref<ValueOf<X>, KindOf<X>>;

/** Declared inputs: names to `t.*` types. */
export type InputsDecl = Record<string, AnyType>;
/** Declared outputs: one `t.*` type (named `o0`), several named ones, or none. */
export type OutputsDecl = AnyType | Record<string, AnyType> | undefined;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** Whether an input may be left out by callers: it has a default or is optional. */
export type IsOptionalInput<X> = X extends { readonly __hasDefault: true } ? true : X extends OptionalType<any> ? true : false;
type RequiredKeys<I> = { [K in keyof I]-?: IsOptionalInput<I[K]> extends true ? never : K }[keyof I];
type OptionalKeys<I> = Exclude<keyof I, RequiredKeys<I>>;

/** What a value of type X may be bound to in a workflow body: a reference, a constant, or a mix for lists and maps. */
export type Bindable<X> =
  X extends ListType<infer E>
    ? RefOf<X> | ValueOf<X> | readonly Bindable<E>[]
    : X extends MapType<infer E>
      ? RefOf<X> | ValueOf<X> | { readonly [key: string]: Bindable<E> }
      : X extends OptionalType<infer E>
        ? RefOf<X> | Bindable<E> | null | undefined
        : X extends UnionType<infer Es>
          ? RefOf<X> | Bindable<Es[number]>
          : X extends EnumType<infer V>
            ? RefOf<X> | V | Ref<string, "string">
            : X extends StringType
              ? RefOf<X> | string | Ref<string, "enum">
              : X extends DurationType
                ? RefOf<X> | number | string
                : X extends FileType
                  ? RefOf<X> | FlyteFile | string
                  : X extends DirectoryType
                    ? RefOf<X> | FlyteDirectory | string
                    : X extends DataFrameType
                      ? RefOf<X> | StructuredDataset | string
                      : RefOf<X> | ValueOf<X>;

/** The values a task function receives: every input present, defaults filled in. */
export type InputValues<I> = Simplify<{ -readonly [K in keyof I]: ValueOf<I[K]> }>;

/** The inputs a caller passes: required ones must be there, unknown ones are errors. */
export type CallInputs<I> = Simplify<
  { [K in RequiredKeys<I>]: Bindable<I[K]> } & { [K in OptionalKeys<I>]?: Bindable<I[K]> }
>;

/** Plain values for calling outside a workflow body (direct runs, launch plan inputs). */
export type CallValues<I> = Simplify<
  { [K in RequiredKeys<I>]: ValueOf<I[K]> } & { [K in OptionalKeys<I>]?: ValueOf<I[K]> }
>;

/** What a task returns, or a workflow run produces. */
export type OutputValues<O> = O extends AnyType
  ? ValueOf<O>
  : O extends Record<string, AnyType>
    ? Simplify<{ -readonly [K in keyof O]: ValueOf<O[K]> }>
    : void;

/** A node with no outputs: usable only for ordering. */
export interface NodeHandle extends Overridable {
  readonly [refBrand]: { readonly value: void; readonly kind: "node" };
}

/** What a call inside a workflow body gives back: references to the outputs (named outputs are properties). */
export type OutputRefs<O> = O extends AnyType
  ? RefOf<O>
  : O extends Record<string, AnyType>
    ? { readonly [K in keyof O]: RefOf<O[K]> } & Overridable
    : NodeHandle;

/**
 * The result of calling a task, workflow or launch plan: references inside a workflow body, and awaitable
 * outputs when called directly (which runs it locally).
 */
export type CallResult<O> = OutputRefs<O> & Promise<OutputValues<O>>;

/** What a workflow body returns for its declared outputs. */
export type WorkflowReturn<O> = O extends AnyType
  ? Bindable<O>
  : O extends Record<string, AnyType>
    ? { [K in keyof O]: Bindable<O[K]> }
    : void | NodeHandle;

/** References to a workflow's inputs, as its body receives them. */
export type InputRefs<I> = { readonly [K in keyof I]: RefOf<I[K]> };

/** The call signature of a task, workflow or launch plan with inputs I and outputs O. */
export type CallSignature<I, O> = (
  ...args: {} extends CallInputs<I> ? [inputs?: CallInputs<I>] : [inputs: CallInputs<I>]
) => CallResult<O>;

/** Declared outputs as a name → type map; a single type is named `o0`. */
export function normalizeOutputs(outputs: OutputsDecl): { outputs: Record<string, AnyType>; single: boolean } {
  if (outputs === undefined) return { outputs: {}, single: false };
  if (isFlyteType(outputs)) return { outputs: { o0: outputs }, single: true };
  return { outputs: { ...outputs }, single: false };
}
