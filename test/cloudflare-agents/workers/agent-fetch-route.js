// The route that does NOT survive a restart, kept as evidence: the recipe's agent, except that
// authFetch goes to agents as the transport's `fetch` instead of through createMcpOAuthProvider().
// agents persists transport options as JSON (persistTransportOptions keeps type, headers,
// requestInit …, never `fetch`), so the restored connection has no fetch of ours and no provider
// of ours. (addMcpServer itself forwards only headers and type, so the fetch has to go through
// this.mcp.registerServer.)
import { Agent } from "agents";
import { ToolsAgent as RecipeAgent } from "../../../examples/cloudflare-agent.js";

export { default } from "../../../examples/cloudflare-agent.js";

export class ToolsAgent extends RecipeAgent {
  // agents' own provider (dynamic registration, authorization code), as without the recipe's override.
  createMcpOAuthProvider(callbackUrl) {
    return Agent.prototype.createMcpOAuthProvider.call(this, callbackUrl);
  }

  async connectTools(callbackHost) {
    const url = this.env.MCP_SERVER_URL;
    await this.mcp.registerServer("tools", { url, name: "tools", callbackUrl: `${callbackHost}/callback`, transport: { fetch: this.authFetch, type: "auto" } });
    const result = await this.mcp.connectToServer("tools");
    if (result.state !== "connected") throw new Error(`not connected: ${result.state} ${result.error ?? ""}`);
    await this.mcp.discoverIfConnected("tools");
  }
}
