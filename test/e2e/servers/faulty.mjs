// One node:http server playing a whole OAuth-protected MCP resource and its authorization
// server, whose endpoints misbehave on cue: each endpoint has a queue of behaviours (one per
// request) and a fallback, and every request is recorded. Faults happen at the socket level
// (resets, stalls, truncated and oversized bodies), so the client meets them through real fetch.
// Tokens are recorded as "#1", "#2", … and never as themselves, so a failing test cannot print one.
import { randomBytes } from "node:crypto";
import http from "node:http";
import { closer, listen } from "./listen.mjs";

const PATHS = {
  "/.well-known/oauth-protected-resource/mcp": "prm",
  "/.well-known/oauth-authorization-server": "as",
  "/token": "token",
  "/mcp": "mcp",
};

/** A scripted answer: `status(429, { "retry-after": "1" })`, `status(502, { "content-type": "text/html" }, "<html>…")`. */
export function status(code, headers = {}, body = "") {
  return { status: code, headers, body };
}

/** A redirect answer (307 keeps the method and body, so a token request would be re-sent as is). */
export function redirect(location, code = 307) {
  return { status: code, headers: { location }, body: "" };
}

export function canary(kind) {
  return `canary-${kind}-${randomBytes(12).toString("hex")}`;
}

/**
 * @param {object} options
 * @param {string} options.clientId
 * @param {string} options.clientSecret checked with client_secret_basic
 * @param {number} [options.expiresIn] of issued tokens, default 3600
 */
