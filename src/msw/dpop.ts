/**
 * DPoP at the mock (RFC 9449): proofs verified for real at the token endpoint (§4.3, §5) and the
 * resource (§7), server nonces (§8, §9), and the challenges a DPoP-enabled resource sends (§7.1).
 * @internal
 */
import { base64url, calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, type JWK, jwtVerify } from "jose";
import { PRIVATE_JWK_MEMBERS, type ResolvedDpop } from "./options.js";
import type { MockState } from "./state.js";
import type { McpAuthMockOptions, RecordedDpop } from "./types.js";

export const DEFAULT_DPOP_ALGS: readonly string[] = ["ES256", "EdDSA", "RS256", "PS256"];
/** How far a proof's `iat` may be from the mock's clock, in seconds (RFC 9449 §11.1 leaves it to the server). */
export const DPOP_IAT_WINDOW_SECONDS = 60;

/** The `dpop` option, checked: symmetric and unsigned algorithms can never sign a proof (RFC 9449 §4.2). */
export function resolveDpop(option: McpAuthMockOptions["dpop"]): ResolvedDpop | undefined {
  if (option === undefined || option === false) return undefined;
  const settings = option === true ? {} : option;
  if (typeof settings !== "object" || settings === null) throw new TypeError("createMcpAuthMock: dpop must be a boolean or an object");
  const algorithms = [...(settings.algorithms ?? DEFAULT_DPOP_ALGS)];
  if (algorithms.length === 0) throw new TypeError("createMcpAuthMock: dpop.algorithms must not be empty");
  for (const alg of algorithms) {
    if (typeof alg !== "string" || alg === "none" || /^HS/i.test(alg)) {
      throw new TypeError(`createMcpAuthMock: dpop.algorithms must be asymmetric JWS algorithms, got ${JSON.stringify(alg)}`);
    }
  }
  return { required: settings.required ?? false, requireNonce: settings.requireNonce ?? false, algorithms };
}

/** A fresh nonce: opaque, unguessable, NQCHAR only (RFC 9449 §8.1). */
export function newNonce(): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(18)));
}

/** What a request must match: its method and URL, and at the resource the token it goes with. */
export interface ProofExpectations {
  server: "token" | "resource";
  method: string;
  url: string;
  /** The access token the proof must hash into `ath`, and the thumbprint it is bound to. */
  token?: { value: string; jkt: string };
}

const fail = (description: string): RecordedDpop => ({ ok: false, error: "invalid_dpop_proof", description });

/**
 * Verifies the `DPoP` header of a request (RFC 9449 §4.3), then the nonce when one is required.
 * A proof is remembered (its `jti` never accepted again) only once it passed every check.
 */
export async function verifyProof(state: MockState, header: string | null, expected: ProofExpectations): Promise<RecordedDpop> {
  const dpop = state.config.dpop;
  if (dpop === undefined) return fail("DPoP is not enabled");
  if (header === null) return fail("the DPoP header is missing");
  // Headers.get() joins repeated fields with ", ": exactly one proof is allowed (§4.3 step 1).
  if (header.includes(",")) return fail("more than one DPoP header");
  if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(header)) return fail("the proof is not a compact JWS");
  let protectedHeader: ReturnType<typeof decodeProtectedHeader>;
  try {
    protectedHeader = decodeProtectedHeader(header);
  } catch {
    return fail("the proof's header is not JSON");
  }
  if (protectedHeader.typ !== "dpop+jwt") return fail('typ must be "dpop+jwt"');
  const alg = protectedHeader.alg;
  if (typeof alg !== "string" || !dpop.algorithms.includes(alg)) return fail(`alg ${JSON.stringify(alg)} is not one of ${dpop.algorithms.join(" ")}`);
  const jwk = protectedHeader.jwk;
  if (typeof jwk !== "object" || jwk === null) return fail("jwk is missing from the header");
  if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) return fail("jwk must be a public key (it has private members)");

  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(header, EmbeddedJWK, { typ: "dpop+jwt", algorithms: dpop.algorithms, requiredClaims: ["jti", "htm", "htu", "iat"] }));
  } catch (error) {
    // jose's messages name the check (signature, claim), never the proof.
    return fail(`the proof was rejected: ${error instanceof Error ? error.message : "invalid"}`);
  }
  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== "string" || jti === "" || jti.length > 256) return fail("jti must be a non-empty string");
  if (htm !== expected.method) return fail(`htm must be ${expected.method}`);
  const target = new URL(expected.url);
  if (typeof htu !== "string" || !sameTarget(htu, `${target.origin}${target.pathname}`)) {
    return fail(`htu must be ${target.origin}${target.pathname} (no query or fragment)`);
  }
  if (typeof iat !== "number" || Math.abs(Date.now() / 1000 - iat) > DPOP_IAT_WINDOW_SECONDS) {
    return fail(`iat must be within ${DPOP_IAT_WINDOW_SECONDS} s of now`);
  }
  const jkt = await calculateJwkThumbprint(jwk as JWK);
  if (expected.token !== undefined) {
    if (ath !== (await tokenHash(expected.token.value))) return fail("ath must be the base64url SHA-256 hash of the access token");
    if (jkt !== expected.token.jkt) return fail("the proof's key is not the key the access token is bound to");
  }
  const replayKey = `${expected.server}\u0000${jkt}\u0000${jti}`;
  if (state.usedDpopJti.has(replayKey)) return fail("jti was already used (replayed proof)");
  if (dpop.requireNonce) {
    const current = state.dpopNonces[expected.server];
    if (nonce !== current) {
      const description = nonce === undefined ? "a DPoP nonce is required" : "the DPoP nonce is not the current one";
      return { ok: false, error: "use_dpop_nonce", description, jkt, jti };
    }
  }
  state.usedDpopJti.add(replayKey);
  return { ok: true, jkt, jti };
}

/** `htu` against the request's URL: an absolute URL without query or fragment, equal after normalization (§4.3 step 9). */
function sameTarget(htu: string, target: string): boolean {
  if (htu.includes("?") || htu.includes("#")) return false;
  try {
    const url = new URL(htu);
    return `${url.origin}${url.pathname}` === target;
  } catch {
    return false;
  }
}

/** `ath` (RFC 9449 §4.2): base64url of the SHA-256 of the token's ASCII bytes. */
export async function tokenHash(token: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))));
}

/** The `DPoP-Nonce` header to send with an answer, when nonces are required. */
export function nonceHeaders(state: MockState, server: "token" | "resource"): Record<string, string> {
  return state.config.dpop?.requireNonce ? { "dpop-nonce": state.dpopNonces[server] } : {};
}
