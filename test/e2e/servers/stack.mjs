// The whole real-world setup in one call: oidc-provider as the authorization server and the
// MCP SDK server it protects, plus two registered clients (private_key_jwt with a fresh ES256
// key, and client_secret_basic with a random secret). Used by the e2e tests and the demo.
import * as authorizationServer from "./authorization-server.mjs";
import { generateClientKey, privateKeyJwtClient, randomSecret, secretClient } from "./keys.mjs";
import * as mcpServer from "./mcp-server.mjs";

/**
 * @param {object} [options]
 * @param {number} [options.accessTokenTTL] seconds, default 300
 * @param {object[]} [options.clients] extra oidc-provider clients
 * @param {(line: string) => void} [options.log]
 */
export async function start(options = {}) {
  const key = await generateClientKey("ES256");
  const credentials = {
    privateKeyJwt: { clientId: "demo-agent-jwt", privateKey: key.privateKeyPem, publicJwk: key.publicJwk, algorithm: key.alg },
    clientSecret: { clientId: "demo-agent-secret", clientSecret: randomSecret() },
  };
  const as = await authorizationServer.start({
    clients: [
      privateKeyJwtClient(credentials.privateKeyJwt.clientId, key),
      secretClient(credentials.clientSecret.clientId, credentials.clientSecret.clientSecret, "client_secret_basic"),
      ...(options.clients ?? []),
    ],
    ...(options.log ? { log: options.log } : {}),
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
