// The RFC 7523 §2.1 JWT-bearer authorization grant for oidc-provider, as a workload identity
// federation server does it (SEP-1933): a platform JWT from a trusted issuer is exchanged for
// an access token bound to one resource. The assertion is really verified: its issuer must be
// trusted, the issuer's keys come from its OIDC discovery document (jose remote JWK set, cached
// per issuer), and signature, `iss`, `aud` (this issuer or the token endpoint), `exp` and `sub`
// are checked. Every refusal is `invalid_grant` whose description names the reason and never
// quotes the assertion.
//
// oidc-provider needs a client for every token request, so the grant is used by a registered
// public client (`token_endpoint_auth_method: "none"`) that sends its `client_id`; a request
// without one is refused by oidc-provider itself (invalid_request, "no client authentication
// mechanism provided"). A platform token is reused for its whole lifetime, so there is no `jti`
// replay check.
//
// DPoP (RFC 9449) is validated and bound with oidc-provider's own helpers, in the order its
// client_credentials grant uses them (lib/actions/grants/client_credentials.js): the proof is
// checked first (signature, htm/htu, iat, and the nonce when features.dPoP requires one, which
// answers use_dpop_nonce), then the token gets `cnf.jkt` and a proof's `jti` is checked for replay,
// and a client registered with dpop_bound_access_tokens is refused without a proof. These are
// oidc-provider internals (no public export), pinned by the 9.13 version in TOOLCHAIN.md.
import * as jose from "jose";
import { applyDpopBinding } from "oidc-provider/lib/helpers/grant_common.js";
import { checkDpopRequired } from "oidc-provider/lib/helpers/sender_constraints.js";
import validateDpop from "oidc-provider/lib/helpers/validate_dpop.js";
import { issuerKeys } from "./issuer-keys.mjs";

export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** Where the handler leaves what it learned about the assertion (for the server's events). */
export const ASSERTION_STATE = Symbol("jwt-bearer assertion");

const REASONS = {
  ERR_JWT_EXPIRED: "the assertion has expired",
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: "the assertion signature does not verify with the issuer's published keys",
  ERR_JWKS_NO_MATCHING_KEY: "the assertion is signed with a key the issuer has not published",
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: "the assertion signature does not verify with the issuer's published keys",
  ERR_JOSE_ALG_NOT_ALLOWED: "the assertion uses a signing algorithm that is not allowed",
  ERR_JWS_INVALID: "the assertion is not a valid JWS",
  ERR_JWT_INVALID: "the assertion is not a valid JWT",
};

const CLAIM_REASONS = {
  aud: "the assertion audience is not this authorization server",
  iss: "the assertion issuer does not match",
  exp: "the assertion has no valid exp claim",
  sub: "the assertion subject is not trusted",
  nbf: "the assertion is not yet valid",
  iat: "the assertion iat claim is invalid",
};

/**
 * Builds the grant handler for `provider.registerGrantType(JWT_BEARER_GRANT, handler, PARAMETERS, ["resource"])`.
 *
 * @param {object} options
 * @param {import("oidc-provider").default} options.provider
 * @param {Record<string, new (...args: any[]) => Error>} options.errors oidc-provider's `errors`
 * @param {() => Array<{ issuer: string; subject?: string }>} options.trust read at every request, so entries can be added later
 * @param {(ctx: unknown, resource: string) => Promise<object>} options.resourceServerInfo the provider's getResourceServerInfo
 * @param {() => string | undefined} [options.defaultResource]
 */
export function jwtBearerGrant({ provider, errors, trust, resourceServerInfo, defaultResource = () => undefined }) {
  const keysOf = issuerKeys();
  const refuse = (description, detail) => Object.assign(new errors.InvalidGrant(detail ? { detail } : undefined), { error_description: description });

  return async function jwtBearerGrantHandler(ctx) {
    const { client, params } = ctx.oidc;
    const state = {};
    ctx[ASSERTION_STATE] = state;
    // First, as in client_credentials: a proof without the required nonce costs no issuer key fetch.
    const dPoP = await validateDpop(provider, ctx);
    if (typeof params.assertion !== "string" || !params.assertion) throw new errors.InvalidRequest("missing required parameter 'assertion'");

    let claims;
    try {
      claims = jose.decodeJwt(params.assertion);
    } catch {
      throw refuse("the assertion is not a valid JWT");
    }
    if (typeof claims.iss !== "string") throw refuse("the assertion has no issuer");
    state.iss = claims.iss;
    const entries = trust().filter((entry) => entry.issuer === claims.iss);
    if (entries.length === 0) throw refuse("the assertion issuer is not trusted");

    let keys;
    try {
      keys = await keysOf(claims.iss);
    } catch (error) {
      throw refuse("the keys of the assertion issuer could not be resolved", error?.message);
    }

    let payload;
    try {
      ({ payload } = await jose.jwtVerify(params.assertion, keys, {
        issuer: claims.iss,
        audience: [provider.issuer, ctx.oidc.urlFor("token")],
        requiredClaims: ["exp", "sub"],
      }));
    } catch (error) {
      const reason = (error?.code === "ERR_JWT_CLAIM_VALIDATION_FAILED" && CLAIM_REASONS[error.claim]) || REASONS[error?.code];
      throw refuse(reason ?? "the assertion could not be verified", error?.code);
    }
    if (!entries.some((entry) => entry.subject === undefined || entry.subject === payload.sub)) throw refuse(CLAIM_REASONS.sub);
    Object.assign(state, { sub: payload.sub, jti: payload.jti, aud: payload.aud, verified: true });

    // A JWT access token for exactly one resource, made as the client_credentials grant makes it.
    let resource = params.resource ?? defaultResource();
    if (Array.isArray(resource)) {
      if (resource.length !== 1) throw new errors.InvalidTarget("only a single resource indicator value is supported for this grant type");
      [resource] = resource;
    }
    if (!resource) throw new errors.InvalidTarget("a resource indicator is required for this grant type");
    if (!URL.canParse(resource) || resource.includes("#")) throw new errors.InvalidTarget("resource indicator must be an absolute URI without a fragment");
    const resourceServer = new provider.ResourceServer(resource, await resourceServerInfo(ctx, resource, client));

    const requested = new Set(typeof params.scope === "string" && params.scope ? params.scope.split(" ") : []);
    const token = new provider.ClientCredentials({ client });
    token.resourceServer = resourceServer;
    token.scope = [...requested].filter((scope) => resourceServer.scopes.has(scope)).join(" ") || undefined;
    await applyDpopBinding(provider, ctx, dPoP, token);
    checkDpopRequired(provider, ctx, dPoP);

    ctx.oidc.entity("ClientCredentials", token);
    const value = await token.save();
    ctx.body = { access_token: value, expires_in: token.expiration, token_type: token.tokenType, scope: token.scope };
  };
}

/** The parameters the grant reads (besides grant_type and the client's). */
export const PARAMETERS = ["assertion", "scope", "resource"];

/** `formats.customizers.jwt`: an access token from this grant names the verified workload as its `sub`. */
export async function customizeJwt(ctx, _token, jwt) {
  const state = ctx?.[ASSERTION_STATE];
  if (state?.verified && typeof state.sub === "string") jwt.payload.sub = state.sub;
}
