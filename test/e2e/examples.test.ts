// The examples in examples/ (which the README and docs/ quote verbatim, see test/docs.test.ts) run
// as written, as separate processes, against the real servers: oidc-provider + the MCP SDK server.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedis } from "../fleet/redis-server.mjs";
import { type Stack, start as startStack } from "./servers/stack.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const exec = promisify(execFile);
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

/** Runs an example with only the variables given (no credential inherited from this process). */
async function run(file: string, env: Record<string, string>) {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(MCP_|VITEST|REDIS_URL|STORE_KEY)/.test(name)));
  return exec(process.execPath, [file], { cwd: root, timeout: 30_000, env: { ...inherited, NO_COLOR: "1", MCP_SERVER_URL: stack.mcp.url, ...env } });
}

function secretClient() {
  const { clientId, clientSecret } = stack.credentials.clientSecret;
  return { MCP_CLIENT_ID: clientId, MCP_CLIENT_SECRET: clientSecret };
}

function keyClient() {
  const { clientId, privateKey } = stack.credentials.privateKeyJwt;
  return { MCP_CLIENT_ID: clientId, MCP_PRIVATE_KEY: privateKey };
}

/** Token requests the authorization server granted, and MCP requests it saw, from now on. */
function watch() {
  const events = stack.as.events.length;
  const requests = stack.mcp.requests.length;
  return {
    tokens: () => stack.as.events.slice(events).filter((event) => event.type === "grant.success").length,
    /** Requests to the MCP endpoint itself (the server also serves its metadata). */
    mcp: () => stack.mcp.requests.slice(requests).filter((r) => r.path === "/mcp"),
  };
}

describe("examples/mcp-sdk-client.mjs", () => {
  it("works with a private key (PEM in an environment variable)", async () => {
    const { stdout } = await run("examples/mcp-sdk-client.mjs", keyClient());
    expect(stdout).toBe("tools: echo, add, whoami\nadd(2, 3) = 5\n");
  });

  it("works with a client secret", async () => {
    const { stdout } = await run("examples/mcp-sdk-client.mjs", secretClient());
    expect(stdout).toBe("tools: echo, add, whoami\nadd(2, 3) = 5\n");
  });
});

describe("examples/first-call.mjs", () => {
  it.each([
    ["a private key", keyClient],
    ["a client secret", secretClient],
  ])("initialize with %s: one 401, one token request, then getToken() from the cache", async (_, credentials) => {
    const seen = watch();
    const { stdout } = await run("examples/first-call.mjs", credentials());
    expect(stdout).toBe("status: 200\nserver: e2e-protected-mcp-server\nscope: mcp:tools | valid for more than a minute: true\n");
    expect(seen.tokens()).toBe(1);
    expect(seen.mcp().map((r) => `${r.authorized ? "bearer" : "none"} ${r.status}`)).toEqual(["none 401", "bearer 200"]);
  });
});

describe("examples/ky.mjs", () => {
  it("ky.create({ fetch: authFetch }) reaches the protected server (ky hands a Request to fetch)", async () => {
    const seen = watch();
    const { stdout } = await run("examples/ky.mjs", secretClient());
    expect(stdout).toBe("server: e2e-protected-mcp-server\n");
    expect(seen.tokens()).toBe(1);
  });
});

describe("examples/apply-middlewares.mjs", () => {
  it("logging closest to the network sees the 401, both metadata documents and the token request; the call succeeds", async () => {
    const seen = watch();
    const { stdout } = await run("examples/apply-middlewares.mjs", secretClient());
    const lines = stdout.trim().split("\n");
    expect(lines.slice(0, 5)).toEqual([
      "POST /mcp 401",
      "GET /.well-known/oauth-protected-resource/mcp 200",
      // oidc-provider under /oidc serves only the OIDC path-appended form, the last one tried
      "GET /.well-known/oauth-authorization-server/oidc 404",
      "GET /.well-known/openid-configuration/oidc 404",
      "GET /oidc/.well-known/openid-configuration 200",
    ]);
    expect(lines.slice(5, 7)).toEqual(["POST /oidc/token 200", "POST /mcp 200"]);
    expect(lines).toContain("add(2, 3) = 5");
    expect(lines.filter((line) => line.includes("/token "))).toHaveLength(1);
    expect(seen.tokens()).toBe(1);
  });
});

