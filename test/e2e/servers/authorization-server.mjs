// A real OAuth 2.0 authorization server for tests and the demo: oidc-provider 9, mounted
// under a path (issuer http://127.0.0.1:PORT/oidc) in a plain node:http server, with the
// client_credentials grant and RFC 8707 resource indicators issuing JWT access tokens.
//
//   const as = await start({ clients: [...] });
//   as.addResource("http://127.0.0.1:9000/mcp", { scope: "mcp:tools", accessTokenTTL: 300 });
//   … as.issuer, as.jwksUri, as.tokenEndpoint, as.events …
//   await as.close();
//
// Plain ESM (no TypeScript, no loader) so `node demo/index.mjs` can import it.
import { randomBytes } from "node:crypto";
import http from "node:http";
import * as jose from "jose";
import { ASSERTION_STATE, customizeJwt, JWT_BEARER_GRANT, jwtBearerGrant, PARAMETERS } from "./jwt-bearer-grant.mjs";
import { closer, listen } from "./listen.mjs";

/** Algorithms accepted for private_key_jwt client assertions (advertised in the metadata). */
export const CLIENT_AUTH_SIGNING_ALGS = ["ES256", "RS256", "PS256", "EdDSA", "Ed25519"];

let providerModule;
/**
 * oidc-provider 9 warns "Unsupported runtime" on Node 20 when imported; it works (see
 * TOOLCHAIN.md). With `quiet`, that one known line is filtered; every other warning passes.
 */
async function loadProvider(quiet) {
  if (providerModule) return providerModule;
  const warn = console.warn;
  if (quiet) {
    console.warn = (...args) => {
      if (typeof args[0] === "string" && args[0].includes("oidc-provider WARNING: Unsupported runtime")) return;
      warn(...args);
    };
  }
  try {
    providerModule = await import("oidc-provider");
  } finally {
    console.warn = warn;
  }
  return providerModule;
}

/**
 * A small in-memory adapter (oidc-provider's own prints a "development-only" warning at
 * every start). Expiry is honoured, which matters for ReplayDetection (client assertion jti).
 */
