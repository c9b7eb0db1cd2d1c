// `mcp-client-credentials token` as a script runs it: the built CLI as a child process against
// oidc-provider and the MCP SDK server on loopback. Secrets, keys, platform JWTs and access
// tokens are only ever compared as booleans, so a failing test never prints one.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as jose from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitHubActionsOidc, start as startActions } from "../servers/github-actions.mjs";
import { type Stack, start as startStack } from "../servers/stack.mjs";
import { start as startIssuer, type WorkloadIssuer } from "../servers/workload-issuer.mjs";
import { acceptsToken } from "./mcp.js";
import { baseEnv, type CliResult, cli } from "./process.js";

const JWT_SHAPE = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;

/** Every string of `secrets` is absent from both streams; no JWT on stderr; no colour on pipes. */
function expectNoLeak(result: CliResult, secrets: string[]) {
  expect(secrets.length).toBeGreaterThan(0);
  expect(secrets.some((secret) => result.stdout.includes(secret) || result.stderr.includes(secret))).toBe(false);
  expect(JWT_SHAPE.test(result.stderr)).toBe(false);
  expect(result.stdout.includes("\x1b[") || result.stderr.includes("\x1b[")).toBe(false);
}

/** The access token printed by `token`: stdout is exactly that one line. */
function tokenOf(result: CliResult): string {
  expect({ code: result.code, stderr: JWT_SHAPE.test(result.stderr) ? "[JWT on stderr]" : result.stderr }).toEqual({ code: 0, stderr: "" });
  const lines = result.stdout.split("\n");
  expect(lines.length).toBe(2);
  expect(lines[1]).toBe("");
  expect(JWT_SHAPE.test(lines[0]!)).toBe(true);
  return lines[0]!;
}

