// A node:http server on 127.0.0.1 that plays an OAuth-protected MCP resource and its
// authorization server's metadata, each broken on demand: every path answers what its route
// says (a status, headers, a body), so a test can take the good setup of `standard()` and
// replace the one document or answer it wants wrong. Every request is recorded.
import http from "node:http";
import { closer, listen } from "./listen.mjs";

export const MCP_PATH = "/mcp";
export const PRM_PATH = "/.well-known/oauth-protected-resource/mcp";
export const PRM_ROOT_PATH = "/.well-known/oauth-protected-resource";
export const AS_PATH = "/.well-known/oauth-authorization-server";
export const OIDC_PATH = "/.well-known/openid-configuration";

/** Any answer: `answer(503, { "retry-after": "1" })`. */
export function answer(status, headers = {}, body = "") {
  return { status, headers, body };
}

/** A JSON answer; `body` may be any value (an array, a string), serialized as is. */
export function json(body, status = 200, headers = {}) {
  return { status, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

export function redirect(location, status = 302) {
  return answer(status, { location });
}

/** `Bearer resource_metadata="…"`, as a protected MCP server answers a request without a token. */
export function challenge(origin, extra = "") {
  return answer(401, { "www-authenticate": `Bearer resource_metadata="${origin}${PRM_PATH}"${extra}` }, "");
}

/** Fields set to `undefined` in `changes` are removed. */
function merged(base, changes) {
  const document = { ...base, ...changes };
  for (const [name, value] of Object.entries(document)) if (value === undefined) delete document[name];
  return document;
}

/** Protected resource metadata (RFC 9728) for `origin`/mcp naming `origin` as its issuer. */
export function resourceMetadata(origin, changes = {}) {
  return json(merged({ resource: `${origin}${MCP_PATH}`, authorization_servers: [origin], scopes_supported: ["mcp:tools"] }, changes));
}

/** Authorization server metadata (RFC 8414) for the issuer `origin`. */
export function serverMetadata(origin, changes = {}) {
  return json(
    merged(
      {
        issuer: origin,
        token_endpoint: `${origin}/token`,
        token_endpoint_auth_methods_supported: ["client_secret_basic", "private_key_jwt"],
        token_endpoint_auth_signing_alg_values_supported: ["ES256", "RS256"],
        grant_types_supported: ["client_credentials"],
      },
      changes,
    ),
  );
}

/**
 * A working setup (the 401 challenge, the resource metadata, the authorization server metadata)
 * with `changes` applied: an answer replaces a path's, `undefined` removes the path (a 404).
 */
export function standard(origin, changes = {}) {
  return merged({ [MCP_PATH]: challenge(origin), [PRM_PATH]: resourceMetadata(origin), [AS_PATH]: serverMetadata(origin) }, changes);
}

/**
 * @param {(origin: string) => Record<string, object>} [routes] what each path answers; any other path is a 404.
 *   An answer with `stream: true` is sent chunked (no content-length), so only reading it shows its size.
 */
export async function start(routes = () => ({})) {
  const requests = [];
  let table = {};
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? "/", "http://x");
    requests.push({ method: req.method ?? "", path: pathname, authorization: req.headers.authorization !== undefined });
    // A client that gave up mid-answer (an oversized body) makes later writes fail: nothing to report.
    res.on("error", () => {});
    req.socket.on("error", () => {});
    req.resume();
    req.on("end", () => {
      const route = table[pathname] ?? answer(404, { "content-type": "text/plain" }, "not found");
      const body = route.body ?? "";
      if (route.stream) {
        res.writeHead(route.status, route.headers ?? {});
        res.write(body);
        res.end();
        return;
      }
      res.writeHead(route.status, { "content-length": Buffer.byteLength(body), ...route.headers }).end(body);
    });
  });
  const close = closer(server);
  const port = await listen(server, 0, "127.0.0.1");
  const origin = `http://127.0.0.1:${port}`;
  table = routes(origin);
  return {
    origin,
    url: `${origin}${MCP_PATH}`,
    requests,
    /** Requests to `path`, any method. */
    count: (path) => requests.filter((request) => request.path === path).length,
    close,
  };
}

/** A loopback URL nobody listens on (a port that was just free). */
export async function closedUrl() {
  const server = await start();
  await server.close();
  return server.url;
}
