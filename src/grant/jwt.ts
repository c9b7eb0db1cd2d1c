import { calculateJwkThumbprint, exportJWK, importJWK, importPKCS8, type JWK, SignJWT } from "jose";
import { ClientCredentialsError } from "../errors.js";
import { isCryptoKey, type PrivateKeyInput } from "./key-type.js";

// Loaded with a dynamic import() only when a private key is configured, so a secret-only
// bundle never carries

/** A private key ready to sign client assertions with one algorithm. */
export interface SigningKey {
  alg: string;
  key: CryptoKey;
  kid?: string;
  /** RFC 7638 thumbprint of the public key (or the `kid`): identifies the key in cache keys. */
  thumbprint: string;
}

export interface AssertionClaims {
  clientId: string;
  audience: string;
  lifetimeSeconds: number;
}

/** An RFC 7523 §2.2 client assertion with a fresh `jti` and `iat`. */
export function signAssertion(signingKey: SigningKey, claims: AssertionClaims): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const { alg, kid } = signingKey;
  return new SignJWT({})
    .setProtectedHeader(kid ? { alg, kid } : { alg })
    .setIssuer(claims.clientId)
    .setSubject(claims.clientId)
    .setAudience(claims.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + claims.lifetimeSeconds)
    .setJti(crypto.randomUUID())
    .sign(signingKey.key);
}

/** Imports the key for `alg` (jose over WebCrypto) and works out its thumbprint. */
export async function importSigningKey(input: PrivateKeyInput, alg: string, keyId: string | undefined): Promise<SigningKey> {
  try {
    if (isCryptoKey(input)) {
      if (input.type !== "private") throw new ClientCredentialsError("config", "privateKey is a public CryptoKey", { code: "invalid_key" });
      const thumbprint = input.extractable ? await calculateJwkThumbprint(await exportJWK(input)) : (keyId ?? `cryptokey-${crypto.randomUUID()}`);
      return withKid({ alg, key: input, thumbprint }, keyId);
    }
    if (typeof input === "string") {
      const key = await importPKCS8(input, alg);
      const exportable = await importPKCS8(input, alg, { extractable: true });
      const thumbprint = await calculateJwkThumbprint(await exportJWK(exportable));
      return withKid({ alg, key, thumbprint }, keyId);
    }
    if (!input.d) throw new ClientCredentialsError("config", "privateKey JWK has no private part (`d`)", { code: "invalid_key" });
    const key = await importJWK({ ...input, alg, ext: false }, alg);
    if (!isCryptoKey(key)) throw new ClientCredentialsError("config", "privateKey JWK is a symmetric key", { code: "invalid_key" });
    const thumbprint = await calculateJwkThumbprint(input as JWK);
    return withKid({ alg, key, thumbprint }, keyId ?? (input as JsonWebKey & { kid?: string }).kid);
  } catch (error) {
    if (error instanceof ClientCredentialsError) throw error;
    // jose's messages describe the key format, never the key material.
    throw new ClientCredentialsError("config", `could not import privateKey for ${alg}: ${error instanceof Error ? error.message : "unknown error"}`, {
      code: "invalid_key",
      cause: error,
    });
  }
}

function withKid(key: Omit<SigningKey, "kid">, kid: string | undefined): SigningKey {
  return kid ? { ...key, kid } : key;
}
