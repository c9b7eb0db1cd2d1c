// A Cloudflare Agent (a Durable Object, `agents` SDK) that calls an OAuth-protected MCP server
// with client credentials, and is still authorized after the Durable Object restarts.
//
//   wrangler.jsonc: "compatibility_flags": ["nodejs_compat"], a Durable Object binding
//   "ToolsAgent" (SQLite class ToolsAgent), vars MCP_SERVER_URL, MCP_CLIENT_ID and the secret
//   MCP_CLIENT_SECRET.
//
//   POST /connect     adds the MCP server (once)
//   POST /add?a=2&b=3 calls its `add` tool, also after a restart, without adding it again
import { Agent, getAgentByName } from "agents";
import { withClientCredentials } from "mcp-client-credentials";
import { authProvider } from "mcp-client-credentials/adapters";

export class ToolsAgent extends Agent {
  #authFetch;
  get authFetch() {
    this.#authFetch ??= withClientCredentials({ clientId: this.env.MCP_CLIENT_ID, clientSecret: this.env.MCP_CLIENT_SECRET })(fetch);
    return this.#authFetch;
  }

  // agents calls this when the server is added and again when it restores the connection after
  // a restart: a `fetch` given to agents does not survive the restart, this provider does.
  createMcpOAuthProvider() {
    return authProvider(this.authFetch, this.env.MCP_SERVER_URL);
  }

  // Not `connect`: a Durable Object stub already has one (for TCP sockets).
  async connectTools(callbackHost) {
    // A refused client fails here with a ClientCredentialsError saying why; inside addMcpServer
    // agents would report it as "OAuth configuration incomplete: missing authUrl".
    await this.authFetch.getToken(this.env.MCP_SERVER_URL);
    // Only servers stored with a callback URL get their auth provider back on restore; with
    // client credentials nothing is ever redirected to it.
    await this.addMcpServer("tools", this.env.MCP_SERVER_URL, { id: "tools", callbackHost });
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
    if (url.pathname === "/add") {
      const sum = await agent.add(Number(url.searchParams.get("a")), Number(url.searchParams.get("b")));
      return new Response(`${sum}\n`);
    }
    return new Response("not found\n", { status: 404 });
  },
};
