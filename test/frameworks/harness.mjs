// The tiny harness the framework tests run under. Each *.test.mjs runs in its own process (Node 22
// for frameworks that require it), spawned by run.mjs with FRAMEWORK_STACK describing the servers
// and this framework's own clients; the authorization server stays in the runner, which answers
// "how many tokens did this client get" on a loopback stats URL.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { withClientCredentials } from "mcp-client-credentials";
import { outputOf } from "../support/suite-runner.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");

/** @type {{ mcpUrl: string, statsUrl: string, tokenEndpoint: string, secret: { clientId: string, clientSecret: string }, jwt: { clientId: string, privateKey: string } }} */
export const stack = JSON.parse(process.env.FRAMEWORK_STACK ?? "null");

const tests = [];

/** Registers a test; `run()` runs them in order. */
export function test(name, fn) {
  tests.push({ name, fn });
}

/** Runs the tests and prints one `@@result {json}` line each, which run.mjs reads. */
export async function run() {
  if (!stack) {
    console.error("run these tests with: node test/frameworks/run.mjs");
    process.exit(2);
  }
  let failed = 0;
  for (const { name, fn } of tests) {
    try {
      await fn();
      console.log(`@@result ${JSON.stringify({ name, ok: true })}`);
    } catch (error) {
      failed += 1;
      const message = error?.stack ?? String(error);
      console.log(`@@result ${JSON.stringify({ name, ok: false, error: message })}`);
    }
  }
  // Frameworks keep sockets and timers alive after close(); the verdict is in.
  process.exit(failed > 0 ? 1 : 0);
}

/** Successful token requests the authorization server has answered for this client so far. */
export async function tokenRequests(clientId) {
  const response = await fetch(`${stack.statsUrl}/grants?client_id=${encodeURIComponent(clientId)}`);
  if (!response.ok) throw new Error(`stats server: HTTP ${response.status}`);
  return (await response.json()).count;
}

/**
 * A fetch that records what passes through it (URL, redirect mode, whether it carried an
 * Authorization header, the status): put it under authFetch to see what went to the network,
 * or in front of authFetch to see what the framework asked for. Never records header values.
 */
export function recordingFetch(next = fetch) {
  const calls = [];
  const recording = async (input, init) => {
    const request = input instanceof Request ? input : undefined;
    const call = {
      url: request ? request.url : String(input),
      redirect: init?.redirect ?? request?.redirect,
      authorized: new Headers(init?.headers ?? request?.headers).has("authorization"),
    };
    calls.push(call);
    const response = await next(input, init);
    call.status = response.status;
    return response;
  };
  recording.calls = calls;
  return recording;
}

/** Credentials as withClientCredentials options. */
export function options(kind) {
  return kind === "jwt" ? { clientId: stack.jwt.clientId, privateKey: stack.jwt.privateKey } : { ...stack.secret };
}

/**
 * Runs examples/<name>.mjs unchanged with the given environment, in this Node. The frameworks are
 * installed only in test/frameworks/node_modules, and ESM ignores NODE_PATH, so a byte-for-byte
 * copy runs from test/frameworks/node_modules/.examples/: bare imports resolve from there
 * (frameworks, and mcp-client-credentials, which run.mjs links to the repository's build).
 */
export async function runExample(name, env) {
  const dir = path.join(HERE, "node_modules", ".examples");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.mjs`);
  copyFileSync(path.join(ROOT, "examples", `${name}.mjs`), file);
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("MCP_") && key !== "FRAMEWORK_STACK"));
  const child = spawn(process.execPath, [file], {
    cwd: ROOT,
    env: { ...inherited, MCP_SERVER_URL: stack.mcpUrl, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const { code, signal, stdout, stderr, error } = await outputOf(child, 60_000);
  if (error) throw error;
  return { code: signal ? signal : code, stdout, stderr };
}

/** The env for an example: private key or client secret. */
export function exampleEnv(kind) {
  return kind === "jwt"
    ? { MCP_CLIENT_ID: stack.jwt.clientId, MCP_PRIVATE_KEY: stack.jwt.privateKey }
    : { MCP_CLIENT_ID: stack.secret.clientId, MCP_CLIENT_SECRET: stack.secret.clientSecret };
}

const CREDENTIAL = { jwt: "private key", secret: "client secret" };

/** The recipe in examples/ runs as written: exactly this output, and one token request. */
export function exampleTest(file, kind, tools) {
  const name = file.replace(/\.mjs$/, "");
  test(`examples/${file} runs as written (${CREDENTIAL[kind]}): tools, add(2, 3) = 5, one token request`, async () => {
    const { clientId } = stack[kind];
    const before = await tokenRequests(clientId);
    const { code, stdout, stderr } = await runExample(name, exampleEnv(kind));
    assert.equal(code, 0, stderr);
    assert.equal(stdout, `tools: ${tools.join(", ")}\nadd(2, 3) = 5\n`);
    assert.equal((await tokenRequests(clientId)) - before, 1);
  });
}

/**
 * `session(fetch)` (the framework's whole session: { names, sum, caller }) works with authFetch,
 * its token names this client, and a second session on the same authFetch sends only authorized
 * requests: no 401, no token request.
 */
export function reuseTest(title, kind, session, expected) {
  test(`${title}: tools, add = 5, the token names this client; a second session reuses the token`, async () => {
    const { clientId } = stack[kind];
    const before = await tokenRequests(clientId);
    const network = recordingFetch();
    const authFetch = withClientCredentials(options(kind))(network);

    const first = await session(authFetch);
    assert.deepEqual(first, { ...expected, caller: clientId });
    assert.equal((await tokenRequests(clientId)) - before, 1);

    const mark = network.calls.length;
    assert.deepEqual(await session(authFetch), first);
    const later = network.calls.slice(mark);
    assert.deepEqual(
      later.filter((call) => call.status === 401 || call.url === stack.tokenEndpoint),
      [],
    );
    assert.ok(later.length > 0 && later.every((call) => call.authorized));
    assert.equal((await tokenRequests(clientId)) - before, 1);
  });
}

/** After `getToken(url)`, connecting sends no unauthorized request: the token flow is out of the framework's connect timeout. */
export function warmUpTest(title, kind, session, sum) {
  test(`getToken(url) before connecting takes the token flow out of ${title}: the connection sends no unauthorized request`, async () => {
    const { clientId } = stack[kind];
    const before = await tokenRequests(clientId);
    const network = recordingFetch();
    const authFetch = withClientCredentials(options(kind))(network);
    await authFetch.getToken(stack.mcpUrl);
    assert.equal((await tokenRequests(clientId)) - before, 1);

    const mark = network.calls.length;
    assert.equal((await session(authFetch)).sum, sum);
    const connection = network.calls.slice(mark);
    assert.ok(connection.length > 0 && connection.every((call) => call.authorized && call.status !== 401 && call.url !== stack.tokenEndpoint));
    assert.equal((await tokenRequests(clientId)) - before, 1);
  });
}
