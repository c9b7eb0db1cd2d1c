// DPoP (RFC 9449, SEP-1932): `dpop: "auto"` against oidc-provider without features.dPoP, with it,
// and with it for EdDSA proofs only; and `dpop: true` against a server that answers Bearer
// (dpop_not_bound). Each server's tokens are for a DPoP-checking MCP resource
// (servers/dpop-resource.mjs) that also takes Bearer where DPoP is off or optional. It imports
// the built package, as users get it (`npx tsup` first).
import type { ClientCredentialsError } from "mcp-client-credentials";
import { describe, expect, it } from "vitest";
import { dpopServers, expectNoLeak, initialize } from "./dpop-helpers.js";

const { rs, client } = dpopServers(["on", "off", "eddsa"]);

describe('dpop: "auto" follows the authorization server\'s metadata', () => {
  it("without dPoP (features.dPoP off): Bearer tokens, no proofs anywhere", async () => {
    const c = client("clientSecret", { dpop: "auto" });
    expect((await initialize(c.authFetch, rs.off.url)).status).toBe(200);
    expect(c.tokenTypes).toEqual(["Bearer"]);
    expect(c.sent.filter((s) => s.headers.has("dpop"))).toEqual([]);
    expect(rs.off.requests.at(-1)).toMatchObject({ scheme: "Bearer", proof: false, outcome: "ok" });
    expect((await c.authFetch.getToken(rs.off.url)).tokenType).toBe("Bearer");
  });

  it("with dPoP: DPoP tokens and proofs", async () => {
    const c = client("privateKeyJwt", { dpop: "auto" });
    expect((await initialize(c.authFetch, rs.on.url)).status).toBe(200);
    expect(c.tokenTypes).toEqual(["DPoP"]);
    expect(rs.on.requests.at(-1)).toMatchObject({ scheme: "DPoP", proof: true, outcome: "ok" });
  });

  it("with dPoP for EdDSA proofs only: an ES256 key is not used (Bearer); an Ed25519 key pair is (DPoP)", async () => {
    const es256 = client("clientSecret", { dpop: "auto" });
    expect((await initialize(es256.authFetch, rs.eddsa.url)).status).toBe(200);
    expect([es256.tokenTypes, es256.sent.filter((s) => s.headers.has("dpop")).length]).toEqual([["Bearer"], 0]);
    const keyPair = (await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"])) as CryptoKeyPair;
    const ed25519 = client("clientSecret", { dpop: { keyPair, mode: "auto" } });
    expect((await initialize(ed25519.authFetch, rs.eddsa.url)).status).toBe(200);
    expect(ed25519.tokenTypes).toEqual(["DPoP"]);
    expect(rs.eddsa.requests.at(-1)).toMatchObject({ scheme: "DPoP", proof: true, outcome: "ok" });
  });

  it("dpop: true against the server without dPoP: it answers Bearer, refused as dpop_not_bound (nothing leaks)", async () => {
    const c = client("privateKeyJwt", { dpop: true });
    const error = await initialize(c.authFetch, rs.off.url).catch((e: unknown) => e);
    expect((error as ClientCredentialsError).code).toBe("dpop_not_bound");
    expect(c.tokenTypes).toEqual(["Bearer"]);
    expectNoLeak(c.events, error);
  });
});
