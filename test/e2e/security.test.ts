// The secrets audit of issue 10 as regression tests: real node:http servers on 127.0.0.1 play
// hostile resources and authorization servers. Assertions compare booleans and counts only, so a
// failure never prints a secret, a token or a caller's cookie.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientCredentialsError, type ClientCredentialsEvent, type ClientCredentialsOptions, memoryStore, withClientCredentials } from "../../src/index.js";
import { type Canaries, canaries, expectNoLeak, surfaces } from "../canary.js";
import { closer, listen } from "./servers/listen.mjs";

type Seen = { method: string; url: string; headers: IncomingMessage["headers"]; body: string };
type Handler = (req: Seen, res: ServerResponse, base: string) => void;

const closers: Array<() => Promise<void>> = [];
afterAll(() => Promise.all(closers.map((close) => close())));

/** A loopback server recording every request it answers. */
async function serve(handler: Handler): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const request = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body };
      seen.push(request);
      handler(request, res, base);
    });
  });
  closers.push(closer(server));
  const base = `http://127.0.0.1:${await listen(server, 0, "127.0.0.1")}`;
  return { base, seen };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
function redirect(res: ServerResponse, status: number, location: string): void {
  res.writeHead(status, { location });
  res.end();
}
const rejection = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined).catch((error: unknown) => error);
const errorCode = (error: unknown) => (error instanceof ClientCredentialsError ? error.code : `not a ClientCredentialsError: ${typeof error}`);
const messageOf = (error: unknown) => (error instanceof Error ? error.message : "");
const DAY_MS = 86_400_000;

let c: Canaries;
beforeAll(async () => {
  c = await canaries();
});

/** A client with a static configuration (no discovery), recording its events. */
function client(resource: string, tokenEndpoint: string, extra: Partial<ClientCredentialsOptions> = {}) {
  const events: ClientCredentialsEvent[] = [];
  const options = { clientId: c.clientId, clientSecret: c.clientSecret, resource, tokenEndpoint, onEvent: (e: ClientCredentialsEvent) => void events.push(e) };
  return { events, authFetch: withClientCredentials({ ...options, ...extra })(fetch) };
}
/** Did any request a server received carry the client secret, in any encoding? */
const sawSecret = (seen: Seen[]) => seen.some((s) => c.secrets().some((secret) => s.body.includes(secret) || JSON.stringify(s.headers).includes(secret)));
const issue = (res: ServerResponse, token = c.token, expiresIn = 3600) => json(res, 200, { access_token: token, token_type: "Bearer", expires_in: expiresIn });

