// The CLI's help, usage errors (exit 2) and colour rules, run as the built bin. Every run uses
// canary credentials, checked (as booleans) never to be printed, and every run's output is
// checked for ANSI escapes: these are pipes, not terminals.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as jose from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, start as startStack } from "../servers/stack.mjs";
import { baseEnv, CLI, type CliResult, cli } from "./process.js";

const COMMANDS = ["token", "discover", "fetch", "stdio", "proxy"];
const WITH_EXAMPLES = ["token", "discover", "fetch", "proxy"];
const ANSI = "\x1b[";

interface Canary {
  clientId: string;
  clientSecret: string;
  pem: string;
  jwk: jose.JWK;
  platformJwt: string;
  secrets: string[];
}

// Nothing listens there: a run that wrongly went to the network fails with exit 1, not 2.
const deadUrl = await new Promise<string>((resolve) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(`http://127.0.0.1:${port}/mcp`));
  });
});

let canary: Canary;
let dir: string;

beforeAll(async () => {
  const id = crypto.randomUUID().slice(0, 8);
  const { privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
  const pem = await jose.exportPKCS8(privateKey);
  const jwk = { ...(await jose.exportJWK(privateKey)), alg: "ES256" };
  const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const signature = `canary-platform-signature-${id}`;
  const platformJwt = `${segment({ alg: "ES256", typ: "JWT" })}.${segment({ iss: "https://platform.example", sub: `canary-${id}` })}.${signature}`;
  const pemBody = pem.split("\n").filter((line) => line && !line.startsWith("-----"));
  const clientSecret = `canary-secret-${id}`;
  canary = { clientId: `canary-client-${id}`, clientSecret, pem, jwk, platformJwt, secrets: [clientSecret, jwk.d!, ...pemBody, platformJwt, signature] };
  dir = await mkdtemp(join(tmpdir(), "cli-usage-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI and checks what every run must hold: no canary printed, no colour on a pipe. */
async function run(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const result = await cli(args, { env: baseEnv(env) });
  expect(canary.secrets.some((secret) => result.stdout.includes(secret) || result.stderr.includes(secret))).toBe(false);
  expect(result.stdout.includes(ANSI) || result.stderr.includes(ANSI)).toBe(false);
  // No command here prints an access token: nothing JWT-shaped may appear.
  expect(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/.test(result.stdout + result.stderr)).toBe(false);
  return result;
}

/** A usage error: exit 2, nothing on stdout, one `error:` line on stderr matching `pattern`. */
async function expectUsage(args: string[], pattern: RegExp, env: Record<string, string> = {}) {
  const result = await run(args, env);
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: "" });
  expect(result.stderr).toMatch(/^error: /);
  expect(result.stderr).toMatch(pattern);
  return result;
}

describe("help", () => {
  it.each(
    COMMANDS.flatMap((command) => [
      [command, "--help"],
      [command, "-h"],
    ]),
  )("%s %s: usage and examples on stdout, exit 0", async (command, flag) => {
    const result = await run([command, flag]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout.startsWith(`Usage: mcp-client-credentials ${command}`)).toBe(true);
    if (WITH_EXAMPLES.includes(command)) expect(result.stdout).toMatch(/^Examples:$/m);
    expect(result.stdout).toMatch(/Exit codes?: .*0/);
  });

  it("--help after other flags still shows help, without credentials or a network", async () => {
    const result = await run(["fetch", deadUrl, "--rpc", "tools/list", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: mcp-client-credentials fetch");
  });

  it.each([["--help"], ["-h"], ["help"]])("%s alone lists every command, exit 0", async (flag) => {
    const result = await run([flag]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: mcp-client-credentials <command>");
    for (const command of COMMANDS) expect(result.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
  });

  it("help <command> shows that command's help", async () => {
    const result = await run(["help", "fetch"]);
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith("Usage: mcp-client-credentials fetch")).toBe(true);
  });

  it("no command: the usage, exit 2", async () => {
    const result = await run([]);
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).toContain("Usage: mcp-client-credentials <command>");
  });

  it("--version prints the package.json version", async () => {
    const { version } = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
    for (const flag of ["--version", "-V"]) {
      const result = await run([flag]);
      expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    }
  });
});

describe("usage errors: exit 2, the fix named", () => {
  const secretEnv = () => ({ MCP_CLIENT_ID: canary.clientId, MCP_CLIENT_SECRET: canary.clientSecret });

  it("an unknown command", async () => {
    await expectUsage(["tokens"], /unknown command "tokens".*token, discover, fetch, stdio, proxy/);
  });

  it.each([
    [["token", "--sever", "x"], /unknown flag --sever; did you mean --server\?/],
    [["fetch", "http://127.0.0.1/mcp", "--rcp", "tools/list"], /unknown flag --rcp; did you mean --rpc\?/],
    [["discover", "http://127.0.0.1/mcp", "--jsno"], /unknown flag --jsno; did you mean --json\?/],
    [["proxy", "http://127.0.0.1/mcp", "--prot", "1"], /unknown flag --prot; did you mean --port\?/],
  ])("an unknown flag: %j", async (args, pattern) => {
    await expectUsage(args, pattern, secretEnv());
  });

  it.each([
    [["token", "--server"], /--server needs a value, e\.g\. --server https:/],
    [["fetch", "http://127.0.0.1/mcp", "-H"], /-H needs a value/],
    [["token", deadUrl, "--client-secret"], /--client-secret needs a value/],
  ])("a missing value: %j", async (args, pattern) => {
    await expectUsage(args, pattern, secretEnv());
  });

  it.each([["token"], ["fetch"]])("%s without credentials names MCP_CLIENT_ID, and does not reach the network", async (command) => {
    const args = command === "token" ? ["token", "--server", deadUrl] : ["fetch", deadUrl, "--rpc", "tools/list"];
    await expectUsage(args, /no credentials: set MCP_CLIENT_ID/);
  });

  it.each([
    ["a secret and a PEM", () => ({ MCP_CLIENT_SECRET: canary.clientSecret, MCP_PRIVATE_KEY: canary.pem })],
    ["a secret and a JWK", () => ({ MCP_CLIENT_SECRET: canary.clientSecret, MCP_PRIVATE_KEY: JSON.stringify(canary.jwk) })],
    ["a key and a platform JWT", () => ({ MCP_PRIVATE_KEY: canary.pem, MCP_ASSERTION: canary.platformJwt })],
  ])("two credentials (%s)", async (_, env) => {
    await expectUsage(["token", "--server", deadUrl], /more than one credential/, { MCP_CLIENT_ID: canary.clientId, ...env() });
  });

  it("a secret without a client id", async () => {
    await expectUsage(["token", "--server", deadUrl], /needs a client id: set MCP_CLIENT_ID/, { MCP_CLIENT_SECRET: canary.clientSecret });
  });

  it("a private key that looks like JSON but is not: the key is not quoted", async () => {
    const broken = JSON.stringify(canary.jwk).slice(0, -1);
    await expectUsage(["token", "--server", deadUrl], /does not parse/, { MCP_CLIENT_ID: canary.clientId, MCP_PRIVATE_KEY: broken });
  });

  it("a private key file that does not exist", async () => {
    await expectUsage(["token", "--server", deadUrl, "--private-key-file", join(dir, "missing.pem")], /could not be read \(ENOENT\)/, {
      MCP_CLIENT_ID: canary.clientId,
    });
  });

  it.each([
    [["token", "--server", deadUrl, "--timeout", "soon"], /--timeout takes milliseconds/],
    [["token", "--server", deadUrl, "--auth-method", "magic"], /--auth-method must be one of/],
    [["token"], /token: say where/],
    [["token", "--server", "mcp.example.com"], /not an absolute URL/],
    [["fetch", deadUrl, "--rpc", "tools/list", "-d", "x"], /--rpc builds the request itself/],
    [["fetch", deadUrl, "--params", "{}"], /--params goes with --rpc/],
    [["fetch", deadUrl, "--rpc", "tools/call", "--params", "{not json"], /--params takes JSON/],
    [["fetch", deadUrl, "-d", `@${join(tmpdir(), "no-such-body-file")}`], /could not be read/],
  ])("a bad option: %j", async (args, pattern) => {
    await expectUsage(args, pattern, secretEnv());
  });

  it("a value given to a boolean flag is not quoted back (it may be a secret)", async () => {
    await expectUsage(["token", `--server=${deadUrl}`, `--json=${canary.clientSecret}`], /--json takes no value/, secretEnv());
  });
});

describe("colour", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it.each([[{}], [{ NO_COLOR: "1" }]])("discover on pipes prints no ANSI escape (%j)", async (env) => {
    for (const args of [[stack.mcp.url], [stack.mcp.url, "--json"]]) {
      const result = await run(["discover", ...args], env);
      expect(result.code).toBe(0);
      expect(result.stdout.length).toBeGreaterThan(0);
    }
  });

  it("discover with real credentials in the environment: a verdict about them, none of them printed", async () => {
    const { clientSecret, privateKeyJwt } = stack.credentials;
    const pemBody = privateKeyJwt.privateKey.split("\n").filter((line) => line && !line.startsWith("-----"));
    for (const [env, method] of [
      [{ MCP_CLIENT_ID: clientSecret.clientId, MCP_CLIENT_SECRET: clientSecret.clientSecret }, "client_secret_basic"],
      [{ MCP_CLIENT_ID: privateKeyJwt.clientId, MCP_PRIVATE_KEY: privateKeyJwt.privateKey }, "private_key_jwt"],
    ] as const) {
      for (const args of [[stack.mcp.url], [stack.mcp.url, "--json"]]) {
        const result = await run(["discover", ...args], env);
        expect(result.code).toBe(0);
        expect([clientSecret.clientSecret, ...pemBody].some((secret) => result.stdout.includes(secret) || result.stderr.includes(secret))).toBe(false);
        if (args.length === 2) expect(JSON.parse(result.stdout).verdict).toMatchObject({ ok: true, method: expect.stringMatching(new RegExp(`^${method}`)) });
      }
    }
  });

  // On a terminal colour is on unless NO_COLOR says otherwise; `script` gives the child a pty.
  const onTty = (args: string[], env: Record<string, string>) =>
    promisify(execFile)("script", ["-qec", [process.execPath, CLI, ...args].map((arg) => `'${arg}'`).join(" "), "/dev/null"], {
      env: baseEnv({ TERM: "xterm", ...env }),
      timeout: 20_000,
    }).then(
      ({ stdout }) => stdout,
      (error: { stdout?: string }) => error.stdout ?? "",
    );

  it("on a TTY: colour by default, none with NO_COLOR=1", async () => {
    for (const args of [["tokens"], ["discover", stack.mcp.url]]) {
      const coloured = await onTty(args, {});
      expect(coloured).toContain(args[0] === "tokens" ? "unknown command" : "Protected resource metadata");
      expect(coloured.includes(ANSI)).toBe(true);
      const plain = await onTty(args, { NO_COLOR: "1" });
      expect(plain).toContain(args[0] === "tokens" ? "unknown command" : "Protected resource metadata");
      expect(plain.includes(ANSI)).toBe(false);
    }
  });
});
