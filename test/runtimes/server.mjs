// Loopback authorization server + protected resource for the portable suite.
//
// Serves the MSW kit (dist/msw) over real HTTP with node:http: every IncomingMessage becomes a
// WHATWG Request answered by `getResponse(mock.handlers, request)`. Each test creates its own
// "tenant" (one createMcpAuthMock instance) through the control API, so runtimes can run at
// the same time without seeing each other's requests:
//
//   issuer    http://127.0.0.1:PORT/t/<id>/auth   (an issuer with a path: path-aware discovery)
//   resource  http://127.0.0.1:PORT/t/<id>/mcp
//
// Control API (JSON, CORS-enabled like everything else):
//   POST /__control/tenants               { clients, options?, workload?, dpop? } → { id, issuer, resource, tokenEndpoint, resourceMetadataUrl }
//   GET  /__control/tenants/<id>/counts   → { token, resourceMetadata, authorizationServerMetadata, resource, resourceAuthorized,
//                                             resourceUnauthorized, resourceTokens, resourceDpop, tokenRequests: [...], tokens: [...] }
//   POST /__control/tenants/<id>/revoke   revoke every token issued so far
//   POST /__control/tenants/<id>/reset    forget requests, tokens, revocations, faults
//   POST /__control/tenants/<id>/fault    { endpoint, fault, times? } → mock.fault(...)
//   DELETE /__control/tenants/<id>
//   GET  /__control/health
//
// `workload: { jwk, iss, sub?, scopes? }` (the RFC 7523 §2.1 JWT-bearer grant, SEP-1933) is the kit's
// `workloads: [{ issuer: iss, jwks: [jwk], subject: sub, scopes }]`: it verifies `assertion` (signature,
// iss, sub, aud = the issuer, exp), else 400 invalid_grant, and issues to `client_id`, else to the `sub`.
//
// `dpop: true | { required?, requireNonce?, algorithms? }` (RFC 9449) is the kit's `dpop` option: the
// token endpoint verifies proofs and binds tokens to the proof's key, the resource verifies proofs
// (ath, htm, htu, jti, iat) and, with `requireNonce`, each of them demands its own nonce. The counts
// report what the kit made of each proof (ok, error, jti, jkt, and the header's alg), never the proof.
//
// A second listener on another port (another origin) is the "echo" server: it answers every
// request with the Authorization header it received, so the suite can check that tokens never
// leave their resource. `/echo/challenge?prm=<url>` answers 401 with a Bearer challenge that
// points at someone else's protected resource metadata.
//
// Run standalone: `node test/runtimes/server.mjs` prints the two URLs and serves until killed.

import http from "node:http";
import { fileURLToPath } from "node:url";
import { getResponse } from "msw";
import { createMcpAuthMock } from "../../dist/msw/index.js";

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
  // DPoP (RFC 9449): a browser sends the proof header only if the preflight allows it, and lets
  // the client read the server's nonce only if it is exposed.
  "access-control-allow-headers": "authorization, content-type, accept, mcp-session-id, mcp-protocol-version, x-test, dpop",
  "access-control-expose-headers": "www-authenticate, retry-after, location, mcp-session-id, dpop-nonce",
  "access-control-max-age": "600",
};

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function toRequest(req, body, origin) {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD" && body.length > 0;
  return new Request(new URL(req.url ?? "/", origin), { method, headers, ...(hasBody ? { body } : {}) });
}

async function writeResponse(res, response) {
  if (response.type === "error") {
    // msw's network-error fault: drop the connection, as a real network failure would.
    res.socket?.destroy();
    return;
  }
  const headers = { ...CORS };
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const body = Buffer.from(await response.arrayBuffer());
  delete headers["content-length"];
  delete headers["transfer-encoding"];
  delete headers["content-encoding"];
  headers["content-length"] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(body);
}

function json(res, status, value, extra = {}) {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { ...CORS, "content-type": "application/json", "content-length": String(body.length), "cache-control": "no-store", ...extra });
  res.end(body);
}

/** Which tenant a URL belongs to: `/t/<id>/…` anywhere in the path (also after a /.well-known/ prefix). */
const TENANT_IN_PATH = /\/t\/([A-Za-z0-9_-]+)(?:\/|$)/;

function decodeSegment(segment) {
  try {
    return JSON.parse(new TextDecoder().decode(Buffer.from(segment, "base64url")));
  } catch {
    return undefined;
  }
}

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

function toMockWorkload({ jwk, iss, sub, scopes }) {
  if (typeof iss !== "string" || typeof jwk !== "object" || jwk === null) throw new TypeError("workload needs { jwk, iss, sub? }");
  return { issuer: iss, jwks: [jwk], subject: sub, scopes };
}

const DPOP_OPTIONS = ["required", "requireNonce", "algorithms"];

