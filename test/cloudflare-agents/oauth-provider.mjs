// @cloudflare/workers-oauth-provider 1.2 in workerd (Miniflare, KV binding OAUTH_KV) as an
// OAuth 2.1 authorization server, listening on 127.0.0.1. Our client runs in Node against it with
// a client registered through its dynamic client registration, and must fail with a clear
// ClientCredentialsError: the server has no client_credentials grant.
import { Miniflare } from "miniflare";
import { ClientCredentialsError, withClientCredentials } from "../../dist/index.js";
import { assert, assertEqual, bundleWorker, workerOptions } from "./harness.mjs";

export async function oauthProviderTests(ctx) {
  const scriptPath = await bundleWorker("test/cloudflare-agents/workers/oauth-provider.js", "oauth-provider.mjs");
  const mf = new Miniflare(workerOptions(scriptPath, { kvNamespaces: ["OAUTH_KV"], host: "127.0.0.1", port: 0 }));
  const origin = (await mf.ready).origin;
  const resource = `${origin}/mcp`;

  return {
    close: () => mf.dispose(),
    tests: [
      {
        name: "workers-oauth-provider: its metadata and PRM are what our discovery reads; grant_types_supported lacks client_credentials",
        async run() {
          const challenge = await fetch(resource, { method: "POST" });
          assertEqual(challenge.status, 401, "unauthenticated /mcp");
          assert(/resource_metadata="[^"]+"/.test(challenge.headers.get("www-authenticate") ?? ""), "no resource_metadata in the challenge");
          const metadata = await (await fetch(`${origin}/.well-known/oauth-authorization-server`)).json();
          assertEqual(metadata.issuer, origin, "issuer");
          assert(!metadata.grant_types_supported.includes("client_credentials"), `grant_types_supported: ${metadata.grant_types_supported}`);
          ctx.notes.push(`workers-oauth-provider grant_types_supported: ${JSON.stringify(metadata.grant_types_supported)}`);
        },
      },
      {
        name: "workers-oauth-provider: a DCR-registered confidential client gets ClientCredentialsError phase token, code unsupported_grant_type, naming the metadata; no secret leaks",
        async run() {
          const registration = await fetch(`${origin}/register`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              client_name: "mcc-cloudflare-agents-test",
              redirect_uris: ["https://client.example/callback"],
              token_endpoint_auth_method: "client_secret_basic",
            }),
          });
          const client = await registration.json();
          assertEqual(registration.status, 201, "DCR status");
          assert(client.client_id && client.client_secret, "DCR gave no confidential client");
          ctx.secrets.push(client.client_secret);

          const authFetch = withClientCredentials({ clientId: client.client_id, clientSecret: client.client_secret })(fetch);
          let error;
          try {
            const response = await authFetch(resource, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
            throw new Error(`authFetch answered HTTP ${response.status} instead of failing`);
          } catch (caught) {
            error = caught;
          }
          assert(error instanceof ClientCredentialsError, `not a ClientCredentialsError: ${error?.name}: ${error?.message}`);
          assertEqual({ phase: error.phase, code: error.code, status: error.status }, { phase: "token", code: "unsupported_grant_type", status: 400 }, "error");
          assert(/grant_types_supported/.test(error.message), `the message does not name grant_types_supported: ${error.message}`);
          assert(
            /authorization_code/.test(error.message) && /without client_credentials/.test(error.message),
            `the message does not say what the metadata listed: ${error.message}`,
          );
          const serialized = JSON.stringify(error);
          for (const text of [error.message, serialized, String(error.stack)]) {
            assert(!text.includes(client.client_secret), "the client secret appears in the error");
          }
          ctx.notes.push(`workers-oauth-provider error: ${error.message}`);
        },
      },
    ],
  };
}
