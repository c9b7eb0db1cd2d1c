// `mcp-client-credentials proxy` against callers that try to make it leave the remote origin
// (request targets that are not origin-form), requests undici would refuse or mis-decode
// (Expect: 100-continue, encodings it cannot decode), a browser page when it listens beyond
// loopback, and a remote whose metadata claims more than the URL the proxy was given.
import type { ChildProcess } from "node:child_process";
import http, { type IncomingHttpHeaders } from "node:http";
import net from "node:net";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { closer, listen } from "../servers/listen.mjs";
import { baseEnv, start, stop } from "./process.js";

const CLIENT_ID = "proxy-hostile-client";
const CLIENT_SECRET = `proxy-hostile-secret-${crypto.randomUUID()}`;
const env = () => baseEnv({ MCP_CLIENT_ID: CLIENT_ID, MCP_CLIENT_SECRET: CLIENT_SECRET });

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  bytes: number;
}
type Handler = (request: http.IncomingMessage, response: http.ServerResponse, body: Buffer) => void;

const closers: (() => Promise<void>)[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => stop(child, "SIGKILL")));
  await Promise.all(closers.splice(0).map((close) => close()));
});

/**
 * A node:http server on loopback that records every request. With `protect`, it is an OAuth
 * protected resource and its own authorization server: a request without a token gets a 401
 * naming its metadata, whose resource is the whole origin, and /token hands out an opaque token.
 */
async function serve(handler: Handler, protect = false) {
  const seen: Seen[] = [];
  const token = `opaque-${crypto.randomUUID()}`;
  let origin = "";
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      const path = request.url ?? "/";
      seen.push({ method: request.method ?? "", path, headers: request.headers, bytes: body.length });
      const json = (value: unknown, status = 200) => response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      if (protect && path === "/.well-known/oauth-protected-resource") return json({ resource: origin, authorization_servers: [origin] });
      if (protect && path === "/.well-known/oauth-authorization-server") {
        return json({
          issuer: origin,
          token_endpoint: `${origin}/token`,
          token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
        });
      }
      if (protect && path === "/token") return json({ access_token: token, token_type: "Bearer", expires_in: 300 });
      if (protect && request.headers.authorization !== `Bearer ${token}`) {
        response.writeHead(401, { "www-authenticate": `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource"` }).end();
        return;
      }
      handler(request, response, body);
    });
  });
  const port = await listen(server, 0, "127.0.0.1");
  origin = `http://127.0.0.1:${port}`;
  closers.push(closer(server));
  return { origin, port, seen };
}

const ok: Handler = (_, response) => response.writeHead(200, { "content-type": "text/plain" }).end("forwarded");

async function proxy(target: string, args: string[] = []) {
  const running = await start(["proxy", target, ...args], { env: env() });
  children.push(running.child);
  return { ...running, local: new URL(running.firstLine) };
}

/** Writes one request exactly as given (the request target too) and resolves with the status. */
function rawStatus(port: number, head: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(`${head}\r\nConnection: close\r\n\r\n`));
    let text = "";
    socket.setEncoding("latin1").on("data", (chunk: string) => (text += chunk));
    socket.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
    socket.on("error", reject);
  });
}

/** A request through node:http with these headers; `expect100` sends the body only after 100 Continue. */
function request(url: URL, options: { method?: string; headers?: Record<string, string>; body?: Buffer; expect100?: boolean } = {}) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    const sent = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: options.method ?? "GET", headers: options.headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      },
    );
    sent.on("error", reject);
    if (options.expect100) sent.on("continue", () => sent.end(options.body));
    else sent.end(options.body);
  });
}

describe("proxy: only origin-form paths of the remote are forwarded", () => {
  it("//host, /\\host and an absolute-form target → 400; the other server gets no request (no discovery, no secret)", async () => {
    const remote = await serve(ok);
    // It would hand out a token for its whole origin to anyone with a client secret.
    const evil = await serve(ok, true);
    const { local } = await proxy(`${remote.origin}/mcp`);
    const host = `Host: ${local.host}`;
    const targets = [`//127.0.0.1:${evil.port}/x`, `/\\127.0.0.1:${evil.port}/x`, `http://127.0.0.1:${evil.port}/x`];
    const statuses: [string, number][] = [];
    for (const target of targets) statuses.push([target, await rawStatus(Number(local.port), `GET ${target} HTTP/1.1\r\n${host}`)]);
    // Checked first: a token request there means the client secret went there.
    expect(evil.seen.some((seen) => seen.path === "/token")).toBe(false);
    expect(evil.seen.length).toBe(0);
    expect(statuses).toEqual(targets.map((target) => [target, 400]));
    expect(remote.seen.length).toBe(0);

    // The same proxy still forwards an origin-form path, so the 400s above are about the target alone.
    expect(await rawStatus(Number(local.port), `GET /mcp HTTP/1.1\r\n${host}`)).toBe(200);
    expect(remote.seen.map((seen) => seen.path)).toEqual(["/mcp"]);
  });
});

