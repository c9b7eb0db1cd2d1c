// `mcp-client-credentials fetch` against the MCP SDK server behind oidc-provider: one MCP call
// with --rpc (session opened and closed again), and curl-like requests with -i, -d, --json and
// SSE bodies. The client secret and access tokens are only compared as booleans.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as jose from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initializeMessage } from "../mcp-messages.js";
import { type Stack, start as startStack } from "../servers/stack.mjs";
import { baseEnv, type CliResult, cli } from "./process.js";

const JWT_SHAPE = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;
const INITIALIZE = initializeMessage("cli-e2e", 7);

let stack: Stack;
let dir: string;
let secrets: string[];
let jwk: jose.JWK;

beforeAll(async () => {
  [stack, dir] = await Promise.all([startStack(), mkdtemp(join(tmpdir(), "cli-fetch-"))]);
  const key = stack.credentials.privateKeyJwt.privateKey.split("\n").filter((line) => line && !line.startsWith("-----"));
  jwk = await jose.exportJWK(await jose.importPKCS8(stack.credentials.privateKeyJwt.privateKey, "ES256", { extractable: true }));
  secrets = [stack.credentials.clientSecret.clientSecret, jwk.d!, ...key];
});
afterAll(async () => {
  await stack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const env = () => baseEnv({ MCP_CLIENT_ID: stack.credentials.clientSecret.clientId, MCP_CLIENT_SECRET: stack.credentials.clientSecret.clientSecret });

/** No secret, no access token (nothing JWT-shaped) and no colour on either stream. */
function expectNoLeak(result: CliResult) {
  expect(secrets.some((secret) => result.stdout.includes(secret) || result.stderr.includes(secret))).toBe(false);
  expect(JWT_SHAPE.test(result.stdout) || JWT_SHAPE.test(result.stderr)).toBe(false);
  expect(result.stdout.includes("\x1b[") || result.stderr.includes("\x1b[")).toBe(false);
}

/** Runs `fetch`; resolves with the result and what the MCP server saw at /mcp meanwhile. */
async function fetchCli(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  const before = stack.mcp.requests.length;
  const result = await cli(["fetch", ...args], { env: env(), ...options });
  expectNoLeak(result);
  return { ...result, seen: stack.mcp.requests.slice(before).filter((request) => request.path === "/mcp") };
}

/** stdout of `--rpc`: exactly one line, a JSON-RPC response. */
function rpcAnswer(stdout: string): { id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string } } {
  const lines = stdout.split("\n");
  expect(lines.length).toBe(2);
  expect(lines[1]).toBe("");
  const message = JSON.parse(lines[0]!);
  expect(message.jsonrpc).toBe("2.0");
  return message;
}

describe("fetch --rpc", () => {
  it("tools/list: one JSON line with the tools, the session opened and deleted", async () => {
    const result = await fetchCli([stack.mcp.url, "--rpc", "tools/list"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const message = rpcAnswer(result.stdout);
    expect(message.id).toBe(2);
    const tools = ((message.result?.tools ?? []) as { name: string }[]).map((tool) => tool.name);
    expect(tools).toEqual(expect.arrayContaining(["echo", "add"]));
    const authorized = result.seen.filter((request) => request.authorized);
    expect(authorized.map((request) => [request.method, request.rpc, request.status])).toEqual([
      ["POST", "initialize", 200],
      ["POST", "notifications/initialized", 202],
      ["POST", "tools/list", 200],
      ["DELETE", undefined, 200],
    ]);
  });

  it("tools/call with --params JSON", async () => {
    const result = await fetchCli([stack.mcp.url, "--rpc", "tools/call", "--params", '{"name":"add","arguments":{"a":2,"b":3}}']);
    expect(result.code).toBe(0);
    expect(rpcAnswer(result.stdout).result?.structuredContent).toEqual({ sum: 5 });
    expect(result.seen.at(-1)).toMatchObject({ method: "DELETE", authorized: true, status: 200 });
  });

  it("with a private JWK and -v: the token names the key's client; the steps on stderr, no secret", async () => {
    const keyEnv = baseEnv({ MCP_CLIENT_ID: stack.credentials.privateKeyJwt.clientId, MCP_PRIVATE_KEY: JSON.stringify({ ...jwk, alg: "ES256" }) });
    const result = await fetchCli([stack.mcp.url, "-v", "--rpc", "tools/call", "--params", '{"name":"whoami"}'], { env: keyEnv });
    expect(result.code).toBe(0);
    expect(rpcAnswer(result.stdout).result?.structuredContent).toMatchObject({ clientId: stack.credentials.privateKeyJwt.clientId, resource: stack.mcp.url });
    expect(result.stderr).toMatch(/^· 401 from /m);
    expect(result.stderr).toMatch(/token request to \S+ \(client_credentials, private_key_jwt/);
  });

  it("tools/call with --params @file", async () => {
    const file = join(dir, "params.json");
    await writeFile(file, JSON.stringify({ name: "echo", arguments: { text: "from a file" } }));
    const result = await fetchCli([stack.mcp.url, "--rpc", "tools/call", "--params", `@${file}`]);
    expect(result.code).toBe(0);
    expect(rpcAnswer(result.stdout).result?.content).toEqual([{ type: "text", text: "from a file" }]);
  });

  it.each([
    ["an unknown tool", { name: "no-such-tool", arguments: {} }],
    ["invalid arguments", { name: "add", arguments: { a: "two", b: 3 } }],
  ])("a tool error (%s): exit 1, the answer printed, the session still deleted", async (_, params) => {
    const result = await fetchCli([stack.mcp.url, "--rpc", "tools/call", "--params", JSON.stringify(params)]);
    expect(result.code).toBe(1);
    const message = rpcAnswer(result.stdout);
    expect(message.error !== undefined || message.result?.isError === true).toBe(true);
    expect(result.seen.at(-1)).toMatchObject({ method: "DELETE", authorized: true, status: 200 });
  });

  it("initialize alone: the server's answer, one request", async () => {
    const result = await fetchCli([stack.mcp.url, "--rpc", "initialize"]);
    expect(result.code).toBe(0);
    const message = rpcAnswer(result.stdout);
    expect(message.id).toBe(1);
    expect(message.result).toMatchObject({ serverInfo: { name: "e2e-protected-mcp-server" }, capabilities: { tools: {} } });
    expect(typeof message.result?.protocolVersion).toBe("string");
    const authorized = result.seen.filter((request) => request.authorized);
    expect(authorized.map((request) => request.rpc ?? request.method)).toContain("initialize");
    expect(authorized.some((request) => request.rpc === "notifications/initialized")).toBe(false);
  });

  it("initialize alone: the session is deleted afterwards", async () => {
    const result = await fetchCli([stack.mcp.url, "--rpc", "initialize"]);
    expect(result.code).toBe(0);
    expect(result.seen.at(-1)).toMatchObject({ method: "DELETE", authorized: true, status: 200 });
  });

  it("an HTTP error during the call: exit 1, the status on stderr, nothing on stdout", async () => {
    const result = await fetchCli([`${stack.mcp.origin}/not-mcp`, "--rpc", "tools/list"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^error: initialize: the server answered HTTP 404/m);
  });

  it("a method the server refuses: exit 1, the JSON-RPC error printed", async () => {
    const result = await fetchCli([stack.mcp.url, "--rpc", "no/such/method"]);
    expect(result.code).toBe(1);
    expect(rpcAnswer(result.stdout).error?.code).toBe(-32601);
  });
});

describe("fetch as curl", () => {
  it("-i on a GET: status line, headers, a blank line, then the body", async () => {
    const result = await fetchCli([stack.mcp.resourceMetadataUrl, "-i"]);
    expect(result.code).toBe(0);
    const [head, body] = result.stdout.split("\n\n", 2) as [string, string];
    const [status, ...headers] = head.split("\n");
    expect(status).toBe("HTTP 200 OK");
    expect(headers.some((line) => /^content-type: application\/json/i.test(line))).toBe(true);
    expect(headers.every((line) => /^[\w-]+: /.test(line))).toBe(true);
    expect(JSON.parse(body)).toMatchObject({ resource: stack.mcp.url, authorization_servers: [stack.as.issuer] });
  });

  it("without -i: the body alone", async () => {
    const result = await fetchCli([stack.mcp.resourceMetadataUrl]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).resource).toBe(stack.mcp.url);
  });

  it.each([
    ["--json @file", (file: string) => ["--json", `@${file}`]],
    ["-d @file with -H Content-Type", (file: string) => ["-d", `@${file}`, "-H", "Content-Type: application/json"]],
    ["-d @- from stdin", () => ["-d", "@-", "-H", "Content-Type: application/json"]],
  ])("POST an initialize body (%s): the SSE answer decoded to JSON lines", async (_, flags) => {
    const file = join(dir, "initialize.json");
    await writeFile(file, JSON.stringify(INITIALIZE));
    const result = await fetchCli([stack.mcp.url, "-i", "-H", "Accept: application/json, text/event-stream", ...flags(file)], {
      input: JSON.stringify(INITIALIZE),
    });
    expect(result.code).toBe(0);
    const [head, body] = result.stdout.split("\n\n", 2) as [string, string];
    // The SDK server answers initialize as an event stream unless JSON responses are enabled.
    expect(head.split("\n")).toEqual(expect.arrayContaining(["HTTP 200 OK", "content-type: text/event-stream"]));
    expect(head).toMatch(/^mcp-session-id: \S+$/m);
    const lines = body.split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    const messages = lines.map((line) => JSON.parse(line));
    expect(messages.find((message) => message.id === 7)?.result?.serverInfo?.name).toBe("e2e-protected-mcp-server");
    expect(result.seen.filter((request) => request.authorized).map((request) => [request.method, request.rpc])).toEqual([["POST", "initialize"]]);
  });

  it("HTTP 400 and above: exit 1, the body still printed", async () => {
    const result = await fetchCli([stack.mcp.url]);
    expect(result.code).toBe(1);
    expect(result.seen.at(-1)).toMatchObject({ method: "GET", authorized: true, status: 400 });
    expect(result.stdout).toContain("No session");
  });

  it("-H 'Authorization: …' is a usage error (exit 2), nothing is sent", async () => {
    const result = await fetchCli([stack.mcp.url, "-H", "Authorization: x"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^error: .*Authorization/m);
    expect(result.seen).toEqual([]);
  });
});