/** `dpop` as the kit takes it; an unknown member is a typo in a test, not something to ignore. */
function toMockDpop(dpop) {
  if (typeof dpop === "boolean") return dpop;
  const unknown = typeof dpop === "object" && dpop !== null ? Object.keys(dpop).filter((key) => !DPOP_OPTIONS.includes(key)) : ["(not an object)"];
  if (unknown.length > 0) throw new TypeError(`dpop must be a boolean or { ${DPOP_OPTIONS.join(", ")} }; got ${unknown.join(", ")}`);
  return dpop;
}

/**
 * What the kit made of a request's DPoP proof (null: no proof, or DPoP off at the tenant), plus the
 * alg its header claims, read unverified. Never the proof itself: it is a credential for a minute.
 */
function dpopOf(request) {
  const proof = request.headers.dpop;
  if (typeof proof !== "string") return null;
  const { ok, error, description, jti, jkt } = request.dpop ?? { ok: false, error: "not checked (DPoP off)" };
  return {
    ok,
    error: error ?? null,
    description: description ?? null,
    jti: jti ?? null,
    jkt: jkt ?? null,
    alg: decodeSegment(proof.split(".", 1)[0])?.alg ?? null,
  };
}

/** Per tenant: how many resource requests were answered 401 (the kit records requests, not answers). */
const unauthorizedAnswers = new WeakMap();

/** Whether `path` is the tenant's resource or below it. */
function isResourcePath(mock, path) {
  const resource = new URL(mock.resource).pathname;
  return path === resource || path.startsWith(`${resource}/`);
}

/**
 * What the suite may assert on, per tenant: request counts and how each token request authenticated.
 * `resourceUnauthorized`: resource requests answered 401. `resourceTokens`: per resource request, in
 * arrival order, the index in `tokens` of the token it carried as Bearer or DPoP (null: none, or not one issued here).
 */
function counts(mock) {
  const issued = mock.tokens.map((token) => token.accessToken);
  const tokenRequests = mock.requestsTo("token").map((request) => {
    const params = new URLSearchParams(request.body);
    const grantType = params.get("grant_type");
    // Unverified claims of what the request carried: the platform JWT for the JWT-bearer grant, else the client assertion.
    const assertion = params.get(grantType === JWT_BEARER ? "assertion" : "client_assertion");
    const [header, payload] = assertion ? assertion.split(".", 2).map(decodeSegment) : [];
    return {
      grantType,
      basic: typeof request.headers.authorization === "string" && /^basic /i.test(request.headers.authorization),
      clientSecretInBody: params.has("client_secret"),
      clientAssertion: params.has("client_assertion"),
      clientId: params.get("client_id"),
      assertionAlg: header?.alg ?? null,
      assertionAud: payload?.aud ?? null,
      resource: params.get("resource"),
      scope: params.get("scope"),
      dpop: dpopOf(request),
    };
  });
  return {
    token: tokenRequests.length,
    resourceMetadata: mock.requestsTo("resource-metadata").length,
    authorizationServerMetadata: mock.requestsTo("authorization-server-metadata").length,
    resource: mock.requestsTo("resource").length,
    resourceAuthorized: mock.requestsTo("resource").filter((r) => typeof r.headers.authorization === "string").length,
    resourceUnauthorized: unauthorizedAnswers.get(mock) ?? 0,
    resourceTokens: mock.requestsTo("resource").map(({ headers }) => {
      const index = issued.indexOf(/^(?:bearer|dpop) +(\S+)/i.exec(headers.authorization ?? "")?.[1]);
      return index === -1 ? null : index;
    }),
    // Per resource request: its Authorization scheme (null: none) and what the kit made of its proof.
    resourceDpop: mock.requestsTo("resource").map((request) => ({
      scheme: /^(\S+) /.exec(request.headers.authorization ?? "")?.[1].toLowerCase() ?? null,
      proof: dpopOf(request),
    })),
    tokenRequests,
    tokens: mock.tokens.map(({ clientId, authMethod, grantType, scope, resource, jkt }) => ({
      clientId,
      authMethod,
      grantType,
      scope,
      resource: resource ?? null,
      jkt: jkt ?? null,
    })),
  };
}

/**
 * Starts the loopback servers. `port`/`echoPort` 0 (default) picks free ports.
 * @returns {{ baseUrl: string, echoUrl: string, tenants: Map<string, object>, close(): Promise<void> }}
 */
