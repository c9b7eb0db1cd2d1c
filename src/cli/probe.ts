/** What an MCP server says to a request without a token. */
export interface Probe {
  status: number;
  wwwAuthenticate: string | null;
  contentType: string | null;
}

/**
 * The request an MCP client starts with, minus the token: a JSON-RPC `ping` POSTed with the
 * Streamable HTTP headers. Harmless on a server that does not ask for a token (no session is
 * created), and it reaches the same authentication as a real call would.
 */
export async function probe(url: URL, fetcher: typeof fetch, timeoutMs: number): Promise<Probe> {
  const response = await fetcher(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "ping" }),
    redirect: "manual",
    signal: AbortSignal.timeout(timeoutMs),
  });
  await response.body?.cancel().catch(() => {});
  return { status: response.status, wwwAuthenticate: response.headers.get("www-authenticate"), contentType: response.headers.get("content-type") };
}
