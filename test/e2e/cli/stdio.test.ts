// `mcp-client-credentials stdio <url>` driven by what a desktop client runs: the MCP SDK's Client
// over StdioClientTransport, spawning the built CLI, bridged to the real protected MCP server
// (oidc-provider tokens, the SDK's bearer auth).
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initializeMessage } from "../mcp-messages.js";
import { type ProtectedMcpServer, SCOPE, start as startMcpServer } from "../servers/mcp-server.mjs";
import { type Stack, start as startStack } from "../servers/stack.mjs";
import { recordNotifications } from "./mcp.js";
import { baseEnv, CLI } from "./process.js";

let stack: Stack;
/** The stack's MCP server with the opt-in `notify` tool, trusting the same authorization server. */
let mcp: ProtectedMcpServer;

beforeAll(async () => {
  stack = await startStack();
  mcp = await startMcpServer({ issuer: stack.as.issuer, notifications: true });
  stack.as.addResource(mcp.resource, { scope: SCOPE, accessTokenTTL: 300 });
});

afterAll(async () => {
  await mcp?.close();
  await stack?.close();
});

type Credentials = Record<string, string>;
const secret = (): Credentials => ({ MCP_CLIENT_ID: stack.credentials.clientSecret.clientId, MCP_CLIENT_SECRET: stack.credentials.clientSecret.clientSecret });
const privateKey = (): Credentials => ({
  MCP_CLIENT_ID: stack.credentials.privateKeyJwt.clientId,
  MCP_PRIVATE_KEY: stack.credentials.privateKeyJwt.privateKey,
});
const secrets = (): string[] => [stack.credentials.clientSecret.clientSecret, stack.credentials.privateKeyJwt.privateKey];

/** A Client connected through the bridge, with everything the bridge wrote on stderr and the child itself. */
async function bridge(env: Credentials) {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, "stdio", mcp.url], env: baseEnv(env), stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const client = new Client({ name: "e2e-stdio-client", version: "1.0.0" });
  const { errors, logs, progress } = recordNotifications(client);
  await client.connect(transport);
  // The exit code is not public on the transport; without the child a broken bridge could not fail the exit check.
  const child = (transport as unknown as { _process?: ChildProcess })._process;
  expect(child).toBeDefined();
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child!.once("exit", (code, signal) => resolve({ code, signal })));
  return { client, transport, errors, logs, progress, stderr: () => stderr, exited };
}

describe("stdio: the MCP SDK Client over stdio through the bridge", () => {
  it.each([
    ["a client secret", secret, "demo-agent-secret"],
    ["a private key (private_key_jwt)", privateKey, "demo-agent-jwt"],
  ] as const)(
    "initialize, tools/list, tools/call, notifications with %s; closing ends the bridge (exit 0) and the remote session",
    async (_, credentials, clientId) => {
      const mark = mcp.requests.length;
      const session = await bridge(credentials());
      const { client } = session;
      expect(client.getServerVersion()).toEqual({ name: "e2e-protected-mcp-server", version: "1.0.0" });
      expect(client.getServerCapabilities()).toMatchObject({ tools: {}, logging: {} });

      const tools = await client.listTools();
      expect(tools.tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(["echo", "add", "whoami", "notify"]));
      expect(await client.callTool({ name: "echo", arguments: { text: "über the bridge" } })).toMatchObject({
        content: [{ type: "text", text: "über the bridge" }],
      });
      expect(await client.callTool({ name: "add", arguments: { a: 2, b: 3 } })).toMatchObject({ structuredContent: { sum: 5 } });
      const whoami = await client.callTool({ name: "whoami", arguments: {} });
      expect(whoami.structuredContent).toMatchObject({ clientId, scopes: [SCOPE], resource: mcp.resource });

      // The server's notifications reach the client: on the tool call's SSE answer (log + progress)
      // and on the standalone GET stream the bridge holds open (which may still be opening: ask again).
      const answer = await client.callTool({ name: "notify", arguments: { text: "n1" }, _meta: { progressToken: "token-n1" } });
      expect(answer).toMatchObject({ content: [{ type: "text", text: "n1" }] });
      expect(session.logs).toContain("request: n1");
      expect(session.progress).toEqual([{ progressToken: "token-n1", progress: 1, total: 1, message: "n1" }]);
      for (let round = 2; !session.logs.some((log) => log.startsWith("standalone:")) && round < 50; round++) {
        await client.callTool({ name: "notify", arguments: { text: `n${round}` } });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(session.logs.some((log) => log.startsWith("standalone:"))).toBe(true);
      // Anything but JSON-RPC on stdout would have been a parse error here.
      expect(session.errors).toEqual([]);

      await client.close();
      expect(await session.exited).toEqual({ code: 0, signal: null });
      const seen = mcp.requests.slice(mark).filter((request) => request.path === "/mcp");
      expect(seen.filter((request) => request.method === "DELETE")).toMatchObject([{ authorized: true, status: 200 }]);
      expect(seen.filter((request) => request.method === "POST" && request.status !== 401).every((request) => request.authorized)).toBe(true);
      expect(session.stderr()).toContain(`bridging stdio to ${mcp.url}`);
      for (const value of secrets()) expect(session.stderr().includes(value)).toBe(false);
    },
  );

  it("bad credentials: initialize gets a JSON-RPC error -32000 naming invalid_client, not a hang; no secret on stderr", async () => {
    const wrong = `wrong-secret-${randomUUID()}`;
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, "stdio", mcp.url],
      env: baseEnv({ MCP_CLIENT_ID: stack.credentials.clientSecret.clientId, MCP_CLIENT_SECRET: wrong }),
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const client = new Client({ name: "e2e-stdio-client", version: "1.0.0" });
    const failure = await client.connect(transport, { timeout: 20_000 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    await client.close();
    expect(failure).toBeInstanceOf(McpError);
    expect((failure as McpError).code).toBe(-32000);
    expect((failure as McpError).message).toContain("invalid_client");
    expect(stderr).toContain("invalid_client");
    expect(stderr.includes(wrong)).toBe(false);
  });

  it("stdout carries only JSON-RPC lines (raw child, no SDK parsing in between)", async () => {
    const child = spawn(process.execPath, [CLI, "stdio", mcp.url, "--verbose"], { env: baseEnv(secret()), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const answered = new Promise<void>((resolve) => {
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk;
        if (stdout.split("\n").some((line) => line.includes('"id":2'))) resolve();
      });
    });
    const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
    send(initializeMessage("raw"));
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "notify", arguments: { text: "raw" }, _meta: { progressToken: "p" } } });
    await answered;
    child.stdin.end();
    expect(await exit).toBe(0);

    const lines = stdout.split("\n").filter((line) => line !== "");
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: "2.0" });
    const messages = lines.map((line) => JSON.parse(line) as { id?: number; method?: string });
    expect(messages.map((message) => message.method ?? message.id)).toEqual(expect.arrayContaining([1, "notifications/message", "notifications/progress", 2]));
    // --verbose talks, but only on stderr.
    expect(stderr).toContain("bridging stdio to");
    expect(stderr).toContain("→ tools/call");
    expect(stderr.includes(stack.credentials.clientSecret.clientSecret)).toBe(false);
  });
});

