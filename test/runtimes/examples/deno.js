// Deno: `deno add npm:mcp-client-credentials`, then
//   deno run --allow-net --allow-env=MCP_CLIENT_ID,MCP_PRIVATE_KEY,MCP_SERVER_URL deno.js
import { withClientCredentials } from "mcp-client-credentials";

const authFetch = withClientCredentials({
  clientId: Deno.env.get("MCP_CLIENT_ID"),
  privateKey: Deno.env.get("MCP_PRIVATE_KEY"), // PEM, PKCS#8 ("BEGIN PRIVATE KEY")
})(fetch);

const response = await authFetch(Deno.env.get("MCP_SERVER_URL"), {
  method: "POST",
  headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
  body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
});
console.log(response.status, await response.text());
