import type { Dpop } from "../dpop/index.js";
import { ClientCredentialsError, type ClientCredentialsErrorOptions, sanitize, withoutQuery } from "../errors.js";
import { type Http, parseJson, statusFailure } from "../http.js";
import { isHeaderSafeToken, validate } from "../schemas.js";
import type { ClientCredentialsEvent, StoredToken } from "../types.js";
import { defined } from "../util.js";
import type { ClientAuthenticator } from "./client-auth.js";

/** Lifetime assumed when a token response has no `expires_in` (RFC 6749 §5.1 makes it optional). */
export const DEFAULT_EXPIRES_IN_SECONDS = 3600;
/**
 * The longest a token is kept: a server answering `expires_in: 1e12` must not pin a token that
 * will be revoked long before, nor hand a shared store a TTL it cannot represent.
 */
export const MAX_EXPIRES_IN_SECONDS = 86_400;

export interface TokenRequest {
  tokenEndpoint: URL;
  issuer?: string;
  /** RFC 8707 resource indicator; omitted when undefined. */
  resource?: string;
  scopes: readonly string[];
  /** The metadata's grant_types_supported, when it does not list the grant we use. */
  grantTypes?: readonly string[] | undefined;
  /** Ends the request, its retries and their waits: every caller left. */
  signal?: AbortSignal;
  /** DPoP, when this request binds the token (RFC 9449 §5): a proof in every attempt, a DPoP token back. */
  dpop?: Dpop;
  /** Set on the one retry a `use_dpop_nonce` error earns. */
  nonceRetry?: boolean;
}

