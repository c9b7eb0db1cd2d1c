// `mcp-client-credentials fetch --rpc` against Streamable HTTP servers of our own that behave
// badly (a ping while the answer is pending, no answer at all, a DELETE never answered, a 400
// echoing the token), and usage errors that must not print what looks like a credential.
import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { closer, listen } from "../servers/listen.mjs";
import { baseEnv, cli } from "./process.js";

const CLIENT_ID = "fetch-hostile-client";
const CLIENT_SECRET = `fetch-hostile-secret-${crypto.randomUUID()}`;
const env = () => baseEnv({ MCP_CLIENT_ID: CLIENT_ID, MCP_CLIENT_SECRET: CLIENT_SECRET });
/** Beyond this a run is a hang (each case below ends in well under it when the CLI is right). */
const HANG_MS = 15_000;

type Message = { jsonrpc: "2.0"; id?: number | string; method?: string; result?: unknown; error?: unknown };
type Answerer = (message: Message, response: http.ServerResponse) => void;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/**
 * Just enough Streamable HTTP: initialize → JSON with a session id, notifications → 202, the
 * request → whatever `request` does, DELETE → whatever `remove` does (default 200). Requests
 * left hanging are cut when the server closes.
 */
async function mcpServer(options: { request: Answerer; remove?: (response: http.ServerResponse) => void; onReply?: (message: Message) => void }) {
  const seen: { method: string; rpc?: string }[] = [];
  const server = http.createServer((request, response) => {
    let text = "";
    request.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
    request.on("end", () => {
      if (request.method === "DELETE") {
        seen.push({ method: "DELETE" });
        return options.remove ? options.remove(response) : response.writeHead(200).end();
      }
      if (request.method !== "POST") return response.writeHead(405).end();
      const message = JSON.parse(text) as Message;
      seen.push({ method: "POST", rpc: message.method ?? "reply" });
      if (message.method === "initialize") {
        const result = { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "hostile", version: "1" } };
        return response
          .writeHead(200, { "content-type": "application/json", "mcp-session-id": "session-1" })
          .end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }));
      }
      if (message.method === undefined) {
        options.onReply?.(message);
        return response.writeHead(202).end();
      }
      if (message.id === undefined) return response.writeHead(202).end();
      options.request(message, response);
    });
  });
  const port = await listen(server, 0, "127.0.0.1");
  closers.push(closer(server));
  return { url: `http://127.0.0.1:${port}/mcp`, seen };
}

const sse = (response: http.ServerResponse) => response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
const event = (message: Message) => `data: ${JSON.stringify(message)}\n\n`;

describe("fetch --rpc against servers that misbehave", () => {
  it("a ping from the server while the answer is pending is answered, then the answer comes and is printed", async () => {
    let stream: http.ServerResponse | undefined;
    let requestId: number | string | undefined;
    const replies: Message[] = [];
    const server = await mcpServer({
      request: (message, response) => {
        stream = sse(response);
        requestId = message.id;
        stream.write(event({ jsonrpc: "2.0", id: 9, method: "ping" }));
      },
      // The real answer only once the ping is answered: a client that ignores it waits for ever.
      onReply: (reply) => {
        replies.push(reply);
        if (reply.id === 9 && stream) stream.end(event({ jsonrpc: "2.0", id: requestId, result: { tools: [{ name: "after-ping" }] } }));
      },
    });
    const result = await cli(["fetch", server.url, "--rpc", "tools/list"], { env: env(), timeoutMs: HANG_MS });
    expect(replies).toEqual([{ jsonrpc: "2.0", id: 9, result: {} }]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ jsonrpc: "2.0", id: requestId, result: { tools: [{ name: "after-ping" }] } });
  });

  it("a request never answered → --timeout 500 ends it: exit 1, 'no answer within 500 ms', and the session is closed", async () => {
    const server = await mcpServer({ request: (_, response) => void sse(response).write(": still thinking\n\n") });
    const result = await cli(["fetch", server.url, "--rpc", "tools/list", "--timeout", "500"], { env: env(), timeoutMs: HANG_MS });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: tools\/list: no answer within 500 ms/);
    expect(result.stdout).toBe("");
    expect(server.seen.at(-1)).toEqual({ method: "DELETE" });
  });

  it("a DELETE never answered: the answer is printed and the process still exits 0", async () => {
    const server = await mcpServer({
      request: (message, response) =>
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result: {} })),
      remove: () => {},
    });
    const result = await cli(["fetch", server.url, "--rpc", "ping"], { env: env(), timeoutMs: HANG_MS });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ jsonrpc: "2.0", result: {} });
    expect(server.seen.map((seen) => seen.method)).toContain("DELETE");
  });

  it("a 400 echoing the Authorization header: stderr says 'Bearer [redacted]', never the opaque token", async () => {
    const token = `opaque-token-${crypto.randomUUID()}`;
    let origin = "";
    let tokenRequests = 0;
    const server = http.createServer((request, response) => {
      request.resume().on("end", () => {
        const json = (value: unknown) => response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(value));
        if (request.url === "/.well-known/oauth-protected-resource/mcp") return json({ resource: `${origin}/mcp`, authorization_servers: [origin] });
        if (request.url === "/.well-known/oauth-authorization-server") {
          return json({ issuer: origin, token_endpoint: `${origin}/token`, token_endpoint_auth_methods_supported: ["client_secret_basic"] });
        }
        if (request.url === "/token") {
          tokenRequests++;
          return json({ access_token: token, token_type: "Bearer", expires_in: 300 });
        }
        const authorization = request.headers.authorization;
        if (!authorization) {
          return response.writeHead(401, { "www-authenticate": `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"` }).end();
        }
        response.writeHead(400, { "content-type": "text/plain" }).end(`bad request; you sent Authorization: ${authorization}`);
      });
    });
    origin = `http://127.0.0.1:${await listen(server, 0, "127.0.0.1")}`;
    closers.push(closer(server));
    const result = await cli(["fetch", `${origin}/mcp`, "--rpc", "tools/list"], { env: env(), timeoutMs: HANG_MS });
    expect(tokenRequests).toBe(1);
    expect(result.code).toBe(1);
    expect(result.stderr.includes(token)).toBe(false);
    expect(result.stderr.includes(token.slice("opaque-token-".length))).toBe(false);
    expect(result.stderr.includes(CLIENT_SECRET)).toBe(false);
    expect(result.stderr).toContain("you sent Authorization: Bearer [redacted]");
  });
});

describe("usage errors that would print a credential", () => {
  it("a URL with user:pass@ → exit 2, and the password is not printed", async () => {
    const password = `pw-${crypto.randomUUID()}`;
    for (const command of ["fetch", "stdio", "proxy", "token"]) {
      const result = await cli([command, `http://agent:${password}@127.0.0.1:9/mcp`], { env: env() });
      // Checked first, as a boolean: a failing match would print stderr.
      expect(result.stdout.includes(password) || result.stderr.includes(password)).toBe(false);
      expect([command, result.code]).toEqual([command, 2]);
      expect(result.stderr).toMatch(/must not hold a user or password/);
    }
  });

  it("--client-secret with an unquoted space: the stray half → exit 2, and it is not printed", async () => {
    const half = `half-${crypto.randomUUID()}`;
    const result = await cli(["fetch", "http://127.0.0.1:9/mcp", "--client-id", CLIENT_ID, "--client-secret", "first", half], { env: baseEnv() });
    expect(result.stdout.includes(half) || result.stderr.includes(half)).toBe(false);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unexpected argument/);
  });
});
