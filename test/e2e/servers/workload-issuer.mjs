// A stand-in for a platform that issues workload identities (a Kubernetes API server, GitHub's
// OIDC issuer, SPIFFE): OIDC discovery and a JWKS on loopback, and `mint()` for signed JWTs.
//
//   const idp = await start();
//   const jwt = await idp.mint({ sub: "system:serviceaccount:ci:mcp", aud: as.issuer });
//   … idp.issuer, idp.jwksUri, idp.requests …
//   await idp.rotate(); // a new signing key; the JWKS serves both until the old one is dropped
//   await idp.close();
import http from "node:http";
import * as jose from "jose";
import { closer, listen } from "./listen.mjs";

export async function start({ host = "127.0.0.1", port = 0, alg = "ES256" } = {}) {
  const keys = [];
  const addKey = async () => {
    const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
    const kid = `k${keys.length + 1}`;
    keys.unshift({ kid, privateKey, publicJwk: { ...(await jose.exportJWK(publicKey)), kid, alg, use: "sig" } });
  };
  await addKey();
  /** Paths requested, in order: tests check that verifiers really fetched the JWKS. */
  const requests = [];
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? "/", "http://x");
    requests.push(pathname);
    const json = (status, body) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (pathname === "/.well-known/openid-configuration") {
      return json(200, {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        id_token_signing_alg_values_supported: [alg],
        response_types_supported: ["id_token"],
        subject_types_supported: ["public"],
      });
    }
    if (pathname === "/jwks") return json(200, { keys: keys.map((key) => key.publicJwk) });
    json(404, { error: "not_found" });
  });
  const bound = await listen(server, port, host);
  const issuer = `http://${host}:${bound}`;
  const close = closer(server);
  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    requests,
    /**
     * A JWT signed with the current key: `iss` is this issuer unless given, `exp` 10 minutes
     * ahead unless `expiresIn` (seconds, may be negative) says otherwise.
     */
    async mint({ sub = "workload", aud, iss = issuer, expiresIn = 600, claims = {}, key = keys[0] } = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new jose.SignJWT({ ...claims })
        .setProtectedHeader({ alg, kid: key.kid, typ: "JWT" })
        .setIssuer(iss)
        .setSubject(sub)
        .setAudience(aud)
        .setIssuedAt(now)
        .setExpirationTime(now + expiresIn)
        .setJti(crypto.randomUUID())
        .sign(key.privateKey);
    },
    /** A key of the same algorithm this issuer never published: for forged tokens. */
    async foreignKey() {
      const { privateKey } = await jose.generateKeyPair(alg);
      return { kid: keys[0].kid, privateKey };
    },
    rotate: addKey,
    close,
  };
}
