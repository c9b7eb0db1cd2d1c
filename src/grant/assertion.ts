import type { ClientCredentialsErrorCode } from "../errors.js";
import type { AssertionContext, AssertionSource } from "../types.js";

// Loaded with a dynamic import() only when an assertion is configured (see client-auth.ts), and
// importing nothing but types (as jwt.ts), so that a client with a secret never carries it.

/** How long an assertion read to key the cache may still be sent: the token request follows at once. */
const REUSE_MS = 5_000;

/** A source that failed or a value that is not a JWT; client-auth.ts turns it into a ClientCredentialsError. */
export class AssertionError extends Error {
  constructor(
    message: string,
    readonly code: Extract<ClientCredentialsErrorCode, "assertion_unavailable" | "invalid_assertion">,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

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
    // A source's own ClientCredentialsError (the shipped sources throw them) already says it all.
    if (error instanceof Error && error.name === "ClientCredentialsError") throw error;
    // client-auth.ts adds what the error says, cleaned (its message may quote a signed URL or a token).
    throw new AssertionError(`the ${name} source failed`, "assertion_unavailable", { cause: error });
  }
  if (typeof value !== "string" || value.trim() === "") {
    throw new AssertionError(`the ${name} source returned ${value === "" ? "an empty string" : typeof value}, not a JWT`, "assertion_unavailable");
  }
  const jwt = value.trim();
  if (jwt.length > MAX_ASSERTION_LENGTH || !COMPACT_JWS.test(jwt) || claimsOf(jwt) === undefined) {
    throw new AssertionError(`the ${name} is not a JWT (a compact JWS of three base64url parts with a JSON payload)`, "invalid_assertion");
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

/**
 * The assertions of one credential: the one read to key the cache is sent by the token request
 * that follows (one source call, not two), and the last few sent are kept for redaction.
 */
export class Assertions {
  /** Newest first, at most four: a server echoing one must not put it in an error. */
  readonly sent: string[] = [];
  /** By context: an assertion read for one server or resource is never sent for another. */
  readonly #pending = new Map<string, { jwt: string; at: number }>();

  constructor(
    private readonly source: AssertionSource,
    private readonly name: string,
  ) {}

  /** Whom the assertion speaks for, for the cache key. */
  async subject(context: AssertionContext): Promise<string> {
    const jwt = await this.#read(context);
    const now = Date.now();
    // Unclaimed ones (the cache had a token after all) are not kept: they are credentials.
    for (const [key, { at }] of this.#pending) if (now - at >= REUSE_MS) this.#pending.delete(key);
    this.#pending.set(contextKey(context), { jwt, at: now });
    return subjectOf(jwt);
  }

  /** The assertion for a token request about to be sent. */
  async forRequest(context: AssertionContext): Promise<string> {
    const key = contextKey(context);
    const pending = this.#pending.get(key);
    this.#pending.delete(key);
    return pending && Date.now() - pending.at < REUSE_MS ? pending.jwt : this.#read(context);
  }

  async #read(context: AssertionContext): Promise<string> {
    const jwt = await readAssertion(this.source, context, this.name);
    // A JWT minted for one authorization server must not reach another, which could replay it
    // where it is valid (a 401 chooses the server unless `issuer` or `tokenEndpoint` pins it).
    const aud = claimsOf(jwt)?.aud;
    const audiences = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
    if (audiences.length > 0 && !audiences.includes(context.audience)) {
      const minted = JSON.stringify(audiences.slice(0, 4)).slice(0, 300);
      throw new AssertionError(
        `the ${this.name} was minted for the audience ${minted}, not ${context.audience}: not sent (set assertionAudience if the server expects that audience)`,
        "invalid_assertion",
      );
    }
    if (this.sent[0] !== jwt) this.sent.unshift(jwt);
    this.sent.length = Math.min(this.sent.length, 4);
    return jwt;
  }
}

const contextKey = ({ audience, issuer, tokenEndpoint, resource }: AssertionContext) => JSON.stringify([audience, issuer, tokenEndpoint, resource]);
