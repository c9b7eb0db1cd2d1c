// Cloudflare Worker: credentials from the environment (`wrangler secret put MCP_CLIENT_SECRET`).
import { withClientCredentials } from "mcp-client-credentials";

let authFetch; // one per isolate, so the token is cached across requests

export default {
  async fetch(request, env) {
    authFetch ??= withClientCredentials({
      clientId: env.MCP_CLIENT_ID,
      clientSecret: env.MCP_CLIENT_SECRET,
    })(fetch);
    const response = await authFetch(env.MCP_SERVER_URL, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    return new Response(response.body, response);
  },
};
