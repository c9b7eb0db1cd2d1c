import type { Encoding } from "./index.js";
import type { DpopKey } from "./key.js";

const encoder = new TextEncoder();

/** What a proof binds: the request's method and URL, the nonce the server asked for, the token it goes with. */
export interface ProofClaims {
  htm: string;
  /** The request URL; its query and fragment are dropped (RFC 9449 §4.2). */
  htu: string;
  nonce?: string | undefined;
  /** The access token, for `ath` (requests to the resource). */
  accessToken?: string | undefined;
}

/** `ath` of each token, computed once: a token serves many requests. */
const hashes = new Map<string, Promise<string>>();
const MAX_HASHES = 256;

/** A fresh proof (RFC 9449 §4.2): new `jti` and `iat` each time, never reused, not even for a retry. */
export async function createProof(key: DpopKey, claims: ProofClaims, { base64url, sha256 }: Encoding): Promise<string> {
  const url = new URL(claims.htu);
  const payload: Record<string, string | number> = {
    jti: crypto.randomUUID(),
    htm: claims.htm.toUpperCase(),
    htu: `${url.origin}${url.pathname}`,
    iat: Math.floor(Date.now() / 1000),
  };
  if (claims.nonce !== undefined) payload.nonce = claims.nonce;
  if (claims.accessToken !== undefined) payload.ath = await tokenHash(claims.accessToken, sha256);
  const input = `${key.header}.${base64url(encoder.encode(JSON.stringify(payload)))}`;
  return `${input}.${base64url(new Uint8Array(await key.sign(encoder.encode(input))))}`;
}

function tokenHash(token: string, sha256: Encoding["sha256"]): Promise<string> {
  let hash = hashes.get(token);
  if (!hash) {
    if (hashes.size >= MAX_HASHES) hashes.delete(hashes.keys().next().value!);
    hash = sha256(token);
    hashes.set(token, hash);
  }
  return hash;
}
