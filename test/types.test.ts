/**
 * Type-level contract of the public API. `npm test` runs `tsc -p tsconfig.test.json` over test/,
 * so a failing `expectTypeOf` or an unused `@ts-expect-error` fails the build; the vitest
 * cases only make the file show up in the test report.
 */

import type {
  AuthProvider as SdkV2AuthProvider,
  Middleware as SdkV2Middleware,
  StreamableHTTPClientTransportOptions as SdkV2TransportOptions,
} from "@modelcontextprotocol/client";
import { applyMiddlewares, type Middleware } from "@modelcontextprotocol/sdk/client/middleware.js";
import type { StreamableHTTPClientTransportOptions } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike as SdkFetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { describe, expectTypeOf, it } from "vitest";
import { type AuthProvider, authProvider } from "../src/adapters.js";
import {
  type AccessToken,
  type AssertionContext,
  type AssertionSource,
  type AuthenticatedFetch,
  ClientCredentialsError,
  type ClientCredentialsErrorCode,
  type ClientCredentialsEvent,
  type ClientCredentialsOptions,
  type ClientCredentialsPhase,
  type FetchLike,
  isClientCredentialsError,
  memoryStore,
  type OAuthErrorCode,
  sealedStore,
  type TokenStore,
  withClientCredentials,
  withWorkloadIdentity,
} from "../src/index.js";
import { fileToken } from "../src/sources/file.js";
import { envToken, githubActionsToken } from "../src/sources/index.js";
import { durableObjectStore, kvStore, TokenStoreDurableObject } from "../src/stores/cloudflare.js";
import { denoKvStore } from "../src/stores/deno.js";
import { idbStore } from "../src/stores/idb.js";
import { redisStore } from "../src/stores/redis.js";

const middleware = withClientCredentials({ clientId: "ci", clientSecret: "s3cret" });
const authFetch = middleware(fetch);

