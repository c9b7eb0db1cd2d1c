// withWorkloadIdentity (SEP-1933): a platform JWT as an RFC 7523 §2.1 grant, through the MSW kit,
// which verifies the JWT (signature, issuer, subject, audience, expiry) for real.
import { describe, expect, it } from "vitest";
import { type AssertionContext, memoryStore, type WorkloadIdentityOptions, withClientCredentials, withWorkloadIdentity } from "../src/index.js";
import { createMcpAuthMock } from "../src/msw/index.js";
import { captureConsole, countUnhandled, expectNoLeak, surfaces } from "./canary.js";
import { collectEvents, json, jwtSigner, recordingStore, rejection, useMockServer } from "./helpers.js";

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const PLATFORM = "https://platform.example";
const msw = useMockServer();
const consoleOutput = captureConsole();
const unhandled = countUnhandled();

/** A platform that signs workload JWTs, and the mock workload entry that trusts it. */
async function platform(subject = "system:serviceaccount:ci:mcp") {
  const signer = await jwtSigner();
  return {
    workload: { issuer: PLATFORM, jwks: [signer.publicJwk], subject },
    minted: signer.minted,
    mint: (aud: string | string[], { sub = subject, expiresIn = 600 } = {}) => signer.sign({ iss: PLATFORM, sub, aud, expiresIn }),
  };
}

async function setup(options: Partial<WorkloadIdentityOptions> = {}, mockOptions = {}) {
  const idp = await platform();
  const mock = msw.mock({ clients: [], workloads: [idp.workload], ...mockOptions });
  const contexts: AssertionContext[] = [];
  const { events, onEvent } = collectEvents();
  const authFetch = withWorkloadIdentity({
    assertion: (context) => {
      contexts.push(context);
      return idp.mint(context.audience);
    },
    onEvent,
    ...options,
  })();
  const tokenRequests = () => mock.requestsTo("token").map((request) => new URLSearchParams(request.body));
  return { idp, mock, authFetch, contexts, events, tokenRequests };
}

describe("withWorkloadIdentity: the JWT-bearer grant", () => {
  it("sends grant_type, assertion, resource and scope, and no client authentication", async () => {
    const { mock, authFetch, tokenRequests, idp } = await setup();
    const response = await authFetch(mock.resource);
    expect(response.status).toBe(200);
    const [body, ...more] = tokenRequests();
    expect(more).toEqual([]);
    expect([...body!.keys()].sort()).toEqual(["assertion", "grant_type", "resource", "scope"]);
    expect(body!.get("grant_type")).toBe(JWT_BEARER);
    expect(body!.get("assertion")).toBe(idp.minted[0]);
    expect(body!.get("resource")).toBe(mock.resource);
    expect(mock.requestsTo("token")[0]!.headers.authorization).toBeUndefined();
    expect(mock.tokens[0]).toMatchObject({ grantType: JWT_BEARER, authMethod: "none", clientId: idp.workload.subject, resource: mock.resource });
  });

  it("sends client_id only when clientId is set", async () => {
    const { mock, authFetch, tokenRequests } = await setup({ clientId: "workload-agent" });
    await authFetch(mock.resource);
    expect(tokenRequests()[0]!.get("client_id")).toBe("workload-agent");
    expect(mock.tokens[0]!.clientId).toBe("workload-agent");
  });

  it("asks the source once per token request, with the issuer as audience, and caches the token", async () => {
    const { mock, authFetch, contexts, idp } = await setup();
    await authFetch(mock.resource);
    await authFetch(mock.resource);
    expect(mock.requestsTo("token")).toHaveLength(1);
    expect(idp.minted).toHaveLength(1); // keying the cache and the request share one assertion
    expect(contexts).toEqual([{ audience: mock.issuer, issuer: mock.issuer, tokenEndpoint: mock.tokenEndpoint, resource: mock.resource }]);
  });

  it("asks the source again for the next token: a platform token that expired is never reused", async () => {
    const { mock, authFetch, idp, tokenRequests } = await setup({}, { tokenLifetimeSeconds: 1 });
    await authFetch(mock.resource);
    await authFetch.invalidate(mock.resource);
    await authFetch(mock.resource);
    expect(idp.minted.length).toBeGreaterThanOrEqual(2);
    const [first, second] = tokenRequests().map((body) => body.get("assertion"));
    expect(second).not.toBe(first);
    expect(second).toBe(idp.minted.at(-1));
  });

  it.each([
    ["the token endpoint", "token_endpoint", (mock: { tokenEndpoint: string }) => mock.tokenEndpoint],
    ["a literal", "api://AzureADTokenExchange", () => "api://AzureADTokenExchange"],
  ])("assertionAudience names %s as the source's audience", async (_name, assertionAudience, expected) => {
    const { mock, authFetch, contexts } = await setup({ assertionAudience }, { assertionAudiences: [mock0.tokenEndpoint, "api://AzureADTokenExchange"] });
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(contexts[0]!.audience).toBe(expected(mock));
  });

  it("takes a JWT string as it is", async () => {
    const idp = await platform();
    const mock = msw.mock({ clients: [], workloads: [idp.workload] });
    const jwt = await idp.mint(mock.issuer);
    const authFetch = withWorkloadIdentity({ assertion: `${jwt}\n` })();
    expect((await authFetch(mock.resource)).status).toBe(200);
    expect(new URLSearchParams(mock.requestsTo("token")[0]!.body).get("assertion")).toBe(jwt);
  });
});

