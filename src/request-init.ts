/**
 * The init that recreates `request` as `fetch(request.url, init)` (body excluded).
 * `next` is always called as (url, init), the MCP SDK's `FetchLike` contract: its middlewares
 * read `init.method` and replace `init.headers`. Optional fields are copied only when a runtime
 * has them and they differ from the default (workerd rejects some of them outright).
 */
export function initOf(request: Request): RequestInit {
  const init: RequestInit = { method: request.method, headers: copyHeaders(request.headers), redirect: request.redirect, signal: request.signal };
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

/**
 * `new Headers(init)` that also copies a Headers object from another realm or polyfill (an
 * interceptor's, a test environment's): `new Headers(foreign)` reads it as a plain record and
 * silently drops every header.
 */
export function copyHeaders(source: HeadersInit | null | undefined): Headers {
  if (source && typeof (source as Headers).forEach === "function" && !Array.isArray(source)) {
    const headers = new Headers();
    (source as Headers).forEach((value, name) => {
      headers.append(name, value);
    });
    return headers;
  }
  return new Headers(source ?? undefined);
}
