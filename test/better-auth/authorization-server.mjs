// better-auth 1.7 with its oauth-provider and jwt plugins as a real OAuth authorization server on
// 127.0.0.1, served by node:http. Database: node:sqlite in memory (Node 22), one per server, so
// tests never share clients or keys. Everything under `basePath` goes to `auth.handler`;
// the RFC 8414 metadata that `basePath` moves off the root is mounted where clients look for
// it, with the plugin's own `oauthProviderAuthServerMetadata(auth)`.
//
//   const as = await start();
//   await as.addResource(mcpUrl);
//   const { clientId, clientSecret } = await as.registerClient({ method: "client_secret_basic", resource: mcpUrl });
import { randomBytes } from "node:crypto";
import http from "node:http";
import { DatabaseSync } from "node:sqlite";
import { oauthProvider, oauthProviderAuthServerMetadata } from "@better-auth/oauth-provider";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { jwt } from "better-auth/plugins";
import { decodeJwt } from "jose";
import { closer, listen } from "../e2e/servers/listen.mjs";

export const SCOPE = "mcp:tools";
export const BASE_PATH = "/api/auth";
const ADMIN_EMAIL = "admin@e2e.test";

/**
 * @param {object} [options]
 * @param {(origin: string) => string} [options.issuer] the issuer to configure, from the origin; default origin + basePath
 * @param {string[]} [options.grantTypes] the grants better-auth allows, default all it has
 * @param {string[]} [options.scopes] default [SCOPE]; with "openid" better-auth also serves {basePath}/.well-known/openid-configuration
 * @param {boolean} [options.mountMetadata] serve the metadata at the RFC 8414 path-inserted URL, default true
 * @param {boolean} [options.rootMetadata] also serve the metadata at the root well-known URL (a common misconfiguration)
 */
export async function start(options = {}) {
  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      // Never echo the request: it may carry a client secret.
      console.error(`authorization server: ${error?.name ?? "Error"} on ${req.method} ${req.url}`);
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "server_error" }));
    });
  });
  const origin = `http://127.0.0.1:${await listen(server, 0, "127.0.0.1")}`;
  const close = closer(server);
  const baseURL = `${origin}${BASE_PATH}`;
  let setup;
  try {
    setup = await createAuth(origin, options);
  } catch (error) {
    await close();
    throw error;
  }
  const { auth, database, issuer, admin } = setup;
  const metadata = oauthProviderAuthServerMetadata(auth);
  const metadataPaths = new Set([
    ...(options.mountMetadata === false ? [] : [`/.well-known/oauth-authorization-server${BASE_PATH}`]),
    ...(options.rootMetadata ? ["/.well-known/oauth-authorization-server"] : []),
  ]);

  /** One entry per token request: how the client authenticated and what the AS answered. Never a credential. */
  const tokenRequests = [];

  async function handle(req, res) {
    const url = new URL(req.url ?? "/", origin);
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await readBody(req);
    const request = new Request(url, { method: req.method, headers: headersOf(req), body });
    let response;
    if (req.method === "GET" && metadataPaths.has(url.pathname)) response = await metadata(request);
    else if (url.pathname.startsWith(`${BASE_PATH}/`)) response = await auth.handler(request);
    else response = Response.json({ error: "not_found" }, { status: 404 });

    if (url.pathname === `${BASE_PATH}/oauth2/token` && req.method === "POST") {
      const form = new URLSearchParams(body?.toString() ?? "");
      const answer = await response
        .clone()
        .json()
        .catch(() => ({}));
      tokenRequests.push({
        authMethod: authMethodOf(req.headers.authorization, form),
        clientId: clientIdOf(req.headers.authorization, form),
        grantType: form.get("grant_type"),
        resource: form.get("resource"),
        scope: form.get("scope"),
        status: response.status,
        error: answer.error,
        errorDescription: answer.error_description,
      });
    }
    const headers = Object.fromEntries([...response.headers].filter(([name]) => name !== "set-cookie"));
    const cookies = response.headers.getSetCookie();
    res.writeHead(response.status, cookies.length > 0 ? { ...headers, "set-cookie": cookies } : headers);
    res.end(Buffer.from(await response.arrayBuffer()));
  }

  return {
    origin,
    /** better-auth's base URL: origin + basePath, where its endpoints live. */
    baseURL,
    issuer,
    tokenRequests,
    auth,
    /** Makes `identifier` (the MCP server's URL) an RFC 8707 resource: tokens for it are JWTs with that `aud`. */
    async addResource(identifier) {
      await auth.api.adminCreateOAuthResource({ body: { identifier, name: "e2e MCP server" }, headers: admin });
    },
    /**
     * Registers a confidential client allowed the client_credentials grant for SCOPE, linked to `resource`.
     * @param {{ method: "client_secret_basic" | "client_secret_post" | "private_key_jwt", resource: string, jwks?: { keys: object[] } }} client
     */
    async registerClient({ method, resource, jwks }) {
      const created = await createMachineClient(auth, admin, { method, resource, jwks });
      return { clientId: created.client_id, clientSecret: created.client_secret };
    },
    async close() {
      await close();
      database.close();
    },
  };
}

