import { describe, expect, it } from "vitest";
import type { DiscoveryReport } from "../../src/cli/discover.js";
import { type Verdict, verdict } from "../../src/cli/verdict.js";

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const EC_KEY: JsonWebKey = { kty: "EC", crv: "P-256" };
const ED_KEY: JsonWebKey = { kty: "OKP", crv: "Ed25519" };
const RSA_KEY: JsonWebKey = { kty: "RSA" };

type Server = NonNullable<DiscoveryReport["authorizationServer"]>;

/** A report of a chain that completed: 401 with resource_metadata, then the server given. */
function report(server: Partial<Server> = {}, probe: Partial<DiscoveryReport["probe"]> = {}): DiscoveryReport {
  return {
    url: "https://mcp.example.com/mcp",
    probe: { status: 401, resourceMetadata: ["https://mcp.example.com/.well-known/oauth-protected-resource/mcp"], ...probe },
    resourceMetadata: { tried: [], resource: "https://mcp.example.com/mcp", authorizationServers: ["https://auth.example.com"] },
    authorizationServer: {
      issuer: "https://auth.example.com",
      tried: [],
      tokenEndpoint: "https://auth.example.com/token",
      authMethods: ["client_secret_basic", "client_secret_post", "private_key_jwt"],
      signingAlgs: ["ES256", "RS256"],
      grantTypes: ["client_credentials"],
      ...server,
    },
    verdict: { ok: false, summary: "" },
  };
}

function failed(code: string, status?: number): DiscoveryReport {
  return { ...report(), authorizationServer: undefined, probe: { status, resourceMetadata: [] }, failure: { code, message: `broke with ${code}` } };
}

const secret = { kind: "secret" } as const;
const key = (jwk: JsonWebKey = EC_KEY) => ({ kind: "key", key: jwk }) as const;
const workload = { kind: "workload", clientId: "agent-7" } as const;

describe("verdict: a broken chain", () => {
  // Each code's fix names what to change; a shared phrase per code shows the right one was picked.
  const FIX_PHRASES: Record<string, string> = {
    unreachable: "Check the URL",
    resource_metadata_not_found: "--issuer (or --token-endpoint) and --resource",
    resource_mismatch: "must be this URL or a prefix of it",
    invalid_resource_metadata: "non-empty `authorization_servers`",
    authorization_server_metadata_not_found: "pass --token-endpoint with --issuer",
    invalid_authorization_server_metadata: "needs `issuer` and `token_endpoint`",
    issuer_mismatch: "must equal, exactly",
    invalid_issuer: "without query or fragment",
    insecure_url: "--allow-insecure-requests",
    invalid_url: "does not parse",
    redirect: "never follow redirects",
    timeout: "raise --timeout",
    network_error: "The connection failed",
    retry_later: "try again later",
    http_error: "check its logs",
    response_too_large: "over 1 MiB",
  };

  it.each(Object.entries(FIX_PHRASES))("%s has its own fix", (code, phrase) => {
    const result = verdict(failed(code, code === "unreachable" ? undefined : 401));
    expect(result).toMatchObject({ ok: false, summary: `Discovery stopped: broke with ${code}` });
    expect(result.fix).toContain(phrase);
    for (const [other, otherPhrase] of Object.entries(FIX_PHRASES)) if (other !== code) expect(result.fix).not.toContain(otherPhrase);
  });

  it("points to the troubleshooting guide for a code it has no fix for", () => {
    expect(verdict(failed("something_new", 401)).fix).toBe("See the message; docs/troubleshooting.md lists what each error code means.");
  });

  it("says no token is needed when the server answered 2xx and publishes no metadata", () => {
    expect(verdict(failed("resource_metadata_not_found", 200))).toEqual({
      ok: true,
      summary: "The server answered 200 without a token and publishes no resource metadata: it needs no token here.",
    });
  });

  it("asks whether the URL is the MCP endpoint when it answered neither 2xx nor 401", () => {
    const result = verdict(failed("resource_metadata_not_found", 404));
    expect(result.ok).toBe(false);
    expect(result.summary).toBe("The server answered 404, not 401 with a challenge, and publishes no protected resource metadata.");
    expect(result.fix).toContain("often ending in /mcp");
  });

  it("keeps the metadata fix after a 401", () => {
    expect(verdict(failed("resource_metadata_not_found", 401)).fix).toContain("RFC 9728");
  });
});

