// Client keys for private_key_jwt, generated on the fly (nothing secret is ever committed).
import * as jose from "jose";

const GENERATE = {
  ES256: ["ES256", {}],
  RS256: ["RS256", { modulusLength: 2048 }],
  PS256: ["PS256", { modulusLength: 2048 }],
  EdDSA: ["Ed25519", {}],
};

/**
 * A fresh key pair for a client assertion algorithm (ES256, RS256, PS256 or EdDSA).
 * Returns the private key as PKCS#8 PEM and as a private JWK (with `alg` and `kid`),
 * and the public JWK to register with the authorization server.
 */
export async function generateClientKey(alg, kid = `${alg.toLowerCase()}-${crypto.randomUUID().slice(0, 8)}`) {
  const [name, options] = GENERATE[alg] ?? [alg, {}];
  const { publicKey, privateKey } = await jose.generateKeyPair(name, { ...options, extractable: true });
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: "sig" };
  const privateJwk = { ...(await jose.exportJWK(privateKey)), kid, alg };
  const privateKeyPem = await jose.exportPKCS8(privateKey);
  return { alg, kid, publicJwk, privateJwk, privateKeyPem, privateKey, publicKey };
}

/** oidc-provider client metadata for a private_key_jwt client holding `key`. */
export function privateKeyJwtClient(clientId, key) {
  return {
    client_id: clientId,
    token_endpoint_auth_method: "private_key_jwt",
    token_endpoint_auth_signing_alg: key.alg,
    jwks: { keys: [key.publicJwk] },
  };
}

/** oidc-provider client metadata for a client secret client. */
export function secretClient(clientId, clientSecret, method = "client_secret_basic") {
  return { client_id: clientId, client_secret: clientSecret, token_endpoint_auth_method: method };
}

/** A random client secret (43 base64url characters). */
export function randomSecret() {
  return jose.base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
}
