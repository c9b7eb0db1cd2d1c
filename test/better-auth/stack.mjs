// better-auth as the authorization server of the repo's real MCP server (MCP SDK 1.x,
// test/e2e/servers/mcp-server.mjs): the MCP server reads better-auth's RFC 8414 metadata, so
// its protected resource metadata names better-auth's issuer and it verifies better-auth's JWT
// access tokens (EdDSA, typ at+jwt) against better-auth's JWKS, with `aud` = its own /mcp URL.
import * as jose from "jose";
import { start as startMcpServer } from "../e2e/servers/mcp-server.mjs";
import { BASE_PATH, SCOPE, start as startAuthorizationServer } from "./authorization-server.mjs";

export async function start() {
  const as = await startAuthorizationServer();
  let mcp;
  try {
    mcp = await startMcpServer({
      issuer: as.issuer,
      metadataUrl: `${as.origin}/.well-known/oauth-authorization-server${BASE_PATH}`,
      requiredScopes: [SCOPE],
    });
    await as.addResource(mcp.url);
  } catch (error) {
    await mcp?.close();
    await as.close();
    throw error;
  }

  return {
    as,
    mcp,
    /** A fresh client of its own for each test; `privateKey` (a private JWK) only for private_key_jwt. */
    async client(method) {
      if (method !== "private_key_jwt") return as.registerClient({ method, resource: mcp.url });
      const { publicKey, privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
      const kid = crypto.randomUUID();
      const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
      const { clientId } = await as.registerClient({ method, resource: mcp.url, jwks: { keys: [publicJwk] } });
      return { clientId, privateKey: { ...(await jose.exportJWK(privateKey)), kid, alg: "ES256" } };
    },
    async close() {
      await mcp.close();
      await as.close();
    },
  };
}
