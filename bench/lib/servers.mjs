// Loopback authorization server + MCP-like protected resource for the side-by-side benchmarks.
//
// Two node:http servers (two origins, as in production: the resource names its authorization
// server in RFC 9728 metadata), sharing one in-memory table of issued tokens:
//
//   authorization server  http://127.0.0.1:A        issuer
//     GET  /.well-known/oauth-authorization-server    RFC 8414 metadata
//     POST /token                                      client_credentials (client_secret_basic or _post)
//     GET  /authorize                                  400: listed only because the MCP SDK v2 requires it
//   resource              http://127.0.0.1:R/mcp
//     GET  /.well-known/oauth-protected-resource/mcp   RFC 9728 metadata
//     *    /mcp                                        200 JSON-RPC result with a valid token, else 401 +
//                                                      WWW-Authenticate: Bearer resource_metadata="…"
//
// Every request is counted by kind. Tokens are random opaque strings with a configurable
// `expires_in`; the token endpoint answers after a configurable delay, or (`retryAfter`) 429 with
// that `Retry-After`. Also the servers of the load soak (test/load/soak.mjs).
//
// `spawnServers()` runs them in a child process (the default for the benchmarks: the servers'
// work and sockets — 10,000 of them in the stampede — do not share the client's event loop or
// file-descriptor limit); `startServers()` runs them in this process. Both return the same
// asynchronous API. Not test/e2e/servers: those issue JWTs (jose verification per request) and
// have no delay, lifetime or backlog knobs, so they would measure themselves.
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import { fileURLToPath } from "node:url";

export const CLIENT_ID = "bench-client";
export const CLIENT_SECRET = "bench-secret";

const zeroCounts = () => ({
  token: 0, // token requests that got a token
  tokenRejected: 0, // token requests refused (bad client authentication or grant)
  tokenRateLimited: 0, // token requests answered 429 (configure({ retryAfter }))
  prm: 0, // protected resource metadata requests
  asMetadata: 0, // authorization server metadata requests (any well-known form)
  unauthorized: 0, // 401s from the resource, all reasons
  unauthorizedNoToken: 0, // … sent without a token
  unauthorizedExpired: 0, // … with a token this server issued that has expired
  unauthorizedUnknown: 0, // … with a token this server never issued
  authorized: 0, // resource requests answered 200
  other: 0, // anything else (404s, /authorize)
});

/**
 * Builds the two servers (not listening yet).
 * @param {{ expiresIn?: number, tokenDelayMs?: number, retryAfter?: number, backlog?: number }} [options]
 */
