// A real MCP server: the MCP TypeScript SDK's McpServer over Streamable HTTP (stateful
// sessions), protected by the SDK's bearer-auth middleware. Access tokens are JWTs from the
// authorization server, verified against its JWKS (iss, aud = this server's /mcp URL,
// expiry, scope). Protected resource metadata (RFC 9728) comes from the SDK's
// mcpAuthMetadataRouter, so a client can discover everything from the first 401.
//
//   const mcp = await start({ issuer: as.issuer });
//   as.addResource(mcp.url, { scope: "mcp:tools" });
import { randomUUID } from "node:crypto";
import http from "node:http";
import { InvalidTokenError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import { requireBearerAuth } from "@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js";
import { getOAuthProtectedResourceMetadataUrl, mcpAuthMetadataRouter } from "@modelcontextprotocol/sdk/server/auth/router.js";
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import * as jose from "jose";
import { z } from "zod";
import { closer, listen } from "./listen.mjs";

export const SCOPE = "mcp:tools";

/**
 * The tools every session gets: echo, add, whoami (reads the verified token's claims). With
 * `notifications`, also `notify` (and the logging capability it needs); opt-in because the
 * framework suites assert the exact tool list.
 */
function createMcpServer({ notifications = false } = {}) {
  const server = new McpServer({ name: "e2e-protected-mcp-server", version: "1.0.0" }, notifications ? { capabilities: { logging: {} } } : undefined);
  server.registerTool("echo", { description: "Echoes the text back", inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: "text", text }],
  }));
  server.registerTool("add", { description: "Adds two numbers", inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({
    content: [{ type: "text", text: String(a + b) }],
    structuredContent: { sum: a + b },
  }));
  server.registerTool("whoami", { description: "Who the access token says the caller is" }, async (extra) => {
    const auth = extra.authInfo;
    const who = { clientId: auth?.clientId, scopes: auth?.scopes, resource: auth?.resource?.href, expiresAt: auth?.expiresAt };
    return { content: [{ type: "text", text: JSON.stringify(who) }], structuredContent: who };
  });
  if (notifications) {
    server.registerTool(
      "notify",
      {
        description: "Sends notifications, then answers: a log message and progress on this request's stream, a log message on the session's own stream",
        inputSchema: { text: z.string() },
      },
      async ({ text }, extra) => {
        await extra.sendNotification({ method: "notifications/message", params: { level: "info", logger: "notify", data: `request: ${text}` } });
        const progressToken = extra._meta?.progressToken;
        if (progressToken !== undefined)
          await extra.sendNotification({ method: "notifications/progress", params: { progressToken, progress: 1, total: 1, message: text } });
        // Not tied to the request: it travels on the standalone GET stream, and is dropped when the client holds none open.
        await server.sendLoggingMessage({ level: "info", logger: "notify", data: `standalone: ${text}` });
        return { content: [{ type: "text", text }] };
      },
    );
  }
  return server;
}

/**
 * Streamable HTTP at /mcp behind `auth` (an express middleware): stateful sessions, one McpServer
 * each. Returns the sessions, which `close()` ends. Shared by the loopback MCP servers.
 * @param {import("express").Express} app
 * @param {import("express").RequestHandler} auth
 * @param {() => McpServer} create
 */
export function mountMcp(app, auth, create) {
  const sessions = new Map();
  app.post("/mcp", auth, async (req, res) => {
    const sessionId = req.headers["mcp-session-id"];
    let transport = typeof sessionId === "string" ? sessions.get(sessionId) : undefined;
    if (!transport) {
      if (sessionId || !isInitializeRequest(req.body)) {
        res.status(sessionId ? 404 : 400).json({ jsonrpc: "2.0", error: { code: -32000, message: sessionId ? "Session not found" : "No session" }, id: null });
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => sessions.set(id, transport),
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      await create().connect(transport);
    }
    await transport.handleRequest(req, res, req.body);
  });
  const sessionRequest = async (req, res) => {
    const sessionId = req.headers["mcp-session-id"];
    const transport = typeof sessionId === "string" ? sessions.get(sessionId) : undefined;
    if (!transport) {
      res.status(sessionId ? 404 : 400).send(sessionId ? "Session not found" : "No session");
      return;
    }
    await transport.handleRequest(req, res);
  };
  app.get("/mcp", auth, sessionRequest);
  app.delete("/mcp", auth, sessionRequest);
  return sessions;
}

/**
 * @param {object} options
 * @param {string} options.issuer authorization server issuer (its metadata is fetched at start)
 * @param {string} [options.metadataUrl] where to fetch the AS metadata, default the OIDC path-appended form
 * @param {string} [options.jwksUri] default: the metadata's jwks_uri
 * @param {string[]} [options.requiredScopes] default [SCOPE]
 * @param {string} [options.host] default "127.0.0.1"
 * @param {number} [options.port] default 0
 * @param {boolean} [options.notifications] opt-in: the `notify` tool, which makes the server send notifications
 */
export async function start(options) {
  const host = options.host ?? "127.0.0.1";
  const requiredScopes = options.requiredScopes ?? [SCOPE];
  const metadataResponse = await fetch(options.metadataUrl ?? `${options.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
  if (!metadataResponse.ok) throw new Error(`authorization server metadata: HTTP ${metadataResponse.status}`);
  const oauthMetadata = await metadataResponse.json();
  const jwks = jose.createRemoteJWKSet(new URL(options.jwksUri ?? oauthMetadata.jwks_uri));

  const app = createMcpExpressApp({ host });
  /** Every HTTP request, with the outcome: for tests and the demo. Never the token itself. */
  const requests = [];
  app.use((req, res, next) => {
    const entry = { at: Date.now(), method: req.method, path: req.path, authorized: Boolean(req.headers.authorization), rpc: req.body?.method };
    res.on("finish", () => {
      entry.status = res.statusCode;
      entry.ms = Date.now() - entry.at;
      requests.push(entry);
    });
    next();
  });

  const server = http.createServer(app);
  const origin = `http://${host}:${await listen(server, options.port ?? 0, host)}`;
  const resourceUrl = new URL(`${origin}/mcp`);
  const resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(resourceUrl);

  app.use(mcpAuthMetadataRouter({ oauthMetadata, resourceServerUrl: resourceUrl, scopesSupported: requiredScopes, resourceName: "e2e MCP server" }));

  const verifier = {
    async verifyAccessToken(token) {
      try {
        const { payload } = await jose.jwtVerify(token, jwks, { issuer: oauthMetadata.issuer, audience: resourceUrl.href, typ: "at+jwt" });
        return {
          token,
          clientId: String(payload.client_id ?? payload.sub),
          scopes: typeof payload.scope === "string" ? payload.scope.split(" ") : [],
          expiresAt: payload.exp,
          resource: new URL(Array.isArray(payload.aud) ? payload.aud[0] : payload.aud),
        };
      } catch (error) {
        // Anything wrong with the token is a 401 with a challenge, never a 500.
        throw new InvalidTokenError(error?.code ?? "invalid token");
      }
    },
  };
  const bearer = requireBearerAuth({ verifier, requiredScopes, resourceMetadataUrl, expectedResource: resourceUrl });

  const sessions = mountMcp(app, bearer, () => createMcpServer({ notifications: options.notifications }));

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
    async close() {
      await Promise.allSettled([...sessions.values()].map((transport) => transport.close()));
      sessions.clear();
      await close();
    },
  };
}
