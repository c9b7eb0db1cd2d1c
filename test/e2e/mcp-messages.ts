// The MCP messages the e2e tests send by hand (most go through an SDK client): one definition of
// the Streamable HTTP headers and of an initialize request.

/** What a Streamable HTTP POST carries (MCP 2025-06-18 and later). */
export const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

/** An initialize request from a client of this name. */
export function initializeMessage(name: string, id = 1) {
  return {
    jsonrpc: "2.0" as const,
    id,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name, version: "1" } },
  };
}

/** A fetch init that POSTs an initialize. */
export function initializeRequest(name: string, headers: Record<string, string> = {}): RequestInit {
  return { method: "POST", headers: { ...MCP_HEADERS, ...headers }, body: JSON.stringify(initializeMessage(name)) };
}
