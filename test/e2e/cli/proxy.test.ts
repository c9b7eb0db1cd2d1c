// `mcp-client-credentials proxy <url>`: the MCP SDK's Client with a plain, unauthenticated
// StreamableHTTPClientTransport pointed at the local URL the proxy prints, forwarded to the real
// protected MCP server with tokens attached; and what the proxy refuses to forward.
import type { ChildProcess } from "node:child_process";
import http, { type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { initializeMessage, MCP_HEADERS } from "../mcp-messages.js";
import { type ProtectedMcpServer, SCOPE, start as startMcpServer } from "../servers/mcp-server.mjs";
import { type Stack, start as startStack } from "../servers/stack.mjs";
import { recordNotifications } from "./mcp.js";
import { baseEnv, cli, start } from "./process.js";

let stack: Stack;
/** The stack's MCP server with the opt-in `notify` tool, trusting the same authorization server. */
let mcp: ProtectedMcpServer;
const started: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startStack();
  mcp = await startMcpServer({ issuer: stack.as.issuer, notifications: true });
  stack.as.addResource(mcp.resource, { scope: SCOPE, accessTokenTTL: 300 });
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((child) => terminate(child, "SIGKILL")));
});

/**
 * Signals a started command and waits for its exit. Not process.ts's stop(): it resolves with the
 * code only, and waits for ever on a child that a signal already killed (its exitCode stays null).
 */
function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => {
    child.once("exit", (code, killedBy) => resolve({ code, signal: killedBy }));
    child.kill(signal);
  });
}

afterAll(async () => {
  await mcp?.close();
  await stack?.close();
});

const secretEnv = () => baseEnv({ MCP_CLIENT_ID: stack.credentials.clientSecret.clientId, MCP_CLIENT_SECRET: stack.credentials.clientSecret.clientSecret });

async function proxy(args: string[] = [], target = mcp.url) {
  const running = await start(["proxy", target, ...args], { env: secretEnv() });
  started.push(running.child);
  return running;
}

/** A Client through the proxy: no credentials of its own, optionally with headers the proxy must not forward. */
async function connect(localUrl: string, headers: Record<string, string> = {}) {
  const transport = new StreamableHTTPClientTransport(new URL(localUrl), { requestInit: { headers } });
  const client = new Client({ name: "e2e-proxy-client", version: "1.0.0" });
  const { errors, logs, progress } = recordNotifications(client);
  await client.connect(transport);
  return { client, transport, errors, logs, progress };
}

