// Vercel Edge Function (e.g. api/tools.js): credentials from the project's environment variables.
import { withClientCredentials } from "mcp-client-credentials";

export const config = { runtime: "edge" };

const authFetch = withClientCredentials({
  clientId: process.env.MCP_CLIENT_ID,
  clientSecret: process.env.MCP_CLIENT_SECRET,
})(fetch);

export default async function handler(request) {
  const response = await authFetch(process.env.MCP_SERVER_URL, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  return new Response(response.body, response);
}