export async function startServer({ host = "127.0.0.1", port = 0, echoPort = 0, log = () => {} } = {}) {
  const tenants = new Map();
  let nextId = 1;
  let baseUrl = "";

  async function control(req, res, path, body) {
    if (req.method === "GET" && path === "/__control/health") return json(res, 200, { ok: true, tenants: tenants.size });
    if (req.method === "POST" && path === "/__control/tenants") {
      let spec;
      try {
        spec = JSON.parse(body.toString("utf8") || "{}");
      } catch {
        return json(res, 400, { error: "body must be JSON" });
      }
      const id = `${(nextId++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
      try {
        const mock = createMcpAuthMock({
          ...spec.options,
          ...(spec.workload ? { workloads: [toMockWorkload(spec.workload)] } : {}),
          ...(spec.dpop !== undefined ? { dpop: toMockDpop(spec.dpop) } : {}),
          clients: spec.clients ?? [],
          issuer: `${baseUrl}/t/${id}/auth`,
          resource: `${baseUrl}/t/${id}/mcp`,
        });
        tenants.set(id, mock);
        return json(res, 201, {
          id,
          issuer: mock.issuer,
          resource: mock.resource,
          tokenEndpoint: mock.tokenEndpoint,
          resourceMetadataUrl: mock.resourceMetadataUrl,
        });
      } catch (error) {
        return json(res, 400, { error: String(error?.message ?? error) });
      }
    }
    const match = /^\/__control\/tenants\/([A-Za-z0-9_-]+)(?:\/([a-z]+))?$/.exec(path);
    const mock = match ? tenants.get(match[1]) : undefined;
    if (!match || !mock) return json(res, 404, { error: "no such control route or tenant", path });
    const action = match[2];
    if (req.method === "GET" && action === "counts") return json(res, 200, counts(mock));
    if (req.method === "POST" && action === "revoke") {
      mock.revoke();
      return json(res, 200, { ok: true });
    }
    if (req.method === "POST" && action === "reset") {
      mock.reset();
      unauthorizedAnswers.delete(mock);
      return json(res, 200, { ok: true });
    }
    if (req.method === "POST" && action === "fault") {
      const { endpoint, fault, times } = JSON.parse(body.toString("utf8"));
      mock.fault(endpoint, fault, times ?? 1);
      return json(res, 200, { ok: true });
    }
    if (req.method === "DELETE" && action === undefined) {
      tenants.delete(match[1]);
      return json(res, 200, { ok: true });
    }
    return json(res, 404, { error: "no such control route", path });
  }

  const main = http.createServer(async (req, res) => {
    try {
      if (req.method === "OPTIONS") {
        res.writeHead(204, CORS);
        return res.end();
      }
      const body = await readBody(req);
      const path = new URL(req.url ?? "/", baseUrl).pathname;
      if (path.startsWith("/__control/")) return await control(req, res, path, body);
      const id = TENANT_IN_PATH.exec(path)?.[1];
      const mock = id ? tenants.get(id) : undefined;
      const response = mock ? await getResponse(mock.handlers, toRequest(req, body, baseUrl)) : undefined;
      if (response?.status === 401 && isResourcePath(mock, path)) unauthorizedAnswers.set(mock, (unauthorizedAnswers.get(mock) ?? 0) + 1);
      // Unknown paths: 404 reporting the Authorization header that came with it (origin guard tests).
      if (!response) return json(res, 404, { error: "not found", path, authorization: req.headers.authorization ?? null });
      await writeResponse(res, response);
    } catch (error) {
      log(`server error: ${error?.stack ?? error}`);
      if (!res.headersSent) json(res, 500, { error: String(error?.message ?? error) });
      else res.destroy();
    }
  });

  const echo = http.createServer(async (req, res) => {
    if (req.method === "OPTIONS") {
      res.writeHead(204, CORS);
      return res.end();
    }
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", "http://echo");
    const seen = { path: url.pathname, method: req.method, authorization: req.headers.authorization ?? null, body: body.toString("utf8") };
    if (url.pathname === "/echo/challenge") {
      const prm = url.searchParams.get("prm") ?? "";
      return json(res, 401, seen, { "www-authenticate": `Bearer resource_metadata="${prm}"` });
    }
    return json(res, 200, seen);
  });

  const listen = (server, p) =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(p, host, () => resolve(server.address().port));
    });
  const mainPort = await listen(main, port);
  const otherPort = await listen(echo, echoPort);
  baseUrl = `http://${host}:${mainPort}`;
  const echoUrl = `http://${host}:${otherPort}`;
  for (const server of [main, echo]) server.keepAliveTimeout = 1000;

  return {
    baseUrl,
    echoUrl,
    tenants,
    close: () =>
      Promise.all(
        [main, echo].map(
          (server) =>
            new Promise((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections?.();
            }),
        ),
      ).then(() => undefined),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const port = Number(process.env.PORT ?? 0);
  const server = await startServer({ port, echoPort: port ? port + 1 : 0, log: console.error });
  console.log(JSON.stringify({ baseUrl: server.baseUrl, echoUrl: server.echoUrl }));
  const stop = () => server.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
