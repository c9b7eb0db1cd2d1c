import { MAX_EXPIRES_IN_SECONDS } from "./grant/token-request.js";
import { isHeaderSafeToken } from "./schemas.js";
import type { AccessToken, StoredToken } from "./types.js";
import { defined } from "./util.js";

/** A token read back from a shared store, checked as strictly as a token response. */
export function restoreToken(data: unknown): StoredToken | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const { accessToken, tokenType, expiresAt, obtainedAt, scope, resource, issuer } = data as Partial<StoredToken>;
  if (typeof accessToken !== "string" || !isHeaderSafeToken(accessToken)) return undefined;
  // A DPoP token is in a store only when the fleet shares its key (see TokenCache).
  if (tokenType !== "DPoP" && (typeof tokenType !== "string" || tokenType.toLowerCase() !== "bearer")) return undefined;
  if (!Number.isFinite(expiresAt) || !Number.isFinite(obtainedAt) || (obtainedAt as number) > (expiresAt as number)) return undefined;
  // The one-day clamp holds for entries an older release or a forger wrote, too.
  if ((obtainedAt as number) > Date.now() + 60_000 || (expiresAt as number) - (obtainedAt as number) > MAX_EXPIRES_IN_SECONDS * 1000) return undefined;
  for (const value of [scope, resource, issuer]) if (value !== undefined && typeof value !== "string") return undefined;
  return defined({ accessToken, tokenType, expiresAt: expiresAt as number, obtainedAt: obtainedAt as number, scope, resource, issuer });
}

/** The public view of a stored token. */
export function publicToken({ obtainedAt: _obtainedAt, ...token }: StoredToken): AccessToken {
  return token;
}