/** The MCP server accepts the token: initialize with it answers 200. */
async function expectUsable(mcpUrl: string, accessToken: string) {
  expect(await acceptsToken(mcpUrl, accessToken)).toBe(true);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-token-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("token with a client secret or a private key", () => {
  let stack: Stack;
  let secret: { clientId: string; clientSecret: string };
  let key: { clientId: string; privateKey: string };
  let jwk: jose.JWK;
  let secrets: string[];

  beforeAll(async () => {
    stack = await startStack();
    secret = stack.credentials.clientSecret;
    key = stack.credentials.privateKeyJwt;
    jwk = await jose.exportJWK(await jose.importPKCS8(key.privateKey, "ES256", { extractable: true }));
    const pemBody = key.privateKey.split("\n").filter((line) => line && !line.startsWith("-----"));
    secrets = [secret.clientSecret, jwk.d!, ...pemBody];
  });
  afterAll(async () => {
    await stack?.close();
  });

  const secretEnv = () => baseEnv({ MCP_CLIENT_ID: secret.clientId, MCP_CLIENT_SECRET: secret.clientSecret });
  const keyEnv = (extra: Record<string, string>) => baseEnv({ MCP_CLIENT_ID: key.clientId, ...extra });

  it("prints one line, a JWT for the MCP server and the client, which the server accepts", async () => {
    const result = await cli(["token", "--server", stack.mcp.url], { env: secretEnv() });
    const accessToken = tokenOf(result);
    expectNoLeak(result, secrets);
    const claims = jose.decodeJwt(accessToken);
    expect(claims.aud).toBe(stack.mcp.url);
    expect(claims.client_id).toBe(secret.clientId);
    expect(claims.iss).toBe(stack.as.issuer);
    await expectUsable(stack.mcp.url, accessToken);
  });

  it("takes the server URL as a positional argument", async () => {
    const result = await cli(["token", stack.mcp.url], { env: secretEnv() });
    expect(jose.decodeJwt(tokenOf(result)).aud).toBe(stack.mcp.url);
    expectNoLeak(result, secrets);
  });

  it.each([
    ["a PEM", () => ({ MCP_PRIVATE_KEY: key.privateKey })],
    ["a one-line PEM with literal \\n", () => ({ MCP_PRIVATE_KEY: key.privateKey.trim().replace(/\n/g, "\\n") })],
    ["a private JWK as JSON", () => ({ MCP_PRIVATE_KEY: JSON.stringify({ ...jwk, alg: "ES256" }) })],
  ])("signs a private_key_jwt assertion with MCP_PRIVATE_KEY as %s", async (_, env) => {
    const result = await cli(["token", "--server", stack.mcp.url, "-v"], { env: keyEnv(env()) });
    const accessToken = tokenOf({ ...result, stderr: "" });
    expect(result.stderr).toMatch(/token request to \S+ \(client_credentials, private_key_jwt/);
    expect(result.stderr).toMatch(/token response 200/);
    expect(jose.decodeJwt(accessToken).client_id).toBe(key.clientId);
    expect(result.stderr.includes(accessToken)).toBe(false);
    expectNoLeak(result, secrets);
    await expectUsable(stack.mcp.url, accessToken);
  });

  it("reads the key from MCP_PRIVATE_KEY_FILE and from --private-key-file", async () => {
    const file = join(dir, "key.pem");
    await writeFile(file, key.privateKey, { mode: 0o600 });
    for (const [args, env] of [
      [[], { MCP_PRIVATE_KEY_FILE: file }],
      [["--private-key-file", file], {}],
    ] as const) {
      const before = stack.as.events.length;
      const result = await cli(["token", "--server", stack.mcp.url, "-v", ...args], { env: keyEnv(env) });
      const accessToken = tokenOf({ ...result, stderr: "" });
      expect(result.stderr).toContain("private_key_jwt");
      expect(stack.as.events.slice(before).map((event) => [event.type, event.clientId])).toEqual([["grant.success", key.clientId]]);
      expectNoLeak(result, secrets);
      await expectUsable(stack.mcp.url, accessToken);
    }
  });

  it("--json describes the token", async () => {
    const result = await cli(["token", "--server", stack.mcp.url, "--json"], { env: secretEnv() });
    expect(result.code).toBe(0);
    expectNoLeak(result, secrets);
    const json = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(["accessToken", "expiresAt", "expiresIn", "issuer", "resource", "scope", "tokenType"]);
    expect(json).toMatchObject({ tokenType: "Bearer", scope: "mcp:tools", resource: stack.mcp.url, issuer: stack.as.issuer });
    expect(new Date(json.expiresAt as string).toISOString()).toBe(json.expiresAt);
    expect(Date.parse(json.expiresAt as string)).toBeGreaterThan(Date.now());
    expect(json.expiresIn).toBeGreaterThan(0);
    expect(json.expiresIn).toBeLessThanOrEqual(300);
    await expectUsable(stack.mcp.url, json.accessToken as string);
  });

  it.each([
    ["--issuer", () => ["--issuer", stack.as.issuer]],
    ["--token-endpoint", () => ["--token-endpoint", stack.as.tokenEndpoint]],
  ])("static mode: %s with --resource, no --server", async (_, flags) => {
    const before = stack.mcp.requests.length;
    const result = await cli(["token", ...flags(), "--resource", stack.mcp.url, "--scope", "mcp:tools"], { env: secretEnv() });
    const accessToken = tokenOf(result);
    expectNoLeak(result, secrets);
    expect(jose.decodeJwt(accessToken).aud).toBe(stack.mcp.url);
    // No probe: the MCP server is not asked anything in static mode.
    expect(stack.mcp.requests.length).toBe(before);
    await expectUsable(stack.mcp.url, accessToken);
  });

  it("a wrong secret: exit 1, invalid_client named, the secret not printed", async () => {
    const wrong = `${secret.clientSecret}-wrong`;
    const result = await cli(["token", "--server", stack.mcp.url], { env: baseEnv({ MCP_CLIENT_ID: secret.clientId, MCP_CLIENT_SECRET: wrong }) });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^error: .*invalid_client/m);
    expectNoLeak(result, [...secrets, wrong]);
  });

  it("an unreachable server: exit 1 with an error", async () => {
    const result = await cli(["token", "--server", `http://127.0.0.1:${await closedPort()}/mcp`], { env: secretEnv() });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^error: /m);
    expectNoLeak(result, secrets);
  });

  it("--client-secret works, warns about shell history, and never echoes the secret", async () => {
    const result = await cli(["token", "--server", stack.mcp.url, "--client-id", secret.clientId, "--client-secret", secret.clientSecret], { env: baseEnv() });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^warning: --client-secret puts the secret in your shell history/m);
    expectNoLeak(result, secrets);
    const accessToken = result.stdout.trim();
    expect(jose.decodeJwt(accessToken).client_id).toBe(secret.clientId);
    await expectUsable(stack.mcp.url, accessToken);
  });
});