describe("verdict: warnings about the chain", () => {
  it("warns when the server did not answer 401 without a token", () => {
    const result = verdict(report({}, { status: 200 }), secret);
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual([expect.stringContaining("The server answered 200 to a request without a token, not 401")]);
  });

  it("warns when the 401 names no resource_metadata", () => {
    expect(verdict(report({}, { resourceMetadata: [] })).warnings).toEqual([
      "The 401 names no resource_metadata (the MCP spec asks for it); the well-known URL was used instead.",
    ]);
  });

  it("has no warnings for a complete, ordinary chain", () => {
    expect(verdict(report()).warnings).toBeUndefined();
    expect(verdict(report(), secret).warnings).toBeUndefined();
  });
});

describe("verdict: without credentials", () => {
  it("lists each kind of credential that would work", () => {
    expect(verdict(report({ grantTypes: ["client_credentials", JWT_BEARER] }))).toEqual({
      ok: true,
      summary: "This client can authenticate here.",
      options: [
        "with a client secret: client_secret_basic",
        "with a private key: private_key_jwt (ES256, RS256)",
        "with a platform token (workload identity): the jwt-bearer grant",
      ],
    });
  });

  it("takes client_secret_basic when the methods are omitted (RFC 8414 default)", () => {
    expect(verdict(report({ authMethods: undefined })).options).toEqual(["with a client secret: client_secret_basic"]);
  });

  it("says any algorithm when the signing algorithms are omitted", () => {
    expect(verdict(report({ authMethods: ["private_key_jwt"], signingAlgs: undefined })).options).toEqual([
      "with a private key: private_key_jwt (any algorithm)",
    ]);
  });

  it("warns, advisory, when grant_types_supported lacks client_credentials", () => {
    const result = verdict(report({ grantTypes: ["authorization_code"] }));
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual([
      "grant_types_supported lists authorization_code without client_credentials; it is advisory, and the grant will be tried once.",
    ]);
  });

  it("finds no method when only HS256 private_key_jwt is offered", () => {
    const result = verdict(report({ authMethods: ["private_key_jwt"], signingAlgs: ["HS256"] }));
    expect(result.ok).toBe(false);
    expect(result.summary).toBe(
      "The authorization server offers no client authentication this package can use: private_key_jwt (private_key_jwt only with HS256, none of which WebCrypto signs).",
    );
    expect(result.fix).toContain("client_secret_basic, client_secret_post or private_key_jwt");
  });

  it("finds no method when nothing is offered", () => {
    for (const authMethods of [[], ["none", "tls_client_auth"]]) {
      const result: Verdict = verdict(report({ authMethods }));
      expect(result.ok).toBe(false);
      expect(result.summary).toBe(`The authorization server offers no client authentication this package can use: ${authMethods.join(", ") || "none"}.`);
    }
  });
});

describe("verdict: a client secret", () => {
  it("uses the first secret method offered", () => {
    expect(verdict(report(), secret)).toEqual({
      ok: true,
      summary: "Your client secret will authenticate with client_secret_basic.",
      method: "client_secret_basic",
    });
    expect(verdict(report({ authMethods: ["client_secret_post"] }), secret).method).toBe("client_secret_post");
    expect(verdict(report({ authMethods: undefined }), secret).method).toBe("client_secret_basic");
  });

  it("suggests a private key where only private_key_jwt is offered", () => {
    const result = verdict(report({ authMethods: ["private_key_jwt"] }), secret);
    expect(result.ok).toBe(false);
    expect(result.summary).toBe("The authorization server accepts private_key_jwt; your client secret needs client_secret_basic or client_secret_post.");
    expect(result.fix).toBe("Use a private key (MCP_PRIVATE_KEY) instead, or register the client for client_secret_basic or client_secret_post.");
  });

  it("asks for another registration when neither fits", () => {
    expect(verdict(report({ authMethods: ["tls_client_auth"] }), secret).fix).toBe(
      "Ask for a client registration this package can use: client_secret_basic, client_secret_post or private_key_jwt.",
    );
  });

  it("honours --auth-method", () => {
    const result = verdict(report({ authMethods: ["client_secret_basic"] }), { kind: "secret", authMethod: "client_secret_post" });
    expect(result.ok).toBe(false);
    expect(result.summary).toContain("needs client_secret_post");
  });

  it("warns when grant_types_supported lacks client_credentials", () => {
    expect(verdict(report({ grantTypes: [JWT_BEARER] }), secret).warnings).toEqual([
      `grant_types_supported lists ${JWT_BEARER} without client_credentials; it will be tried once.`,
    ]);
  });
});