describe("secrets audit (issue 10): hostile servers on loopback", () => {
  it("A: a cross-origin redirect the middleware follows drops the caller's Cookie and Proxy-Authorization; a same-origin hop keeps them", async () => {
    const other = await serve((_req, res) => json(res, 200, { ok: true }));
    const resource = await serve((req, res) => {
      if (req.url === "/token") return issue(res);
      if (req.url === "/mcp/away") return redirect(res, 307, `${other.base}/landing`);
      if (req.url === "/mcp/here") return redirect(res, 307, "/mcp/landed");
      json(res, 200, { ok: true });
    });
    const { authFetch } = client(`${resource.base}/mcp`, `${resource.base}/token`);
    const headers = { cookie: "session=caller-cookie-canary", "proxy-authorization": "Basic caller-proxy-canary", "x-api-key": "kept" };
    expect((await authFetch(`${resource.base}/mcp/away`, { headers })).status).toBe(200);
    const away = other.seen.at(-1)?.headers ?? {};
    const sent = { apiKey: away["x-api-key"], cookie: "cookie" in away, proxy: "proxy-authorization" in away, token: "authorization" in away };
    expect(sent).toEqual({ apiKey: "kept", cookie: false, proxy: false, token: false });
    expect((await authFetch(`${resource.base}/mcp/here`, { headers })).status).toBe(200);
    const home = resource.seen.find((s) => s.url === "/mcp/landed")?.headers ?? {};
    const kept = { cookie: home.cookie === headers.cookie, proxy: home["proxy-authorization"] === headers["proxy-authorization"] };
    expect(kept).toEqual({ cookie: true, proxy: true });
  });

  it("B: a 401 from another origin reached by a redirect is returned as is: no discovery there, the client secret stays home", async () => {
    const evil = await serve((req, res, base) => {
      if (req.url === "/x") return json(res, 401, {}, { "www-authenticate": `Bearer resource_metadata="${base}/prm"` });
      if (req.url === "/prm") return json(res, 200, { resource: `${good.base}/mcp`, authorization_servers: [base] });
      if (req.url === "/.well-known/oauth-authorization-server") return json(res, 200, { issuer: base, token_endpoint: `${base}/token` });
      if (req.url === "/token") return issue(res);
      json(res, 404, {});
    });
    const good = await serve((_req, res) => redirect(res, 302, `${evil.base}/x`));
    const events: ClientCredentialsEvent[] = [];
    const authFetch = withClientCredentials({ clientId: c.clientId, clientSecret: c.clientSecret, onEvent: (e) => void events.push(e) })(fetch);
    const response = await authFetch(`${good.base}/mcp`);
    expect(response.status).toBe(401);
    expect(evil.seen.map((s) => s.url)).toEqual(["/x"]);
    expect(sawSecret(evil.seen)).toBe(false);
    expect(events.filter((e) => e.type !== "challenge" || e.url.startsWith(evil.base)).length).toBe(0);
  });

  it("M: with a token held, a 401 from a redirect target on another origin keeps the token: no eviction, no new token request", async () => {
    const other = await serve((_req, res) => json(res, 401, {}, { "www-authenticate": "Bearer" }));
    let issued = 0;
    const resource = await serve((req, res) => {
      if (req.url === "/token") return issue(res, `${c.token}-${++issued}`);
      if (req.url === "/mcp/away") return redirect(res, 302, `${other.base}/elsewhere`);
      json(res, 200, { ok: true });
    });
    const { authFetch } = client(`${resource.base}/mcp`, `${resource.base}/token`);
    expect((await authFetch(`${resource.base}/mcp`)).status).toBe(200);
    expect((await authFetch(`${resource.base}/mcp/away`)).status).toBe(401);
    expect((await authFetch(`${resource.base}/mcp`)).status).toBe(200);
    expect(issued).toBe(1);
    expect(resource.seen.at(-1)?.headers.authorization === `Bearer ${c.token}-1`).toBe(true);
    expect(other.seen.some((s) => "authorization" in s.headers)).toBe(false);
  });

  it("D: a foreign network error quoting the token endpoint URL loses the URL's query in our message", async () => {
    const key = "FUNCTION-KEY-canary";
    // Deno's fetch fails with a message quoting the request URL; a query there may hold a key.
    const deno = async (input: string | URL) => {
      throw new TypeError(`error sending request for url (${String(input)}): client error (Connect)`);
    };
    const options = { clientId: c.clientId, clientSecret: c.clientSecret, retries: 0 };
    const authFetch = withClientCredentials({ ...options, resource: "http://127.0.0.1:9/mcp", tokenEndpoint: `http://127.0.0.1:9/token?code=${key}` })(deno);
    const error = await rejection(authFetch.getToken());
    expect(errorCode(error)).toBe("network_error");
    const quoted = { query: messageOf(error).includes(key), endpoint: messageOf(error).includes("http://127.0.0.1:9/token") };
    expect(quoted).toEqual({ query: false, endpoint: true });
  });

  it("E: events never carry the token endpoint's query, on success or refusal", async () => {
    const key = "FUNCTION-KEY-canary";
    let refuse = false;
    const as = await serve((_req, res) => (refuse ? json(res, 400, { error: "invalid_client" }) : issue(res)));
    const { authFetch, events } = client(`${as.base}/mcp`, `${as.base}/token?code=${key}`);
    await authFetch.getToken();
    await authFetch.getToken();
    refuse = true;
    await authFetch.clearTokens();
    expect(errorCode(await rejection(authFetch.getToken()))).toBe("invalid_client");
    const types = new Set(events.map((e) => e.type));
    for (const type of ["discovered", "cache-miss", "cache-hit", "token-request", "token-response"] as const) expect(types.has(type), type).toBe(true);
    expect(events.filter((e) => JSON.stringify(e).includes(key)).map((e) => e.type)).toEqual([]);
    expect(events.filter((e) => e.type === "token-request").every((e) => e.tokenEndpoint === `${as.base}/token`)).toBe(true);
  });

  it("F: only 301/302/303/307/308 to http(s) are followed: a 300 is returned, a data: Location throws a TypeError like fetch", async () => {
    const resource = await serve((req, res) => {
      if (req.url === "/token") return issue(res);
      if (req.url === "/mcp/data") return redirect(res, 302, "data:text/plain,planted");
      if (req.url === "/mcp/choices") return redirect(res, 300, "/mcp/chosen");
      json(res, 200, { ok: true });
    });
    const { authFetch } = client(`${resource.base}/mcp`, `${resource.base}/token`);
    const viaMiddleware = await rejection(authFetch(`${resource.base}/mcp/data`));
    const viaFetch = await rejection(fetch(`${resource.base}/mcp/data`));
    expect({ middleware: viaMiddleware instanceof TypeError, fetch: viaFetch instanceof TypeError }).toEqual({ middleware: true, fetch: true });
    expect((await authFetch(`${resource.base}/mcp/choices`)).status).toBe(300);
    expect(resource.seen.some((s) => s.url === "/mcp/chosen")).toBe(false);
  });

  it("G: messages quoting a server's lists are one line and bounded", async () => {
    const many = Array.from({ length: 2000 }, (_, i) => `https://as${i}.example/`);
    const evil = await serve((req, res, base) => {
      if (req.url === "/mcp") return json(res, 401, {}, { "www-authenticate": `Bearer resource_metadata="${base}/prm"` });
      if (req.url === "/prm") return json(res, 200, { resource: `${base}/mcp`, authorization_servers: ["https://as.example/\nFAKE LOG LINE", ...many] });
      if (req.url === "/.well-known/oauth-authorization-server") {
        return json(res, 200, { issuer: base, token_endpoint: `${base}/token`, token_endpoint_auth_methods_supported: ["x\r\nFAKE LOG LINE", ...many] });
      }
      json(res, 404, {});
    });
    const options = { clientId: c.clientId, clientSecret: c.clientSecret };
    const pinned = await rejection(withClientCredentials({ ...options, issuer: "https://as.example" })(fetch)(`${evil.base}/mcp`));
    const methods = await rejection(withClientCredentials({ ...options, resource: `${evil.base}/mcp`, issuer: evil.base })(fetch).getToken());
    expect([errorCode(pinned), errorCode(methods)]).toEqual(["issuer_not_allowed", "unsupported_auth_method"]);
    const shapes = [pinned, methods].map((error) => ({ oneLine: !/[\r\n]/.test(messageOf(error)), bounded: messageOf(error).length <= 2100 }));
    expect(shapes).toEqual(Array(2).fill({ oneLine: true, bounded: true }));
  });

  it("H: an OAuth error outside RFC 6749's charset or over 128 characters becomes http_error; a proper one stays the code", async () => {
    const bad = [`x\n${"A".repeat(100_000)}`, "A".repeat(129), 'quote"d', "back\\slash", ""];
    let body: unknown;
    const as = await serve((_req, res) => json(res, 400, body));
    for (const error of bad) {
      body = { error };
      const { authFetch, events } = client(`${as.base}/mcp`, `${as.base}/token`, { retries: 0 });
      const caught = await rejection(authFetch.getToken());
      const shape = { code: errorCode(caught), oneLine: !messageOf(caught).includes("\n"), bounded: messageOf(caught).length <= 2100 };
      expect(shape).toEqual({ code: "http_error", oneLine: true, bounded: true });
      expect(events.some((e) => e.type === "token-response" && e.error !== undefined)).toBe(false);
    }
    body = { error: "unauthorized_client" };
    expect(errorCode(await rejection(client(`${as.base}/mcp`, `${as.base}/token`).authFetch.getToken()))).toBe("unauthorized_client");
  });

  it("I: an invalid option URL fails with invalid_url and no cause, so the credentials in it are not quoted", () => {
    const password = "PASSWORD-canary";
    const error = (() => {
      try {
        withClientCredentials({ clientId: c.clientId, clientSecret: c.clientSecret, tokenEndpoint: `https://user:${password}@as example/token` });
      } catch (caught) {
        return caught;
      }
    })();
    expect(errorCode(error)).toBe("invalid_url");
    expect({ cause: (error as Error).cause === undefined, quoted: surfaces(error).includes(password) }).toEqual({ cause: true, quoted: false });
  });

  it("L: store keys are mcc1:-prefixed hashes holding no secret, client id or URL, across discovery and tokens", async () => {
    const stack = await serve((req, res, base) => {
      if (req.url === "/mcp") return json(res, 401, {}, { "www-authenticate": `Bearer resource_metadata="${base}/prm"` });
      if (req.url === "/prm") return json(res, 200, { resource: `${base}/mcp`, authorization_servers: [base] });
      if (req.url === "/.well-known/oauth-authorization-server") return json(res, 200, { issuer: base, token_endpoint: `${base}/token` });
      issue(res);
    });
    const inner = memoryStore();
    const keys: string[] = [];
    const noted = <A extends unknown[], R>(call: (key: string, ...rest: A) => R) => {
      return (key: string, ...rest: A): R => {
        keys.push(key);
        return call(key, ...rest);
      };
    };
    const store = { get: noted(inner.get), set: noted(inner.set), delete: noted(inner.delete), acquire: noted(inner.acquire), release: noted(inner.release) };
    const events: ClientCredentialsEvent[] = [];
    const authFetch = withClientCredentials({ clientId: c.clientId, clientSecret: c.clientSecret, store, onEvent: (e) => void events.push(e) })(fetch);
    await authFetch(`${stack.base}/mcp`);
    expect(new Set(keys).size).toBeGreaterThanOrEqual(3);
    const url = new URL(stack.base);
    for (const key of keys) {
      expect(/^mcc1:[A-Za-z0-9_-]{43}$/.test(key), "a key is not a hash").toBe(true);
      const named = [c.clientId, url.host, url.port].some((part) => key.includes(part));
      expect(named, "a key names the client or a URL").toBe(false);
    }
    expectNoLeak({ events, console: "", storeKeys: keys }, c.secrets(), [c.token]);
  });

  it("N: a token read back from a store that lasts over a day, or was obtained in the future, is ignored and a new one requested", async () => {
    let issued = 0;
    const as = await serve((_req, res) => issue(res, `${c.token}-${++issued}`, 600));
    // Shifts of [obtainedAt, expiresAt]: ten years of life, then ten minutes of life starting tomorrow.
    for (const [obtainedShift, expiresShift] of [
      [0, 3650 * DAY_MS],
      [DAY_MS, DAY_MS],
    ]) {
      issued = 0;
      const inner = memoryStore();
      const options = { clientId: c.clientId, clientSecret: c.clientSecret, resource: `${as.base}/mcp`, tokenEndpoint: `${as.base}/token` };
      await withClientCredentials({ ...options, store: inner })(fetch).getToken();
      let forged = 0;
      const get = (k: string) => {
        const entry = JSON.parse(inner.get(k) ?? "null");
        if (entry?.kind !== "token") return inner.get(k);
        entry.data.obtainedAt += obtainedShift;
        entry.data.expiresAt += expiresShift;
        entry.exp = entry.data.expiresAt;
        forged++;
        return JSON.stringify(entry);
      };
      const token = await withClientCredentials({ ...options, store: { ...inner, get } })(fetch).getToken();
      const outcome = { forged: forged > 0, issued, fresh: token.accessToken === `${c.token}-2`, withinADay: token.expiresAt - Date.now() <= DAY_MS };
      expect(outcome).toEqual({ forged: true, issued: 2, fresh: true, withinADay: true });
    }
  });

  it("P: a resource off loopback cannot make the client fetch a loopback resource_metadata URL; a loopback resource still can", async () => {
    const local = await serve((req, res, base) => {
      if (req.url === "/mcp") return json(res, 401, {}, { "www-authenticate": `Bearer resource_metadata="${base}/internal-prm"` });
      json(res, 404, {});
    });
    // mcp.example is served by the same loopback server, but its responses carry no URL of their own.
    const routed = async (input: string | URL, init?: RequestInit) => {
      const url = new URL(String(input));
      if (url.hostname !== "mcp.example") return fetch(input, init);
      const response = await fetch(`${local.base}${url.pathname}${url.search}`, init);
      return new Response(await response.arrayBuffer(), { status: response.status, headers: response.headers });
    };
    const options = { clientId: c.clientId, clientSecret: c.clientSecret, retries: 0 };
    const remote = await rejection(withClientCredentials(options)(routed)("https://mcp.example/mcp"));
    expect(errorCode(remote)).toBe("resource_metadata_not_found");
    expect(local.seen.filter((s) => s.url === "/internal-prm").length).toBe(0);
    await rejection(withClientCredentials(options)(fetch)(`${local.base}/mcp`));
    expect(local.seen.filter((s) => s.url === "/internal-prm").length).toBe(1);
  });

  it("Q: a resource copying the refused token into its challenge: [redacted] in the challenge event, and in no other event", async () => {
    const resource = await serve((req, res, base) => {
      if (req.url === "/token") return issue(res);
      if (req.url?.startsWith("/prm")) return json(res, 200, { resource: `${base}/mcp`, authorization_servers: [base] });
      const got = String(req.headers.authorization ?? "").replace("Bearer ", "");
      if (!got) return json(res, 200, { ok: true });
      json(res, 401, {}, { "www-authenticate": `Bearer resource_metadata="${base}/prm#${got}", scope="read ${got}", error="invalid_token ${got}"` });
    });
    const { authFetch, events } = client(`${resource.base}/mcp`, `${resource.base}/token`, { issuer: resource.base });
    expect((await authFetch(`${resource.base}/mcp`)).status).toBe(401);
    const challenges = events.filter((e) => e.type === "challenge");
    expect(challenges.length).toBeGreaterThan(0);
    expect(challenges.every((e) => JSON.stringify(e).includes("[redacted]"))).toBe(true);
    expect(challenges.some((e) => JSON.stringify(e).includes(c.token))).toBe(false);
    // Nor does any other event: a challenge's scope quoting the token is not requested.
    expect(events.some((e) => JSON.stringify(e).includes(c.token))).toBe(false);
  });
});