describe("proxy: requests undici would refuse or could not decode", () => {
  it("Expect: 100-continue with a 2 MB POST is forwarded (not 502), without the Expect header", async () => {
    const remote = await serve((_, response, body) => response.writeHead(200, { "content-type": "text/plain" }).end(`got ${body.length}`));
    const { local } = await proxy(`${remote.origin}/mcp`);
    const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { pad: "x".repeat(2 * 1024 * 1024) } }));
    const answer = await request(local, { method: "POST", headers: { "content-type": "application/json", expect: "100-continue" }, body, expect100: true });
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe(`got ${body.length}`);
    expect(remote.seen).toHaveLength(1);
    expect(remote.seen[0]!.bytes).toBe(body.length);
    expect(remote.seen[0]!.headers.expect).toBeUndefined();
  });

  it("Accept-Encoding: zstd, br, gzip is not forwarded; the body comes back decoded, without Content-Encoding", async () => {
    const text = "plain text the caller must read as is\n".repeat(50);
    const remote = await serve((request, response) => {
      const offered = String(request.headers["accept-encoding"] ?? "");
      // undici in Node 20 cannot decode zstd: a remote that picks it hands back bytes fetch passes through as they are.
      if (offered.includes("zstd")) return response.writeHead(200, { "content-encoding": "zstd" }).end(`zstd-frame:${text}`);
      if (offered.includes("gzip")) return response.writeHead(200, { "content-encoding": "gzip" }).end(gzipSync(text));
      response.writeHead(200).end(text);
    });
    const { local } = await proxy(`${remote.origin}/mcp`);
    const answer = await request(local, { headers: { "accept-encoding": "zstd, br, gzip" } });
    expect(answer.status).toBe(200);
    expect(answer.headers["content-encoding"]).toBeUndefined();
    expect(answer.body.toString()).toBe(text);
    expect(String(remote.seen[0]!.headers["accept-encoding"]).includes("zstd")).toBe(false);
  });
});

describe("proxy --host 0.0.0.0: a page in the browser is still refused", () => {
  it("Origin: https://evil.example → 403 and nothing forwarded; no Origin (a tool) → forwarded", async () => {
    const remote = await serve(ok);
    const { local } = await proxy(`${remote.origin}/mcp`, ["--host", "0.0.0.0"]);
    const at = new URL(`http://127.0.0.1:${local.port}/mcp`);
    // Listening on every interface the Host is whatever name the caller used.
    const host = `lan.example:${local.port}`;
    const refused = await request(at, {
      method: "POST",
      headers: { host, origin: "https://evil.example", "content-type": "application/json" },
      body: Buffer.from("{}"),
    });
    expect(refused.status).toBe(403);
    expect(remote.seen.length).toBe(0);
    const tool = await request(at, { method: "POST", headers: { host, "content-type": "application/json" }, body: Buffer.from("{}") });
    expect([tool.status, tool.body.toString()]).toEqual([200, "forwarded"]);
    expect(remote.seen.length).toBe(1);
  });
});

describe("proxy: tokens go only under the URL it was given", () => {
  it("a remote whose metadata names its whole origin: /mcp gets the token, /other through the proxy does not", async () => {
    const remote = await serve(ok, true);
    const { local, stderr } = await proxy(`${remote.origin}/mcp`);
    const mcp = await request(local);
    expect([mcp.status, mcp.body.toString()]).toEqual([200, "forwarded"]);
    expect(remote.seen.some((seen) => seen.path === "/mcp" && seen.headers.authorization !== undefined)).toBe(true);

    const other = await request(new URL("/other", local));
    expect(other.status).toBe(401);
    const toOther = remote.seen.filter((seen) => seen.path === "/other");
    expect(toOther.length).toBeGreaterThan(0);
    expect(toOther.some((seen) => seen.headers.authorization !== undefined)).toBe(false);
    expect(stderr().includes(CLIENT_SECRET)).toBe(false);
  });
});
