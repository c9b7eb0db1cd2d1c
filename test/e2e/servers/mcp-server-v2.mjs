// A real MCP server on the MCP TypeScript SDK v2 (@modelcontextprotocol/server 2.4):
// createMcpHandler (2026-07-28 per-request serving, with the stateless 2025 fallback) behind
// the SDK's web-standard requireBearerAuth gate, and protected resource metadata (RFC 9728)
// from oauthMetadataResponse, so a client discovers everything from the first 401. Access
// tokens are JWTs from the authorization server, verified against its JWKS (iss, aud = this
// server's /mcp URL, expiry, scope). Plain node:http: the SDK's Node adapter package is not
// needed for a fetch-shaped handler.
//
//   const mcp = await start({ issuer: as.issuer });
//   as.addResource(mcp.url, { scope: "mcp:tools" });
import http from "node:http";
import {
  createMcpHandler,
  getOAuthProtectedResourceMetadataUrl,
  McpServer,
  OAuthError,
  OAuthErrorCode,
  oauthMetadataResponse,
  requireBearerAuth,
} from "@modelcontextprotocol/server";
import * as jose from "jose";
import { z } from "zod";
import { closer, listen } from "./listen.mjs";

export const SCOPE = "mcp:tools";

/** One McpServer per request (createMcpHandler's model); `era` says which path served it. */
function createMcpServer({ era, authInfo }) {
  const server = new McpServer({ name: "e2e-protected-mcp-server-v2", version: "2.0.0" });
  server.registerTool("echo", { description: "Echoes the text back", inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({
    content: [{ type: "text", text }],
  }));
  server.registerTool("add", { description: "Adds two numbers", inputSchema: z.object({ a: z.number(), b: z.number() }) }, async ({ a, b }) => ({
    content: [{ type: "text", text: String(a + b) }],
    structuredContent: { sum: a + b },
  }));
  server.registerTool("whoami", { description: "Who the access token says the caller is" }, async () => {
    const who = { clientId: authInfo?.clientId, scopes: authInfo?.scopes, resource: authInfo?.resource?.href, era };
    return { content: [{ type: "text", text: JSON.stringify(who) }], structuredContent: who };
  });
  return server;
}

/** node:http request → web Request (body buffered: MCP POST bodies are small JSON). */
async function toRequest(req, origin) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  const body = chunks.length > 0 && req.method !== "GET" && req.method !== "HEAD" ? Buffer.concat(chunks) : undefined;
  return new Request(new URL(req.url ?? "/", origin), { method: req.method, headers, body });
}

/** web Response → node:http response, streaming (SSE answers stay open until the handler ends them). */
async function send(response, res) {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body) return void res.end();
  const reader = response.body.getReader();
  res.on("close", () => reader.cancel().catch(() => {}));
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    res.write(value);
  }
  res.end();
}

/** The JSON-RPC method(s) of a POST body, for the request log. */
async function rpcOf(request) {
  if (request.method !== "POST") return undefined;
  try {
    const body = await request.clone().json();
    return Array.isArray(body) ? body.map((m) => m.method).join(",") : body.method;
  } catch {
    return undefined;
  }
}

/**
 * @param {object} options
 * @param {string} options.issuer authorization server issuer (its metadata is fetched at start)
 * @param {string} [options.metadataUrl] default the OIDC path-appended form
 * @param {string[]} [options.requiredScopes] default [SCOPE]
 * @param {"stateless" | "reject"} [options.legacy] createMcpHandler's 2025-era posture, default "stateless"
 */
export async function start(options) {
  const host = "127.0.0.1";
  const requiredScopes = options.requiredScopes ?? [SCOPE];
  const metadataResponse = await fetch(options.metadataUrl ?? `${options.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
  if (!metadataResponse.ok) throw new Error(`authorization server metadata: HTTP ${metadataResponse.status}`);
  const oauthMetadata = await metadataResponse.json();
  const jwks = jose.createRemoteJWKSet(new URL(oauthMetadata.jwks_uri));

  /** Every HTTP request, with the outcome; never the token itself. */
  const requests = [];
  /** jti of every token this server accepted, and those it now refuses (revokeSeenTokens). */
  const seen = new Set();
  const revoked = new Set();

  const server = http.createServer();
  const origin = `http://${host}:${await listen(server, 0, host)}`;
  const resourceUrl = new URL(`${origin}/mcp`);
  const resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(resourceUrl);
  const metadataOptions = { oauthMetadata, resourceServerUrl: resourceUrl, scopesSupported: requiredScopes, resourceName: "e2e MCP server (SDK v2)" };

  const verifier = {
    async verifyAccessToken(token) {
      let payload;
      try {
        ({ payload } = await jose.jwtVerify(token, jwks, { issuer: oauthMetadata.issuer, audience: resourceUrl.href, typ: "at+jwt" }));
      } catch (error) {
        // Anything wrong with the token is a 401 with a challenge, never a 500.
        throw new OAuthError(OAuthErrorCode.InvalidToken, error?.code ?? "invalid token");
      }
      if (revoked.has(payload.jti)) throw new OAuthError(OAuthErrorCode.InvalidToken, "token revoked");
      seen.add(payload.jti);
      return {
        token,
        clientId: String(payload.client_id ?? payload.sub),
        scopes: typeof payload.scope === "string" ? payload.scope.split(" ") : [],
        expiresAt: payload.exp,
        resource: new URL(Array.isArray(payload.aud) ? payload.aud[0] : payload.aud),
      };
    },
  };
  const gate = requireBearerAuth({ verifier, requiredScopes, resourceMetadataUrl, expectedResource: resourceUrl });
  const handler = createMcpHandler(createMcpServer, { legacy: options.legacy ?? "stateless" });

  async function serve(request) {
    const metadata = oauthMetadataResponse(request, metadataOptions);
    if (metadata) return metadata;
    if (new URL(request.url).pathname !== "/mcp") return new Response("not found", { status: 404 });
    const auth = await gate(request);
    if (auth instanceof Response) return auth;
    return handler.fetch(request, { authInfo: auth });
  }

  server.on("request", async (req, res) => {
    const request = await toRequest(req, origin);
    const entry = {
      method: request.method,
      path: new URL(request.url).pathname,
      authorized: request.headers.has("authorization"),
      protocolVersion: request.headers.get("mcp-protocol-version") ?? undefined,
      rpc: await rpcOf(request),
    };
    try {
      const response = await serve(request);
      entry.status = response.status;
      requests.push(entry);
      await send(response, res);
    } catch (error) {
      entry.status = 500;
      requests.push(entry);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error?.message ?? error));
    }
  });

  const close = closer(server);
  return {
    origin,
    url: resourceUrl.href,
    resource: resourceUrl.href,
    resourceMetadataUrl,
    issuer: oauthMetadata.issuer,
    scopes: requiredScopes,
    requests,
    /** From now on, refuse (401 invalid_token) every token accepted so far: a server-side revocation. */
    revokeSeenTokens() {
      for (const jti of seen) revoked.add(jti);
      return seen.size;
    },
    async close() {
      await handler.close();
      await close();
    },
  };
}
