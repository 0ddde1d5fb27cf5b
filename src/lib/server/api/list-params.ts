// The paging and sorting parameters every FlyteAdmin list takes: `limit`, `token`, `sort_by.key` and
// `sort_by.direction`, checked with messages that name the bad value. Never guesses a meaning for one.
import { UserError } from "../../errors.js";
import { invalidArgument } from "./api-error.js";
import type { QueryParams } from "./router.js";

export const defaultPageSize = 100;
const maxPageSize = 10_000;

/** The paging parameters, for `QueryParams.allowOnly`. */
export const pagingParams = ["limit", "token", "sort_by.key", "sort_by.direction", "org"] as const;

/** `limit`: FlyteAdmin refuses 0; an absent limit is a page of 100. */
export function readLimit(query: QueryParams): number {
  const text = query.get("limit");
  if (text === undefined || text === "") return defaultPageSize;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > maxPageSize) throw invalidArgument(`limit "${text}" must be a whole number from 1 to ${maxPageSize}`);
  return n;
}

export function readToken(query: QueryParams): string | undefined {
  const token = query.get("token");
  return token ? token : undefined;
}

export interface SortBy<K extends string> {
  key: K;
  direction: "ASC" | "DESC";
}

/** `sort_by.key` (one of `keys`) and `sort_by.direction` (ASCENDING/DESCENDING, or 1/0 as enums arrive in JSON). */
export function readSortBy<K extends string>(query: QueryParams, keys: readonly K[]): SortBy<K> | undefined {
  const key = query.get("sort_by.key");
  const direction = query.get("sort_by.direction");
  if (!key) {
    if (direction) throw invalidArgument("sort_by.direction needs sort_by.key");
    return undefined;
  }
  if (!(keys as readonly string[]).includes(key)) throw invalidArgument(`sort_by.key "${key}" is not supported here; use one of ${keys.join(", ")}`);
  return { key: key as K, direction: readDirection(direction) };
}

function readDirection(text: string | undefined): "ASC" | "DESC" {
  switch ((text ?? "").toUpperCase()) {
    case "":
    case "DESCENDING":
    case "0":
      return "DESC";
    case "ASCENDING":
    case "1":
      return "ASC";
    default:
      throw invalidArgument(`sort_by.direction "${text}" must be ASCENDING or DESCENDING`);
  }
}

/** A page of an in-memory list, with FlyteAdmin's offset tokens ("100"). */
export function pageByOffset<T>(items: T[], limit: number, token: string | undefined): { items: T[]; token: string } {
  let offset = 0;
  if (token !== undefined) {
    offset = Number(token);
    if (!/^\d+$/.test(token) || !Number.isSafeInteger(offset)) throw invalidArgument(`token "${token.slice(0, 40)}" is not a token this list returned`);
  }
  const page = items.slice(offset, offset + limit);
  return { items: page, token: offset + limit < items.length ? String(offset + limit) : "" };
}

/**
 * Runs a store listing that was given `token`. The store refuses a token it did not issue with a UserError that
 * names it: that is the caller's mistake, so it becomes a 400 rather than a server error.
 */
export async function withPageToken<T>(token: string | undefined, list: () => Promise<T>): Promise<T> {
  try {
    return await list();
  } catch (e) {
    if (token !== undefined && e instanceof UserError && e.message.includes(token)) {
      throw invalidArgument(`token "${token.slice(0, 40)}" is not a token this list returned (for this sort order); leave it out to start from the first page`);
    }
    throw e;
  }
}
