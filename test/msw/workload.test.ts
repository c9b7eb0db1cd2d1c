// The MSW kit's JWT-bearer grant (src/msw/workload.ts): what a user testing workload identity
// relies on, checked with raw requests so the kit is not judged by the client it tests.
import { exportJWK, generateKeyPair } from "jose";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createMcpAuthMock, type McpAuthMockOptions } from "../../src/msw/index.js";
import { jwtSigner } from "../helpers.js";

const GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const signer = await jwtSigner();
const workload = { issuer: "https://platform.example", jwks: [signer.publicJwk], subject: "wl-1" };

function install(options: Partial<McpAuthMockOptions> = {}) {
  const mock = createMcpAuthMock({ clients: [], workloads: [workload], ...options });
  server.resetHandlers(
    ...mock.handlers,
    http.all("*", () => new HttpResponse(null, { status: 404 })),
  );
  return mock;
}

const mint = (claims: { iss?: string; sub?: string; aud?: string; expiresIn?: number } = {}) =>
  signer.sign({ iss: workload.issuer, sub: workload.subject, aud: "https://auth.example.com", ...claims });

async function token(mock: { tokenEndpoint: string }, params: Record<string, string>) {
  const response = await fetch(mock.tokenEndpoint, { method: "POST", body: new URLSearchParams({ grant_type: GRANT, ...params }) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("MSW kit: the JWT-bearer grant", () => {
  it("issues a token for a valid platform JWT, recorded with its grant and subject", async () => {
    const mock = install();
    const { status, body } = await token(mock, { assertion: await mint(), resource: mock.resource, scope: "mcp:read" });
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: "Bearer", scope: "mcp:read" });
    expect(mock.tokens[0]).toMatchObject({ grantType: GRANT, authMethod: "none", clientId: "wl-1", resource: mock.resource });
    expect((await fetch(mock.resource, { headers: { authorization: `Bearer ${body.access_token}` } })).status).toBe(200);
  });

  it("lists the grant in its metadata once workloads are set, and refuses it without them", async () => {
    const mock = install();
    const metadata = (await (await fetch("https://auth.example.com/.well-known/oauth-authorization-server")).json()) as { grant_types_supported: string[] };
    expect(metadata.grant_types_supported).toEqual(["client_credentials", GRANT]);
    const plain = install({ workloads: [] });
    expect((await token(plain, { assertion: await mint() })).body.error).toBe("unsupported_grant_type");
    expect(mock.issuer).toBe(plain.issuer);
  });

  it.each([
    ["an untrusted issuer", { iss: "https://elsewhere.example" }, "invalid_grant"],
    ["another subject", { sub: "wl-2" }, "invalid_grant"],
    ["a wrong audience", { aud: "https://wrong.example" }, "invalid_grant"],
    ["an expired JWT", { expiresIn: -60 }, "invalid_grant"],
  ])("refuses %s with %s", async (_case, claims, error) => {
    const mock = install();
    const answer = await token(mock, { assertion: await mint(claims) });
    expect(answer).toMatchObject({ status: 400, body: { error } });
    expect(mock.tokens).toEqual([]);
  });

  it("refuses a missing assertion, a non-JWT and client authentication", async () => {
    const mock = install();
    expect((await token(mock, {})).body.error).toBe("invalid_request");
    expect((await token(mock, { assertion: "not-a-jwt" })).body.error).toBe("invalid_grant");
    expect((await token(mock, { assertion: await mint(), client_secret: "x" })).body.error).toBe("invalid_request");
    const basic = await fetch(mock.tokenEndpoint, {
      method: "POST",
      headers: { authorization: `Basic ${btoa("a:b")}` },
      body: new URLSearchParams({ grant_type: GRANT, assertion: await mint() }),
    });
    expect([basic.status, ((await basic.json()) as { error: string }).error]).toEqual([400, "invalid_request"]);
    expect(mock.tokens).toEqual([]);
  });

  it("tries each of a platform's keys without kid, as for client assertions", async () => {
    const other = await generateKeyPair("ES256");
    const mock = install({ workloads: [{ ...workload, jwks: [await exportJWK(other.publicKey), ...workload.jwks] }] });
    expect((await token(mock, { assertion: await mint() })).status).toBe(200);
  });

  it("checks its options", () => {
    expect(() => createMcpAuthMock({ clients: [], workloads: [{ ...workload, issuer: "" }] })).toThrow(/every workload needs an issuer/);
  });
});
