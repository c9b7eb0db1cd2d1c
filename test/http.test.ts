import ky from "ky";
import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "../src/http.js";
import { type FetchLike, withClientCredentials } from "../src/index.js";
import { faults } from "../src/msw/index.js";
import { CLIENT_ID, CLIENT_SECRET, collectEvents, rejection, useMockServer } from "./helpers.js";

const { mock: install } = useMockServer();
const options = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };

describe("requests to the authorization server", () => {
  it("retry a 429 after the Retry-After delay", async () => {
    const mock = install();
    mock.fault("token", faults.rateLimited(1));
    const { events, onEvent } = collectEvents();
    const started = Date.now();
    expect((await withClientCredentials({ ...options, onEvent })(fetch)(mock.resource)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(mock.requestsTo("token")).toHaveLength(2);
    expect(events.filter((e) => e.type === "http-retry")).toEqual([{ type: "http-retry", url: mock.tokenEndpoint, attempt: 1, status: 429 }]);
  });

  it("retry 5xx and network errors on metadata and token requests", async () => {
    const mock = install();
    mock.fault("resource-metadata", faults.serverError(503));
    mock.fault("authorization-server-metadata", faults.networkError());
    mock.fault("token", faults.serverError(502));
    expect((await withClientCredentials(options)(fetch)(mock.resource)).status).toBe(200);
    expect(mock.requestsTo("resource-metadata")).toHaveLength(2);
    expect(mock.requestsTo("authorization-server-metadata")).toHaveLength(2);
    expect(mock.requestsTo("token")).toHaveLength(2);
  });

  it("sign a fresh client assertion for every retried token request", async () => {
    const { exportJWK, generateKeyPair } = await import("jose");
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const mock = install({ clients: [{ clientId: "jwt", jwks: [await exportJWK(publicKey)] }] });
    mock.fault("token", faults.serverError(500));
    expect((await withClientCredentials({ clientId: "jwt", privateKey })(fetch)(mock.resource)).status).toBe(200);
    const assertions = mock.requestsTo("token").map((r) => new URLSearchParams(r.body).get("client_assertion"));
    expect(assertions).toHaveLength(2);
    expect(assertions[0]).not.toBe(assertions[1]);
  });

  it("give up after `retries` with a typed error carrying the status", async () => {
    const mock = install();
    mock.fault("token", faults.serverError(503), 3);
    const error = await rejection(withClientCredentials({ ...options, retries: 1 })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "token", status: 503 });
    expect(mock.requestsTo("token")).toHaveLength(2);
  });

  it("do not retry OAuth errors", async () => {
    const mock = install();
    mock.fault("token", faults.oauthError("invalid_client", "bad", 401));
    const error = await rejection(withClientCredentials(options)(fetch)(mock.resource));
    expect(error.code).toBe("invalid_client");
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("time out with a typed error", async () => {
    const mock = install();
    mock.fault("token", faults.delay(500));
    const error = await rejection(withClientCredentials({ ...options, timeoutMs: 100, retries: 0 })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "token", code: "timeout" });
  });

  it("report a network failure as a typed error after retries", async () => {
    const mock = install();
    mock.fault("authorization-server-metadata", faults.networkError(), 2);
    const error = await rejection(withClientCredentials({ ...options, retries: 1 })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "discovery", code: "network_error" });
  });

  it("do not follow redirects", async () => {
    const mock = install();
    mock.fault("authorization-server-metadata", { kind: "status", status: 302, headers: { location: "https://evil.example.com/metadata" } });
    const error = await rejection(withClientCredentials(options)(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "discovery", code: "redirect", status: 302 });
  });

  it("refuse oversized responses, declared or streamed", async () => {
    const big = "x".repeat(1024 * 1024 + 1);
    const mock = install();
    mock.fault("token", { kind: "status", status: 200, body: big });
    const declared = await rejection(withClientCredentials(options)(fetch)(mock.resource));
    expect(declared).toMatchObject({ phase: "token", code: "response_too_large" });

    const chunk = new Uint8Array(64 * 1024);
    const streamed = install(
      {},
      http.get("https://mcp.example.com/.well-known/oauth-protected-resource/mcp", () => {
        let sent = 0;
        const body = new ReadableStream({
          pull(controller) {
            sent += chunk.byteLength;
            if (sent > 4 * 1024 * 1024) controller.close();
            else controller.enqueue(chunk);
          },
        });
        return new HttpResponse(body, { headers: { "content-type": "application/json" } });
      }),
    );
    const error = await rejection(withClientCredentials(options)(fetch)(streamed.resource));
    expect(error).toMatchObject({ phase: "discovery", code: "response_too_large" });
  });

  it("honour a Retry-After given as an HTTP date", async () => {
    const mock = install();
    mock.fault("token", { kind: "status", status: 503, headers: { "retry-after": new Date(Date.now() + 2000).toUTCString() } });
    const started = Date.now();
    expect((await withClientCredentials(options)(fetch)(mock.resource)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(mock.requestsTo("token")).toHaveLength(2);
  });

  it("time out a body that stops arriving, within the same per-attempt timeout", async () => {
    const mock = install(
      {},
      http.get("https://mcp.example.com/.well-known/oauth-protected-resource/mcp", () => {
        const body = new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"resource":'));
          }, // and nothing more
        });
        return new HttpResponse(body, { headers: { "content-type": "application/json" } });
      }),
    );
    const started = Date.now();
    const error = await rejection(withClientCredentials({ ...options, timeoutMs: 200, retries: 0 })(fetch)(mock.resource));
    expect(error).toMatchObject({ phase: "discovery", code: "timeout" });
    expect(error.cause).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("time out even when the wrapped fetch ignores its signal", async () => {
    const mock = install();
    const hanging: FetchLike = (input, init) => (String(input) === mock.tokenEndpoint ? new Promise<Response>(() => {}) : fetch(input, init));
    const error = await rejection(withClientCredentials({ ...options, timeoutMs: 150, retries: 1 })(hanging)(mock.resource));
    expect(error).toMatchObject({ phase: "token", code: "timeout" });
  });

  it("call the wrapped fetch as a plain function with (url string, init), and keep credentials out of error causes", async () => {
    const mock = install();
    const calls: Array<{ self: unknown; input: unknown; init: RequestInit | undefined }> = [];
    const next = function (this: unknown, input: string | URL | Request, init?: RequestInit) {
      calls.push({ self: this, input, init });
      return input === mock.tokenEndpoint ? Promise.reject(new TypeError("connection reset")) : fetch(input, init);
    } as FetchLike;
    const error = await rejection(withClientCredentials({ ...options, retries: 1 })(next)(mock.resource));
    expect(error).toMatchObject({ phase: "token", code: "network_error" });
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(JSON.stringify(error)).not.toContain(CLIENT_SECRET);
    const token = calls.filter((call) => call.input === mock.tokenEndpoint);
    expect(token).toHaveLength(2);
    for (const { self, init } of token) {
      expect(self).toBeUndefined();
      expect(init).toMatchObject({ method: "POST", redirect: "manual" });
      expect(typeof init?.body).toBe("string");
      expect(new Headers(init?.headers).get("content-type")).toBe("application/x-www-form-urlencoded");
    }
  });
});

describe("authFetch under ky (ky is only a dev dependency now)", () => {
  it("works as ky's fetch, through ky.create() and per call", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    const api = ky.create({ fetch: authFetch, retry: 0 });
    expect(await api.get(mock.resource).json()).toMatchObject({ ok: true });
    const posted = await ky(mock.resource, { fetch: authFetch, method: "post", json: { jsonrpc: "2.0" } }).json();
    expect(posted).toMatchObject({ ok: true, method: "POST", body: '{"jsonrpc":"2.0"}' });
    expect(mock.requestsTo("token")).toHaveLength(1);
  });
});

describe("parseRetryAfter", () => {
  it.each([
    ["120", 120_000],
    [" 7 ", 7_000],
    ["120, 120", 120_000], // a header sent twice
    ["0", 0],
    ["-1", undefined], // V8 reads it as a date in 2001
    ["1.5", undefined],
    ["soon", undefined],
    ["", undefined],
    [null, undefined],
  ] as const)("%j → %j ms", (value, ms) => {
    expect(parseRetryAfter(value)).toBe(ms);
  });

  it("reads an HTTP date as the time left, and one in the past as 0", () => {
    const ahead = parseRetryAfter(new Date(Date.now() + 90_000).toUTCString())!;
    expect(ahead).toBeGreaterThan(88_000);
    expect(ahead).toBeLessThanOrEqual(90_000);
    expect(parseRetryAfter("Thu, 01 Jan 2015 00:00:00 GMT")).toBe(0);
  });
});
