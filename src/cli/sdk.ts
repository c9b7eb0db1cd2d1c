import { UsageError } from "./args.js";

/**
 * The MCP SDK's transports, loaded only by `stdio`: the SDK is an optional peer dependency, so
 * `token`, `discover`, `fetch` and `proxy` work without it.
 */
export async function loadSdk() {
  try {
    const [server, client] = await Promise.all([
      import("@modelcontextprotocol/sdk/server/stdio.js"),
      import("@modelcontextprotocol/sdk/client/streamableHttp.js"),
    ]);
    return { StdioServerTransport: server.StdioServerTransport, StreamableHTTPClientTransport: client.StreamableHTTPClientTransport };
  } catch (error) {
    if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw error;
    throw new UsageError(
      "stdio needs the MCP SDK (@modelcontextprotocol/sdk ^1.20): install it next to this package, or run " +
        "npx -y -p mcp-client-credentials -p @modelcontextprotocol/sdk mcp-client-credentials stdio URL",
    );
  }
}
