// A real MCP server that accepts DPoP-bound tokens only (RFC 9449 §7): the MCP TypeScript SDK's
// McpServer over Streamable HTTP, as in mcp-server.mjs, behind a DPoP check written here because
// the SDK's requireBearerAuth knows the Bearer scheme only. Every request must carry
// `Authorization: DPoP <token>` and one `DPoP` proof: signed by the key in its own header
// (typ dpop+jwt, an allowed alg), for this method and URL (htu without query), recent (iat
// ±60 s), never seen before (jti), for this token (ath), with a nonce this server issued; the
// token is a JWT from the authorization server (verified against its JWKS, aud = /mcp) whose
// `cnf.jkt` is the proof key's RFC 7638 thumbprint. A bound token sent as Bearer is refused.
//
//   const mcp = await start({ issuer: as.issuer });
//   as.addResource(mcp.url, { scope: "mcp:tools" });
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { getOAuthProtectedResourceMetadataUrl } from "@modelcontextprotocol/sdk/server/auth/router.js";
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import * as jose from "jose";
import { z } from "zod";
import { closer, listen } from "./listen.mjs";
import { mountMcp } from "./mcp-server.mjs";

export const SCOPE = "mcp:tools";
/** Proof algorithms accepted (listed in the challenge's `algs` and in the resource metadata). */
export const DPOP_ALGS = ["ES256", "ES384", "EdDSA", "RS256", "PS256"];
/** RFC 9449 §11.1: how far a proof's iat may be from now, either way. */
const IAT_WINDOW_S = 60;

/** echo, add, and whoami (the verified token's client and the key it is bound to). */
function createMcpServer() {
  const server = new McpServer({ name: "e2e-dpop-mcp-server", version: "1.0.0" });
  server.registerTool("echo", { description: "Echoes the text back", inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: "text", text }],
  }));
  server.registerTool("add", { description: "Adds two numbers", inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({
    content: [{ type: "text", text: String(a + b) }],
    structuredContent: { sum: a + b },
  }));
  server.registerTool("whoami", { description: "Who the access token says the caller is, and its key" }, async (extra) => {
    const auth = extra.authInfo;
    const who = { clientId: auth?.clientId, scopes: auth?.scopes, jkt: auth?.extra?.jkt };
    return { content: [{ type: "text", text: JSON.stringify(who) }], structuredContent: who };
  });
  return server;
}

/** A refusal: the status, the challenge's error, and the reason recorded (never the token or proof). */
class Refusal extends Error {
  constructor(error, reason) {
    super(reason);
    this.error = error;
    this.reason = reason;
  }
}

const b64sha256 = (text) => createHash("sha256").update(text).digest("base64url");
/** The URL without query and fragment, normalized (RFC 9449 §4.3 check 9). */
const htuOf = (url) => {
  const parsed = URL.parse(url);
  if (!parsed) return undefined;
  parsed.search = "";
  parsed.hash = "";
  return parsed.href;
};

/**
 * @param {object} options
 * @param {string} options.issuer authorization server issuer (its metadata is fetched at start)
 * @param {boolean} [options.nonce] demand a nonce this server issued in every proof, default true
 * @param {boolean} [options.bearer] also accept tokens that are not DPoP-bound as Bearer, default false
 * @param {string[]} [options.requiredScopes] default [SCOPE]
 * @param {string} [options.host] default "127.0.0.1"
 * @param {number} [options.port] default 0
 */