function memoryAdapter() {
  const store = new Map();
  const key = (model, id) => `${model}:${id}`;
  const live = (entry) => entry && (entry.expiresAt === undefined || entry.expiresAt > Date.now());
  return class MemoryAdapter {
    constructor(model) {
      this.model = model;
    }
    async upsert(id, payload, expiresIn) {
      store.set(key(this.model, id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    }
    async find(id) {
      const entry = store.get(key(this.model, id));
      if (!live(entry)) return undefined;
      return entry.payload;
    }
    async findByUserCode() {
      return undefined;
    }
    async findByUid() {
      return undefined;
    }
    async consume(id) {
      const entry = store.get(key(this.model, id));
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id) {
      store.delete(key(this.model, id));
    }
    async revokeByGrantId(grantId) {
      for (const [k, entry] of store) if (entry.payload?.grantId === grantId) store.delete(k);
    }
  };
}

/** oidc-provider's `features.dPoP` for the `dpop` option; undefined keeps oidc-provider's default (on, no nonce). */
function dpopFeature(option) {
  if (option === undefined) return undefined;
  if (!option) return { enabled: false };
  const nonce = typeof option === "object" && option.nonce === true;
  // The nonce secret is made per server: nonces are HKDF values of it and the time (60 s steps).
  return nonce ? { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true } : { enabled: true };
}

/** What a jwtBearer-enabled server adds to its events; never the assertion itself. */
function grantDetail(ctx) {
  const grantType = ctx?.oidc?.params?.grant_type;
  const assertion = ctx?.[ASSERTION_STATE];
  return { ...(typeof grantType === "string" ? { grantType } : {}), ...(assertion ? { assertion: { ...assertion } } : {}) };
}

/**
 * Starts the authorization server.
 *
 * @param {object} [options]
 * @param {string} [options.host] default "127.0.0.1"
 * @param {number} [options.port] default 0 (a free port)
 * @param {string} [options.path] mount path = issuer path, default "/oidc" ("" for a root issuer)
 * @param {object[]} [options.clients] oidc-provider client metadata; `grant_types`,
 *   `response_types` and `redirect_uris` default to a client_credentials-only client
 * @param {Record<string, {scope?: string, accessTokenTTL?: number, audience?: string}>} [options.resources]
 *   known resource indicators; more can be added with addResource()
 * @param {string} [options.defaultResource] used when a token request has no `resource`
 * @param {number} [options.accessTokenTTL] default TTL (s) of JWT access tokens, default 300
 * @param {boolean} [options.quiet] filter oidc-provider's Node 20 "Unsupported runtime" warning, default true
 * @param {(line: string) => void} [options.log] gets one line per grant error / server error
 * @param {{ trust?: Array<{ issuer: string, subject?: string }> }} [options.jwtBearer] opt-in: registers the
 *   RFC 7523 §2.1 JWT-bearer grant (see jwt-bearer-grant.mjs), trusting these workload issuers (more with
 *   addTrust()), and the "none" client authentication method for the public clients that use it; events
 *   then also carry `grantType`, and jwt-bearer events `assertion: { iss, sub?, jti?, aud?, verified? }`
 * @param {boolean | { nonce?: boolean, algorithms?: string[] }} [options.dpop] DPoP (RFC 9449) at the token
 *   endpoint. oidc-provider 9 turns `features.dPoP` on by default (its metadata lists
 *   `dpop_signing_alg_values_supported`, a proof gets a bound token), so leaving this out keeps that default;
 *   `false` turns it off (no metadata entry, proofs ignored, Bearer tokens); `true` or an object turns it on,
 *   with `nonce` requiring a server nonce in every proof (a `use_dpop_nonce` 400 with `DPoP-Nonce` first) and
 *   `algorithms` as the proof algorithms accepted and listed
 */
export async function start(options = {}) {
  const host = options.host ?? "127.0.0.1";
  const mountPath = (options.path ?? "/oidc").replace(/\/$/, "");
  const { default: Provider, errors } = await loadProvider(options.quiet ?? true);

  const server = http.createServer();
  const port = await listen(server, options.port ?? 0, host);
  const origin = `http://${host}:${port}`;
  const issuer = `${origin}${mountPath}`;

  // The only signing key: ES256. Access tokens (JWT) and ID tokens are signed with it.
  const { privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
  const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: `as-${port}-es256`, alg: "ES256", use: "sig" };

  const resources = new Map(Object.entries(options.resources ?? {}));
  const defaultTTL = options.accessTokenTTL ?? 300;
  const events = [];
  const log = options.log ?? (() => {});

  const jwtBearer = options.jwtBearer ? { trust: [...(options.jwtBearer.trust ?? [])] } : undefined;
  const dpop = dpopFeature(options.dpop);

  const clients = (options.clients ?? []).map((client) => ({
    grant_types: ["client_credentials"],
    response_types: [],
    redirect_uris: [],
    ...client,
  }));

  async function getResourceServerInfo(_ctx, resourceIndicator) {
    const info = resources.get(resourceIndicator);
    if (!info) throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
    return {
      scope: info.scope ?? "",
      audience: info.audience ?? resourceIndicator,
      accessTokenFormat: "jwt",
      accessTokenTTL: info.accessTokenTTL ?? defaultTTL,
      jwt: { sign: { alg: "ES256" } },
    };
  }

  const provider = new Provider(issuer, {
    adapter: memoryAdapter(),
    clients,
    jwks: { keys: [signingJwk] },
    // With only an EC key, the RS256 default for ID tokens cannot be satisfied.
    clientDefaults: { id_token_signed_response_alg: "ES256", grant_types: ["client_credentials"], response_types: [], redirect_uris: [] },
    // JWT access tokens for a resource take the resource's accessTokenTTL; this covers the rest.
    ttl: { ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? defaultTTL },
    enabledJWA: {
      clientAuthSigningAlgValues: CLIENT_AUTH_SIGNING_ALGS,
      ...(typeof options.dpop === "object" && options.dpop.algorithms ? { dPoPSigningAlgValues: [...options.dpop.algorithms] } : {}),
    },
    clientAuthMethods: ["client_secret_basic", "client_secret_post", "private_key_jwt", ...(jwtBearer ? ["none"] : [])],
    ...(jwtBearer ? { formats: { customizers: { jwt: customizeJwt } } } : {}),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      ...(dpop ? { dPoP: dpop } : {}),
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf ?? options.defaultResource,
        useGrantedResource: async () => true,
        getResourceServerInfo,
      },
    },
  });
  if (jwtBearer) {
    const handler = jwtBearerGrant({
      provider,
      errors,
      trust: () => jwtBearer.trust,
      resourceServerInfo: getResourceServerInfo,
      defaultResource: () => options.defaultResource,
    });
    provider.registerGrantType(JWT_BEARER_GRANT, handler, PARAMETERS, ["resource"]);
  }

  const record = (type, ctx, detail) => {
    const client = ctx?.oidc?.client?.clientId;
    const event = { type, at: Date.now(), ...(client ? { clientId: client } : {}), ...(jwtBearer ? grantDetail(ctx) : {}), ...detail };
    events.push(event);
    return event;
  };
  provider.on("grant.success", (ctx) => record("grant.success", ctx, {}));
  provider.on("grant.error", (ctx, error) => {
    const event = record("grant.error", ctx, {
      error: error.error ?? error.name,
      description: error.error_description,
      detail: error.error_detail ?? error.cause?.message,
    });
    log(`[oidc-provider] grant.error ${event.clientId ?? "-"}: ${event.error} (${event.description ?? ""}${event.detail ? `; ${event.detail}` : ""})`);
  });
  provider.on("server_error", (ctx, error) => {
    record("server_error", ctx, { error: error.message });
    log(`[oidc-provider] server_error: ${error.stack ?? error.message}`);
  });

  // Mounting under a path with plain node:http: strip the prefix and keep originalUrl, which
  // oidc-provider uses to build absolute URLs (token_endpoint, jwks_uri, …) under the mount.
  const callback = provider.callback();
  server.on("request", (req, res) => {
    const url = req.url ?? "/";
    const pathname = url.split("?")[0];
    if (mountPath && pathname !== mountPath && !pathname.startsWith(`${mountPath}/`)) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not_found" }));
      return;
    }
    req.originalUrl = url;
    req.url = url.slice(mountPath.length) || "/";
    if (req.url.startsWith("?")) req.url = `/${req.url}`;
    callback(req, res);
  });

  const close = closer(server);

  return {
    ...(jwtBearer
      ? {
          /** Trusts one more workload issuer (optionally only for one subject) for the JWT-bearer grant. */
          addTrust(entry) {
            jwtBearer.trust.push({ ...entry });
          },
        }
      : {}),
    origin,
    url: issuer,
    issuer,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    tokenEndpoint: `${issuer}/token`,
    jwksUri: `${issuer}/jwks`,
    /** The public half of the access-token signing key. */
    publicJwk: { kty: signingJwk.kty, crv: signingJwk.crv, x: signingJwk.x, y: signingJwk.y, kid: signingJwk.kid, alg: "ES256", use: "sig" },
    provider,
    /** grant.success / grant.error / server_error, in order. */
    events,
    addResource(resource, info = {}) {
      resources.set(resource, info);
    },
    async close() {
      await close();
    },
  };
}
