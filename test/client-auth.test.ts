import { decodeJwt, decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { ClientCredentialsError } from "../src/errors.js";
import { chooseAuthMethod, createClientAuth, formEncode, JWT_BEARER_ASSERTION } from "../src/grant/client-auth.js";
import { algorithmsFor, chooseAlgorithm } from "../src/grant/key-type.js";
import { resolveOptions } from "../src/options.js";
import type { ClientCredentialsOptions } from "../src/types.js";

const context = { issuer: "https://auth.example.com/tenant", tokenEndpoint: "https://auth.example.com/tenant/token" };

/** The parts take options resolved once, as withClientCredentials does. */
const resolved = (options: ClientCredentialsOptions) => resolveOptions(options);

async function applied(options: ClientCredentialsOptions, method = chooseAuthMethod(resolved(options), {}), server = {}) {
  const auth = createClientAuth(resolved(options), method, server, new Map());
  const body = new URLSearchParams({ grant_type: "client_credentials" });
  const headers = new Headers();
  await auth.apply(body, headers, context);
  return { auth, body, headers };
}

function decodeBasic(header: string | null): [string, string] {
  const raw = new TextDecoder().decode(Uint8Array.from(atob(header!.replace(/^Basic /, "")), (c) => c.charCodeAt(0)));
  const [id, secret] = raw.split(":").map((part) => decodeURIComponent(part.replace(/\+/g, " ")));
  return [id!, secret!];
}

describe("client_secret_basic (RFC 6749 §2.3.1)", () => {
  it.each([
    ["plain", "client", "secret"],
    ["reserved characters", "id:with%colon+plus", "s:e%c+r e/t?&="],
    ["non-ASCII", "clïent-ü", "sécret:%+ü–🔑"],
    ["characters encodeURIComponent leaves alone", "a!b'c(d)e~f*", "x!'()~*"],
  ])("form-urlencodes id and secret before base64: %s", async (_name, clientId, clientSecret) => {
    const { body, headers } = await applied({ clientId, clientSecret });
    const header = headers.get("authorization")!;
    expect(header).toMatch(/^Basic [A-Za-z0-9+/]+=*$/);
    expect(decodeBasic(header)).toEqual([clientId, clientSecret]);
    expect(atob(header.slice(6))).not.toMatch(/[^\x21-\x7e]/); // encoded form is plain ASCII
    expect(body.has("client_secret")).toBe(false);
    expect(body.has("client_id")).toBe(false);
  });

  it("encodes space as + and leaves only unreserved characters bare", () => {
    expect(formEncode("a b*c-d._e!")).toBe("a+b*c-d._e%21");
  });
});

describe("client_secret_post", () => {
  it("puts client_id and client_secret in the body, no Authorization header", async () => {
    const { body, headers } = await applied({ clientId: "c", clientSecret: "s3cret", authMethod: "client_secret_post" });
    expect(body.get("client_id")).toBe("c");
    expect(body.get("client_secret")).toBe("s3cret");
    expect(headers.has("authorization")).toBe(false);
  });
});

describe("private_key_jwt (RFC 7523 §2.2)", () => {
  it.each(["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"])("signs a valid assertion with %s", async (alg) => {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const { body, headers } = await applied({ clientId: "robot", privateKey, algorithm: alg, keyId: "k1" });
    expect(body.get("client_assertion_type")).toBe(JWT_BEARER_ASSERTION);
    expect(body.has("client_id")).toBe(false);
    expect(headers.has("authorization")).toBe(false);
    const { payload, protectedHeader } = await jwtVerify(body.get("client_assertion")!, publicKey, {
      audience: context.issuer,
      issuer: "robot",
      subject: "robot",
    });
    expect(protectedHeader).toMatchObject({ alg, kid: "k1" });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(300);
    expect(payload.exp! - payload.iat!).toBeGreaterThan(0);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof payload.aud).toBe("string");
  });

  it("uses a fresh jti and iat for every assertion", async () => {
    const { privateKey } = await generateKeyPair("ES256");
    const auth = createClientAuth(resolved({ clientId: "c", privateKey }), "private_key_jwt", {}, new Map());
    const jtis = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const body = new URLSearchParams();
      await auth.apply(body, new Headers(), context);
      jtis.add(decodeJwt(body.get("client_assertion")!).jti!);
    }
    expect(jtis.size).toBe(5);
  });

  it.each([
    [undefined, context.issuer],
    ["issuer", context.issuer],
    ["token_endpoint", context.tokenEndpoint],
    ["https://legacy.example/oauth", "https://legacy.example/oauth"],
  ] as const)("sets aud from assertionAudience=%s", async (assertionAudience, expected) => {
    const { privateKey } = await generateKeyPair("ES256");
    const { body } = await applied({ clientId: "c", privateKey, ...(assertionAudience ? { assertionAudience } : {}) });
    expect(decodeJwt(body.get("client_assertion")!).aud).toBe(expected);
  });

  it("accepts a PKCS#8 PEM and a private JWK, taking kid from the JWK", async () => {
    const { privateKey } = await generateKeyPair("RS256", { extractable: true });
    const pem = await exportPKCS8(privateKey);
    const jwk = { ...(await exportJWK(privateKey)), kid: "jwk-kid" };
    const fromPem = await applied({ clientId: "c", privateKey: pem });
    expect(decodeProtectedHeader(fromPem.body.get("client_assertion")!)).toEqual({ alg: "RS256" });
    const fromJwk = await applied({ clientId: "c", privateKey: jwk });
    expect(decodeProtectedHeader(fromJwk.body.get("client_assertion")!)).toEqual({ alg: "RS256", kid: "jwk-kid" });
    // same key, same identity, whatever the input form
    expect(await fromPem.auth.identity(context)).toBe(await fromJwk.auth.identity(context));
  });

  it("imports the key once per instance, not per assertion", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const pem = await exportPKCS8(privateKey);
    const keys = new Map();
    const auth = createClientAuth(resolved({ clientId: "c", privateKey: pem }), "private_key_jwt", {}, keys);
    await auth.apply(new URLSearchParams(), new Headers(), context);
    const imported = keys.get("ES256");
    await auth.apply(new URLSearchParams(), new Headers(), context);
    expect(keys.size).toBe(1);
    expect(keys.get("ES256")).toBe(imported);
  });

  it("detects the algorithm of PEM keys from the key type", async () => {
    for (const [alg, expected] of [
      ["ES256", ["ES256"]],
      ["ES384", ["ES384"]],
      ["ES512", ["ES512"]],
      ["EdDSA", ["EdDSA"]],
    ] as const) {
      const { privateKey } = await generateKeyPair(alg, { extractable: true });
      expect(algorithmsFor(await exportPKCS8(privateKey))).toEqual(expected);
    }
    const rsa = await generateKeyPair("RS256", { extractable: true });
    expect(algorithmsFor(await exportPKCS8(rsa.privateKey))).toContain("PS256");
  });

  it("matches the algorithm to the server's supported list", async () => {
    const { privateKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = await exportJWK(privateKey);
    expect(chooseAlgorithm(jwk, undefined, ["PS256", "ES256"])).toBe("PS256");
    expect(chooseAlgorithm(jwk, undefined, undefined)).toBe("RS256");
    expect(() => chooseAlgorithm(jwk, undefined, ["ES256"])).toThrow(/accepts client assertions signed with ES256/);
    expect(() => chooseAlgorithm(jwk, "ES256", undefined)).toThrow(/does not fit this key/);
    // Through the authenticator, as a typed config error.
    const auth = createClientAuth(resolved({ clientId: "c", privateKey: jwk }), "private_key_jwt", { signingAlgs: ["ES256"] }, new Map());
    await expect(auth.identity(context)).rejects.toMatchObject({ name: "ClientCredentialsError", phase: "config", code: "unsupported_algorithm" });
  });

  it("refuses an RSA key shorter than 2048 bits with a typed invalid_key error naming the algorithm", async () => {
    const { privateKey } = await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    );
    const pem = await exportPKCS8(privateKey);
    const auth = createClientAuth(resolved({ clientId: "c", privateKey: pem }), "private_key_jwt", {}, new Map());
    const error = await auth.identity(context).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ClientCredentialsError);
    expect(error).toMatchObject({
      phase: "config",
      code: "invalid_key",
      message: expect.stringMatching(/RS256 needs an RSA key of 2048 bits or more; privateKey has 1024/),
    });
    expect(String((error as Error).message)).not.toContain(pem.slice(30, 60));
  });

  it("refuses a configured algorithm that does not fit a PEM key's curve, before any import", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const pem = await exportPKCS8(privateKey);
    const auth = createClientAuth(resolved({ clientId: "c", privateKey: pem, algorithm: "ES384" }), "private_key_jwt", {}, new Map());
    await expect(auth.identity(context)).rejects.toMatchObject({
      phase: "config",
      message: expect.stringMatching(/ES384 does not fit this key \(it can sign ES256\)/),
    });
  });

  it.each([
    ["-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----", /PKCS#1\/SEC1.*openssl pkcs8 -topk8 -nocrypt/],
    ["-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----", /openssl pkcs8 -topk8 -nocrypt/],
    ["-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIF\n-----END ENCRYPTED PRIVATE KEY-----", /encrypted PEM.*openssl pkcs8/],
    ["-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----", /must be a PKCS#8 PEM/],
    ["not a key", /no PEM header/],
  ])("refuses unusable PEMs with a conversion hint (%#)", async (pem, message) => {
    // On the first token request, which asks the authenticator for its identity first.
    const auth = createClientAuth(resolved({ clientId: "c", privateKey: pem }), "private_key_jwt", {}, new Map());
    const error = await auth.identity(context).then(
      () => undefined,
      (caught: ClientCredentialsError) => caught,
    );
    expect(error).toBeInstanceOf(ClientCredentialsError);
    if (!error) return;
    expect(error.code).toMatch(/^(unsupported_key_format|invalid_key)$/);
    expect(error.phase).toBe("config");
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain("MI");
  });

  it("refuses a public JWK and a public CryptoKey", async () => {
    const { publicKey } = await generateKeyPair("ES256", { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const auth = createClientAuth(resolved({ clientId: "c", privateKey: publicJwk }), "private_key_jwt", {}, new Map());
    await expect(auth.apply(new URLSearchParams(), new Headers(), context)).rejects.toThrow(/no private part/);
    const auth2 = createClientAuth(resolved({ clientId: "c", privateKey: publicKey }), "private_key_jwt", {}, new Map());
    await expect(auth2.apply(new URLSearchParams(), new Headers(), context)).rejects.toThrow(/public CryptoKey/);
  });
});

describe("choosing the method", () => {
  it("prefers private_key_jwt with a key and basic, then post, with a secret", () => {
    expect(chooseAuthMethod(resolved({ clientId: "c", privateKey: "pem" }), { methods: ["client_secret_basic", "private_key_jwt"] })).toBe("private_key_jwt");
    expect(chooseAuthMethod(resolved({ clientId: "c", clientSecret: "s" }), { methods: ["client_secret_post", "client_secret_basic"] })).toBe(
      "client_secret_basic",
    );
    expect(chooseAuthMethod(resolved({ clientId: "c", clientSecret: "s" }), { methods: ["client_secret_post"] })).toBe("client_secret_post");
    expect(chooseAuthMethod(resolved({ clientId: "c", clientSecret: "s" }), {})).toBe("client_secret_basic");
    expect(chooseAuthMethod(resolved({ clientId: "c", clientSecret: "s", authMethod: "client_secret_post" }), { methods: ["client_secret_basic"] })).toBe(
      "client_secret_post",
    );
  });

  it("says clearly when nothing fits", () => {
    const error = captureSync(() =>
      chooseAuthMethod(resolved({ clientId: "c", clientSecret: "hunter2-secret" }), { methods: ["private_key_jwt", "tls_client_auth"] }),
    );
    expect(error.phase).toBe("config");
    expect(error.code).toBe("unsupported_auth_method");
    expect(error.message).toMatch(/accepts private_key_jwt, tls_client_auth.*client_secret_basic or client_secret_post/);
    expect(error.message).not.toContain("hunter2");
  });

  it("redacts an echoed secret", async () => {
    const { auth } = await applied({ clientId: "c", clientSecret: "hunter2-secret" });
    expect(auth.redact("bad secret hunter2-secret given")).toBe("bad secret [redacted] given");
  });
});

function captureSync(fn: () => unknown): ClientCredentialsError {
  try {
    fn();
  } catch (error) {
    return error as ClientCredentialsError;
  }
  throw new Error("expected an error");
}
