// Cloudflare Worker: one token for every isolate and Worker bound to the same Durable Object.
// wrangler.jsonc: "durable_objects": { "bindings": [{ "name": "TOKENS", "class_name": "TokenStoreDurableObject" }] },
//                 "migrations": [{ "tag": "v1", "new_sqlite_classes": ["TokenStoreDurableObject"] }]
import { withClientCredentials } from "mcp-client-credentials";
import { durableObjectStore } from "mcp-client-credentials/stores/cloudflare";

export { TokenStoreDurableObject } from "mcp-client-credentials/stores/cloudflare";

let authFetch;

export default {
  async fetch(request, env) {
    authFetch ??= withClientCredentials({
      clientId: env.MCP_CLIENT_ID,
      clientSecret: env.MCP_CLIENT_SECRET,
      store: durableObjectStore(env.TOKENS),
    })(fetch);
    const response = await authFetch(env.MCP_SERVER_URL, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    return new Response(response.body, response);
  },
};
