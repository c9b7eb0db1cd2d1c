import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, isLoopback } from "../http.js";
import { COMMON_OPTIONS, CREDENTIAL_OPTIONS, parse, stringValue, UsageError, urlArgument } from "./args.js";
import { requireCredentials } from "./credentials.js";
import type { Output } from "./output.js";

export const PROXY_OPTIONS = {
  ...COMMON_OPTIONS,
  ...CREDENTIAL_OPTIONS,
  port: { type: "string", short: "p" },
  host: { type: "string" },
} as const;

/** Hop-by-hop headers (RFC 9110 §7.6.1) and what the middleware or fetch set themselves. */
const DROPPED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "host",
  "authorization",
  "proxy-authorization",
  "cookie",
  "origin",
  "content-length",
  // undici refuses `Expect: 100-continue` (curl sends it for large bodies), and decodes only the
  // encodings it knows: the body handed back must be one it decoded.
  "expect",
  "accept-encoding",
]);
/** fetch has already decoded the body, and re-chunks it. */
const DROPPED_BACK = new Set(["connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length", "set-cookie"]);

/**
 * `proxy <url>`: plain HTTP on loopback that forwards to the remote server's origin with tokens
 * attached, for clients that can only be given a URL. Its first stdout line is the URL to use.
 * Requests whose Host or Origin is not loopback are refused: a web page could otherwise reach it
 * through DNS rebinding and use your credentials.
 */
export async function proxy(args: string[], output: Output): Promise<number> {
  const { values, positionals } = parse("proxy", args, PROXY_OPTIONS, 1);
  const remote = urlArgument("proxy", positionals[0]);
  const port = Number(stringValue(values, "port") ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError("proxy: --port takes 0 (any free port) to 65535");
  const host = stringValue(values, "host") ?? "127.0.0.1";
  const open = !isLoopbackHost(host);
  if (open) {
    output.warn(`listening on ${host}: anyone who can reach this address calls ${remote.origin} with your credentials. Use it only on a network you trust.`);
  }
  const authFetch = requireCredentials(values, output).create(fetch, remote);

  const server = createServer((request, response) => {
    // The caller hanging up (an SSE stream closed) cancels the upstream request; that is no error.
    const hangUp = new AbortController();
    response.once("close", () => hangUp.abort());
    forward(request, response, hangUp.signal).catch((error: unknown) => {
      if (hangUp.signal.aborted) return;
      output.warn(`${request.method} ${request.url}: ${describe(error)}`);
      if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
      response.end(`mcp-client-credentials proxy: ${describe(error)}\n`);
    });
  });

  async function forward(request: IncomingMessage, response: ServerResponse, signal: AbortSignal): Promise<void> {
    const started = Date.now();
    // Listening elsewhere, the Host is not loopback; a page in the user's browser still is refused.
    if (!(open || isLoopbackHost(request.headers.host ?? "")) || !isLoopbackOrigin(request.headers.origin)) {
      response.writeHead(403, { "content-type": "text/plain" }).end("mcp-client-credentials proxy: only loopback Host and Origin are served\n");
      return;
    }
    // Origin-form targets only: "//host/…", "/\host/…" or an absolute-form target would take the
    // request, and discovery with your credentials, to another server.
    const path = request.url ?? "/";
    const target = /^\/(?![/\\])/.test(path) ? new URL(`${remote.origin}${path}`) : undefined;
    if (target?.origin !== remote.origin) {
      response.writeHead(400, { "content-type": "text/plain" }).end("mcp-client-credentials proxy: only paths on the remote server are forwarded\n");
      return;
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || DROPPED.has(name)) continue;
      for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    // Redirects are followed by the middleware, hop by hop, with the token only where it belongs.
    const upstream = await authFetch(target, { method: request.method, headers, body, signal });
    const back: Record<string, string | string[]> = {};
    upstream.headers.forEach((value, name) => {
      if (!DROPPED_BACK.has(name)) back[name] = value;
    });
    response.writeHead(upstream.status, back);
    response.flushHeaders();
    if (upstream.body) {
      for await (const chunk of upstream.body) response.write(chunk);
    }
    response.end();
    if (values.verbose) output.info(output.paint("dim", `${request.method} ${target.pathname} → ${upstream.status} (${Date.now() - started} ms)`));
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  }).catch((error: unknown) => {
    throw new UsageError(`proxy: cannot listen on ${host}:${port} (${(error as { code?: string }).code ?? describe(error)}); pick another --port, or --port 0`);
  });
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  const local = new URL(`${remote.pathname}${remote.search}`, `http://${shownHost}:${bound.port}`);
  // Handlers first: a supervisor may stop the proxy the moment it reads the URL.
  const stopped = new Promise<number>((resolve) => {
    const stop = (code: number) => {
      server.close(() => resolve(code));
      server.closeAllConnections();
    };
    process.once("SIGINT", () => stop(130));
    process.once("SIGTERM", () => stop(143));
  });
  output.io.stdout.write(`${local.href}\n`);
  output.info(output.paint("dim", `forwarding ${local.origin} → ${remote.origin} (Ctrl-C stops)`));
  return stopped;
}

/** A Host header (or bind address) naming loopback. */
function isLoopbackHost(host: string): boolean {
  try {
    return isLoopback(new URL(`http://${host.includes(":") && !host.includes("[") && host.split(":").length > 2 ? `[${host}]` : host}`));
  } catch {
    return false;
  }
}

/** No Origin (a tool, not a page), or a page served from loopback. */
function isLoopbackOrigin(origin: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    return isLoopback(new URL(origin));
  } catch {
    return false; // "null" included: a sandboxed or file: page
  }
}
