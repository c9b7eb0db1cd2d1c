import { ClientCredentialsError, sanitize } from "../errors.js";
import type { AssertionContext, AssertionSource } from "../types.js";

/** RFC 7515 compact serialisation: three base64url parts (the third, the signature, non-empty). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Platform JWTs are a few KiB; anything far larger is not one. */
const MAX_ASSERTION_LENGTH = 64 * 1024;

/**
 * The assertion for one token request, from a string or a source function, checked to be a
 * compact JWT. Its `exp` is left to the authorization server: a client's clock may be off, and
 * the server's `invalid_grant` says more than our guess would. Messages never quote the value.
 */
export async function readAssertion(source: AssertionSource, context: AssertionContext, name: string): Promise<string> {
  let value: unknown;
  try {
    value = typeof source === "string" ? source : await source(context);
  } catch (error) {
    if (error instanceof ClientCredentialsError) throw error;
    const reason = error instanceof Error ? `: ${sanitize(error.message)}` : "";
    throw new ClientCredentialsError("token", `the ${name} source failed${reason}`, { code: "assertion_unavailable", cause: error });
  }
  if (typeof value !== "string" || value.trim() === "") {
    throw new ClientCredentialsError("token", `the ${name} source returned ${value === "" ? "an empty string" : typeof value}, not a JWT`, {
      code: "assertion_unavailable",
    });
  }
  const jwt = value.trim();
  if (jwt.length > MAX_ASSERTION_LENGTH || !COMPACT_JWS.test(jwt) || claimsOf(jwt) === undefined) {
    throw new ClientCredentialsError("token", `the ${name} is not a JWT (a compact JWS of three base64url parts with a JSON payload)`, {
      code: "invalid_assertion",
    });
  }
  return jwt;
}

/** The unverified claims of a JWT, or `undefined` when its payload is not a JSON object. */
export function claimsOf(jwt: string): Record<string, unknown> | undefined {
  try {
    const payload = jwt.split(".")[1] ?? "";
    const binary = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const claims: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    return typeof claims === "object" && claims !== null && !Array.isArray(claims) ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Who the assertion speaks for, for cache keys: its issuer and subject, which stay the same when a
 * platform rotates the token, and differ between workloads that share a store.
 */
export function subjectOf(jwt: string): string {
  const claims = claimsOf(jwt) ?? {};
  const text = (value: unknown) => (typeof value === "string" ? value : "");
  return JSON.stringify([text(claims.iss), text(claims.sub)]);
}
