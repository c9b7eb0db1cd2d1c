import { CompactSign } from "jose";
import type { Credential } from "../options.js";
import { chooseAlgorithm, isCryptoKey, KeyError, type PrivateKeyInput, pkcs8Der } from "./key-type.js";

// Loaded with a dynamic import() only when a private key is configured, so a secret-only
// bundle never carries jose, nor the key-type detection. It imports nothing but types from the
// rest of the package (see KeyError). jose only signs: keys are imported with WebCrypto directly,
// which saves jose's importPKCS8/importJWK (~1.4 KB gzipped) and their ASN.1 parsing.

export { KeyError };

/** A private key ready to sign client assertions with one algorithm. */
export interface SigningKey {
  alg: string;
  key: CryptoKey;
  kid?: string;
  /** RFC 7638 thumbprint of the public key (or the `kid`): identifies the key in cache keys. */
  thumbprint: string;
}

/** Imported keys by algorithm: one import per key and algorithm for the life of the middleware. */
export type KeyCache = Map<string, Promise<SigningKey>>;

/** The key for the algorithm the credential and the server agree on, imported once per algorithm. */
export function signingKey(credential: Extract<Credential, { kind: "key" }>, serverAlgs: readonly string[] | undefined, keys: KeyCache): Promise<SigningKey> {
  const alg = chooseAlgorithm(credential.key, credential.algorithm, serverAlgs);
  let imported = keys.get(alg);
  if (!imported) {
    imported = importSigningKey(credential.key, alg, credential.keyId);
    imported.catch(() => keys.delete(alg));
    keys.set(alg, imported);
  }
  return imported;
}

/**
 * An RFC 7523 §2.2 client assertion with a fresh `jti` and `iat`. The claims are built here and
 * signed with CompactSign: jose's SignJWT would add its claims builder (~1.8 KB) for the same bytes.
 */
export function signAssertion(signingKey: SigningKey, clientId: string, audience: string, lifetimeSeconds: number): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  const { alg, kid } = signingKey;
  const claims = { iss: clientId, sub: clientId, aud: audience, iat, exp: iat + lifetimeSeconds, jti: crypto.randomUUID() };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader(kid ? { alg, kid } : { alg }).sign(signingKey.key);
}

/** RFC 7638 thumbprint: SHA-256 of the required public members, in lexicographic order. */
async function thumbprintOf({ crv, e, kty, n, x, y }: JsonWebKey): Promise<string> {
  const members = new TextEncoder().encode(JSON.stringify(kty === "RSA" ? { e, kty, n } : { crv, kty, x, y }));
  const digest = String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("SHA-256", members)));
  // base64url by hand: jose's `base64url` namespace would make bundlers share a helper chunk with the initial load.
  return btoa(digest).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const exported = async (key: CryptoKey) => thumbprintOf(await crypto.subtle.exportKey("jwk", key));

/** WebCrypto import parameters for a JWS algorithm (RFC 7518 §3, RFC 8037). */
function importParams(alg: string): RsaHashedImportParams | EcKeyImportParams | Algorithm {
  const [, family, bits] = /^([REP]S)(256|384|512)$/.exec(alg) ?? [];
  if (family === "ES") return { name: "ECDSA", namedCurve: `P-${bits === "512" ? 521 : bits}` };
  if (family) return { name: family === "RS" ? "RSASSA-PKCS1-v1_5" : "RSA-PSS", hash: `SHA-${bits}` };
  // Ed25519 and ML-DSA-*: WebCrypto names them as JOSE does; anything else fails to import.
  return { name: alg === "EdDSA" ? "Ed25519" : alg };
}

/** Imports the key for `alg` (WebCrypto; jose only signs) and works out its thumbprint. */
export async function importSigningKey(input: PrivateKeyInput, alg: string, keyId: string | undefined): Promise<SigningKey> {
  try {
    let key: CryptoKey;
    let thumbprint: string;
    if (isCryptoKey(input)) {
      if (input.type !== "private") throw new KeyError("privateKey is a public CryptoKey");
      key = input;
      thumbprint = input.extractable ? await exported(input) : (keyId ?? `cryptokey-${crypto.randomUUID()}`);
    } else {
      const isPem = typeof input === "string";
      if (!isPem && !input.d) throw new KeyError("privateKey JWK has no private part (`d`)");
      // A JWK's own `alg` and `use` are left out, as jose did: the algorithm is `alg`, chosen to fit the key.
      const load = (extractable: boolean) =>
        isPem
          ? crypto.subtle.importKey("pkcs8", pkcs8Der(input), importParams(alg), extractable, ["sign"])
          : crypto.subtle.importKey("jwk", { ...input, alg: undefined, use: undefined }, importParams(alg), extractable, ["sign"]);
      key = await load(false);
      thumbprint = isPem ? await exported(await load(true)) : await thumbprintOf(input);
      if (!isPem) keyId ??= (input as JsonWebKey & { kid?: string }).kid;
    }
    // RFC 7518 §3.3 (and jose, when it signs): RSA keys of at least 2048 bits.
    const bits = (key.algorithm as RsaHashedKeyAlgorithm).modulusLength;
    if (bits < 2048) throw new KeyError(`${alg} needs an RSA key of 2048 bits or more; privateKey has ${bits}`);
    return keyId ? { alg, key, thumbprint, kid: keyId } : { alg, key, thumbprint };
  } catch (error) {
    if (error instanceof KeyError) throw error;
    // WebCrypto's messages describe the key format or a mismatch, never the key material.
    throw new KeyError(`could not import privateKey for ${alg}: ${error instanceof Error ? error.message : "unknown error"}`, "invalid_key", { cause: error });
  }
}
