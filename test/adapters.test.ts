import { HttpResponse, http } from "msw";
import { describe, expect, it, vi } from "vitest";
import { authProvider } from "../src/adapters.js";
import { withClientCredentials } from "../src/index.js";
import { CLIENT_ID, CLIENT_SECRET, rejection, useMockServer } from "./helpers.js";

const { mock: install } = useMockServer();
const options = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };

/** What an SDK v2 transport does with an AuthProvider: token() before each request, onUnauthorized() and one retry after a 401. */
async function transportCall(provider: ReturnType<typeof authProvider>, url: string): Promise<Response> {
  const send = async () => {
    const token = await provider.token();
    return fetch(url, { method: "POST", headers: token ? { authorization: `Bearer ${token}` } : {}, body: "{}" });
  };
  const response = await send();
  if (response.status !== 401) return response;
  await provider.onUnauthorized({ response, serverUrl: new URL(url) });
  return send();
}

describe("authProvider(authFetch, url): the MCP SDK v2 AuthProvider shape", () => {
  it("token() discovers from the resource URL and serves the authFetch's cached token", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    const provider = authProvider(authFetch, mock.resource);
    const token = await provider.token();
    expect(token).toBe(mock.tokens[0]!.accessToken);
    expect(await provider.token()).toBe(token);
    // The provider and the fetch share one cache: a plain call needs no token request either.
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("after a 401 for a revoked token, onUnauthorized() makes the retry carry a new token (one token request)", async () => {
    const mock = install();
    const provider = authProvider(withClientCredentials(options)(fetch), mock.resource);
    expect((await transportCall(provider, mock.resource)).status).toBe(200);
    mock.revoke();
    expect((await transportCall(provider, mock.resource)).status).toBe(200);
    expect(mock.requestsTo("token")).toHaveLength(2);
    expect(mock.requestsTo("resource").map((r) => r.headers.authorization)).toEqual([
      `Bearer ${mock.tokens[0]!.accessToken}`,
      `Bearer ${mock.tokens[0]!.accessToken}`,
      `Bearer ${mock.tokens[1]!.accessToken}`,
    ]);
  });

  it("concurrent transports on one authFetch share one token request, and after a revocation one more", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    const providers = Array.from({ length: 10 }, () => authProvider(authFetch, mock.resource));
    const first = await Promise.all(providers.map((provider) => transportCall(provider, mock.resource)));
    expect(first.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(mock.requestsTo("token")).toHaveLength(1);
    mock.revoke();
    const second = await Promise.all(providers.map((provider) => transportCall(provider, mock.resource)));
    expect(second.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(mock.requestsTo("token")).toHaveLength(2);
  });

  describe("a 401 does not say which token it refused", () => {
    /** Two requests take token A; A is revoked; one 401 is handled (A → B) before the other's arrives. */
    async function lateUnauthorized() {
      const mock = install();
      const provider = authProvider(withClientCredentials(options)(fetch), mock.resource);
      const a = await provider.token();
      await provider.token(); // a second request in flight with A
      mock.revoke(a);
      await provider.onUnauthorized();
      const b = await provider.token(); // the first request's retry
      expect(b).not.toBe(a);
      return { mock, provider, b };
    }

    it("a late 401 from a request still in flight with the dropped token keeps the replacement", async () => {
      const { mock, provider, b } = await lateUnauthorized();
      await provider.onUnauthorized(); // the second request's 401, for A
      expect(await provider.token()).toBe(b);
      expect(mock.requestsTo("token")).toHaveLength(2);
    });

    it("once every request that took the dropped token has answered, a 401 drops the replacement", async () => {
      const { mock, provider, b } = await lateUnauthorized();
      await provider.onUnauthorized(); // the second request's 401, for A
      mock.revoke(b);
      await provider.onUnauthorized(); // no request with A is left: this one refused B
      const c = await provider.token();
      expect(c).not.toBe(b);
      expect(mock.requestsTo("token")).toHaveLength(3);
    });

    it("5 s after the dropped token was last handed out (a refusal comes within a round trip), a 401 drops the replacement", async () => {
      const { mock, provider, b } = await lateUnauthorized();
      vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 5_000 });
      try {
        await provider.onUnauthorized();
        expect(await provider.token()).not.toBe(b);
      } finally {
        vi.useRealTimers();
      }
      expect(mock.requestsTo("token")).toHaveLength(3);
    });
  });

  it("errors are the package's typed errors, without the secret", async () => {
    const mock = install();
    const provider = authProvider(withClientCredentials({ clientId: CLIENT_ID, clientSecret: "wrong" })(fetch), mock.resource);
    const error = await rejection(provider.token());
    expect(error).toMatchObject({ phase: "token", code: "invalid_client" });
    expect(JSON.stringify(error)).not.toContain("wrong");
  });

  it("two providers on one authFetch: a late 401 on the second for the old token keeps the token the first one got", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    const [first, second] = [authProvider(authFetch, mock.resource), authProvider(authFetch, mock.resource)];
    const a = await first.token();
    expect(await second.token()).toBe(a); // a request of the second transport in flight with A
    mock.revoke(a);
    await first.onUnauthorized();
    const b = await first.token();
    expect(await second.token()).toBe(b); // a new request of the second transport, with B
    await second.onUnauthorized(); // the old request's 401, for A
    expect(await second.token()).toBe(b);
    expect(mock.requestsTo("token")).toHaveLength(2);
  });

  it("onUnauthorized() before any token() drops nothing", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    const { accessToken } = await authFetch.getToken(mock.resource);
    await authProvider(authFetch, mock.resource).onUnauthorized();
    expect((await authFetch.getToken(mock.resource)).accessToken).toBe(accessToken);
  });

  describe("a server that names its resource metadata only in the 401's challenge", () => {
    const RESOURCE = "https://mcp.example.com/mcp";
    const PRM = "https://mcp.example.com/meta/resource";
    const challengeOnly = () =>
      install(
        { prmLocations: [], clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, scopes: ["mcp", "extra"] }] },
        http.get(PRM, () => HttpResponse.json({ resource: RESOURCE, authorization_servers: ["https://auth.example.com"] })),
        http.all(RESOURCE, ({ request }) =>
          request.headers.get("authorization")
            ? undefined
            : new HttpResponse(null, { status: 401, headers: { "www-authenticate": `Bearer resource_metadata="${PRM}", scope="extra"` } }),
        ),
      );

    it("token() gives no token at first; after the 401, one from the challenge's metadata and scope", async () => {
      const mock = challengeOnly();
      const provider = authProvider(withClientCredentials(options)(fetch), RESOURCE);
      expect((await transportCall(provider, RESOURCE)).status).toBe(200);
      expect(mock.requestsTo("token")).toHaveLength(1);
      expect(mock.tokens[0]!.scope).toBe("extra");
      expect(mock.requestsTo("resource").map((r) => Boolean(r.headers.authorization))).toEqual([true]);
    });

    it("getToken(url, { wwwAuthenticate }) follows the challenge; without it, resource_metadata_not_found", async () => {
      challengeOnly();
      const authFetch = withClientCredentials(options)(fetch);
      expect(await rejection(authFetch.getToken(RESOURCE))).toMatchObject({ phase: "discovery", code: "resource_metadata_not_found" });
      const token = await authFetch.getToken(RESOURCE, { wwwAuthenticate: `Bearer resource_metadata="${PRM}"` });
      expect(token.resource).toBe(RESOURCE);
    });
  });
});
