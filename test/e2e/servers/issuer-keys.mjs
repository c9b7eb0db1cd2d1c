// What a verifier of workload JWTs does to find a platform's keys: the issuer's OIDC discovery
// document names its JWKS, fetched with jose's remote key set (cached by jose). Shared by the
// oidc-provider JWT-bearer grant and the Entra stand-in.

import * as jose from "jose";

/** A resolver of issuers' key sets, one lookup per issuer; a failed lookup is not kept. */
export function issuerKeys() {
  const keySets = new Map();
  return (issuer) => {
    let keys = keySets.get(issuer);
    if (!keys) {
      keys = (async () => {
        const response = await fetch(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`, { redirect: "error", signal: AbortSignal.timeout(5000) });
        if (!response.ok) throw new Error(`discovery answered HTTP ${response.status}`);
        const metadata = await response.json();
        if (metadata?.issuer !== issuer) throw new Error("discovery document names another issuer");
        if (typeof metadata.jwks_uri !== "string") throw new Error("discovery document has no jwks_uri");
        return jose.createRemoteJWKSet(new URL(metadata.jwks_uri));
      })();
      keySets.set(issuer, keys);
      keys.catch(() => keySets.delete(issuer));
    }
    return keys;
  };
}
