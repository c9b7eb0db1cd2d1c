import { ClientCredentialsError, withoutQuery } from "./errors.js";

export const MAX_REDIRECTS = 20;
/** Browsers (pages and workers) answer `redirect: "manual"` with an opaque response. */
export const HIDES_REDIRECTS = /^Mozilla\//.test(globalThis.navigator?.userAgent ?? "");
export const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** What fetch does for `redirect: "error"` (a network error on any redirect status), as our typed error. */
export function refuseRedirect(url: string, response: Response): void {
  const { status } = response; // 0 in browsers, whose opaque redirects hide it
  if (!REDIRECT_STATUSES.has(status) && response.type !== "opaqueredirect") return;
  discard(response);
  const message = `${withoutQuery(url)} redirected, and the request said redirect: "error"`;
  throw new ClientCredentialsError("resource", message, { code: "unexpected_redirect", status: status || undefined, url });
}

/** Frees a response we will not read. Not awaited: some bodies only settle a cancel once drained. */
export function discard(response: Response): void {
  response.body?.cancel().catch(() => {});
}
