// DPoP (RFC 9449, SEP-1932): what the DPoP-validating MCP resource (servers/dpop-resource.mjs,
// nonces on, tokens from oidc-provider with features.dPoP) refuses. A real client's request is
// captured, then replayed or re-sent with proofs made here, each wrong in one way, against a
// control made right. It imports the built package, as users get it (`npx tsup` first).
import * as jose from "jose";
import { describe, expect, it } from "vitest";
import { dpopServers, INITIALIZE, initialize, MCP_HEADERS, ownKeyPair, type Sent } from "./dpop-helpers.js";

const { rs, client } = dpopServers(["nonce"]);

describe("the resource refuses what is not a fresh proof of the token's key for this request", () => {
  /** A client's successful initialize, as sent: its token, proof, nonce, headers and body. */
  async function captured() {
    const { keyPair } = await ownKeyPair();
    const c = client("privateKeyJwt", { dpop: { keyPair } });
    expect((await initialize(c.authFetch, rs.nonce.url)).status).toBe(200);
    const ok = c.to(rs.nonce.url).find((s) => s.status === 200);
    const proof = ok?.headers.get("dpop") ?? "";
    const token = ok?.headers.get("authorization")?.split(" ")[1] ?? "";
    return { keyPair, ok: ok as Sent, proof, token, nonce: String(jose.decodeJwt(proof).nonce) };
  }

  /** Sends initialize with plain fetch; the status and what the resource recorded. */
  async function send(authorization: string, proof?: string) {
    const response = await fetch(rs.nonce.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, authorization, ...(proof ? { dpop: proof } : {}) },
      body: INITIALIZE,
    });
    await response.body?.cancel();
    return [response.status, rs.nonce.requests.at(-1)?.outcome, response.headers.get("www-authenticate")?.match(/error="([^"]+)"/)?.[1]];
  }

  interface Shape {
    htm?: string;
    htu?: string;
    key?: CryptoKeyPair;
    alg?: string;
    typ?: string;
    /** Seconds before now. */
    age?: number;
    /** The token `ath` hashes. */
    athOf?: string;
  }

  /** A proof made here, right unless `shape` says otherwise (the client's own proofs are not ours to shape). */
  async function proofFor(base: { keyPair: CryptoKeyPair; token: string; nonce: string }, shape: Shape = {}) {
    const { privateKey, publicKey } = shape.key ?? base.keyPair;
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(shape.athOf ?? base.token));
    const claims = { htm: shape.htm ?? "POST", htu: shape.htu ?? rs.nonce.url, nonce: base.nonce, ath: jose.base64url.encode(new Uint8Array(digest)) };
    return new jose.SignJWT(claims)
      .setProtectedHeader({ typ: shape.typ ?? "dpop+jwt", alg: shape.alg ?? "ES256", jwk: await jose.exportJWK(publicKey) })
      .setJti(crypto.randomUUID())
      .setIssuedAt(Math.floor(Date.now() / 1000) - (shape.age ?? 0))
      .sign(privateKey);
  }

  it("a replayed proof, the token without its proof (as Bearer; as DPoP with no DPoP header)", async () => {
    const { ok, proof, token } = await captured();
    const replay = await fetch(ok.url, { method: ok.method, headers: ok.headers, body: ok.body ?? null });
    await replay.body?.cancel();
    expect([replay.status, rs.nonce.requests.at(-1)?.outcome]).toEqual([401, "proof: replayed jti"]);
    expect(await send(`Bearer ${token}`)).toEqual([401, "bound token sent as Bearer", "invalid_token"]);
    expect(await send(`Bearer ${token}`, proof)).toEqual([401, "bound token sent as Bearer", "invalid_token"]);
    expect(await send(`DPoP ${token}`)).toEqual([401, "no DPoP proof", "invalid_dpop_proof"]);
  });

  it("a proof for another URL or method, for another token, too old, of another type, alg or key; the same proof made right is accepted", async () => {
    const base = await captured();
    const other = await ownKeyPair();
    const p521 = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-521" }, false, ["sign", "verify"]);
    const cases: Array<[Shape, string, string]> = [
      [{ htu: `${rs.nonce.origin}/elsewhere` }, "proof: htu mismatch", "invalid_dpop_proof"],
      [{ htm: "GET" }, "proof: htm mismatch", "invalid_dpop_proof"],
      [{ athOf: `${base.token}x` }, "proof: ath mismatch", "invalid_dpop_proof"],
      [{ age: 120 }, "proof: iat out of window", "invalid_dpop_proof"],
      [{ typ: "JWT" }, "proof: ERR_JWT_CLAIM_VALIDATION_FAILED", "invalid_dpop_proof"],
      [{ key: p521, alg: "ES512" }, "proof: ERR_JOSE_ALG_NOT_ALLOWED", "invalid_dpop_proof"],
      [{ key: other.keyPair }, "cnf.jkt is not the proof key's thumbprint", "invalid_token"],
    ];
    for (const [shape, outcome, error] of cases) expect(await send(`DPoP ${base.token}`, await proofFor(base, shape))).toEqual([401, outcome, error]);
    // The control: the same construction, right in every way (a query is no part of htu), passes.
    expect(await send(`DPoP ${base.token}`, await proofFor(base, { htu: `${rs.nonce.url}?ignored=1` }))).toEqual([200, "ok", undefined]);
  });
});
