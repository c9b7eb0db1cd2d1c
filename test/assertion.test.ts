// Assertions someone else signed (src/grant/assertion.ts): read from their source, checked to be a
// JWT, and sent as the client assertion of a client_credentials request (`clientAssertion`, the
// Entra workload identity pattern) with client_id in the body.
import { describe, expect, it } from "vitest";
import { AssertionError, Assertions, claimsOf, readAssertion, subjectOf } from "../src/grant/assertion.js";
import { chooseAuthMethod, createClientAuth, JWT_BEARER_ASSERTION } from "../src/grant/client-auth.js";
import { ClientCredentialsError, withClientCredentials } from "../src/index.js";
import { resolveOptions } from "../src/options.js";
import { collectEvents, jwtSigner, rejection, useMockServer } from "./helpers.js";

const msw = useMockServer();
const context = { audience: "https://auth.example.com", issuer: "https://auth.example.com", tokenEndpoint: "https://auth.example.com/token" };

/** A client whose assertions a platform signs (here: the test), as Entra's federated credentials see them. */
async function federated(clientId = "entra-app") {
  const signer = await jwtSigner();
  const mint = (aud: string) => signer.sign({ iss: clientId, sub: clientId, aud, expiresIn: 300 });
  return { client: { clientId, jwks: [signer.publicJwk] }, mint, minted: signer.minted };
}

