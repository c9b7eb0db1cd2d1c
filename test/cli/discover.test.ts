// walk() in src/cli/discover.ts: the discovery chain against the MSW kit, with a recording fetch.
import { describe, expect, it } from "vitest";
import { walk } from "../../src/cli/discover.js";
import type { verdict } from "../../src/cli/verdict.js";
import { useMockServer } from "../helpers.js";

const msw = useMockServer();

describe("walk: the discovery chain through the MSW kit", () => {
  /** A fetch that goes to the mock and records each request line. */
  function recorder(fail = false) {
    const seen: string[] = [];
    const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      seen.push(`${request.method} ${request.url}`);
      if (fail) throw new TypeError("fetch failed", { cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) });
      return fetch(request);
    }) as typeof fetch;
    return { seen, fetcher };
  }
  const walkWith = (fetcher: typeof fetch, credentials?: Parameters<typeof verdict>[1]) =>
    walk(new URL("https://mcp.example.com/mcp"), { timeoutMs: 5000, allowInsecureRequests: false, fetch: fetcher }, credentials);

  it("follows the 401 to the resource metadata and the authorization server", async () => {
    const mock = msw.mock();
    const { seen, fetcher } = recorder();
    const result = await walkWith(fetcher, { kind: "secret" });
    const asMetadata = "https://auth.example.com/.well-known/oauth-authorization-server";
    expect(seen).toEqual([`POST ${mock.resource}`, `GET ${mock.resourceMetadataUrl}`, `GET ${asMetadata}`]);
    expect(result.probe).toMatchObject({ status: 401, resourceMetadata: [mock.resourceMetadataUrl] });
    expect(result.resourceMetadata).toMatchObject({ used: mock.resourceMetadataUrl, resource: mock.resource, authorizationServers: [mock.issuer] });
    expect(result.authorizationServer).toMatchObject({
      issuer: mock.issuer,
      used: asMetadata,
      tokenEndpoint: mock.tokenEndpoint,
      grantTypes: ["client_credentials"],
    });
    expect(result.failure).toBeUndefined();
    expect(result.verdict).toMatchObject({ ok: true, method: "client_secret_basic" });
    expect(Object.keys(result).at(-1)).toBe("verdict");
  });

  it("marks a refused resource metadata document and stops with its code", async () => {
    msw.mock({ resourceMetadata: { resource: "https://other.example/mcp" } });
    const result = await walkWith(recorder().fetcher);
    expect(result.failure?.code).toBe("resource_mismatch");
    expect(result.resourceMetadata.tried[0]).toMatchObject({ status: 200, ok: false, refused: expect.any(String) });
    expect(result.authorizationServer).toBeUndefined();
    expect(result.verdict.fix).toContain("prefix");
  });

  it("stops with issuer_mismatch when the authorization server names another issuer", async () => {
    msw.mock({ authorizationServerMetadata: { issuer: "https://evil.example" } });
    const result = await walkWith(recorder().fetcher);
    expect(result.failure?.code).toBe("issuer_mismatch");
    expect(result.verdict).toMatchObject({ ok: false, fix: expect.stringContaining("must equal, exactly") });
  });

  it("marks the refused authorization server document, and uses none", async () => {
    msw.mock({ authorizationServerMetadata: { issuer: "https://evil.example" } });
    const result = await walkWith(recorder().fetcher);
    expect(result.authorizationServer?.used).toBeUndefined();
    expect(result.authorizationServer?.tried[0]).toMatchObject({ ok: false, refused: expect.any(String) });
  });

  it("reports an unreachable server", async () => {
    const { seen, fetcher } = recorder(true);
    const result = await walkWith(fetcher);
    expect(seen).toHaveLength(1);
    expect(result.failure?.code).toBe("unreachable");
    expect(result.probe.error).toBeTruthy();
    expect(result.verdict).toMatchObject({ ok: false, fix: expect.stringContaining("Check the URL") });
  });
});