describe("token with a platform JWT (workload identity)", () => {
  let stack: Stack;
  let idp: WorkloadIssuer;
  let actions: GitHubActionsOidc;
  let clientId: string;

  beforeAll(async () => {
    [idp, actions] = await Promise.all([startIssuer(), startActions()]);
    stack = await startStack({ jwtBearer: { trust: [{ issuer: idp.issuer }, { issuer: actions.issuer.issuer, subject: actions.subject }] } });
    clientId = stack.credentials.workloadIdentity!.clientId;
  });
  afterAll(async () => {
    await stack?.close();
    await Promise.allSettled([idp?.close(), actions?.close()]);
  });

  /** Runs `token` and checks the jwt-bearer grant verified a JWT from `iss`, and the token works. */
  async function expectWorkloadToken(args: string[], env: Record<string, string>, iss: string, platformSecrets: () => string[]) {
    const before = stack.as.events.length;
    const result = await cli(["token", "--server", stack.mcp.url, "-v", ...args], { env: baseEnv({ MCP_CLIENT_ID: clientId, ...env }) });
    const accessToken = tokenOf({ ...result, stderr: "" });
    expect(result.stderr).toContain("jwt-bearer");
    const grants = stack.as.events.slice(before);
    expect(grants.map((event) => [event.type, event.clientId, event.assertion?.iss, event.assertion?.verified])).toEqual([
      ["grant.success", clientId, iss, true],
    ]);
    expect(jose.decodeJwt(accessToken).aud).toBe(stack.mcp.url);
    expect(result.stderr.includes(accessToken)).toBe(false);
    expectNoLeak(result, platformSecrets());
    await expectUsable(stack.mcp.url, accessToken);
  }

  it("--assertion-file reads a minted platform JWT from a file", async () => {
    const jwt = await idp.mint({ aud: stack.as.issuer, sub: "spiffe://cluster/agent" });
    const file = join(dir, "platform.jwt");
    await writeFile(file, `${jwt}\n`, { mode: 0o600 });
    await expectWorkloadToken(["--assertion-file", file], {}, idp.issuer, () => [jwt, jwt.split(".")[2]!]);
  });

  it("MCP_ASSERTION takes the platform JWT from the environment", async () => {
    const jwt = await idp.mint({ aud: stack.as.issuer, sub: "spiffe://cluster/agent" });
    await expectWorkloadToken([], { MCP_ASSERTION: jwt }, idp.issuer, () => [jwt, jwt.split(".")[2]!]);
  });

  it("--github-oidc asks the Actions endpoint for a JWT for the AS issuer", async () => {
    const before = actions.requests.length;
    const issued = actions.issued().length;
    await expectWorkloadToken(
      ["--github-oidc"],
      { ACTIONS_ID_TOKEN_REQUEST_URL: actions.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: actions.requestToken },
      actions.issuer.issuer,
      () => [actions.requestToken, ...actions.issued().slice(issued)],
    );
    expect(actions.requests.slice(before)).toEqual([{ method: "GET", audience: stack.as.issuer, authorized: true, apiVersion: "2.0" }]);
  });

  it("a JWT from an untrusted issuer: exit 1, the JWT not printed", async () => {
    const stranger = await startIssuer();
    try {
      const jwt = await stranger.mint({ aud: stack.as.issuer, sub: "intruder" });
      const result = await cli(["token", "--server", stack.mcp.url], { env: baseEnv({ MCP_CLIENT_ID: clientId, MCP_ASSERTION: jwt }) });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/^error: .*invalid_grant/m);
      expectNoLeak(result, [jwt, jwt.split(".")[2]!]);
    } finally {
      await stranger.close();
    }
  });
});
