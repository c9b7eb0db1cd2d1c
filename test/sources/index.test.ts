// Assertion sources that read the environment (src/sources/index.ts): envToken, and the GitHub
// Actions OIDC token against an MSW stand-in of the Actions token endpoint. The real-socket
// stand-in and the full flow are in test/e2e/workload-platforms.test.ts.
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { envToken, githubActionsToken } from "../../src/sources/index.js";
import { rejection } from "../helpers.js";

const REQUEST_URL = "https://pipelines.actions.example/idtoken?api-version=2.0";
const REQUEST_TOKEN = "actions-request-bearer-canary-9f2c";
const context = { audience: "https://auth.example.com", issuer: "https://auth.example.com", tokenEndpoint: "https://auth.example.com/token" };

/** A JWT-shaped value whose payload carries `exp` (the source only reads it, never verifies). */
const jwt = (aud: string, expInSeconds: number, n: number) =>
  `eyJhbGciOiJSUzI1NiJ9.${btoa(JSON.stringify({ aud, exp: Math.floor(Date.now() / 1000) + expInSeconds, n })).replace(/=+$/, "")}.c2ln`;

const seen: Array<{ audience: string | null; bearer: string | null; apiVersion: string | null }> = [];
let lifetime = 300;
const server = setupServer(
  http.get("https://pipelines.actions.example/idtoken", ({ request }) => {
    const url = new URL(request.url);
    const bearer = request.headers.get("authorization");
    seen.push({ audience: url.searchParams.get("audience"), bearer, apiVersion: url.searchParams.get("api-version") });
    if (bearer !== `Bearer ${REQUEST_TOKEN}`) return HttpResponse.json({ message: "Unauthorized" }, { status: 401 });
    return HttpResponse.json({ count: 1, value: jwt(url.searchParams.get("audience") ?? "https://github.com/octo-org", lifetime, seen.length) });
  }),
);
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => {
  seen.length = 0;
  lifetime = 300;
  vi.unstubAllEnvs();
  vi.useRealTimers();
  server.resetHandlers();
});
afterAll(() => server.close());

describe("githubActionsToken", () => {
  it("asks for the flow's audience with the job's bearer, from the environment", async () => {
    vi.stubEnv("ACTIONS_ID_TOKEN_REQUEST_URL", REQUEST_URL);
    vi.stubEnv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN);
    const token = await githubActionsToken()(context);
    expect(JSON.parse(atob(token.split(".")[1]!)).aud).toBe(context.audience);
    expect(seen).toEqual([{ audience: context.audience, bearer: `Bearer ${REQUEST_TOKEN}`, apiVersion: "2.0" }]);
  });

  it("a configured audience wins over the flow's", async () => {
    await githubActionsToken({ requestUrl: REQUEST_URL, requestToken: REQUEST_TOKEN, audience: "api://AzureADTokenExchange" })(context);
    expect(seen[0]!.audience).toBe("api://AzureADTokenExchange");
  });

  it("keeps a token per audience until a minute before its exp, and shares one request between concurrent callers", async () => {
    const source = githubActionsToken({ requestUrl: REQUEST_URL, requestToken: REQUEST_TOKEN });
    const [a, b] = await Promise.all([source(context), source(context)]);
    expect(a).toBe(b);
    expect(await source(context)).toBe(a);
    expect(seen).toHaveLength(1);
    await source({ ...context, audience: "https://other.example" });
    expect(seen).toHaveLength(2);
    vi.useFakeTimers({ now: Date.now() + 241_000, toFake: ["Date"] }); // 59 s before exp
    const renewed = await source(context);
    expect(renewed).not.toBe(a);
    expect(seen).toHaveLength(3);
  });

  it("a token without a readable exp is fetched for every token request", async () => {
    server.use(
      http.get("https://pipelines.actions.example/idtoken", () => {
        seen.push({ audience: null, bearer: null, apiVersion: null });
        return HttpResponse.json({ value: "a.e30.c" });
      }),
    );
    const source = githubActionsToken({ requestUrl: REQUEST_URL, requestToken: REQUEST_TOKEN });
    await source(context);
    await source(context);
    expect(seen).toHaveLength(2);
    // Callers that join a request in flight share its token all the same.
    await Promise.all([source(context), source(context), source(context)]);
    expect(seen).toHaveLength(3);
  });

  it("a refused request token is assertion_unavailable naming the status, never the bearer", async () => {
    const error = await rejection(githubActionsToken({ requestUrl: REQUEST_URL, requestToken: "wrong-bearer-value" })(context));
    expect(error).toMatchObject({ phase: "token", code: "assertion_unavailable", status: 401 });
    expect(error.message).toBe("[token] the GitHub Actions OIDC token request answered HTTP 401");
    expect(JSON.stringify(error) + error.stack).not.toContain("wrong-bearer-value");
    // A failure is not kept: the next call asks again.
    await rejection(githubActionsToken({ requestUrl: REQUEST_URL, requestToken: "wrong-bearer-value" })(context));
    expect(seen).toHaveLength(2);
  });

  it("without the variables it says which, and what the workflow needs", async () => {
    vi.stubEnv("ACTIONS_ID_TOKEN_REQUEST_URL", "");
    vi.stubEnv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "");
    const error = await rejection(githubActionsToken()(context));
    expect(error.code).toBe("assertion_unavailable");
    expect(error.message).toMatch(/ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set .*permissions: id-token: write/);
    expect(seen).toEqual([]);
  });

  it("refuses a plain-http request URL off loopback, and a network failure without quoting the URL", async () => {
    const insecure = await rejection(
      githubActionsToken({ requestUrl: "http://pipelines.actions.example/idtoken?sig=abc", requestToken: REQUEST_TOKEN })(context),
    );
    expect(insecure.code).toBe("insecure_url");
    server.use(http.get("https://pipelines.actions.example/idtoken", () => HttpResponse.error()));
    const down = await rejection(githubActionsToken({ requestUrl: `${REQUEST_URL}&sig=secret-signature`, requestToken: REQUEST_TOKEN })(context));
    expect(down).toMatchObject({ code: "assertion_unavailable" });
    expect(JSON.stringify(down) + String(down) + String(down.cause)).not.toContain("secret-signature");
  });

  it("an answer without a value is assertion_unavailable", async () => {
    server.use(http.get("https://pipelines.actions.example/idtoken", () => HttpResponse.json({ count: 0 })));
    const error = await rejection(githubActionsToken({ requestUrl: REQUEST_URL, requestToken: REQUEST_TOKEN })(context));
    expect(error.message).toBe("[token] the GitHub Actions OIDC token request answered HTTP 200 without a token");
  });
});

describe("envToken", () => {
  it("reads the variable at each call", async () => {
    const source = envToken("MCP_ASSERTION_TEST");
    vi.stubEnv("MCP_ASSERTION_TEST", "a.b.c");
    expect(await source(context)).toBe("a.b.c");
    vi.stubEnv("MCP_ASSERTION_TEST", "d.e.f");
    expect(await source(context)).toBe("d.e.f");
  });

  it("a missing variable is assertion_unavailable naming it", async () => {
    vi.stubEnv("MCP_ASSERTION_TEST", "");
    const error = await rejection(envToken("MCP_ASSERTION_TEST")(context));
    expect(error).toMatchObject({ phase: "token", code: "assertion_unavailable", message: "[token] the environment variable MCP_ASSERTION_TEST is not set" });
  });
});
