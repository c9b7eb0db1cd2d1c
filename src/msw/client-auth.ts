/**
 * Client authentication at the mock token endpoint: client_secret_basic, client_secret_post
 * (RFC 6749 §2.3.1) and private_key_jwt (RFC 7523 §2.2 / §3), really verified.
 * @internal
 */
import { createLocalJWKSet, decodeJwt, errors, type JWTPayload, type JWTVerifyOptions, jwtVerify } from "jose";
import { oauthErrorResponse } from "./faults.js";
import type { ResolvedClient } from "./options.js";
import type { MockState } from "./state.js";
import type { MockAuthMethod } from "./types.js";

export const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** Longest accepted assertion lifetime, `exp - iat`, in seconds. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;

export type ClientAuthResult = { ok: true; client: ResolvedClient; method: MockAuthMethod } | { ok: false; response: Response };

function invalidClient(state: MockState, description: string): ClientAuthResult {
  // 401 with a challenge for the scheme the token endpoint supports (RFC 6749 §5.2, RFC 9110 §15.5.2).
  const realm = state.config.issuer.replace(/["\\]/g, "");
  return {
    ok: false,
    response: oauthErrorResponse("invalid_client", description, 401, {
      "www-authenticate": `Basic realm="${realm}"`,
    }),
  };
}

/** application/x-www-form-urlencoded decoding of one component: `+` is a space, then %XX. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, " "));
}

function decodeBasic(header: string): { id: string; secret: string } | undefined {
  const match = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(header);
  if (match?.[1] === undefined) return undefined;
  try {
    const binary = atob(match[1]);
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    const colon = text.indexOf(":");
    if (colon < 0) return undefined;
    return { id: formDecode(text.slice(0, colon)), secret: formDecode(text.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

function checkMethod(state: MockState, client: ResolvedClient, method: MockAuthMethod): ClientAuthResult {
  if (!client.authMethods.has(method)) {
    return invalidClient(state, `client is not allowed to use ${method}`);
  }
  return { ok: true, client, method };
}

function authenticateSecret(state: MockState, method: "client_secret_basic" | "client_secret_post", id: string, secret: string): ClientAuthResult {
  const client = state.config.clients.get(id);
  if (client === undefined) return invalidClient(state, "unknown client");
  if (client.clientSecret === undefined || client.clientSecret !== secret) {
    return invalidClient(state, "client authentication failed");
  }
  return checkMethod(state, client, method);
}

/** Verifies a JWT against a JWK Set: a client's assertion, or a workload's platform JWT (workload.ts). */
export async function verifyJwt(assertion: string, jwks: NonNullable<ResolvedClient["jwks"]>, options: JWTVerifyOptions): Promise<JWTPayload> {
  const keySet = createLocalJWKSet(jwks);
  try {
    return (await jwtVerify(assertion, keySet, options)).payload;
  } catch (error) {
    // Several keys match the header (no kid): try each, as jose's docs recommend.
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    let last: unknown = error;
    for await (const key of error) {
      try {
        return (await jwtVerify(assertion, key, options)).payload;
      } catch (inner) {
        last = inner;
      }
    }
    throw last;
  }
}

async function authenticateJwt(state: MockState, params: URLSearchParams): Promise<ClientAuthResult> {
  const { config } = state;
  if (params.get("client_assertion_type") !== JWT_BEARER_ASSERTION_TYPE) {
    return invalidClient(state, `client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}`);
  }
  const assertion = params.get("client_assertion");
  if (assertion === null || assertion === "") return invalidClient(state, "client_assertion is missing");
  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(assertion);
  } catch {
    return invalidClient(state, "client_assertion is not a JWT");
  }
  const bodyClientId = params.get("client_id");
  const clientId = bodyClientId ?? (typeof unverified.sub === "string" ? unverified.sub : undefined);
  if (clientId === undefined) return invalidClient(state, "client_assertion has no sub");
  const client = config.clients.get(clientId);
  if (client === undefined) return invalidClient(state, "unknown client");
  if (client.jwks === undefined) return invalidClient(state, "client has no registered keys");

  let payload: JWTPayload;
  try {
    payload = await verifyJwt(assertion, client.jwks, {
      issuer: clientId,
      subject: clientId,
      audience: config.assertionAudiences,
      requiredClaims: ["exp", "iat", "jti"],
      ...(config.signingAlgsSupported === null ? {} : { algorithms: config.signingAlgsSupported }),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return invalidClient(state, `client_assertion rejected: ${reason}`);
  }
  const { exp, iat, jti } = payload;
  if (typeof exp !== "number" || typeof iat !== "number") {
    return invalidClient(state, "client_assertion exp and iat must be numbers");
  }
  if (exp - iat > MAX_ASSERTION_LIFETIME_SECONDS) {
    return invalidClient(state, `client_assertion lives longer than ${MAX_ASSERTION_LIFETIME_SECONDS} s`);
  }
  if (typeof jti !== "string" || jti === "") return invalidClient(state, "client_assertion jti must be a string");
  const replayKey = `${clientId}\u0000${jti}`;
  if (state.usedJti.has(replayKey)) return invalidClient(state, "client_assertion jti was already used");
  state.usedJti.add(replayKey);
  return checkMethod(state, client, "private_key_jwt");
}

/**
 * Authenticates the client of a token request. Exactly one method must be used; using several
 * is `invalid_request` (RFC 6749 §2.3 and §5.2), using none is `invalid_client`.
 */
export async function authenticateClient(state: MockState, request: Request, params: URLSearchParams): Promise<ClientAuthResult> {
  const authorization = request.headers.get("authorization");
  const usesBasic = authorization !== null;
  const usesPost = params.has("client_secret");
  const usesJwt = params.has("client_assertion") || params.has("client_assertion_type");
  const count = Number(usesBasic) + Number(usesPost) + Number(usesJwt);
  if (count > 1) {
    return {
      ok: false,
      response: oauthErrorResponse("invalid_request", "more than one client authentication method used", 400),
    };
  }
  const bodyClientId = params.get("client_id");
  if (usesBasic) {
    const credentials = decodeBasic(authorization);
    if (credentials === undefined) return invalidClient(state, "malformed Basic credentials");
    if (bodyClientId !== null && bodyClientId !== credentials.id) {
      return invalidClient(state, "client_id does not match the authenticated client");
    }
    return authenticateSecret(state, "client_secret_basic", credentials.id, credentials.secret);
  }
  if (usesPost) {
    if (bodyClientId === null) return invalidClient(state, "client_id is missing");
    return authenticateSecret(state, "client_secret_post", bodyClientId, params.get("client_secret") ?? "");
  }
  if (usesJwt) {
    const result = await authenticateJwt(state, params);
    if (result.ok && bodyClientId !== null && bodyClientId !== result.client.clientId) {
      return invalidClient(state, "client_id does not match the client assertion");
    }
    return result;
  }
  return invalidClient(state, "client authentication is required");
}