/** A confidential client allowed the client_credentials grant, created in an admin's session (`admin`: its headers). */
async function createMachineClient(auth, admin, { method, resource, jwks }) {
  const created = await auth.api.adminCreateOAuthClient({
    body: {
      client_name: `machine client (${method})`,
      token_endpoint_auth_method: method, // private_key_jwt: with jwks = { keys: [publicJwk] }
      grant_types: ["client_credentials"],
      response_types: [],
      client_credentials_scopes: [SCOPE],
      ...(jwks ? { jwks } : {}),
    },
    headers: admin,
  });
  // enforcePerClientResources (on by default): a client gets tokens only for resources it is linked to.
  await auth.api.adminLinkClientResource({ params: { identifier: resource, client_id: created.client_id }, headers: admin });
  return created;
}

/** better-auth on a fresh in-memory SQLite database, and the headers of an admin session. */
async function createAuth(origin, options) {
  const issuer = options.issuer?.(origin) ?? `${origin}${BASE_PATH}`;

  const config = {
    baseURL: origin,
    basePath: BASE_PATH,
    secret: randomBytes(32).toString("base64url"),
    telemetry: { enabled: false },
    logger: { level: "error" },
    // Only for the admin who registers clients: creating a client_credentials client needs a session.
    emailAndPassword: { enabled: true },
    plugins: [
      // The access tokens' `iss` and the metadata's `issuer` both come from here.
      jwt({ jwt: { issuer } }),
      oauthProvider({
        loginPage: "/login",
        consentPage: "/consent",
        scopes: options.scopes ?? [SCOPE],
        ...(options.grantTypes ? { grantTypes: options.grantTypes } : {}),
        // Without clientPrivileges nobody may give a client client_credentials scopes.
        clientPrivileges: ({ user }) => user?.email === ADMIN_EMAIL,
        resourcePrivileges: ({ user }) => user?.email === ADMIN_EMAIL,
      }),
    ],
  };
  // A real SQL database: the memory adapter has no unique keys, so its replay check of client assertion jti never fires.
  const database = new DatabaseSync(":memory:");
  await (await getMigrations({ ...config, database })).runMigrations();
  const auth = betterAuth({ ...config, database });
  // The admin session the admin endpoints (create client, resource, link) check clientPrivileges/resourcePrivileges against.
  const signUp = await auth.api.signUpEmail({
    body: { email: ADMIN_EMAIL, password: randomBytes(24).toString("base64url"), name: "e2e admin" },
    returnHeaders: true,
  });
  const admin = new Headers({
    cookie: signUp.headers
      .getSetCookie()
      .map((cookie) => cookie.split(";")[0])
      .join("; "),
  });

  return { auth, database, issuer, admin };
}

function authMethodOf(authorization, form) {
  if (/^basic /i.test(authorization ?? "")) return "client_secret_basic";
  if (form.has("client_assertion")) return "private_key_jwt";
  if (form.has("client_secret")) return "client_secret_post";
  return "none";
}

/** Only the identifier: the secret half of a Basic header is dropped here. */
function clientIdOf(authorization, form) {
  const basic = /^basic (\S+)$/i.exec(authorization ?? "")?.[1];
  if (basic) return decodeURIComponent(Buffer.from(basic, "base64").toString("utf8").split(":")[0].replace(/\+/g, " "));
  if (form.has("client_id")) return form.get("client_id");
  const assertion = form.get("client_assertion");
  try {
    return assertion ? decodeJwt(assertion).sub : undefined;
  } catch {
    return undefined;
  }
}

function headersOf(req) {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  return headers;
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}