describe("readAssertion", () => {
  it("trims a string and calls a function with the context", async () => {
    const jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3In0.c2ln";
    expect(await readAssertion(` ${jwt}\n`, context, "assertion")).toBe(jwt);
    const seen: unknown[] = [];
    expect(
      await readAssertion(
        (ctx) => {
          seen.push(ctx);
          return jwt;
        },
        context,
        "assertion",
      ),
    ).toBe(jwt);
    expect(seen).toEqual([context]);
  });

  it.each([
    ["two parts", "a.b"],
    ["an empty signature", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ3In0."],
    ["a JSON array payload", `eyJhbGciOiJFUzI1NiJ9.${btoa("[1]")}.c2ln`],
    ["over 64 KiB", `eyJhbGciOiJFUzI1NiJ9.${"A".repeat(70_000)}.c2ln`],
    ["spaces inside", "eyJhbGciOiJFUzI1NiJ9 .eyJzdWIiOiJ3In0.c2ln"],
  ])("refuses %s as invalid_assertion, without quoting it", async (_case, value) => {
    const error = await readAssertion(value, context, "clientAssertion").catch((error: AssertionError) => error);
    expect(error).toBeInstanceOf(AssertionError);
    expect(error).toMatchObject({
      code: "invalid_assertion",
      message: "the clientAssertion is not a JWT (a compact JWS of three base64url parts with a JSON payload)",
    });
  });

  it("keeps a source's own ClientCredentialsError as it is, and wraps any other error with its cause", async () => {
    const boom = new Error("boom");
    const wrapped = await readAssertion(() => Promise.reject(boom), context, "assertion").catch((error: AssertionError) => error);
    expect(wrapped).toMatchObject({ code: "assertion_unavailable", message: "the assertion source failed", cause: boom });
    const own = new ClientCredentialsError("token", "from the source", { code: "assertion_unavailable" });
    expect(await readAssertion(() => Promise.reject(own), context, "assertion").catch((error: unknown) => error)).toBe(own);
  });

  it("reads claims and subjects without verifying", () => {
    const jwt = `x.${btoa(JSON.stringify({ iss: "https://k8s", sub: "system:serviceaccount:a:b" })).replace(/=+$/, "")}.y`;
    expect(claimsOf(jwt)).toEqual({ iss: "https://k8s", sub: "system:serviceaccount:a:b" });
    expect(subjectOf(jwt)).toBe('["https://k8s","system:serviceaccount:a:b"]');
    expect(subjectOf("x.e30.y")).toBe('["",""]');
  });
});

describe("Assertions: one source call per token request", () => {
  const other = { ...context, audience: "https://auth2.example.com", issuer: "https://auth2.example.com", tokenEndpoint: "https://auth2.example.com/token" };
  const counting = () => {
    let calls = 0;
    const source = ({ audience }: { audience: string }) =>
      `eyJhbGciOiJFUzI1NiJ9.${btoa(JSON.stringify({ aud: audience, n: ++calls })).replace(/=+$/, "")}.c2ln`;
    return { assertions: new Assertions(source, "assertion"), calls: () => calls };
  };
  const aud = (jwt: string) => claimsOf(jwt)?.aud;

  it("the assertion read to key the cache is the one the token request sends", async () => {
    const { assertions, calls } = counting();
    await assertions.subject(context);
    const jwt = await assertions.forRequest(context);
    expect([aud(jwt), calls()]).toEqual([context.audience, 1]);
    await assertions.forRequest(context); // the next request reads afresh
    expect(calls()).toBe(2);
  });

  it("never sends an assertion read for another server", async () => {
    const { assertions } = counting();
    await assertions.subject(context);
    await assertions.subject(other);
    expect(aud(await assertions.forRequest(context))).toBe(context.audience);
    expect(aud(await assertions.forRequest(other))).toBe(other.audience);
    expect(aud(await assertions.forRequest({ ...context, resource: "https://mcp.example.com/other" }))).toBe(context.audience);
  });

  it("keeps the last four sent for redaction", async () => {
    const { assertions } = counting();
    for (let i = 0; i < 6; i++) await assertions.forRequest(context);
    expect(assertions.sent.map((jwt) => claimsOf(jwt)?.n)).toEqual([6, 5, 4, 3]);
  });
});

describe("clientAssertion (RFC 7523 §2.2, with client_id as Entra requires)", () => {
  it("is sent with client_id, the assertion type, and the client_credentials grant", async () => {
    const options = resolveOptions({ clientId: "entra-app", clientAssertion: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3In0.c2ln" });
    const auth = createClientAuth(options, chooseAuthMethod(options, { methods: ["private_key_jwt"] }), {}, new Map());
    const body = new URLSearchParams();
    const headers = new Headers();
    await auth.apply(body, headers, context);
    expect(Object.fromEntries(body)).toEqual({
      client_id: "entra-app",
      client_assertion_type: JWT_BEARER_ASSERTION,
      client_assertion: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3In0.c2ln",
    });
    expect([auth.grant, auth.method, headers.has("authorization")]).toEqual(["client_credentials", "private_key_jwt", false]);
  });

  it("needs a server that accepts private_key_jwt", () => {
    const options = resolveOptions({ clientId: "entra-app", clientAssertion: "a.b.c" });
    expect(() => chooseAuthMethod(options, { methods: ["client_secret_basic"] })).toThrow(/with a clientAssertion this client can use private_key_jwt/);
  });

  it("gets a token from a server that verifies it, asking the source with the issuer as audience", async () => {
    const platform = await federated();
    const mock = msw.mock({ clients: [platform.client] });
    const audiences: string[] = [];
    const { events, onEvent } = collectEvents();
    const authFetch = withClientCredentials({
      clientId: "entra-app",
      clientAssertion: ({ audience }) => {
        audiences.push(audience);
        return platform.mint(audience);
      },
      onEvent,
    })();
    expect((await authFetch(mock.resource)).status).toBe(200);
    await authFetch(mock.resource);
    expect(audiences).toEqual([mock.issuer]);
    const body = new URLSearchParams(mock.requestsTo("token")[0]!.body);
    expect([body.get("grant_type"), body.get("client_id"), body.get("client_assertion")]).toEqual(["client_credentials", "entra-app", platform.minted[0]]);
    expect(mock.tokens[0]).toMatchObject({ clientId: "entra-app", authMethod: "private_key_jwt" });
    expect(events.find((event) => event.type === "token-request")).toMatchObject({ grantType: "client_credentials", authMethod: "private_key_jwt" });
  });

  it("a refused assertion is invalid_client, one request, and never quoted", async () => {
    const platform = await federated();
    const stranger = await federated();
    const mock = msw.mock({ clients: [platform.client] });
    const authFetch = withClientCredentials({ clientId: "entra-app", clientAssertion: ({ audience }) => stranger.mint(audience) })();
    const error = await rejection(authFetch(mock.resource));
    expect(error).toMatchObject({ phase: "token", code: "invalid_client", status: 401 });
    expect(mock.requestsTo("token")).toHaveLength(1);
    expect(JSON.stringify(error) + String(error) + error.stack).not.toContain(stranger.minted[0]!.split(".")[2]);
  });
});
