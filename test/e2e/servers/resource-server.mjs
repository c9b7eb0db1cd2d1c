// A minimal OAuth-protected resource on node:http: validates JWT access tokens against the
// authorization server's JWKS (jose createRemoteJWKSet over loopback, checking `iss` and
// `aud` = the resource), serves RFC 9728 protected resource metadata at
// /.well-known/oauth-protected-resource/<path>, and answers 401 with
// `WWW-Authenticate: Bearer resource_metadata="…"`.
import http from "node:http";
import * as jose from "jose";
import { closer, listen } from "./listen.mjs";

/**
 * @param {object} options
 * @param {string} options.issuer the authorization server issuer listed in the metadata and checked in tokens
 * @param {string} [options.jwksUri] default `${issuer}/jwks`
 * @param {string[]} [options.paths] protected paths, default ["/mcp"]; each is its own resource
 * @param {string[]} [options.scopesSupported] listed in the metadata
 * @param {string} [options.host] default "127.0.0.1"
 * @param {number} [options.port] default 0
 */
export async function start(options) {
  const host = options.host ?? "127.0.0.1";
  const paths = options.paths ?? ["/mcp"];
  const jwks = jose.createRemoteJWKSet(new URL(options.jwksUri ?? `${options.issuer}/jwks`));
  /** Every request to a protected path: what token came with it and what the resource decided. */
  const requests = [];

  const server = http.createServer(async (req, res) => {
    const { pathname } = new URL(req.url ?? "/", "http://x");
    const json = (status, body, headers = {}) => res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));

    const metadataFor = paths.find((p) => pathname === `/.well-known/oauth-protected-resource${p}`);
    if (metadataFor && req.method === "GET") {
      return json(200, {
        resource: `${origin}${metadataFor}`,
        authorization_servers: [options.issuer],
        bearer_methods_supported: ["header"],
        ...(options.scopesSupported ? { scopes_supported: options.scopesSupported } : {}),
      });
    }
    const protectedPath = paths.find((p) => pathname === p || pathname.startsWith(`${p}/`));
    if (!protectedPath) return json(404, { error: "not_found" });

    const resource = `${origin}${protectedPath}`;
    const challenge = (error) =>
      `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource${protectedPath}"${error ? `, error="${error}"` : ""}`;
    const at = Date.now();
    const authorization = req.headers.authorization ?? "";
    const token = /^Bearer (\S+)$/i.exec(authorization)?.[1];
    if (!token) {
      requests.push({ at, path: pathname, token: false, status: 401 });
      return json(401, { error: "unauthorized" }, { "www-authenticate": challenge() });
    }
    let claims;
    try {
      claims = jose.decodeJwt(token);
    } catch {
      claims = {};
    }
    try {
      const { payload } = await jose.jwtVerify(token, jwks, { issuer: options.issuer, audience: resource, typ: "at+jwt" });
      requests.push({ at, path: pathname, token: true, jti: payload.jti, exp: payload.exp, status: 200 });
      return json(200, {
        ok: true,
        path: pathname,
        method: req.method,
        client_id: payload.client_id,
        aud: payload.aud,
        iss: payload.iss,
        scope: payload.scope,
        exp: payload.exp,
      });
    } catch (error) {
      requests.push({ at, path: pathname, token: true, jti: claims.jti, exp: claims.exp, status: 401, reason: error.code ?? error.message });
      return json(401, { error: "invalid_token", reason: error.code }, { "www-authenticate": challenge("invalid_token") });
    }
  });
  const port = await listen(server, options.port ?? 0, host);
  const origin = `http://${host}:${port}`;
  const close = closer(server);

  return {
    origin,
    url: `${origin}${paths[0]}`,
    urlFor: (path) => `${origin}${path}`,
    resourceMetadataUrl: `${origin}/.well-known/oauth-protected-resource${paths[0]}`,
    requests,
    async close() {
      await close();
    },
  };
}