export async function start(options) {
  const host = options.host ?? "127.0.0.1";
  const requireNonce = options.nonce ?? true;
  const requiredScopes = options.requiredScopes ?? [SCOPE];
  const metadataResponse = await fetch(`${options.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
  if (!metadataResponse.ok) throw new Error(`authorization server metadata: HTTP ${metadataResponse.status}`);
  const oauthMetadata = await metadataResponse.json();
  const jwks = jose.createRemoteJWKSet(new URL(oauthMetadata.jwks_uri));

  const app = createMcpExpressApp({ host });
  const server = http.createServer(app);
  const origin = `http://${host}:${await listen(server, options.port ?? 0, host)}`;
  const resourceUrl = new URL(`${origin}/mcp`);
  const resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(resourceUrl);

  /** Every HTTP request and what this server decided: never the token or the proof. */
  const requests = [];
  app.use((req, res, next) => {
    const scheme = /^(\S+)\s/.exec(req.headers.authorization ?? "")?.[1];
    const entry = { at: Date.now(), method: req.method, path: req.path, authorized: Boolean(req.headers.authorization), rpc: req.body?.method };
    if (scheme) entry.scheme = scheme;
    entry.proof = req.headers.dpop !== undefined;
    res.locals.entry = entry;
    res.on("finish", () => {
      entry.status = res.statusCode;
      entry.outcome ??= res.statusCode < 400 ? "ok" : "refused";
      requests.push(entry);
    });
    next();
  });

  // RFC 9728, with the RFC 9728 §2 DPoP members: these tokens must be DPoP-bound.
  app.get(new URL(resourceMetadataUrl).pathname, (_req, res) => {
    res.json({
      resource: resourceUrl.href,
      authorization_servers: [oauthMetadata.issuer],
      scopes_supported: requiredScopes,
      bearer_methods_supported: ["header"],
      resource_name: "e2e DPoP MCP server",
      dpop_signing_alg_values_supported: DPOP_ALGS,
      dpop_bound_access_tokens_required: !options.bearer,
    });
  });

  // Nonces this server issued (RFC 9449 §9): the current one, and with a graceful rotation the
  // previous one too, which is still accepted while every answer announces the new one.
  let nonce = randomBytes(16).toString("base64url");
  let previousNonce;
  /** jti → iat of every proof accepted or refused after its signature checked: a replay is refused. */
  const seenJti = new Map();

  const challenge = (error, description) => {
    const parts = [`algs="${DPOP_ALGS.join(" ")}"`, `resource_metadata="${resourceMetadataUrl}"`];
    if (error) parts.push(`error="${error}"`, `error_description="${description}"`);
    const dpop = `DPoP ${parts.join(", ")}`;
    return options.bearer ? `${dpop}, Bearer resource_metadata="${resourceMetadataUrl}"` : dpop;
  };

  async function verifyToken(token) {
    try {
      const { payload } = await jose.jwtVerify(token, jwks, { issuer: oauthMetadata.issuer, audience: resourceUrl.href, typ: "at+jwt" });
      return payload;
    } catch (error) {
      throw new Refusal("invalid_token", `token: ${error?.code ?? "invalid"}`);
    }
  }

  /** RFC 9449 §4.3, in its order; what it returns is the proof key's thumbprint. */
  async function verifyProof(req, token) {
    const proofs = req.headers.dpop;
    if (proofs === undefined) throw new Refusal("invalid_dpop_proof", "no DPoP proof");
    // Node joins repeated headers with ", ", which a compact JWS never contains.
    if (typeof proofs !== "string" || proofs.includes(",")) throw new Refusal("invalid_dpop_proof", "more than one DPoP proof");
    let verified;
    try {
      verified = await jose.jwtVerify(proofs, jose.EmbeddedJWK, { typ: "dpop+jwt", algorithms: DPOP_ALGS });
    } catch (error) {
      throw new Refusal("invalid_dpop_proof", `proof: ${error?.code ?? "invalid"}`);
    }
    const { payload, protectedHeader } = verified;
    if (typeof payload.jti !== "string" || !payload.jti) throw new Refusal("invalid_dpop_proof", "proof: no jti");
    if (seenJti.has(payload.jti)) throw new Refusal("invalid_dpop_proof", "proof: replayed jti");
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.iat !== "number" || Math.abs(now - payload.iat) > IAT_WINDOW_S) throw new Refusal("invalid_dpop_proof", "proof: iat out of window");
    seenJti.set(payload.jti, payload.iat);
    for (const [jti, iat] of seenJti) if (now - iat > IAT_WINDOW_S * 2) seenJti.delete(jti);
    if (payload.htm !== req.method) throw new Refusal("invalid_dpop_proof", "proof: htm mismatch");
    if (typeof payload.htu !== "string" || htuOf(payload.htu) !== htuOf(`${origin}${req.originalUrl}`))
      throw new Refusal("invalid_dpop_proof", "proof: htu mismatch");
    if (payload.ath !== b64sha256(token)) throw new Refusal("invalid_dpop_proof", "proof: ath mismatch");
    if (requireNonce && (typeof payload.nonce !== "string" || (payload.nonce !== nonce && payload.nonce !== previousNonce))) {
      throw new Refusal("use_dpop_nonce", payload.nonce === undefined ? "nonce: missing" : "nonce: stale");
    }
    return { thumbprint: await jose.calculateJwkThumbprint(protectedHeader.jwk, "sha256"), nonce: payload.nonce };
  }

  async function dpopAuth(req, res, next) {
    const entry = res.locals.entry;
    try {
      const match = /^(\S+) +(\S+)$/.exec(req.headers.authorization ?? "");
      if (!match) throw new Refusal(undefined, "no token");
      const [, scheme, token] = match;
      let claims;
      let proof;
      if (scheme.toLowerCase() === "bearer") {
        claims = await verifyToken(token);
        // RFC 9449 §7.2: a bound token is no bearer token.
        if (claims.cnf?.jkt !== undefined) throw new Refusal("invalid_token", "bound token sent as Bearer");
        if (!options.bearer) throw new Refusal("invalid_token", "Bearer tokens are not accepted");
      } else if (scheme.toLowerCase() === "dpop") {
        proof = await verifyProof(req, token);
        claims = await verifyToken(token);
        if (typeof claims.cnf?.jkt !== "string") throw new Refusal("invalid_token", "token not DPoP-bound");
        if (claims.cnf.jkt !== proof.thumbprint) throw new Refusal("invalid_token", "cnf.jkt is not the proof key's thumbprint");
      } else {
        throw new Refusal(undefined, `scheme ${scheme}`);
      }
      const scopes = typeof claims.scope === "string" ? claims.scope.split(" ") : [];
      if (!requiredScopes.every((scope) => scopes.includes(scope))) throw new Refusal("insufficient_scope", "insufficient scope");
      // The new nonce on any answer that did not use it (RFC 9449 §9).
      if (requireNonce && proof && proof.nonce !== nonce) res.setHeader("DPoP-Nonce", nonce);
      req.auth = {
        token,
        clientId: String(claims.client_id ?? claims.sub),
        scopes,
        expiresAt: claims.exp,
        resource: resourceUrl,
        extra: { jkt: claims.cnf?.jkt },
      };
      entry.outcome = "ok";
      next();
    } catch (error) {
      if (!(error instanceof Refusal)) return next(error);
      entry.outcome = error.reason;
      const status = error.error === "insufficient_scope" ? 403 : 401;
      if (error.error === "use_dpop_nonce") res.setHeader("DPoP-Nonce", nonce);
      res.setHeader("WWW-Authenticate", challenge(error.error, error.reason));
      res.status(status).json({ error: error.error ?? "unauthorized", error_description: error.reason });
    }
  }

  const sessions = mountMcp(app, dpopAuth, createMcpServer);

  const close = closer(server);

  return {
    origin,
    /** The MCP endpoint, which is also the resource identifier tokens must carry as `aud`. */
    url: resourceUrl.href,
    resource: resourceUrl.href,
    resourceMetadataUrl,
    issuer: oauthMetadata.issuer,
    scopes: requiredScopes,
    requests,
    /**
     * A new nonce. Abrupt: the old one is refused from now on (use_dpop_nonce). Graceful: the
     * old one is still accepted, and every answer to a proof that carries it announces the new one.
     */
    rotateNonce({ graceful = false } = {}) {
      previousNonce = graceful ? nonce : undefined;
      nonce = randomBytes(16).toString("base64url");
    },
    async close() {
      await Promise.allSettled([...sessions.values()].map((transport) => transport.close()));
      sessions.clear();
      await close();
    },
  };
}