/** One raw request to the proxy with exactly these headers (node:http lets Host be anything). */
function raw(localUrl: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const url = new URL(localUrl);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: body === undefined ? "GET" : "POST", headers },
      (response) => {
        let text = "";
        response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

const INITIALIZE = JSON.stringify(initializeMessage("raw"));

describe("proxy: the MCP SDK Client through the local URL", () => {
  it("prints http://127.0.0.1:<port>/mcp; initialize, tools/list, tools/call, notifications; the remote saw only authorized calls", async () => {
    const { firstLine, stderr } = await proxy(["--port", "0"]);
    expect(firstLine).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(Number(new URL(firstLine).port)).toBeGreaterThan(0);

    const mark = mcp.requests.length;
    const { client, transport, errors, logs, progress } = await connect(firstLine);
    expect(client.getServerVersion()).toEqual({ name: "e2e-protected-mcp-server", version: "1.0.0" });
    expect(typeof transport.sessionId).toBe("string");
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(["echo", "add", "whoami", "notify"]));
    expect(await client.callTool({ name: "add", arguments: { a: 2, b: 3 } })).toMatchObject({ structuredContent: { sum: 5 } });
    const whoami = await client.callTool({ name: "whoami", arguments: {} });
    expect(whoami.structuredContent).toMatchObject({ clientId: stack.credentials.clientSecret.clientId, scopes: [SCOPE], resource: mcp.resource });

    // An SSE answer to the POST (log + progress before the result) ...
    expect(await client.callTool({ name: "notify", arguments: { text: "p1" }, _meta: { progressToken: "token-p1" } })).toMatchObject({
      content: [{ text: "p1" }],
    });
    expect(logs).toContain("request: p1");
    expect(progress).toEqual([{ progressToken: "token-p1", progress: 1, total: 1, message: "p1" }]);
    // ... and the standalone GET stream, streamed through while it stays open (it may still be opening: ask again).
    for (let round = 2; !logs.some((log) => log.startsWith("standalone:")) && round < 50; round++) {
      await client.callTool({ name: "notify", arguments: { text: `p${round}` } });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(logs.some((log) => log.startsWith("standalone:"))).toBe(true);
    await transport.terminateSession();
    await client.close();
    expect(errors).toEqual([]);

    const seen = mcp.requests.slice(mark).filter((request) => request.path === "/mcp");
    const rpc = seen.filter((request) => request.method === "POST" && request.status !== 401).map((request) => request.rpc);
    expect(rpc).toEqual(expect.arrayContaining(["initialize", "notifications/initialized", "tools/list", "tools/call"]));
    expect(seen.filter((request) => request.status !== 401).every((request) => request.authorized)).toBe(true);
    expect(seen.filter((request) => request.method === "DELETE")).toMatchObject([{ authorized: true, status: 200 }]);
    expect(stderr().includes(stack.credentials.clientSecret.clientSecret)).toBe(false);
  });

  it("the caller's Authorization and Cookie are not forwarded: a bogus bearer still works, because the proxy puts its own token", async () => {
    const { firstLine } = await proxy();
    const mark = mcp.requests.length;
    const { client } = await connect(firstLine, { Authorization: "Bearer bogus", Cookie: "session=from-the-browser" });
    const whoami = await client.callTool({ name: "whoami", arguments: {} });
    expect(whoami.structuredContent).toMatchObject({ clientId: stack.credentials.clientSecret.clientId });
    await client.close();
    // A forwarded "Bearer bogus" would have been sent as is (the middleware leaves a caller's Authorization alone) and refused.
    expect(mcp.requests.slice(mark).some((request) => request.status === 401 && request.authorized)).toBe(false);
  });

  it("forwards exactly the caller's own headers: no Authorization, Cookie or Origin reach the remote", async () => {
    const received: IncomingHttpHeaders[] = [];
    const echo = http.createServer((request, response) => {
      received.push(request.headers);
      response.writeHead(200, { "content-type": "text/plain", "set-cookie": "tracking=1" }).end("plain");
    });
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    try {
      const { firstLine } = await proxy([], `http://127.0.0.1:${(echo.address() as AddressInfo).port}/anything`);
      const answer = await raw(firstLine, {
        host: new URL(firstLine).host,
        authorization: "Bearer bogus",
        cookie: "a=b",
        origin: "http://localhost:6274",
        "x-kept": "yes",
      });
      expect(answer).toMatchObject({ status: 200, body: "plain" });
      expect(answer.headers["set-cookie"]).toBeUndefined();
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ "x-kept": "yes", host: `127.0.0.1:${(echo.address() as AddressInfo).port}` });
      expect(Object.keys(received[0]!)).not.toEqual(expect.arrayContaining(["authorization"]));
      expect(Object.keys(received[0]!)).not.toEqual(expect.arrayContaining(["cookie"]));
      expect(Object.keys(received[0]!)).not.toEqual(expect.arrayContaining(["origin"]));
    } finally {
      echo.closeAllConnections();
      await new Promise((resolve) => echo.close(resolve));
    }
  });

  it("two concurrent clients through one proxy each get their own session", async () => {
    const { firstLine } = await proxy();
    const [a, b] = await Promise.all([connect(firstLine), connect(firstLine)]);
    expect(a.transport.sessionId).toBeDefined();
    expect(b.transport.sessionId).toBeDefined();
    expect(a.transport.sessionId).not.toBe(b.transport.sessionId);
    const [echoA, echoB] = await Promise.all([
      a.client.callTool({ name: "echo", arguments: { text: "from a" } }),
      b.client.callTool({ name: "echo", arguments: { text: "from b" } }),
    ]);
    expect(echoA).toMatchObject({ content: [{ text: "from a" }] });
    expect(echoB).toMatchObject({ content: [{ text: "from b" }] });
    // Ending one session leaves the other working.
    await a.transport.terminateSession();
    await a.client.close();
    expect(await b.client.callTool({ name: "add", arguments: { a: 1, b: 1 } })).toMatchObject({ structuredContent: { sum: 2 } });
    await b.client.close();
  });
});

