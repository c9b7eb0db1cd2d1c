import { ClientCredentialsError, type ClientCredentialsErrorCode, withoutQuery } from "../errors.js";
import { type Http, parseJson, statusFailure } from "../http.js";
import type { ClientCredentialsEvent } from "../types.js";

/**
 * Fetches candidate metadata URLs in order; the first JSON 200 goes to `accept`, whose answer
 * wins. A non-JSON 200 is usually a web app's catch-all page: as good as a 404. One broken
 * candidate (a redirect, a bad URL, a wrong document) must not hide a good one, so its error is
 * thrown only when no candidate works; with no error at all, `notFound` names every URL tried.
 */
export async function firstDocument<T>(
  http: Http,
  candidates: readonly string[],
  kind: "resource-metadata" | "authorization-server-metadata",
  emit: (event: ClientCredentialsEvent) => void,
  accept: (json: unknown, url: URL) => T | Promise<T>,
  notFound: (tried: string) => ClientCredentialsError,
): Promise<T> {
  const tried: string[] = [];
  let firstError: ClientCredentialsError | undefined;
  for (const candidate of candidates) {
    try {
      const url = http.secureUrl(candidate, "discovery", "metadata URL");
      const { status, text, retryAfter } = await http.get(url, "discovery");
      const shown = withoutQuery(url.href);
      const json = status === 200 ? parseJson(text) : undefined;
      emit({ type: "discovery", kind, url: shown, status, ok: json !== undefined });
      if (json !== undefined) return await accept(json, url);
      tried.push(`${shown} → ${status === 200 ? "200 (not JSON)" : status}`);
      // A server that is down or busy is not a server without the document: say which.
      if (status === 429 || status >= 500) {
        const { code, answered } = statusFailure(status, retryAfter);
        firstError ??= new ClientCredentialsError("discovery", `metadata endpoint answered ${answered}`, {
          code,
          status,
          url: url.href,
          retryAfter,
        });
      }
    } catch (error) {
      if (!(error instanceof ClientCredentialsError)) throw error;
      firstError ??= error;
    }
  }
  throw firstError ?? notFound(tried.join(", "));
}

/** A discovery error naming the URL it is about (a metadata document's, an issuer's, a resource's). */
export function documentError(message: string, code: ClientCredentialsErrorCode, url: URL | string, cause?: unknown): ClientCredentialsError {
  return new ClientCredentialsError("discovery", message, { code, url: String(url), cause });
}
