import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { withClientCredentials } from "../src/index.js";
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
});