describe("examples/mcp-sdk-v2-auth-provider.mjs", () => {
  it("the SDK v2 transport with authProvider(authFetch, url) and its own fetch: one token request", async () => {
    const seen = watch();
    const { stdout } = await run("examples/mcp-sdk-v2-auth-provider.mjs", secretClient());
    expect(stdout).toBe("add(2, 3) = 5\n");
    expect(seen.tokens()).toBe(1);
    expect(seen.mcp().every((r) => r.authorized)).toBe(true); // token() ran before the first request
  });
});

describe("examples/static-configuration.mjs", () => {
  it("no discovery at all; invalidate() forgets the token and the next getToken() asks for a new one", async () => {
    const seen = watch();
    const { stdout } = await run("examples/static-configuration.mjs", {
      ...secretClient(),
      MCP_ISSUER: stack.as.issuer,
      MCP_TOKEN_ENDPOINT: stack.as.tokenEndpoint,
    });
    const lines = stdout.trim().split("\n");
    expect(lines).toContain(`token for ${stack.mcp.url} scope mcp:tools`);
    expect(lines).toContain("status: 200");
    expect(lines.at(-1)).toBe("new token: true");
    expect(lines.filter((line) => /^event: (challenge|discovery|retry)/.test(line))).toEqual([]);
    expect(lines.filter((line) => line.startsWith("event: token-request"))).toHaveLength(2);
    expect(seen.tokens()).toBe(2);
    expect(seen.mcp().map((r) => `${r.authorized ? "bearer" : "none"} ${r.status}`)).toEqual(["bearer 200"]);
  });
});

describe("examples/custom-store.mjs", () => {
  it("two clients sharing a Map-backed store: one token request between them", async () => {
    const seen = watch();
    const { stdout } = await run("examples/custom-store.mjs", secretClient());
    expect(stdout).toBe("token requests: 1 | keys in the store: true | shared token valid: true\n");
    expect(seen.tokens()).toBe(1);
  });
});

describe("examples/redis-store.mjs", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("a second process on the warm, sealed store sends its first request authorized; the store holds no readable token", async () => {
    const env = { ...secretClient(), REDIS_URL: redis.url, STORE_KEY: randomBytes(32).toString("base64") };
    const seen = watch();
    expect((await run("examples/redis-store.mjs", env)).stdout).toBe("status: 200\n");
    const second = watch();
    expect((await run("examples/redis-store.mjs", env)).stdout).toBe("status: 200\n");
    expect(seen.tokens()).toBe(1);
    expect(second.mcp().map((r) => `${r.authorized ? "bearer" : "none"} ${r.status}`)).toEqual(["bearer 200"]);

    const client = new Redis(redis.url);
    try {
      const keys = await client.keys("*");
      const values = await Promise.all(keys.map((key) => client.get(key)));
      expect(keys.length).toBeGreaterThan(0);
      // A count, never the values: unsealed ones would hold access tokens.
      expect(values.filter((value) => value?.includes("accessToken") || value?.includes(stack.mcp.url)).length).toBe(0);
    } finally {
      client.disconnect();
    }
  });
});

describe("examples/msw-kit.test.mjs", () => {
  it("the MSW kit example passes under vitest", async () => {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("VITEST")));
    const { stdout } = await exec(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "--config", "examples/vitest.config.mjs"], {
      cwd: root,
      timeout: 60_000,
      env: { ...inherited, NO_COLOR: "1", CI: "true" },
    });
    expect(stdout).toMatch(/Tests\s+3 passed \(3\)/);
  });
});
