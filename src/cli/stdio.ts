import { describe } from "../http.js";
import { DEFAULTS } from "../options.js";
import { COMMON_OPTIONS, CREDENTIAL_OPTIONS, millis, parse, urlArgument } from "./args.js";
import { requireCredentials } from "./credentials.js";
import type { Output } from "./output.js";
import { PendingRequests } from "./pending.js";
import { loadSdk } from "./sdk.js";

export const STDIO_OPTIONS = { ...COMMON_OPTIONS, ...CREDENTIAL_OPTIONS } as const;

/** How long closing the session may take before the bridge exits anyway. */
const CLOSE_TIMEOUT_MS = 3000;

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
  const authFetch = requireCredentials(values, output).create(fetch, url);
  const { StdioServerTransport, StreamableHTTPClientTransport } = await loadSdk();
  const local = new StdioServerTransport();
  // Until initialize is answered there is no session: what a client sends meanwhile waits for it
  // (a script may pipe initialize, initialized and its requests at once).
  let gate: Promise<unknown> = Promise.resolve();
  const opening = new Map<string | number, () => void>();
  const opened = (id: string | number) => {
    opening.get(id)?.();
    opening.delete(id);
  };
  const answer = (id: string | number, reason: string) => {
    opened(id);
    pending.settle(id);
    local.send({ jsonrpc: "2.0", id, error: { code: -32000, message: `mcp-client-credentials: ${reason}` } }).catch(() => {});
  };
  const pending = new PendingRequests((id) => {
    output.warn(`the server closed the stream of request ${JSON.stringify(id)} without answering it`);
    answer(id, "the server closed the stream without answering");
  });
  const remote = new StreamableHTTPClientTransport(url, { fetch: pending.watch(authFetch) });
  const initializing = new Set<string | number>();
  const verbose = values.verbose === true;
  const timeoutMs = millis(values, "timeout") ?? DEFAULTS.timeoutMs;

  return new Promise<number>((resolve) => {
    let closing = false;
    const close = async (code: number, drain = false) => {
      // A second signal while closing ends it now.
      if (closing) return void (code !== 0 && resolve(code));
      closing = true;
      if (drain) await pending.drained(timeoutMs);
      // A session left open holds server memory until it times out; a server that does not answer the DELETE must not hold us.
      await Promise.race([remote.terminateSession().catch(() => {}), new Promise((done) => setTimeout(done, CLOSE_TIMEOUT_MS).unref())]);
      await remote.close().catch(() => {});
      await local.close().catch(() => {});
      resolve(code);
    };

    local.onmessage = (message) => {
      const request = message as Message;
      const isRequest = request.method !== undefined && request.id !== undefined;
      if (isRequest) pending.add(request.id!);
      if (request.method === "initialize" && request.id !== undefined) initializing.add(request.id);
      if (verbose) output.info(output.paint("dim", `→ ${request.method ?? `response ${String(request.id)}`}`));
      const forward = () =>
        remote.send(message).catch((error: unknown) => {
          const reason = describe(error);
          output.warn(`${request.method ?? "a response"} did not reach ${url.origin}: ${reason}`);
          // A request must be answered, or the client waits for ever.
          if (isRequest) answer(request.id!, reason);
        });
      if (request.method === "initialize" && request.id !== undefined) {
        const answered = new Promise<void>((resolve) => opening.set(request.id!, resolve));
        gate = gate.then(() => Promise.all([forward(), answered]));
      } else {
        // Not chained: a slow answer must not hold back the next request (or its cancellation).
        void gate.then(forward);
      }
    };
    remote.onmessage = (message) => {
      const response = message as Message;
      if (response.method === undefined && response.id !== undefined) {
        pending.settle(response.id);
        opened(response.id);
      }
      if (response.id !== undefined && initializing.delete(response.id) && typeof response.result?.protocolVersion === "string") {
        // Later requests carry MCP-Protocol-Version, as the SDK's Client would set it.
        remote.setProtocolVersion(response.result.protocolVersion);
      }
      if (verbose) output.info(output.paint("dim", `← ${response.method ?? `response ${String(response.id)}`}`));
      local.send(message).catch((error: unknown) => output.warn(`stdout: ${describe(error)}`));
    };
    // A failed send is reported where it is caught; what only comes here is the standalone GET
    // stream's (a 405 is a valid answer to it).
    remote.onerror = (error) => {
      if (verbose || (/SSE/.test(String(error)) && !/405|Method Not Allowed/.test(String(error))))
        output.info(output.paint("dim", `remote: ${describe(error)}`));
    };
    local.onerror = (error) => output.warn(`stdin: ${describe(error)}`);
    // stdin ending is a client done sending: its requests in flight are still answered.
    process.stdin.once("end", () => void close(0, true));
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