/** The mock's own defaults, for audiences listed before a mock exists. */
const mock0 = { tokenEndpoint: "https://auth.example.com/token" };

describe("withWorkloadIdentity: refusals are typed, never retried, never another grant", () => {
  it.each([
    ["invalid_grant", "a wrong audience the client was told to use", { assertionAudience: "https://wrong.example" }],
    ["invalid_grant", "an expired token", {}, { expiresIn: -120 }],
    ["invalid_grant", "another subject", {}, { sub: "system:serviceaccount:other:intruder" }],
    ["invalid_scope", "a scope the workload may not have", { scope: "admin" }],
  ])("%s for %s", async (code, _case, options: Partial<WorkloadIdentityOptions>, mint: { expiresIn?: number; sub?: string } = {}) => {
    const idp = await platform();
    const mock = msw.mock({ clients: [], workloads: [idp.workload] });
    const { events, onEvent } = collectEvents();
    const authFetch = withWorkloadIdentity({ assertion: ({ audience }) => idp.mint(audience, mint), onEvent, ...options })();
    const error = await rejection(authFetch(mock.resource));
    expect(error).toMatchObject({ phase: "token", code, status: 400 });
    const grants = mock.requestsTo("token").map((request) => new URLSearchParams(request.body).get("grant_type"));
    expect(grants).toEqual([JWT_BEARER]);
    expect(events.filter((event) => event.type === "http-retry")).toEqual([]);
    expectNoLeak({ error, events, console: consoleOutput.output(), storeKeys: [] }, idp.minted, []);
    expect(unhandled.count()).toBe(0);
  });

  it("unauthorized_client from the server comes back as is, after one request", async () => {
    const { mock, authFetch } = await setup();
    mock.fault("token", { kind: "oauth-error", error: "unauthorized_client", description: "not allowed to use this grant" });
    const error = await rejection(authFetch(mock.resource));
    expect(error).toMatchObject({ phase: "token", code: "unauthorized_client", status: 400 });
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("a server whose metadata omits the grant gets one attempt, and its refusal names the metadata", async () => {
    const { mock, authFetch } = await setup({}, { grantTypesSupported: ["client_credentials"] });
    mock.fault("token", { kind: "oauth-error", error: "unsupported_grant_type" });
    const error = await rejection(authFetch(mock.resource));
    expect(error.code).toBe("unsupported_grant_type");
    expect(error.message).toContain(`grant_types_supported ["client_credentials"] without ${JWT_BEARER}`);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("a server whose metadata omits the grant but grants it works", async () => {
    const { mock, authFetch } = await setup({}, { grantTypesSupported: ["client_credentials"] });
    expect((await authFetch(mock.resource)).status).toBe(200);
  });
});

describe("withWorkloadIdentity: a JWT minted for another server is never sent", () => {
  it("a fixed token whose aud is not the discovered issuer is invalid_assertion, and no request carries it", async () => {
    const idp = await platform();
    const mock = msw.mock({ clients: [], workloads: [idp.workload] });
    const jwt = await idp.mint("https://real-auth.example.com");
    const error = await rejection(withWorkloadIdentity({ assertion: jwt })()(mock.resource));
    expect(error).toMatchObject({ phase: "token", code: "invalid_assertion" });
    expect(error.message).toBe(
      `[token] the assertion was minted for the audience ["https://real-auth.example.com"], not ${mock.issuer}: not sent (set assertionAudience if the server expects that audience)`,
    );
    expect(mock.requestsTo("token")).toEqual([]);
    expect(surfaces(error).includes(jwt)).toBe(false);
  });

  it("an aud array that includes the issuer is sent", async () => {
    const idp = await platform();
    const mock = msw.mock({ clients: [], workloads: [idp.workload] });
    const authFetch = withWorkloadIdentity({ assertion: ({ audience }) => idp.mint([audience, "https://other.example"]) })();
    expect((await authFetch(mock.resource)).status).toBe(200);
  });
});

describe("withWorkloadIdentity: sources that fail", () => {
  it("a source that never answers fails after timeoutMs, and a caller's signal ends its wait sooner", async () => {
    const mock = msw.mock({ clients: [], workloads: [(await platform()).workload] });
    const hanging = withWorkloadIdentity({ assertion: () => new Promise<string>(() => {}), timeoutMs: 200 })();
    const aborted = await hanging(mock.resource, { signal: AbortSignal.timeout(50) }).catch((error: unknown) => error);
    expect((aborted as Error).name).toBe("TimeoutError");
    const error = await rejection(hanging(mock.resource));
    expect(error).toMatchObject({ phase: "token", code: "assertion_unavailable", message: "[token] the assertion source did not answer within 200 ms" });
    expect(mock.requestsTo("token")).toEqual([]);
  });

  it("what a failing source says is kept, without URL queries or anything shaped like a JWT", async () => {
    const mock = msw.mock({ clients: [], workloads: [(await platform()).workload] });
    const jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9.c2lnbmF0dXJl";
    const assertion = () => Promise.reject(new TypeError(`error sending request for url (https://idp.example/token?sig=SIGNED-SECRET): ${jwt} refused`));
    const error = await rejection(withWorkloadIdentity({ assertion })()(mock.resource));
    expect(error.message).toBe("[token] the assertion source failed: error sending request for url (https://idp.example/token): [redacted] refused");
    expect(JSON.stringify(error)).not.toMatch(/SIGNED-SECRET|c2lnbmF0dXJl/);
  });

  it.each([
    ["throws", () => Promise.reject(new Error("metadata server unreachable")), "assertion_unavailable", /assertion source failed: metadata server unreachable/],
    ["returns nothing", () => undefined as unknown as string, "assertion_unavailable", /returned undefined, not a JWT/],
    ["returns an empty string", () => "", "assertion_unavailable", /returned an empty string/],
    ["returns JSON", () => '{"value":"x"}', "invalid_assertion", /is not a JWT/],
    ["returns a JWT with a non-JSON payload", () => "eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln", "invalid_assertion", /is not a JWT/],
  ])("a source that %s: %s, and no token request", async (_case, assertion, code, message) => {
    const idp = await platform();
    const mock = msw.mock({ clients: [], workloads: [idp.workload] });
    const authFetch = withWorkloadIdentity({ assertion })();
    const error = await rejection(authFetch(mock.resource));
    expect(error).toMatchObject({ phase: "token", code });
    expect(error.message).toMatch(message);
    expect(mock.requestsTo("token")).toEqual([]);
  });

  it("refuses options that belong to withClientCredentials", () => {
    const options = (extra: object) => ({ assertion: "a.b.c", ...extra }) as WorkloadIdentityOptions;
    expect(() => withWorkloadIdentity(options({ clientSecret: "s" }))).toThrow(/takes no clientSecret/);
    expect(() => withWorkloadIdentity(options({ privateKey: "k" }))).toThrow(/takes no privateKey/);
    expect(() => withWorkloadIdentity({ assertion: "" })).toThrow(/assertion must be a JWT string or a function/);
    expect(() => withWorkloadIdentity({ assertion: "a.b.c", clientId: "" })).toThrow(/clientId must be a non-empty string/);
  });
});

describe("withWorkloadIdentity: platform JWTs stay out of stores, events and errors", () => {
  it("a shared store keeps the access token, never the platform JWT, keyed by whom it speaks for", async () => {
    const idp = await platform();
    const mock = msw.mock({ clients: [], workloads: [{ ...idp.workload, subject: undefined }] });
    const other = "system:serviceaccount:ci:other";
    const { store, writes } = recordingStore();
    const { events, onEvent } = collectEvents();
    const first = withWorkloadIdentity({ assertion: ({ audience }) => idp.mint(audience), store, onEvent })();
    const second = withWorkloadIdentity({ assertion: ({ audience }) => idp.mint(audience), store, onEvent })();
    const intruder = withWorkloadIdentity({ assertion: ({ audience }) => idp.mint(audience, { sub: other }), store, onEvent })();
    await first(mock.resource);
    await second(mock.resource); // same subject, a new JWT: the store's token serves it
    expect(mock.requestsTo("token")).toHaveLength(1);
    await intruder(mock.resource); // another subject: its own token
    expect(mock.requestsTo("token")).toHaveLength(2);
    expect(mock.tokens.map((token) => token.clientId)).toEqual([idp.workload.subject, other]);
    const stored = writes.map((write) => `${write.key} ${write.value}`).join("\n");
    for (const jwt of idp.minted) expect(stored.includes(jwt)).toBe(false);
    expectNoLeak({ events, console: consoleOutput.output(), storeKeys: writes.map((write) => write.key) }, idp.minted, []);
  });

  it("an error echoing the assertion is redacted", async () => {
    const idp = await platform();
    const mock = msw.mock({ clients: [], workloads: [idp.workload] });
    const jwt = await idp.mint(mock.issuer);
    const { events, onEvent } = collectEvents();
    const authFetch = withWorkloadIdentity({ assertion: jwt, onEvent })();
    mock.fault("token", { kind: "oauth-error", error: "invalid_grant", description: `assertion ${jwt} is not acceptable` });
    const error = await rejection(authFetch(mock.resource));
    expect(error.description).toBe("assertion [redacted] is not acceptable");
    expectNoLeak({ error, events, console: consoleOutput.output(), storeKeys: [] }, [jwt], []);
  });

  it("events name the grant and report no client authentication", async () => {
    const { mock, authFetch, events } = await setup({ clientId: "workload-agent" });
    await json(await authFetch(mock.resource));
    expect(events.find((event) => event.type === "token-request")).toMatchObject({ grantType: JWT_BEARER, authMethod: "none" });
    expect(events.find((event) => event.type === "discovered")).toMatchObject({ authMethod: "none" });
  });

  it("a store shared with a client-credentials client keeps their tokens apart", async () => {
    const idp = await platform();
    const mock = msw.mock({ clients: [{ clientId: "ci-robot", clientSecret: "s3cret-value" }], workloads: [idp.workload] });
    const store = memoryStore();
    const workload = withWorkloadIdentity({ assertion: ({ audience }) => idp.mint(audience), store, clientId: "ci-robot" })();
    const client = withClientCredentials({ clientId: "ci-robot", clientSecret: "s3cret-value", store })();
    await workload(mock.resource);
    await client(mock.resource);
    expect(mock.tokens.map((token) => token.grantType)).toEqual([JWT_BEARER, "client_credentials"]);
  });
});

describe("withWorkloadIdentity: two authorization servers at once", () => {
  it("an assertion read for one server is never sent to another", async () => {
    const idp = await platform();
    const first = createMcpAuthMock({ clients: [], workloads: [idp.workload] });
    const second = createMcpAuthMock({
      clients: [],
      workloads: [idp.workload],
      issuer: "https://auth2.example.com",
      resource: "https://mcp2.example.com/mcp",
    });
    msw.server.resetHandlers(...first.handlers, ...second.handlers);
    const audiences: string[] = [];
    const authFetch = withWorkloadIdentity({
      assertion: ({ audience }) => {
        audiences.push(audience);
        return idp.mint(audience);
      },
    })();
    const responses = await Promise.all([authFetch(first.resource), authFetch(second.resource)]);
    expect(responses.map((response) => response.status)).toEqual([200, 200]);
    const sentAudience = (mock: typeof first) => {
      const jwt = new URLSearchParams(mock.requestsTo("token")[0]!.body).get("assertion")!;
      return JSON.parse(atob(jwt.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))).aud;
    };
    expect([sentAudience(first), sentAudience(second)]).toEqual([first.issuer, second.issuer]);
    expect(audiences.sort()).toEqual([first.issuer, second.issuer].sort());
  });
});
