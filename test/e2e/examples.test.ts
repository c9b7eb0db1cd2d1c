// The examples in examples/ (which the README quotes) run as written, against the real servers.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, start as startStack } from "./servers/stack.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

async function example(env: Record<string, string>) {
  const { MCP_CLIENT_SECRET: _s, MCP_PRIVATE_KEY: _k, ...inherited } = process.env;
  return run(process.execPath, ["examples/mcp-sdk-client.mjs"], { cwd: root, timeout: 30_000, env: { ...inherited, MCP_SERVER_URL: stack.mcp.url, ...env } });
}

describe("examples/mcp-sdk-client.mjs", () => {
  it("works with a private key (PEM in an environment variable)", async () => {
    const { clientId, privateKey } = stack.credentials.privateKeyJwt;
    const { stdout } = await example({ MCP_CLIENT_ID: clientId, MCP_PRIVATE_KEY: privateKey });
    expect(stdout).toBe("tools: echo, add, whoami\nadd(2, 3) = 5\n");
  });

  it("works with a client secret", async () => {
    const { clientId, clientSecret } = stack.credentials.clientSecret;
    const { stdout } = await example({ MCP_CLIENT_ID: clientId, MCP_CLIENT_SECRET: clientSecret });
    expect(stdout).toBe("tools: echo, add, whoami\nadd(2, 3) = 5\n");
  });
});