export async function start(options) {
  const queues = { prm: [], as: [], token: [], mcp: [] };
  const fallbacks = {};
  const requests = [];
  const waiters = new Set();
  /** access token → "#n" */
  const issued = new Map();
  let expiresIn = options.expiresIn ?? 3600;

  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? "/", "http://x");
    const endpoint = PATHS[pathname] ?? "other";
    const behaviour = endpoint === "other" ? "normal" : (queues[endpoint].shift() ?? fallbacks[endpoint] ?? "normal");
    const token = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const record = {
      endpoint,
      path: pathname,
      method: req.method ?? "",
      authorization: req.headers.authorization !== undefined,
      ...(token === undefined ? {} : { token: issued.get(token) ?? "unknown" }),
      behaviour: typeof behaviour === "string" ? behaviour : `status ${behaviour.status}`,
      at: Date.now(),
    };
    requests.push(record);
    for (const waiter of waiters) waiter();
    // A client that gave up mid-answer makes later writes fail: nothing to report.
    res.on("error", () => {});
    req.socket.on("error", () => {});
    // The body is read (and drained) before answering, as a real server would.
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => act(behaviour, req, res, record, endpoint, Buffer.concat(chunks).toString("utf8")));
  });

  function send(res, record, code, headers, body) {
    record.status = code;
    res.writeHead(code, { "content-length": Buffer.byteLength(body), ...headers }).end(body);
  }
  const json = (res, record, code, body, headers = {}) => send(res, record, code, { "content-type": "application/json", ...headers }, JSON.stringify(body));

  function act(behaviour, req, res, record, endpoint, body) {
    if (typeof behaviour === "object") return send(res, record, behaviour.status, behaviour.headers, behaviour.body);
    const partial = `{"access_token": "${canary("token")}`;
    switch (behaviour) {
      case "reset":
        return req.socket.destroy();
      case "resetMidBody":
        record.status = 200;
        res.writeHead(200, { "content-type": "application/json", "content-length": 4096 });
        res.write(partial);
        // Long enough for the headers and the first bytes to reach the client before the reset.
        return void setTimeout(() => req.socket.destroy(), 50);
      case "truncatedJson":
        return send(res, record, 200, { "content-type": "application/json" }, '{"access_token": "abc');
      case "stallHeaders":
        return;
      case "stallBody":
        record.status = 200;
        res.writeHead(200, { "content-type": "application/json", "content-length": 4096 });
        return void res.write(partial);
      case "huge":
        return void huge(res, record, partial);
      case "normal":
        return normal(req, res, record, endpoint, body);
      default:
        throw new Error(`unknown behaviour ${behaviour}`);
    }
  }

  /** 200, chunked (no Content-Length), JSON-looking, 1.5 MiB, written as fast as the client takes it. */
  async function huge(res, record, start) {
    record.status = 200;
    res.writeHead(200, { "content-type": "application/json" });
    res.write(start);
    const chunk = "a".repeat(64 * 1024);
    for (let i = 0; i < 24 && !res.destroyed; i++) {
      if (!res.write(chunk)) await drained(res);
    }
    if (!res.destroyed) res.end('"}');
  }

  function normal(req, res, record, endpoint, body) {
    switch (endpoint) {
      case "prm":
        return json(res, record, 200, { resource: `${origin}/mcp`, authorization_servers: [origin], bearer_methods_supported: ["header"] });
      case "as":
        return json(res, record, 200, {
          issuer: origin,
          token_endpoint: `${origin}/token`,
          token_endpoint_auth_methods_supported: ["client_secret_basic"],
          grant_types_supported: ["client_credentials"],
        });
      case "token":
        return tokenEndpoint(req, res, record, body);
      case "mcp": {
        if (record.token && record.token !== "unknown") return json(res, record, 200, { ok: true });
        const error = record.token ? ', error="invalid_token"' : "";
        return json(res, record, 401, { error: "unauthorized" }, { "www-authenticate": `Bearer resource_metadata="${resourceMetadataUrl}"${error}` });
      }
      default:
        return json(res, record, 404, { error: "not_found" });
    }
  }

  function tokenEndpoint(req, res, record, body) {
    const form = new URLSearchParams(body);
    const basic = /^Basic (\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const [id, secret] = basic ? Buffer.from(basic, "base64").toString("utf8").split(":").map(formDecode) : [];
    record.clientAuthenticated = id === options.clientId && secret === options.clientSecret;
    if (req.method !== "POST") return json(res, record, 405, { error: "invalid_request" });
    if (!record.clientAuthenticated) return json(res, record, 401, { error: "invalid_client" }, { "www-authenticate": 'Basic realm="token"' });
    if (form.get("grant_type") !== "client_credentials") return json(res, record, 400, { error: "unsupported_grant_type" });
    const accessToken = canary("token");
    issued.set(accessToken, `#${issued.size + 1}`);
    record.issued = issued.get(accessToken);
    return json(res, record, 200, { access_token: accessToken, token_type: "Bearer", expires_in: expiresIn }, { "cache-control": "no-store" });
  }

  const port = await listen(server, 0, "127.0.0.1");
  const origin = `http://127.0.0.1:${port}`;
  const resourceMetadataUrl = `${origin}/.well-known/oauth-protected-resource/mcp`;
  const close = closer(server);

  const count = (endpoint) => requests.filter((r) => r.endpoint === endpoint).length;
  return {
    origin,
    url: `${origin}/mcp`,
    resourceMetadataUrl,
    requests,
    /** Queues behaviours for the next requests to `endpoint`, one each. */
    script(endpoint, ...behaviours) {
      queues[endpoint].push(...behaviours);
    },
    /** What `endpoint` does once its queue is empty (`undefined`: normal again). */
    always(endpoint, behaviour) {
      fallbacks[endpoint] = behaviour;
    },
    count,
    /** The `expires_in` of tokens issued from now on. */
    tokenLifetime(seconds) {
      expiresIn = seconds;
    },
    /** Resolves once `endpoint` has received `n` requests. */
    waitFor(endpoint, n) {
      return new Promise((resolve) => {
        const check = () => {
          if (count(endpoint) < n) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
    close,
  };
}

function drained(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done).off("close", done);
      resolve();
    };
    res.on("drain", done).on("close", done);
  });
}

/** application/x-www-form-urlencoded decoding of one Basic credential part (RFC 6749 §2.3.1). */
function formDecode(part) {
  try {
    return decodeURIComponent(part.replace(/\+/g, " "));
  } catch {
    return undefined;
  }
}

/** Another origin that records whatever reaches it and answers 200. */
export async function startSink() {
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push({
      path: new URL(req.url ?? "/", "http://x").pathname,
      method: req.method ?? "",
      authorization: req.headers.authorization !== undefined,
      at: Date.now(),
    });
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end('{"sink":true}'));
  });
  const port = await listen(server, 0, "127.0.0.1");
  const origin = `http://127.0.0.1:${port}`;
  return { origin, url: `${origin}/elsewhere`, requests, close: closer(server) };
}
