import { describe } from "../http.js";
import { COMMON_OPTIONS, CREDENTIAL_OPTIONS, parse, urlArgument } from "./args.js";
import { requireCredentials } from "./credentials.js";
import type { Output } from "./output.js";
import { loadSdk } from "./sdk.js";

export const STDIO_OPTIONS = { ...COMMON_OPTIONS, ...CREDENTIAL_OPTIONS } as const;

type Message = { jsonrpc: "2.0"; id?: string | number; method?: string; result?: { protocolVersion?: unknown } };

/**
 * `stdio <url>`: an MCP server on stdin/stdout that forwards every message to the remote
 * Streamable HTTP server through the middleware, and every message of the server (responses,
 * its SSE streams, its own requests and notifications) back. The MCP SDK's transports do the
 * framing; stdout carries only protocol messages, everything else goes to stderr.
 */
export async function stdio(args: string[], output: Output): Promise<number> {
  const { values, positionals } = parse("stdio", args, STDIO_OPTIONS, 1);
  const url = urlArgument("stdio", positionals[0]);
  const authFetch = requireCredentials(values, output).create(fetch);
  const { StdioServerTransport, StreamableHTTPClientTransport } = await loadSdk();
  const remote = new StreamableHTTPClientTransport(url, { fetch: authFetch });
  const local = new StdioServerTransport();
  const initializing = new Set<string | number>();
  const verbose = values.verbose === true;

  return new Promise<number>((resolve) => {
    let closed = false;
    const close = async (code: number) => {
      if (closed) return;
      closed = true;
      // A session left open holds server memory until it times out.
      await remote.terminateSession().catch(() => {});
      await remote.close().catch(() => {});
      await local.close().catch(() => {});
      resolve(code);
    };

    local.onmessage = (message) => {
      const request = message as Message;
      if (request.method === "initialize" && request.id !== undefined) initializing.add(request.id);
      if (verbose) output.info(output.paint("dim", `→ ${request.method ?? `response ${String(request.id)}`}`));
      remote.send(message).catch((error: unknown) => {
        const reason = describe(error);
        output.warn(`${request.method ?? "a response"} did not reach ${url.origin}: ${reason}`);
        // A request must be answered, or the client waits for ever.
        if (request.method !== undefined && request.id !== undefined) {
          local.send({ jsonrpc: "2.0", id: request.id, error: { code: -32000, message: `mcp-client-credentials: ${reason}` } }).catch(() => {});
        }
      });
    };
    remote.onmessage = (message) => {
      const response = message as Message;
      if (response.id !== undefined && initializing.delete(response.id) && typeof response.result?.protocolVersion === "string") {
        // Later requests carry MCP-Protocol-Version, as the SDK's Client would set it.
        remote.setProtocolVersion(response.result.protocolVersion);
      }
      if (verbose) output.info(output.paint("dim", `← ${response.method ?? `response ${String(response.id)}`}`));
      local.send(message).catch((error: unknown) => output.warn(`stdout: ${describe(error)}`));
    };
    // The standalone GET stream is optional (405 is a valid answer); errors here are not fatal.
    remote.onerror = (error) => {
      if (verbose || !/405|Method Not Allowed/.test(String(error))) output.info(output.paint("dim", `remote: ${describe(error)}`));
    };
    local.onerror = (error) => output.warn(`stdin: ${describe(error)}`);
    process.stdin.once("end", () => void close(0));
    process.once("SIGINT", () => void close(130));
    process.once("SIGTERM", () => void close(143));

    Promise.all([remote.start(), local.start()]).then(
      () => output.info(output.paint("dim", `mcp-client-credentials: bridging stdio to ${url.href}`)),
      (error: unknown) => {
        output.warn(`could not start: ${describe(error)}`);
        void close(1);
      },
    );
  });
}
