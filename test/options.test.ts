import { describe, expect, it } from "vitest";
import { type ClientCredentialsOptions, memoryStore, withClientCredentials } from "../src/index.js";

const base = { clientId: "c", clientSecret: "s" };

describe("options are checked before any request", () => {
  it.each<[string, ClientCredentialsOptions, RegExp]>([
    ["no credential", { clientId: "c" }, /exactly one of clientSecret, privateKey and clientAssertion/],
    ["a secret and a client assertion", { clientId: "c", clientSecret: "s", clientAssertion: "a.b.c" }, /exactly one/],
    ["an empty client assertion", { clientId: "c", clientAssertion: "" }, /clientAssertion must be a JWT string or a function/],
    ["basic with a client assertion", { clientId: "c", clientAssertion: "a.b.c", authMethod: "client_secret_basic" }, /needs clientSecret/],
    [
      "a method that is part of a name",
      { clientId: "c", clientAssertion: "a.b.c", authMethod: "jwt" as "private_key_jwt" },
      /authMethod jwt needs clientSecret/,
    ],
    ["both credentials", { clientId: "c", clientSecret: "s", privateKey: "k" }, /exactly one/],
    ["no client id", { clientId: "", clientSecret: "s" }, /clientId is required/],
    ["empty secret", { clientId: "c", clientSecret: "" }, /non-empty string/],
    ["jwt without a key", { ...base, authMethod: "private_key_jwt" }, /needs privateKey or clientAssertion/],
    ["basic without a secret", { clientId: "c", privateKey: "k", authMethod: "client_secret_basic" }, /needs clientSecret/],
    ["resource: false alone", { ...base, resource: false }, /resource: false needs resourceUrl/],
    ["a relative resource", { ...base, resource: "mcp.example.com/mcp" }, /resource is not a valid absolute URL/],
    ["an http token endpoint", { ...base, tokenEndpoint: "http://auth.example.com/token" }, /tokenEndpoint must use https/],
    ["an http issuer", { ...base, issuer: "http://auth.example.com" }, /issuer must use https/],
    ["credentials in a URL", { ...base, resourceUrl: "https://user:pw@mcp.example.com/" }, /must not contain credentials/],
    ["a budget a timer cannot hold", { ...base, retryBudgetMs: 2 ** 31 }, /retryBudgetMs must be at most 2147483647/],
    ["a resource URN with a fragment", { ...base, resource: "urn:example:mcp#x", resourceUrl: "https://mcp.example.com/mcp" }, /must not have a fragment/],
    ["a negative skew", { ...base, refreshSkewSeconds: -1 }, /refreshSkewSeconds must be a non-negative number/],
    ["a NaN timeout", { ...base, timeoutMs: Number.NaN }, /timeoutMs must be a non-negative number/],
  ])("rejects %s with a config error", (_name, options, message) => {
    let error: unknown;
    try {
      withClientCredentials(options);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ name: "ClientCredentialsError", phase: "config" });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("pw@");
  });

  it("accepts loopback http and, when allowed, any http", () => {
    expect(() => withClientCredentials({ ...base, tokenEndpoint: "http://127.0.0.1:8080/token", resource: "http://localhost:3000/mcp" })).not.toThrow();
    expect(() => withClientCredentials({ ...base, tokenEndpoint: "http://auth.internal/token", allowInsecureRequests: true })).not.toThrow();
  });

  it("memoryStore rejects a maxEntries that cannot work", () => {
    expect(() => memoryStore({ maxEntries: -1 })).toThrow(/maxEntries must be a positive integer/);
    expect(() => memoryStore({ maxEntries: 1.5 })).toThrow(/maxEntries/);
  });
});