/** One token request (client_credentials, RFC 6749 §4.4, or JWT bearer, RFC 7523 §2.1), response validated. */
export async function requestToken(
  http: Http,
  auth: ClientAuthenticator,
  request: TokenRequest,
  emit: (event: ClientCredentialsEvent) => void,
): Promise<StoredToken> {
  const { resource, issuer, dpop } = request;
  const scope = request.scopes.join(" ") || undefined;
  const tokenEndpoint = request.tokenEndpoint.href;
  const shown = withoutQuery(tokenEndpoint); // for events: a query may hold a key (Azure Functions' ?code=)
  emit(
    defined({ type: "token-request", tokenEndpoint: shown, grantType: auth.grant, authMethod: auth.method, resource, scope, dpop: dpop ? true : undefined }),
  );
  const obtainedAt = Date.now();
  let sentNonce: string | undefined;
  const { status, headers, text, retryAfter } = await http.postForm(
    request.tokenEndpoint,
    async () => {
      const body = new URLSearchParams(defined({ grant_type: auth.grant, resource, scope }) as Record<string, string>);
      const headers = new Headers({ accept: "application/json" });
      await auth.apply(body, headers, defined({ tokenEndpoint, issuer: issuer || undefined, resource }));
      if (dpop) {
        const { proof, nonce } = await dpop.proof("POST", tokenEndpoint);
        headers.set("dpop", proof);
        sentNonce = nonce;
      }
      return defined({ body, headers, signal: request.signal });
    },
    "token",
  );
  const nonce = dpop?.observe(tokenEndpoint, { headers }, "as", sentNonce);
  if (nonce?.fresh) emit({ type: "dpop-nonce", url: shown });
  const json = parseJson(text);
  const reject = (message: string, fields: ClientCredentialsErrorOptions, error?: string): never => {
    emit(defined({ type: "token-response", tokenEndpoint: shown, status, ok: false, error }));
    // Only a refusal of the grant itself may be the metadata's warning come true.
    const note = status !== 200 && (error === undefined || REFUSALS.has(error)) ? unlisted(request.grantTypes, auth.grant) : "";
    throw new ClientCredentialsError("token", `${message}${note}`, defined({ status, url: tokenEndpoint, retryAfter, ...fields }));
  };

  const oauth = await validate("error", json);
  if (status !== 200 || (typeof oauth !== "string" && oauth.error)) {
    const failure = statusFailure(status, retryAfter);
    const later = failure.code === "retry_later";
    if (typeof oauth === "string" || !/^[\x20\x21\x23-\x5b\x5d-\x7e]{1,128}$/.test(oauth.error)) {
      const what = typeof oauth === "string" ? "without an OAuth error" : "with an `error` that is not an OAuth error code";
      const body = json === undefined ? `; its body is not JSON${contentType(headers)}` : "";
      return reject(`token endpoint answered ${failure.answered} ${what}${body}`, { code: failure.code });
    }
    // RFC 9449 §8: the server wants a nonce in the proof; one retry with it, on top of any other.
    if (dpop && oauth.error === "use_dpop_nonce" && nonce?.changed && !request.nonceRetry) {
      emit(defined({ type: "token-response", tokenEndpoint: shown, status, ok: false, error: oauth.error }));
      return requestToken(http, auth, { ...request, nonceRetry: true }, emit);
    }
    // Some servers echo what they received: the secret must not reach messages or events.
    const code = auth.redact(oauth.error);
    const description = oauth.error_description === undefined ? undefined : auth.redact(oauth.error_description);
    const detail = `${sanitize(code)}${description ? ` (${sanitize(description)})` : ""}`;
    return reject(`token request failed: ${detail}${later ? `, ${failure.answered}` : ""}`, defined({ code: later ? "retry_later" : code, description }), code);
  }

  const token = await validate("token", json);
  const expiresIn = typeof token === "string" ? undefined : seconds(token.expires_in);
  if (typeof token === "string" || !isHeaderSafeToken(token.access_token) || expiresIn === undefined) {
    const why =
      typeof token === "string"
        ? token
        : expiresIn === undefined
          ? "expires_in: must be a positive number of seconds"
          : "access_token: not a string of visible ASCII (at most 64 KiB)";
    const problem = json === undefined ? `is not JSON${contentType(headers)}` : `is invalid (${why})`;
    return reject(`token response ${problem}`, { code: "invalid_token_response" });
  }
  const refused = dpop
    ? dpop.refusal(token.token_type)
    : token.token_type.toLowerCase() !== "bearer" && {
        message: `unsupported token_type ${JSON.stringify(token.token_type.slice(0, 64))} (only Bearer is supported)`,
        code: "unsupported_token_type",
      };
  if (refused) return reject(refused.message, { code: refused.code });
  const clampedFrom = expiresIn > MAX_EXPIRES_IN_SECONDS ? expiresIn : undefined;
  const expiresAt = obtainedAt + Math.min(expiresIn, MAX_EXPIRES_IN_SECONDS) * 1000;
  const granted = (token.scope ?? scope) || undefined;
  emit(defined({ type: "token-response", tokenEndpoint: shown, status, ok: true, expiresAt, scope: granted, clampedFrom }));
  return defined({
    accessToken: token.access_token,
    tokenType: dpop && token.token_type.toLowerCase() === "dpop" ? "DPoP" : token.token_type,
    expiresAt,
    obtainedAt,
    scope: granted,
    resource,
    issuer: issuer || undefined,
  });
}

/**
 * `expires_in`: absent, a positive number, or (older Entra ID) a numeric string; `undefined` for
 * anything else. Zero is refused too: a token expired on arrival cannot serve a single request.
 */
function seconds(value: unknown): number | undefined {
  const number = typeof value === "string" && /^\d{1,15}$/.test(value) ? Number(value) : (value ?? DEFAULT_EXPIRES_IN_SECONDS);
  return typeof number === "number" && number > 0 && Number.isFinite(number) ? number : undefined;
}

/** The media type of a body that is not JSON, for a message (never the body: it may echo a secret). */
function contentType(headers: Headers): string {
  const type = headers.get("content-type")?.split(";")[0]?.trim();
  return type ? ` (${sanitize(type).slice(0, 64)})` : "";
}

const REFUSALS = new Set(["unsupported_grant_type", "unauthorized_client"]);

/** Why a refusal may not be a mistake in our request: the metadata never promised the grant. */
function unlisted(grantTypes: readonly string[] | undefined, grant: string): string {
  return grantTypes ? `; its metadata lists grant_types_supported ${sanitize(JSON.stringify(grantTypes))} without ${grant}` : "";
}