describe("stdio: the headers the bridge sends", () => {
  it("after initialize, every request carries the negotiated MCP-Protocol-Version and the session id", async () => {
    // The real server accepts requests without the version header, so a recorder shows what is sent.
    const seen: Array<{ method?: string; rpc?: string; version?: string; session?: string }> = [];
    const recorder = http.createServer((request, response) => {
      let body = "";
      request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      request.on("end", () => {
        const message = body ? (JSON.parse(body) as { id?: number; method?: string }) : {};
        const version = request.headers["mcp-protocol-version"] as string | undefined;
        seen.push({ method: request.method, rpc: message.method, version, session: request.headers["mcp-session-id"] as string | undefined });
        if (request.method !== "POST") return void response.writeHead(request.method === "DELETE" ? 200 : 405).end();
        if (message.id === undefined) return void response.writeHead(202).end();
        const result =
          message.method === "initialize"
            ? { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "recorder", version: "1.0.0" } }
            : { tools: [] };
        response.writeHead(200, { "content-type": "application/json", "mcp-session-id": "recorded-session" });
        response.end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }));
      });
    });
    await new Promise<void>((resolve) => recorder.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}/mcp`;
      const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, "stdio", url], env: baseEnv(secret()), stderr: "pipe" });
      const client = new Client({ name: "e2e-stdio-client", version: "1.0.0" });
      await client.connect(transport);
      expect(await client.listTools()).toEqual({ tools: [] });
      await client.close();
      const posts = seen.filter((request) => request.method === "POST");
      expect(posts.map((request) => request.rpc)).toEqual(["initialize", "notifications/initialized", "tools/list"]);
      expect(posts[0]).toMatchObject({ version: undefined, session: undefined });
      for (const request of posts.slice(1)) expect(request).toMatchObject({ version: "2025-06-18", session: "recorded-session" });
      expect(seen.filter((request) => request.method === "DELETE")).toMatchObject([{ session: "recorded-session" }]);
    } finally {
      recorder.closeAllConnections();
      await new Promise((resolve) => recorder.close(resolve));
    }
  });
});

describe("stdio without the MCP SDK installed", () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("exits 2 naming @modelcontextprotocol/sdk (the built CLI copied next to a node_modules holding only jose and zod)", async () => {
    dir = await mkdtemp(join(tmpdir(), "mcc-no-sdk-"));
    const modules = fileURLToPath(new URL("../../../node_modules/", import.meta.url));
    await mkdir(join(dir, "node_modules"));
    await symlink(join(modules, "jose"), join(dir, "node_modules", "jose"), "dir");
    await symlink(join(modules, "zod"), join(dir, "node_modules", "zod"), "dir");
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    await copyBuiltCli(join(dir, "cli"));
    // Nothing above the temp folder may provide the SDK, or this would test the wrong thing.
    expect(
      await readdir(join(tmpdir(), "node_modules")).then(
        () => true,
        () => false,
      ),
    ).toBe(false);

    const result = await run(join(dir, "cli", "index.js"), ["stdio", mcp.url], baseEnv(secret()), dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: stdio needs the MCP SDK (@modelcontextprotocol/sdk");
    expect(result.stdout).toBe("");
    // The other commands do not need it: token works from the same copy.
    const token = await run(join(dir, "cli", "index.js"), ["token", mcp.url], baseEnv(secret()), dir);
    expect(token.code).toBe(0);
    expect(token.stdout.split(".")).toHaveLength(3);
  });
});

/** dist/cli as built; the lead's rebuild empties dist/ for a few seconds, so wait for it. */
async function copyBuiltCli(to: string): Promise<void> {
  const from = fileURLToPath(new URL("../../../dist/cli/", import.meta.url));
  for (let attempt = 0; ; attempt++) {
    const files = await readdir(from).catch(() => [] as string[]);
    if (files.includes("index.js")) {
      await cp(from, to, { recursive: true });
      return;
    }
    if (attempt > 100) throw new Error("dist/cli/index.js is missing: run npm run build");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function run(entry: string, args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { env, cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end();
  });
}
