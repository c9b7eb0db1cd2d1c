// The whole real-world setup in one call: oidc-provider as the authorization server and the
// MCP SDK server it protects, plus two registered clients (private_key_jwt with a fresh ES256
// key, and client_secret_basic with a random secret). Used by the e2e tests and the demo.
import * as authorizationServer from "./authorization-server.mjs";
import { JWT_BEARER_GRANT } from "./jwt-bearer-grant.mjs";
import { generateClientKey, privateKeyJwtClient, randomSecret, secretClient } from "./keys.mjs";
import * as mcpServer from "./mcp-server.mjs";

export const WORKLOAD_CLIENT_ID = "workload-agent";

/** oidc-provider metadata of a public client that may only use the JWT-bearer grant. */
export function workloadClient(clientId) {
  return { client_id: clientId, token_endpoint_auth_method: "none", grant_types: [JWT_BEARER_GRANT], response_types: [], redirect_uris: [] };
}

/**
 * @param {object} [options]
 * @param {number} [options.accessTokenTTL] seconds, default 300
 * @param {object[]} [options.clients] extra oidc-provider clients
 * @param {(line: string) => void} [options.log]
 * @param {{ trust?: Array<{ issuer: string, subject?: string }> }} [options.jwtBearer] opt-in: the JWT-bearer
 *   grant (workload identity federation) trusting these issuers, and the public client "workload-agent"
 *   that uses it (`credentials.workloadIdentity.clientId`)
 */
export async function start(options = {}) {
  const key = await generateClientKey("ES256");
  const credentials = {
    privateKeyJwt: { clientId: "demo-agent-jwt", privateKey: key.privateKeyPem, publicJwk: key.publicJwk, algorithm: key.alg },
    clientSecret: { clientId: "demo-agent-secret", clientSecret: randomSecret() },
    ...(options.jwtBearer ? { workloadIdentity: { clientId: WORKLOAD_CLIENT_ID } } : {}),
  };
  const as = await authorizationServer.start({
    clients: [
      privateKeyJwtClient(credentials.privateKeyJwt.clientId, key),
      secretClient(credentials.clientSecret.clientId, credentials.clientSecret.clientSecret, "client_secret_basic"),
      ...(options.jwtBearer ? [workloadClient(WORKLOAD_CLIENT_ID)] : []),
      ...(options.clients ?? []),
    ],
    ...(options.log ? { log: options.log } : {}),
    ...(options.jwtBearer ? { jwtBearer: options.jwtBearer } : {}),
  });
  let mcp;
  try {
    mcp = await mcpServer.start({ issuer: as.issuer });
  } catch (error) {
    await as.close();
    throw error;
  }
  as.addResource(mcp.resource, { scope: mcpServer.SCOPE, accessTokenTTL: options.accessTokenTTL ?? 300 });
  return {
    as,
    mcp,
    credentials,
    async close() {
      await mcp.close();
      await as.close();
    },
  };
}
