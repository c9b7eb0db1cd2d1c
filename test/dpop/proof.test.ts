import * as jose from "jose";
import { describe, expect, it } from "vitest";
import { parseWwwAuthenticate } from "../../src/discovery/challenge.js";
import { Dpop } from "../../src/dpop/index.js";
import { DpopKeyError, generateDpopKey, importDpopKey } from "../../src/dpop/key.js";
import { Nonces } from "../../src/dpop/nonces.js";
import { createProof } from "../../src/dpop/proof.js";
import { ClientCredentialsError } from "../../src/errors.js";
import { base64url as encode, sha256 } from "../../src/util.js";

const tools = { base64url: encode, sha256, parseWwwAuthenticate, ClientCredentialsError };

/** Verifies a proof as a resource server would: the signature against the key in its own header. */
async function verify(proof: string) {
  const { payload, protectedHeader } = await jose.jwtVerify(proof, jose.EmbeddedJWK, { typ: "dpop+jwt" });
  return { payload, protectedHeader };
}

describe("DPoP keys", () => {
  it("generates a non-extractable ES256 key whose thumbprint is RFC 7638's", async () => {
    const key = await generateDpopKey(tools);
    expect(key.alg).toBe("ES256");
    expect(key.privateKey.extractable).toBe(false);
    expect(Object.keys(key.jwk)).toEqual(["crv", "kty", "x", "y"]);
    expect(key.thumbprint).toBe(await jose.calculateJwkThumbprint(key.jwk as jose.JWK));
  });

  it.each([
    ["ES384", { name: "ECDSA", namedCurve: "P-384" }],
    ["EdDSA", { name: "Ed25519" }],
    ["RS256", { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }],
    ["PS256", { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }],
  ])("imports a caller's %s key pair, and its proofs verify", async (alg, params) => {
    const pair = (await crypto.subtle.generateKey(params as EcKeyGenParams, false, ["sign", "verify"])) as CryptoKeyPair;
    const key = await importDpopKey(pair, undefined, tools);
    expect(key.alg).toBe(alg);
    expect(key.thumbprint).toBe(await jose.calculateJwkThumbprint(key.jwk as jose.JWK));
    const { protectedHeader } = await verify(await createProof(key, { htm: "POST", htu: "https://as.example/token" }, tools));
    expect(protectedHeader.alg).toBe(alg);
  });

  it("refuses a key that cannot sign proofs, and an algorithm that does not fit the key", async () => {
    const hmac = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    await expect(importDpopKey({ privateKey: hmac, publicKey: hmac } as CryptoKeyPair, undefined, tools)).rejects.toBeInstanceOf(DpopKeyError);
    const ec = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
    await expect(importDpopKey(ec, "RS256", tools)).rejects.toThrow(/does not fit this key \(it signs ES256\)/);
  });
});

describe("DPoP proofs", () => {
  it("bind method and URL (no query or fragment), with a fresh jti and iat each time", async () => {
    const key = await generateDpopKey(tools);
    const first = await verify(await createProof(key, { htm: "POST", htu: "https://mcp.example.com/mcp?x=1#frag" }, tools));
    const second = await verify(await createProof(key, { htm: "POST", htu: "https://mcp.example.com/mcp" }, tools));
    expect(first.protectedHeader).toEqual({ typ: "dpop+jwt", alg: "ES256", jwk: key.jwk });
    expect(first.payload).toMatchObject({ htm: "POST", htu: "https://mcp.example.com/mcp" });
    expect(Math.abs((first.payload.iat ?? 0) - Date.now() / 1000)).toBeLessThan(5);
    expect(first.payload.jti).not.toBe(second.payload.jti);
    expect(first.payload).not.toHaveProperty("ath");
    expect(first.payload).not.toHaveProperty("nonce");
  });

  it("carry ath, the base64url SHA-256 of the access token, and the nonce when given", async () => {
    const key = await generateDpopKey(tools);
    const token = "an-access-token.with~chars";
    const { payload } = await verify(
      await createProof(key, { htm: "GET", htu: "https://mcp.example.com/mcp", token: { accessToken: token }, nonce: "n-1" }, tools),
    );
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
    expect(payload.ath).toBe(jose.base64url.encode(digest));
    expect(payload.nonce).toBe("n-1");
  });

  it("Dpop uses the nonce its server last sent, per origin", async () => {
    const dpop = new Dpop({ mode: "always" }, tools);
    dpop.nonces.remember("https://as.example/token", { headers: new Headers({ "dpop-nonce": "as-nonce" }) }, "as");
    const atAs = await verify((await dpop.proof("POST", "https://as.example/token")).proof);
    const atMcp = await verify((await dpop.proof("POST", "https://mcp.example.com/mcp", { accessToken: "t" })).proof);
    expect(atAs.payload.nonce).toBe("as-nonce");
    expect(atMcp.payload).not.toHaveProperty("nonce");
    expect(atAs.protectedHeader.jwk).toEqual(atMcp.protectedHeader.jwk); // one key per instance
  });
});

describe("Nonces", () => {
  it("keeps the latest nonce per role and origin, says when one is new, and refuses what is not NQCHAR", () => {
    const nonces = new Nonces();
    const answer = (nonce: string) => ({ headers: new Headers({ "dpop-nonce": nonce }) });
    expect(nonces.remember("https://a.example/x", answer("one"), "rs")).toBe(true);
    expect(nonces.remember("https://a.example/y", answer("one"), "rs")).toBe(false);
    expect(nonces.get("https://a.example/z", "rs")).toBe("one");
    expect(nonces.get("https://b.example/", "rs")).toBeUndefined();
    expect(nonces.remember("https://a.example/", answer('quote"d'), "rs")).toBe(false);
    expect(nonces.remember("https://a.example/", answer("two"), "rs")).toBe(true);
    expect(nonces.get("https://a.example/", "rs")).toBe("two");
    // The authorization server on the same origin keeps a nonce of its own.
    expect(nonces.get("https://a.example/", "as")).toBeUndefined();
    expect(nonces.remember("https://a.example/token", answer("as-one"), "as")).toBe(true);
    expect(nonces.get("https://a.example/", "rs")).toBe("two");
  });
});