describe("verdict: a private key", () => {
  it("names the algorithm the key will sign with", () => {
    expect(verdict(report(), key())).toEqual({
      ok: true,
      summary: "Your private key will authenticate with private_key_jwt, signed ES256.",
      method: "private_key_jwt (ES256)",
    });
    expect(verdict(report({ signingAlgs: ["PS256", "ES384"] }), key(RSA_KEY)).method).toBe("private_key_jwt (PS256)");
  });

  it("takes Ed25519 in the metadata for an EdDSA key", () => {
    expect(verdict(report({ signingAlgs: ["Ed25519"] }), key(ED_KEY)).method).toBe("private_key_jwt (EdDSA)");
    expect(verdict(report({ signingAlgs: ["EdDSA"] }), key(ED_KEY)).method).toBe("private_key_jwt (EdDSA)");
  });

  it("refuses a key of a type the server does not accept", () => {
    const result = verdict(report({ signingAlgs: ["ES256"] }), key(ED_KEY));
    expect(result.ok).toBe(false);
    expect(result.summary).toBe("The authorization server accepts assertions signed with ES256; your key signs EdDSA.");
  });

  it("refuses a key against HS256-only private_key_jwt", () => {
    const result = verdict(report({ authMethods: ["private_key_jwt"], signingAlgs: ["HS256"] }), key());
    expect(result.ok).toBe(false);
    expect(result.summary).toContain("your key signs ES256");
  });

  it("names the server's algorithms when none of them is usable", () => {
    const result = verdict(report({ authMethods: ["private_key_jwt"], signingAlgs: ["HS256"] }), key());
    expect(result.summary).toContain("HS256");
  });

  it("says when the key cannot be read", () => {
    expect(verdict(report(), key({ kty: "oct" }))).toMatchObject({ ok: false, summary: "Your private key cannot be read." });
  });

  it("skips the algorithm check when the server lists none", () => {
    expect(verdict(report({ signingAlgs: undefined }), key()).method).toBe("private_key_jwt");
  });

  it("suggests a client secret where private_key_jwt is not offered", () => {
    const result = verdict(report({ authMethods: ["client_secret_post"] }), key());
    expect(result.summary).toBe("The authorization server accepts client_secret_post; your private key needs private_key_jwt.");
    expect(result.fix).toBe("Use a client secret (MCP_CLIENT_SECRET) instead, or register the client for private_key_jwt.");
  });

  it("sends a platform token as client assertion with private_key_jwt", () => {
    expect(verdict(report(), { kind: "client-assertion" })).toMatchObject({ ok: true, method: "private_key_jwt" });
    expect(verdict(report({ authMethods: ["client_secret_basic"] }), { kind: "client-assertion" }).summary).toContain("your client assertion needs");
  });
});

describe("verdict: a platform token (workload identity)", () => {
  it("is the jwt-bearer grant, without a warning when the grant is listed or grants are omitted", () => {
    const expected = { ok: true, summary: "Your platform token will be sent as a jwt-bearer grant (RFC 7523 §2.1).", method: "jwt-bearer grant" };
    expect(verdict(report({ grantTypes: ["client_credentials", JWT_BEARER] }), workload)).toEqual(expected);
    expect(verdict(report({ grantTypes: undefined }), workload)).toEqual(expected);
  });

  it("warns when grant_types_supported does not list the grant", () => {
    const result = verdict(report({ grantTypes: ["client_credentials"] }), workload);
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual(["grant_types_supported does not list the jwt-bearer grant (client_credentials); it will be tried once."]);
  });

  it("warns when the grant goes without a client id", () => {
    const result = verdict(report({ grantTypes: [JWT_BEARER] }), { kind: "workload" });
    expect(result).toMatchObject({ ok: true, method: "jwt-bearer grant" });
    expect(result.warnings).toEqual([expect.stringMatching(/^No client id \(MCP_CLIENT_ID\): the grant goes without client_id/)]);
  });
});
