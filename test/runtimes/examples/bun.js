// Bun: `bun add mcp-client-credentials`, then `bun run bun.js` (Bun loads .env by itself).
import { withClientCredentials } from "mcp-client-credentials";

const authFetch = withClientCredentials({
  clientId: Bun.env.MCP_CLIENT_ID,
  clientSecret: Bun.env.MCP_CLIENT_SECRET,
})(fetch);

const response = await authFetch(Bun.env.MCP_SERVER_URL, {
  method: "POST",
  headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
  body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
});
console.log(response.status, await response.text());
