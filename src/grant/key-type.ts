import type { ClientCredentialsErrorCode } from "../errors.js";

export type PrivateKeyInput = string | JsonWebKey | CryptoKey;

/**
 * A key that cannot be used. This module and jwt.ts form the lazily loaded private-key chunk,
 * which imports nothing from the initial one (a shared chunk would cost the secret-only load a
 * few hundred bytes): client-auth.ts turns this into a `config` ClientCredentialsError.
 */
export class KeyError extends Error {
  constructor(
    message: string,
    readonly code: Extract<ClientCredentialsErrorCode, "invalid_key" | "unsupported_key_format" | "unsupported_algorithm"> = "invalid_key",
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const RSA_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
const PSS_ALGS = ["PS256", "PS384", "PS512"];
const CURVE_ALGS: Record<string, string> = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512", Ed25519: "EdDSA" };

/** Every JWS algorithm a client assertion can be signed with here (WebCrypto's). */
export const SIGNING_ALGS: readonly string[] = [...RSA_ALGS, ...Object.values(CURVE_ALGS)];

const CONVERT_HINT = "convert it to unencrypted PKCS#8 (`openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.pkcs8.pem`), or pass a private JWK or CryptoKey";

/** The algorithms a key can sign with, best first. */
export function algorithmsFor(input: PrivateKeyInput): string[] {
  if (typeof input === "string") return pemAlgorithms(input);
  if (isCryptoKey(input)) return cryptoKeyAlgorithms(input);
  if (typeof input.alg === "string") return [input.alg];
  if (input.kty === "RSA") return RSA_ALGS;
  const alg = input.crv ? CURVE_ALGS[input.crv] : undefined;
  if ((input.kty === "EC" || input.kty === "OKP") && alg) return [alg];
  throw new KeyError(`unsupported private JWK (kty ${String(input.kty)}, crv ${String(input.crv)})`);
}

/** Picks the algorithm: the configured one, else the first the key and the server both support. */
export function chooseAlgorithm(input: PrivateKeyInput, configured: string | undefined, serverSupported: readonly string[] | undefined): string {
  const candidates = algorithmsFor(input);
  if (configured) {
    if (!candidates.includes(configured)) {
      throw new KeyError(`algorithm ${configured} does not fit this key (it can sign ${candidates.join(", ")})`);
    }
    return configured;
  }
  if (!serverSupported) return candidates[0]!;
  const fit = candidates.find((alg) => serverSupported.includes(alg) || (alg === "EdDSA" && serverSupported.includes("Ed25519")));
  if (!fit) {
    throw new KeyError(
      `the authorization server accepts client assertions signed with ${serverSupported.join(", ") || "nothing"}, this key can sign ${candidates.join(", ")}`,
      "unsupported_algorithm",
    );
  }
  return fit;
}

export function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof CryptoKey !== "undefined" && value instanceof CryptoKey;
}

function cryptoKeyAlgorithms(key: CryptoKey): string[] {
  const algorithm = key.algorithm as KeyAlgorithm & { namedCurve?: string; hash?: { name: string } };
  const bits = algorithm.hash?.name.replace("SHA-", "");
  switch (algorithm.name) {
    case "ECDSA":
    case "Ed25519":
      return [CURVE_ALGS[algorithm.namedCurve ?? algorithm.name]].filter((alg): alg is string => Boolean(alg));
    case "RSASSA-PKCS1-v1_5":
      return [`RS${bits}`];
    case "RSA-PSS":
      return [`PS${bits}`];
    default:
      throw new KeyError(`unsupported CryptoKey algorithm ${algorithm.name}`);
  }
}

// DER encodings (hex) of the OIDs that identify a PKCS#8 key's type.
const OIDS: Array<[string, string[]]> = [
  ["2a864886f70d01010a", PSS_ALGS], // RSASSA-PSS
  ["2a864886f70d010101", RSA_ALGS], // rsaEncryption
  ["2a8648ce3d030107", ["ES256"]], // P-256
  ["2b81040022", ["ES384"]], // P-384
  ["2b81040023", ["ES512"]], // P-521
  ["2b6570", ["EdDSA"]], // Ed25519
];

function pemAlgorithms(pem: string): string[] {
  // The key's first bytes as hex: every OID above sits there, on a byte boundary.
  const head = Array.from(pkcs8Der(pem).subarray(0, 48), (byte) => byte.toString(16).padStart(2, "0")).join("");
  for (const [oid, algs] of OIDS) {
    if (new RegExp(`^(..)*?${oid}`).test(head)) return algs;
  }
  throw new KeyError("privateKey PEM holds an unsupported key type (use EC P-256/384/521, RSA or Ed25519)");
}

/** The DER body of a PKCS#8 PEM; refuses other PEMs with a hint on converting them. */
export function pkcs8Der(pem: string): Uint8Array<ArrayBuffer> {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
  if (label === "RSA PRIVATE KEY" || label === "EC PRIVATE KEY") {
    throw new KeyError(`privateKey is a ${label} (PKCS#1/SEC1) PEM; ${CONVERT_HINT}`, "unsupported_key_format");
  }
  if (label === "ENCRYPTED PRIVATE KEY") {
    throw new KeyError(`privateKey is an encrypted PEM; ${CONVERT_HINT}`, "unsupported_key_format");
  }
  if (label !== "PRIVATE KEY") {
    throw new KeyError(`privateKey must be a PKCS#8 PEM ("BEGIN PRIVATE KEY"), got ${label ? `"BEGIN ${label}"` : "no PEM header"}`, "unsupported_key_format");
  }
  const body = pem.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, "").replace(/\s+/g, "");
  try {
    return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  } catch {
    throw new KeyError("privateKey PEM body is not valid base64");
  }
}
