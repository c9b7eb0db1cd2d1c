// DPoP under concurrency and with odd keys: the nonce retry belongs to every request whose proof
// lacked the nonce, not only to the first one that saw it (a review found the others 401ing or
// spending a token); a public key that cannot be exported is a config error, not a DOMException.
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { parseWwwAuthenticate } from "../src/discovery/challenge.js";
import { Dpop } from "../src/dpop/index.js";
import { ClientCredentialsError } from "../src/errors.js";
import { requestToken } from "../src/grant/token-request.js";
import type { Http } from "../src/http.js";
import { withClientCredentials } from "../src/index.js";
import { base64url, sha256 } from "../src/util.js";
import { CLIENT_ID, CLIENT_SECRET, useMockServer } from "./helpers.js";

const msw = useMockServer();
const options = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, dpop: true } as const;

describe("DPoP nonces under concurrency", () => {
  it("concurrent callers on a cold client: all succeed with one token", async () => {
    const mock = msw.mock({ dpop: { requireNonce: true } });
    const authFetch = withClientCredentials(options)();
    const statuses = await Promise.all(Array.from({ length: 5 }, () => authFetch(mock.resource).then((response) => response.status)));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(mock.tokens).toHaveLength(1);
  });

  it("concurrent callers after the resource rotates its nonce: all succeed, no token request", async () => {
    const mock = msw.mock({ dpop: { requireNonce: true } });
    const authFetch = withClientCredentials(options)();
    expect((await authFetch(mock.resource)).status).toBe(200);
    const before = mock.requestsTo("token").length;
    mock.rotateDpopNonce("resource");
    const statuses = await Promise.all(Array.from({ length: 5 }, () => authFetch(mock.resource).then((response) => response.status)));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(mock.requestsTo("token")).toHaveLength(before);
  });

  it("two token requests to one authorization server, both told to use a nonce: both retried, both succeed", async () => {
    const dpop = new Dpop({ mode: "always" }, { base64url, sha256, parseWwwAuthenticate, ClientCredentialsError });
    const NONCE = "n-1";
    let release!: () => void;
    const bothSent = new Promise<void>((resolve) => {
      release = resolve;
    });
    let sent = 0;
    const http = {
      async postForm(_url: URL, build: () => Promise<RequestInit>) {
        const proof = new Headers((await build()).headers).get("dpop") ?? "";
        if (++sent === 2) release();
        await bothSent; // both first attempts are out before either answer arrives
        if (decodeJwt(proof).nonce !== NONCE) {
          return { status: 400, headers: new Headers({ "dpop-nonce": NONCE }), text: '{"error":"use_dpop_nonce"}' };
        }
        return { status: 200, headers: new Headers(), text: JSON.stringify({ access_token: `at-${sent}`, token_type: "DPoP", expires_in: 60 }) };
      },
    } as unknown as Http;
    const auth = { grant: "client_credentials", method: "client_secret_post", apply: async () => {}, redact: (text: string) => text } as never;
    const request = (resource: string) =>
      requestToken(http, auth, { tokenEndpoint: new URL("https://as.example/token"), issuer: "https://as.example", resource, scopes: [], dpop }, () => {});
    const results = await Promise.allSettled([request("https://a.example/mcp"), request("https://b.example/mcp")]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(sent).toBe(4);
  });
});

describe("DPoP keys of the caller", () => {
  it("a public key that cannot be exported is a config error naming the fix", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
    const publicKey = await crypto.subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    const mock = msw.mock({ dpop: true });
    const authFetch = withClientCredentials({ ...options, dpop: { keyPair: { privateKey: pair.privateKey, publicKey } } })();
    const error = await authFetch(mock.resource).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ClientCredentialsError);
    expect(error).toMatchObject({ phase: "config", code: "invalid_key" });
    expect(String((error as Error).message)).toMatch(/extractable/);
    expect(mock.requestsTo("token")).toHaveLength(0);
  });
});
