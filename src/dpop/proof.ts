import type { Encoding } from "./index.js";
import type { DpopKey } from "./key.js";

const encoder = new TextEncoder();

/** What a proof binds: the request's method and URL, the nonce the server asked for, the token it goes with. */
export interface ProofClaims {
  htm: string;
  /** The request URL; its query and fragment are dropped (RFC 9449 §4.2). */
  htu: string;
  nonce?: string | undefined;
  /** The token the proof goes with, for `ath` (requests to the resource). */
  token?: { accessToken: string } | undefined;
}

/** `ath` of each token, computed once (a token serves many requests), gone with the cached token. */
const hashes = new WeakMap<object, Promise<string>>();

/** A fresh proof (RFC 9449 §4.2): new `jti` and `iat` each time, never reused, not even for a retry. */
export async function createProof(key: DpopKey, claims: ProofClaims, { base64url, sha256 }: Encoding): Promise<string> {
  const url = new URL(claims.htu);
  const payload: Record<string, string | number> = {
    jti: crypto.randomUUID(),
    htm: claims.htm,
    htu: `${url.origin}${url.pathname}`,
    iat: Math.floor(Date.now() / 1000),
  };
  if (claims.nonce !== undefined) payload.nonce = claims.nonce;
  if (claims.token !== undefined) payload.ath = await tokenHash(claims.token, sha256);
  const input = `${key.header}.${base64url(encoder.encode(JSON.stringify(payload)))}`;
  return `${input}.${base64url(new Uint8Array(await key.sign(encoder.encode(input))))}`;
}

function tokenHash(token: { accessToken: string }, sha256: Encoding["sha256"]): Promise<string> {
  let hash = hashes.get(token);
  if (!hash) {
    hash = sha256(token.accessToken);
    hashes.set(token, hash);
  }
  return hash;
}