describe("proxy: what it refuses, and how it starts and stops", () => {
  it("Host: evil.example → 403, and the remote server sees nothing", async () => {
    const { firstLine } = await proxy();
    const mark = mcp.requests.length;
    const answer = await raw(firstLine, { ...MCP_HEADERS, host: "evil.example" }, INITIALIZE);
    expect(answer.status).toBe(403);
    const alsoWithPort = await raw(firstLine, { ...MCP_HEADERS, host: `evil.example:${new URL(firstLine).port}` }, INITIALIZE);
    expect(alsoWithPort.status).toBe(403);
    expect(mcp.requests.length).toBe(mark);
  });

  it("Origin: https://evil.example → 403; Origin: http://localhost:6274 (the MCP Inspector) is served", async () => {
    const { firstLine } = await proxy();
    const host = new URL(firstLine).host;
    const mark = mcp.requests.length;
    expect((await raw(firstLine, { ...MCP_HEADERS, host, origin: "https://evil.example" }, INITIALIZE)).status).toBe(403);
    expect((await raw(firstLine, { ...MCP_HEADERS, host, origin: "null" }, INITIALIZE)).status).toBe(403);
    expect(mcp.requests.length).toBe(mark);

    const allowed = await raw(firstLine, { ...MCP_HEADERS, host, origin: "http://localhost:6274" }, INITIALIZE);
    expect(allowed.status).toBe(200);
    expect(allowed.body).toContain('"serverInfo"');
    expect(mcp.requests.slice(mark).some((request) => request.rpc === "initialize" && request.authorized && request.status === 200)).toBe(true);
  });

  it("--port <busy port> → exit 2 naming the port", async () => {
    const busy = http.createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const result = await cli(["proxy", mcp.url, "--port", String(port)], { env: secretEnv() });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`error: proxy: cannot listen on 127.0.0.1:${port}`);
      expect(result.stderr).toContain("EADDRINUSE");
      expect(result.stdout).toBe("");
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it("--host 0.0.0.0 warns on stderr, and the first line names the address bound", async () => {
    const { firstLine, stderr } = await proxy(["--host", "0.0.0.0"]);
    expect(firstLine).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/mcp$/);
    await expect.poll(stderr).toContain("warning: listening on 0.0.0.0: anyone who can reach this address calls");
  });

  it("a loopback --host does not warn", async () => {
    const { firstLine, stderr } = await proxy(["--host", "localhost"]);
    expect(firstLine).toMatch(/^http:\/\/(127\.0\.0\.1|\[::1\]):\d+\/mcp$/);
    await expect.poll(stderr).toContain("forwarding");
    expect(stderr()).not.toContain("warning");
  });

  it("SIGTERM right after the first line stops it: it exits 143 (not killed by the signal) and the port is closed", async () => {
    const { child, firstLine } = await proxy();
    // A supervisor may stop it as soon as it has read the URL: the handler must already be there.
    expect(await terminate(child, "SIGTERM")).toEqual({ code: 143, signal: null });
    await expect(raw(firstLine, { host: new URL(firstLine).host })).rejects.toThrow(/ECONNREFUSED/);
  });

  it("SIGTERM stops it while a client holds an SSE stream open", async () => {
    const { child, firstLine } = await proxy();
    const { client, logs } = await connect(firstLine);
    for (let round = 1; !logs.some((log) => log.startsWith("standalone:")) && round < 50; round++) {
      await client.callTool({ name: "notify", arguments: { text: `s${round}` } });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(logs.some((log) => log.startsWith("standalone:"))).toBe(true);
    expect(await terminate(child, "SIGTERM")).toEqual({ code: 143, signal: null });
    await client.close();
  });
});
