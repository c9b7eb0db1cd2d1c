import { ClientCredentialsError } from "../errors.js";

export type PrivateKeyInput = string | JsonWebKey | CryptoKey;

const RSA_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
const PSS_ALGS = ["PS256", "PS384", "PS512"];
const CURVE_ALGS: Record<string, string> = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512", Ed25519: "EdDSA" };

const CONVERT_HINT = "convert it to unencrypted PKCS#8 (`openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.pkcs8.pem`), or pass a private JWK or CryptoKey";

/** The algorithms a key can sign with, best first. */
export function algorithmsFor(input: PrivateKeyInput): string[] {
  if (typeof input === "string") return pemAlgorithms(input);
  if (isCryptoKey(input)) return cryptoKeyAlgorithms(input);
  if (typeof input.alg === "string") return [input.alg];
  if (input.kty === "RSA") return RSA_ALGS;
  const alg = input.crv ? CURVE_ALGS[input.crv] : undefined;
  if ((input.kty === "EC" || input.kty === "OKP") && alg) return [alg];
  throw new ClientCredentialsError("config", `unsupported private JWK (kty ${String(input.kty)}, crv ${String(input.crv)})`, { code: "invalid_key" });
}

/** Picks the algorithm: the configured one, else the first the key and the server both support. */
export function chooseAlgorithm(input: PrivateKeyInput, configured: string | undefined, serverSupported: readonly string[] | undefined): string {
  const candidates = algorithmsFor(input);
  if (configured) {
    if (!candidates.includes(configured)) {
      throw new ClientCredentialsError("config", `algorithm ${configured} does not fit this key (it can sign ${candidates.join(", ")})`, {
        code: "invalid_key",
      });
    }
    return configured;
  }
  if (!serverSupported) return candidates[0]!;
  const fit = candidates.find((alg) => serverSupported.includes(alg) || (alg === "EdDSA" && serverSupported.includes("Ed25519")));
  if (!fit) {
    throw new ClientCredentialsError(
      "config",
      `the authorization server accepts client assertions signed with ${serverSupported.join(", ") || "nothing"}, this key can sign ${candidates.join(", ")}`,
      { code: "unsupported_algorithm" },
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
      throw new ClientCredentialsError("config", `unsupported CryptoKey algorithm ${algorithm.name}`, { code: "invalid_key" });
  }
}

// DER encodings of the OIDs that identify a PKCS#8 key's type.
const OIDS: Array<[number[], string[]]> = [
  [[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a], PSS_ALGS], // RSASSA-PSS
  [[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01], RSA_ALGS], // rsaEncryption
  [[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07], ["ES256"]], // P-256
  [[0x2b, 0x81, 0x04, 0x00, 0x22], ["ES384"]], // P-384
  [[0x2b, 0x81, 0x04, 0x00, 0x23], ["ES512"]], // P-521
  [[0x2b, 0x65, 0x70], ["EdDSA"]], // Ed25519
];

function pemAlgorithms(pem: string): string[] {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
  if (label === "RSA PRIVATE KEY" || label === "EC PRIVATE KEY") {
    throw new ClientCredentialsError("config", `privateKey is a ${label} (PKCS#1/SEC1) PEM; ${CONVERT_HINT}`, { code: "unsupported_key_format" });
  }
  if (label === "ENCRYPTED PRIVATE KEY") {
    throw new ClientCredentialsError("config", `privateKey is an encrypted PEM; ${CONVERT_HINT}`, { code: "unsupported_key_format" });
  }
  if (label !== "PRIVATE KEY") {
    throw new ClientCredentialsError("config", `privateKey must be a PKCS#8 PEM ("BEGIN PRIVATE KEY"), got ${label ? `"BEGIN ${label}"` : "no PEM header"}`, {
      code: "unsupported_key_format",
    });
  }
  const body = pem.replace(/-----(BEGIN|END) [A-Z0-9 ]+-----/g, "").replace(/\s+/g, "");
  let der: Uint8Array;
  try {
    der = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  } catch {
    throw new ClientCredentialsError("config", "privateKey PEM body is not valid base64", { code: "invalid_key" });
  }
  const head = der.subarray(0, 48);
  for (const [oid, algs] of OIDS) {
    if (indexOf(head, oid) !== -1) return algs;
  }
  throw new ClientCredentialsError("config", "privateKey PEM holds an unsupported key type (use EC P-256/384/521, RSA or Ed25519)", { code: "invalid_key" });
}

function indexOf(haystack: Uint8Array, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