describe("withClientCredentials types", () => {
  it("is an MCP SDK Middleware and composes with applyMiddlewares()", () => {
    expectTypeOf(middleware).toExtend<Middleware>();
    expectTypeOf(applyMiddlewares(middleware)).toEqualTypeOf<Middleware>();
    // next is optional (defaults to globalThis.fetch) and takes the global fetch or any FetchLike.
    expectTypeOf(middleware).toBeCallableWith();
    expectTypeOf(middleware).toBeCallableWith(fetch);
    expectTypeOf(middleware).toBeCallableWith((input: string | URL | Request, init?: RequestInit) => fetch(input, init));
    expectTypeOf(middleware).returns.toEqualTypeOf<AuthenticatedFetch>();
  });

  it("returns a drop-in fetch", () => {
    expectTypeOf(authFetch).toExtend<typeof fetch>();
    expectTypeOf(authFetch).toExtend<FetchLike>();
    expectTypeOf(authFetch).toExtend<SdkFetchLike>();
    expectTypeOf(authFetch).toExtend<NonNullable<StreamableHTTPClientTransportOptions["fetch"]>>();
    expectTypeOf(authFetch).toBeCallableWith("https://mcp.example.com/mcp");
    expectTypeOf(authFetch).toBeCallableWith(new URL("https://mcp.example.com/mcp"), { method: "POST", body: "{}" });
    expectTypeOf(authFetch).toBeCallableWith(new Request("https://mcp.example.com/mcp"));
    expectTypeOf(authFetch).returns.toEqualTypeOf<Promise<Response>>();
  });

  it("getToken() and clearTokens()", () => {
    expectTypeOf(authFetch.getToken).returns.toEqualTypeOf<Promise<AccessToken>>();
    expectTypeOf(authFetch.getToken).toBeCallableWith();
    expectTypeOf(authFetch.getToken).toBeCallableWith("https://mcp.example.com/mcp");
    expectTypeOf(authFetch.getToken).toBeCallableWith(new URL("https://mcp.example.com/mcp"));
    expectTypeOf(authFetch.clearTokens).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<AccessToken>().toEqualTypeOf<{
      accessToken: string;
      tokenType: string;
      expiresAt: number;
      scope?: string;
      resource?: string;
      issuer?: string;
    }>();
  });

  it("ClientCredentialsError", () => {
    expectTypeOf<ClientCredentialsError["phase"]>().toEqualTypeOf<"config" | "discovery" | "token" | "resource">();
    expectTypeOf<ClientCredentialsPhase>().toEqualTypeOf<"config" | "discovery" | "token" | "resource">();
    expectTypeOf<ClientCredentialsError>().toExtend<Error>();
    expectTypeOf<ClientCredentialsError["status"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<ClientCredentialsError["code"]>().toEqualTypeOf<ClientCredentialsErrorCode | OAuthErrorCode | (string & {}) | undefined>();
    expectTypeOf<"retry_later">().toExtend<ClientCredentialsErrorCode>();
    expectTypeOf<"invalid_client">().toExtend<OAuthErrorCode>();
    expectTypeOf<ClientCredentialsError["retryAfter"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<ClientCredentialsError["description"]>().toEqualTypeOf<string | undefined>();
    const error: unknown = new ClientCredentialsError("token", "x", { status: 401, code: "invalid_client" });
    if (isClientCredentialsError(error)) expectTypeOf(error).toEqualTypeOf<ClientCredentialsError>();
    // @ts-expect-error not a phase
    void new ClientCredentialsError("network", "x");
  });

  it("options accept every documented credential form", () => {
    expectTypeOf<{ clientId: string; clientSecret: string }>().toExtend<ClientCredentialsOptions>();
    expectTypeOf<{ clientId: string; privateKey: string }>().toExtend<ClientCredentialsOptions>();
    expectTypeOf<{ clientId: string; privateKey: JsonWebKey }>().toExtend<ClientCredentialsOptions>();
    expectTypeOf<{ clientId: string; privateKey: CryptoKey }>().toExtend<ClientCredentialsOptions>();
    expectTypeOf<{ clientId: string; clientSecret: string; scope: string[]; resource: false }>().toExtend<ClientCredentialsOptions>();
    expectTypeOf<{ clientId: string; clientSecret: string; assertionAudience: "https://as.example/token" }>().toExtend<ClientCredentialsOptions>();
    expectTypeOf<{ clientId: string; clientSecret: string; store: TokenStore }>().toExtend<ClientCredentialsOptions>();
    expectTypeOf(memoryStore()).toExtend<TokenStore>();
  });

  it("every store is a TokenStore; stores may be sync or async, locks are optional", () => {
    expectTypeOf(idbStore).returns.toExtend<TokenStore>();
    expectTypeOf(redisStore).returns.toExtend<TokenStore>();
    expectTypeOf(kvStore).returns.toExtend<TokenStore>();
    expectTypeOf(durableObjectStore).returns.toExtend<TokenStore>();
    expectTypeOf(denoKvStore).returns.toExtend<TokenStore>();
    expectTypeOf(sealedStore(memoryStore(), new Uint8Array(32))).toEqualTypeOf<TokenStore>();
    expectTypeOf(TokenStoreDurableObject).toBeConstructibleWith({ storage: {} as never, blockConcurrencyWhile: (fn: () => Promise<unknown>) => fn() } as never);
    const sync: TokenStore = { get: () => undefined, set: () => {}, delete: () => {} };
    const async: TokenStore = { get: async () => null, set: async () => {}, delete: async () => {}, acquire: async () => true, release: async () => {} };
    void sync;
    void async;
    // @ts-expect-error values are strings: the middleware serialises entries itself
    const objects: TokenStore = { get: () => ({ accessToken: "x" }), set: () => {}, delete: () => {} };
    void objects;
    expectTypeOf<ClientCredentialsOptions["authMethod"]>().toEqualTypeOf<"client_secret_basic" | "client_secret_post" | "private_key_jwt" | undefined>();
  });

  it("onEvent events narrow on type and never carry a token", () => {
    const onEvent = (event: ClientCredentialsEvent) => {
      if (event.type === "token-request") {
        expectTypeOf(event.authMethod).toEqualTypeOf<"client_secret_basic" | "client_secret_post" | "private_key_jwt" | "none">();
        expectTypeOf(event.grantType).toEqualTypeOf<"client_credentials" | "urn:ietf:params:oauth:grant-type:jwt-bearer">();
      }
      if (event.type === "cache-hit") expectTypeOf(event.expiresAt).toEqualTypeOf<number>();
    };
    expectTypeOf(onEvent).toExtend<NonNullable<ClientCredentialsOptions["onEvent"]>>();
    expectTypeOf<Extract<ClientCredentialsEvent, { accessToken: unknown }>>().toBeNever();
  });
});

/** Never called: each line must be a compile error (an unused @ts-expect-error fails tsc). */
export function rejectedOptions(key: CryptoKey): void {
  // @ts-expect-error unknown option (typo of clientSecret)
  withClientCredentials({ clientId: "ci", clientSecret: "s", clientSecrett: "s" });
  // @ts-expect-error unknown option
  withClientCredentials({ clientId: "ci", clientSecret: "s", audience: "x" });
  // @ts-expect-error clientId is required
  withClientCredentials({ clientSecret: "s" });
  // @ts-expect-error clientId must be a string
  withClientCredentials({ clientId: 42, clientSecret: "s" });
  // @ts-expect-error not a client authentication method this package implements
  withClientCredentials({ clientId: "ci", clientSecret: "s", authMethod: "client_secret_jwt" });
  // @ts-expect-error resource is a string or false, never true
  withClientCredentials({ clientId: "ci", clientSecret: "s", resource: true });
  // @ts-expect-error scope is a string or string[]
  withClientCredentials({ clientId: "ci", clientSecret: "s", scope: 5 });
  // @ts-expect-error privateKey is a PEM string, a JWK or a CryptoKey
  withClientCredentials({ clientId: "ci", privateKey: 123 });
  // @ts-expect-error privateKey is not a CryptoKeyPair
  withClientCredentials({ clientId: "ci", privateKey: { privateKey: key, publicKey: key } });
  // @ts-expect-error refreshSkewSeconds is a number
  withClientCredentials({ clientId: "ci", clientSecret: "s", refreshSkewSeconds: "60" });
  // @ts-expect-error timeoutMs is a number
  withClientCredentials({ clientId: "ci", clientSecret: "s", timeoutMs: "10s" });
  // @ts-expect-error a store needs get, set and delete
  withClientCredentials({ clientId: "ci", clientSecret: "s", store: { get: () => undefined } });
  // @ts-expect-error storeTimeoutMs is a number
  withClientCredentials({ clientId: "ci", clientSecret: "s", storeTimeoutMs: "2s" });
  // @ts-expect-error sealedStore needs a key
  sealedStore(memoryStore());
  // @ts-expect-error onEvent must accept every ClientCredentialsEvent
  withClientCredentials({ clientId: "ci", clientSecret: "s", onEvent: (event: { type: "nope" }) => event });
  // @ts-expect-error next must be a fetch, not a URL
  withClientCredentials({ clientId: "ci", clientSecret: "s" })("https://mcp.example.com");
  // @ts-expect-error getToken takes a URL, not options
  void authFetch.getToken({ resource: "https://mcp.example.com" });
  // @ts-expect-error withWorkloadIdentity needs an assertion
  withWorkloadIdentity({ clientId: "ci" });
  // @ts-expect-error the assertion is the credential: no secret
  withWorkloadIdentity({ assertion: "a.b.c", clientSecret: "s" });
  // @ts-expect-error an assertion source returns a string, not an object
  withWorkloadIdentity({ assertion: () => ({ value: "a.b.c" }) });
  // @ts-expect-error clientAssertion is a string or a source, not a CryptoKey
  withClientCredentials({ clientId: "ci", clientAssertion: key });
}

describe("workload identity", () => {
  it("every source fits both assertion options, and withWorkloadIdentity returns the same fetch", () => {
    for (const source of [fileToken("/var/run/secrets/tokens/mcp"), githubActionsToken(), envToken("MCP_ASSERTION"), "a.b.c", async () => "a.b.c"]) {
      expectTypeOf(withWorkloadIdentity({ assertion: source })).toEqualTypeOf<(next?: FetchLike) => AuthenticatedFetch>();
      void withClientCredentials({ clientId: "ci", clientAssertion: source });
    }
    expectTypeOf<Parameters<Extract<AssertionSource, (context: never) => unknown>>[0]>().toEqualTypeOf<AssertionContext>();
    expectTypeOf<AssertionContext["audience"]>().toEqualTypeOf<string>();
  });
});

describe("MCP SDK v2 (@modelcontextprotocol/client 2.x)", () => {
  it("authFetch is a v2 transport fetch and the middleware a v2 Middleware", () => {
    expectTypeOf(authFetch).toExtend<NonNullable<SdkV2TransportOptions["fetch"]>>();
    expectTypeOf(middleware).toExtend<SdkV2Middleware>();
  });

  it("authProvider() is a v2 AuthProvider, accepted as a transport's authProvider", () => {
    const provider = authProvider(authFetch, "https://mcp.example.com/mcp");
    expectTypeOf(provider).toEqualTypeOf<AuthProvider>();
    expectTypeOf(provider).toExtend<SdkV2AuthProvider>();
    expectTypeOf(provider).toExtend<NonNullable<SdkV2TransportOptions["authProvider"]>>();
    expectTypeOf(authProvider).toBeCallableWith(authFetch, new URL("https://mcp.example.com/mcp"));
  });

  it("getToken() takes a 401's WWW-Authenticate header, as a transport has it", () => {
    expectTypeOf(authFetch.getToken).toBeCallableWith("https://mcp.example.com/mcp", { wwwAuthenticate: new Headers().get("www-authenticate") });
    expectTypeOf(authFetch.getToken).toBeCallableWith(new URL("https://mcp.example.com/mcp"), {});
  });

  it("invalidate() takes a URL and optionally the rejected token", () => {
    expectTypeOf(authFetch.invalidate).toBeCallableWith("https://mcp.example.com/mcp");
    expectTypeOf(authFetch.invalidate).toBeCallableWith(new URL("https://mcp.example.com/mcp"), "token");
    expectTypeOf(authFetch.invalidate).returns.toEqualTypeOf<Promise<void>>();
  });
});
