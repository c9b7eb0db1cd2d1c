// The route that does NOT survive a restart, kept as evidence: authFetch given to agents as the
// transport's `fetch`. agents persists transport options as JSON (persistTransportOptions keeps
// type, headers, requestInit …, never `fetch`), so the restored connection has no fetch of ours
// and no provider of ours. (addMcpServer itself forwards only headers and type, so the fetch has
// to go through this.mcp.registerServer.)
import { Agent, getAgentByName } from "agents";
import { withClientCredentials } from "../../../dist/index.js";

export class ToolsAgent extends Agent {
  async connectTools(callbackHost) {
    const authFetch = withClientCredentials({ clientId: this.env.MCP_CLIENT_ID, clientSecret: this.env.MCP_CLIENT_SECRET })(fetch);
    const url = this.env.MCP_SERVER_URL;
    await this.mcp.registerServer("tools", { url, name: "tools", callbackUrl: `${callbackHost}/callback`, transport: { fetch: authFetch, type: "auto" } });
    const result = await this.mcp.connectToServer("tools");
    if (result.state !== "connected") throw new Error(`not connected: ${result.state} ${result.error ?? ""}`);
    await this.mcp.discoverIfConnected("tools");
  }

  async add(a, b) {
    await this.mcp.waitForConnections();
    const result = await this.mcp.callTool({ serverId: "tools", name: "add", arguments: { a, b } });
    return result.content[0].text;
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const agent = await getAgentByName(env.ToolsAgent, "default");
    if (url.pathname === "/connect") {
      await agent.connectTools(url.origin);
      return new Response("connected\n");
    }
    if (url.pathname === "/add") return new Response(`${await agent.add(Number(url.searchParams.get("a")), Number(url.searchParams.get("b")))}\n`);
    return new Response("not found\n", { status: 404 });
  },
};
