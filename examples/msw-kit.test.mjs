// Testing code that uses mcp-client-credentials without a real authorization server: the MSW kit
// simulates the MCP server, its metadata and a token endpoint that really checks credentials.
//   npx vitest run --config examples/vitest.config.mjs

import { withClientCredentials } from "mcp-client-credentials";
import { createMcpAuthMock, faults } from "mcp-client-credentials/msw";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";

const mock = createMcpAuthMock({
  clients: [{ clientId: "ci-bot", clientSecret: "s3cret" }],
  // issuer: "https://auth.example.com", resource: "https://mcp.example.com/mcp" (the defaults)
});

const server = setupServer(
  ...mock.handlers,
  // Optional: answer anything else with 404 instead of reaching the network.
  http.all("*", () => new HttpResponse(null, { status: 404 })),
);

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => mock.reset());
afterAll(() => server.close());

it("gets a token once and reuses it", async () => {
  const authFetch = withClientCredentials({ clientId: "ci-bot", clientSecret: "s3cret" })(fetch);

  const first = await authFetch(mock.resource, { method: "POST", body: '{"jsonrpc":"2.0"}' });
  const second = await authFetch(mock.resource, { method: "POST", body: '{"jsonrpc":"2.0"}' });

  expect(first.status).toBe(200);
  expect(second.status).toBe(200);
  expect(mock.requestsTo("token").length).toBe(1);
  expect(mock.tokens[0]?.authMethod).toBe("client_secret_basic");
});

it("retries a rate-limited token request", async () => {
  mock.fault("token", faults.rateLimited(1));
  const authFetch = withClientCredentials({ clientId: "ci-bot", clientSecret: "s3cret" })(fetch);

  expect((await authFetch(mock.resource)).status).toBe(200);
  expect(mock.requestsTo("token").length).toBe(2);
});

it("reports a wrong secret as a typed error", async () => {
  const authFetch = withClientCredentials({ clientId: "ci-bot", clientSecret: "wrong" })(fetch);

  await expect(authFetch(mock.resource)).rejects.toMatchObject({ name: "ClientCredentialsError", phase: "token", code: "invalid_client" });
});
