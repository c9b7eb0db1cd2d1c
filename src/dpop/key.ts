import type { Encoding } from "./index.js";

/** A DPoP key ready to sign proofs: its JWS algorithm, public JWK (RFC 9449 §4.2) and thumbprint (RFC 7638). */
export interface DpopKey {
  readonly alg: string;
  readonly privateKey: CryptoKey;
  /** The public key's required members only, as the proof header carries it. */
  readonly jwk: JsonWebKey;
  /** base64url SHA-256 thumbprint: the token's `cnf.jkt`, and part of the cache key. */
  readonly thumbprint: string;
  /** The encoded protected header, the same for every proof of this key. */
  readonly header: string;
  sign(data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer>;
}

export class DpopKeyError extends Error {}

const HASHES: Record<string, string> = { "256": "SHA-256", "384": "SHA-384", "512": "SHA-512" };
const CURVES: Record<string, string> = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" };

/** A fresh key pair that never leaves this instance: ES256, the private half not extractable. */
export async function generateDpopKey(encoding: Encoding): Promise<DpopKey> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  return importDpopKey(pair, undefined, encoding);
}

/** The caller's key pair (shared by a fleet, so its tokens can be too). */
export async function importDpopKey(pair: CryptoKeyPair, algorithm: string | undefined, { base64url, sha256 }: Encoding): Promise<DpopKey> {
  const { privateKey, publicKey } = pair;
  if (privateKey?.type !== "private" || publicKey?.type !== "public" || !privateKey.usages.includes("sign")) {
    throw new DpopKeyError("dpop.keyPair must be a CryptoKeyPair whose private key may sign");
  }
  const { alg, params } = signing(privateKey.algorithm as KeyAlgorithm & { namedCurve?: string; hash?: { name: string } });
  if (algorithm !== undefined && algorithm !== alg) throw new DpopKeyError(`dpop.algorithm ${algorithm} does not fit this key (it signs ${alg})`);
  const full = await crypto.subtle.exportKey("jwk", publicKey).catch(() => {
    throw new DpopKeyError("the public key must be extractable (it goes into every proof): import it with extractable: true");
  });
  const jwk = required(full);
  const thumbprint = await sha256(JSON.stringify(jwk));
  const header = base64url(new TextEncoder().encode(JSON.stringify({ typ: "dpop+jwt", alg, jwk })));
  return { alg, privateKey, jwk, thumbprint, header, sign: (data) => crypto.subtle.sign(params, privateKey, data) };
}

/** The JWS algorithm of a WebCrypto key, and the parameters `sign` needs for it. */
function signing(algorithm: KeyAlgorithm & { namedCurve?: string; hash?: { name: string } }): {
  alg: string;
  params: AlgorithmIdentifier | EcdsaParams | RsaPssParams;
} {
  const bits = algorithm.hash?.name.replace("SHA-", "") ?? "";
  switch (algorithm.name) {
    case "ECDSA": {
      const alg = CURVES[algorithm.namedCurve ?? ""];
      if (alg) return { alg, params: { name: "ECDSA", hash: HASHES[alg.slice(2)]! } };
      break;
    }
    case "Ed25519":
      return { alg: "EdDSA", params: { name: "Ed25519" } };
    case "RSASSA-PKCS1-v1_5":
      if (HASHES[bits]) return { alg: `RS${bits}`, params: { name: "RSASSA-PKCS1-v1_5" } };
      break;
    case "RSA-PSS":
      if (HASHES[bits]) return { alg: `PS${bits}`, params: { name: "RSA-PSS", saltLength: Number(bits) / 8 } };
      break;
  }
  throw new DpopKeyError(`a ${algorithm.name} key cannot sign DPoP proofs; use ECDSA (P-256), Ed25519, RSASSA-PKCS1-v1_5 or RSA-PSS`);
}

/** RFC 7638 §3.2: the required members, in lexicographic order (which JSON.stringify keeps). */
function required(jwk: JsonWebKey): JsonWebKey {
  switch (jwk.kty) {
    case "EC":
      return { crv: jwk.crv, kty: "EC", x: jwk.x, y: jwk.y };
    case "OKP":
      return { crv: jwk.crv, kty: "OKP", x: jwk.x };
    case "RSA":
      return { e: jwk.e, kty: "RSA", n: jwk.n };
  }
  throw new DpopKeyError(`unsupported public key type ${String(jwk.kty)}`);
}
