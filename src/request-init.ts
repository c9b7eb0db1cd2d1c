/**
 * The init that recreates `request` as `fetch(request.url, init)` (body excluded).
 * `next` is always called as (url, init), the MCP SDK's `FetchLike` contract: its middlewares
 * read `init.method` and replace `init.headers`. Optional fields are copied only when a runtime
 * has them and they differ from the default (workerd rejects some of them outright).
 */
export function initOf(request: Request): RequestInit {
  const init: RequestInit = { method: request.method, headers: new Headers(request.headers), redirect: request.redirect, signal: request.signal };
  const optional: Array<[keyof RequestInit & keyof Request, unknown]> = [
    ["credentials", "same-origin"],
    ["mode", "cors"],
    ["cache", "default"],
    ["referrerPolicy", ""],
    ["integrity", ""],
    ["keepalive", false],
  ];
  for (const [name, fallback] of optional) {
    const value = request[name];
    if (value !== undefined && value !== fallback) Object.assign(init, { [name]: value });
  }
  return init;
}

/** Does the caller authorize this request itself? Asked of {@link ownHeaders}' copy. */
export function hasAuthorization(headers: OwnHeaders): boolean {
  if (Array.isArray(headers)) return headers.some(([name]) => name?.toLowerCase() === "authorization");
  for (const name in headers) if (name.length === 13 && name.toLowerCase() === "authorization") return true;
  return false;
}

/** A Headers object (of any realm) as a record: as cheap as `new Headers()`, and it copies foreign ones too. */
export function record(source: Headers): Record<string, string> {
  const headers: Record<string, string> = {};
  source.forEach((value, name) => {
    headers[name] = value;
  });
  return headers;
}

/** Headers this module owns: a copy of the caller's, which may be changed in place. */
export type OwnHeaders = Record<string, string> | [string, string][];

/**
 * A copy of the caller's headers (never the caller's object), in the caller's shape where that
 * is cheap: a record or pairs stay so; a Headers object of any realm (or a Map) becomes a record
 * in one `forEach` pass, as cheap as `new Headers()`; any other iterable of pairs goes through
 * `new Headers()` first.
 */
export function ownHeaders(source: HeadersInit | null | undefined): OwnHeaders {
  if (!source) return {};
  if (Array.isArray(source)) return [...source];
  const like = source as Partial<Headers> & { [Symbol.iterator]?: unknown };
  if (typeof like.forEach === "function" && (typeof like.get === "function" || typeof like[Symbol.iterator] !== "function")) return record(source as Headers);
  if (typeof like[Symbol.iterator] === "function") return record(new Headers(source as HeadersInit));
  return Object.assign({}, source as Record<string, string>);
}

/** Adds `authorization` to headers of our own: only without a caller Authorization header, so nothing is overwritten. */
export function authorize(headers: OwnHeaders, value: string): OwnHeaders {
  if (Array.isArray(headers)) headers.push(["authorization", value]);
  else headers.authorization = value;
  return headers;
}

/** The headers as they were before {@link authorize} (which added the last entry). */
export function unauthorize(headers: OwnHeaders): OwnHeaders {
  if (Array.isArray(headers)) return headers.slice(0, -1);
  const { authorization: _added, ...rest } = headers;
  return rest;
}

/**
 * `{ ...object, [name]: value }` without the spread: on V8 (Node 20–24) a spread followed by a
 * property costs several times an `Object.assign`, and this runs on every request.
 */
export function withField<T extends object, K extends string, V>(object: T, name: K, value: V): T & Record<K, V> {
  const copy = Object.assign({}, object) as T & Record<K, V>;
  copy[name] = value as (T & Record<K, V>)[K];
  return copy;
}