function createServers(options = {}) {
  const config = { expiresIn: options.expiresIn ?? 3600, tokenDelayMs: options.tokenDelayMs ?? 0, retryAfter: options.retryAfter ?? 0 };
  let counts = zeroCounts();
  /** Epoch ms of every token issued since the last reset. */
  let tokenTimes = [];
  /** access token → expiry (epoch ms). Never pruned during a run: a few thousand strings at most. */
  let tokens = new Map();
  const urls = {};

  const json = (res, status, body, headers = {}) => {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
    res.end(JSON.stringify(body));
  };
  const readBody = (req) =>
    new Promise((resolve, reject) => {
      const chunks = [];
      req.on("data", (chunk) => chunks.push(chunk));
      req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      req.on("error", reject);
    });
  const formDecode = (value) => decodeURIComponent(value.replace(/\+/g, " "));

  const authorizationServer = http.createServer(async (req, res) => {
    const { pathname } = new URL(req.url ?? "/", "http://x");
    const body = await readBody(req);
    if (req.method === "GET" && (pathname.startsWith("/.well-known/oauth-authorization-server") || pathname.startsWith("/.well-known/openid-configuration"))) {
      counts.asMetadata++;
      if (pathname !== "/.well-known/oauth-authorization-server") return json(res, 404, { error: "not_found" });
      return json(res, 200, {
        issuer: urls.issuer,
        token_endpoint: urls.tokenEndpoint,
        authorization_endpoint: `${urls.issuer}/authorize`,
        response_types_supported: ["code"],
        grant_types_supported: ["client_credentials"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      });
    }
    if (req.method === "POST" && pathname === "/token") {
      const form = new URLSearchParams(body);
      let clientId = form.get("client_id");
      let clientSecret = form.get("client_secret");
      const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
      if (basic) {
        const decoded = Buffer.from(basic[1], "base64").toString("utf8");
        const colon = decoded.indexOf(":");
        clientId = formDecode(decoded.slice(0, colon));
        clientSecret = formDecode(decoded.slice(colon + 1));
      }
      if (clientId !== CLIENT_ID || clientSecret !== CLIENT_SECRET) {
        counts.tokenRejected++;
        return json(res, 401, { error: "invalid_client" }, { "www-authenticate": 'Basic realm="bench"' });
      }
      if (form.get("grant_type") !== "client_credentials") {
        counts.tokenRejected++;
        return json(res, 400, { error: "unsupported_grant_type" });
      }
      if (config.retryAfter > 0) {
        counts.tokenRateLimited++;
        return json(res, 429, { error: "slow_down" }, { "retry-after": String(config.retryAfter) });
      }
      counts.token++;
      if (config.tokenDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.tokenDelayMs));
      const accessToken = randomBytes(24).toString("base64url");
      const now = Date.now();
      tokens.set(accessToken, now + config.expiresIn * 1000);
      tokenTimes.push(now);
      return json(res, 200, { access_token: accessToken, token_type: "Bearer", expires_in: config.expiresIn });
    }
    counts.other++;
    return json(res, pathname === "/authorize" ? 400 : 404, { error: pathname === "/authorize" ? "unsupported_response_type" : "not_found" });
  });

  const resourceServer = http.createServer(async (req, res) => {
    const { pathname } = new URL(req.url ?? "/", "http://x");
    const body = await readBody(req);
    if (req.method === "GET" && pathname.startsWith("/.well-known/oauth-protected-resource")) {
      counts.prm++;
      if (pathname !== "/.well-known/oauth-protected-resource/mcp") return json(res, 404, { error: "not_found" });
      return json(res, 200, { resource: urls.resourceUrl, authorization_servers: [urls.issuer], bearer_methods_supported: ["header"] });
    }
    if (pathname !== "/mcp") {
      counts.other++;
      return json(res, 404, { error: "not_found" });
    }
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const expiresAt = token === undefined ? undefined : tokens.get(token);
    if (expiresAt === undefined || expiresAt <= Date.now()) {
      counts.unauthorized++;
      if (token === undefined) counts.unauthorizedNoToken++;
      else if (expiresAt === undefined) counts.unauthorizedUnknown++;
      else counts.unauthorizedExpired++;
      const error = token === undefined ? "" : ', error="invalid_token"';
      return json(res, 401, { error: "unauthorized" }, { "www-authenticate": `Bearer resource_metadata="${urls.prmUrl}"${error}` });
    }
    counts.authorized++;
    let id = null;
    try {
      id = JSON.parse(body).id ?? null;
    } catch {}
    return json(res, 200, { jsonrpc: "2.0", id, result: { tools: [] } });
  });

  const sockets = new Set();
  for (const server of [authorizationServer, resourceServer]) {
    server.keepAliveTimeout = 30_000; // longer than any pause between phases of a benchmark
    server.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
  }
  const listen = (server) =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port: 0, host: "127.0.0.1", backlog: options.backlog ?? 65_535 }, () => resolve(server.address().port));
    });

  return {
    async start() {
      const asPort = await listen(authorizationServer);
      const rsPort = await listen(resourceServer);
      urls.issuer = `http://127.0.0.1:${asPort}`;
      urls.tokenEndpoint = `${urls.issuer}/token`;
      urls.resourceUrl = `http://127.0.0.1:${rsPort}/mcp`;
      urls.prmUrl = `http://127.0.0.1:${rsPort}/.well-known/oauth-protected-resource/mcp`;
      return { ...urls, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
    },
    counts: () => ({ ...counts, tokenTimes: [...tokenTimes] }),
    /** Forgets counts and (unless `keepTokens`) issued tokens, so nothing a previous contender got is valid. */
    reset({ keepTokens = false } = {}) {
      counts = zeroCounts();
      tokenTimes = [];
      if (!keepTokens) tokens = new Map();
    },
    configure(next) {
      Object.assign(config, next);
      return { ...config };
    },
    /** Closes idle keep-alive connections, so the next run starts without pooled sockets. */
    closeIdle() {
      authorizationServer.closeIdleConnections();
      resourceServer.closeIdleConnections();
      return sockets.size;
    },
    close() {
      return new Promise((resolve) => {
        let open = 2;
        const done = () => --open === 0 && resolve();
        authorizationServer.close(done);
        resourceServer.close(done);
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

/**
 * Starts both servers in this process.
 * @param {{ expiresIn?: number, tokenDelayMs?: number, backlog?: number }} [options]
 */
export async function startServers(options) {
  const servers = createServers(options);
  const info = await servers.start();
  return {
    ...info,
    counts: async () => servers.counts(),
    reset: async (options) => servers.reset(options),
    configure: async (next) => servers.configure(next),
    closeIdle: async () => servers.closeIdle(),
    close: () => servers.close(),
  };
}

/**
 * Starts both servers in a child process; same API as startServers.
 * @param {{ expiresIn?: number, tokenDelayMs?: number, backlog?: number }} [options]
 */
export async function spawnServers(options = {}) {
  const child = fork(fileURLToPath(import.meta.url), [JSON.stringify(options)], { serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const pending = new Map();
  let nextId = 0;
  const info = await new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`bench servers exited with ${code}`)));
    child.on("message", (message) => {
      if (message.ready) return resolve(message.ready);
      pending.get(message.id)?.(message.result);
      pending.delete(message.id);
    });
  });
  const call = (op, arg) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ id, op, arg });
    });
  return {
    ...info,
    counts: () => call("counts"),
    reset: (options) => call("reset", options),
    configure: (next) => call("configure", next),
    closeIdle: () => call("closeIdle"),
    async close() {
      await call("close");
      child.removeAllListeners("exit");
      child.disconnect();
    },
    kill: () => child.kill("SIGKILL"),
  };
}

// Child-process entry point.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  const servers = createServers(JSON.parse(process.argv[2] ?? "{}"));
  const info = await servers.start();
  process.on("message", async ({ id, op, arg }) => {
    const result = await servers[op](arg);
    process.send({ id, result });
  });
  process.on("disconnect", () => process.exit(0));
  process.send({ ready: info });
}
