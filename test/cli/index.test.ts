import { HttpResponse, http } from "msw";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { HELP } from "../../src/cli/help.js";
import { RpcHttpError, VERSION } from "../../src/cli/rpc.js";
import { stdio } from "../../src/cli/stdio.js";
import { ClientCredentialsError } from "../../src/errors.js";
import { type Canaries, canaries } from "../canary.js";
import { useMockServer } from "../helpers.js";
import { cli } from "./run.js";

// `stdio` stands in for any command that throws: the error paths of run() are the same for all.
vi.mock("../../src/cli/stdio.js", () => ({ stdio: vi.fn() }));
const throwing = vi.mocked(stdio);

const msw = useMockServer();
const JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeQ";
let c: Canaries;
beforeAll(async () => {
  c = await canaries();
});
beforeEach(() => throwing.mockReset());

describe("run: help and dispatch", () => {
  it("prints the main help on stderr (so `$(…)` captures nothing) and exits 2 without a command", async () => {
    expect(await cli([])).toEqual({ code: 2, stdout: "", stderr: `${HELP.main}\n` });
  });

  it("prints the main help and exits 0 for --help, -h and help", async () => {
    for (const argv of [["--help"], ["-h"], ["help"]]) expect(await cli(argv)).toEqual({ code: 0, stdout: `${HELP.main}\n`, stderr: "" });
  });

  it("prints a command's help for help <command> and <command> --help", async () => {
    expect(HELP.token).toContain("Usage: mcp-client-credentials token");
    expect(await cli(["help", "token"])).toEqual({ code: 0, stdout: `${HELP.token}\n`, stderr: "" });
    expect(await cli(["token", "--server", "https://x.example", "--help"])).toEqual({ code: 0, stdout: `${HELP.token}\n`, stderr: "" });
    expect(await cli(["discover", "-h"])).toMatchObject({ code: 0, stdout: `${HELP.discover}\n` });
  });

  it("prints the version for --version and -V", async () => {
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(await cli(["--version"])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
    expect((await cli(["-V"])).stdout).toBe(`${VERSION}\n`);
  });

  it("refuses an unknown command with exit 2, listing the commands on stderr", async () => {
    expect(await cli(["tokne"])).toEqual({
      code: 2,
      stdout: "",
      stderr: 'error: unknown command "tokne"; the commands are token, discover, fetch, stdio, proxy (see --help)\n',
    });
  });

  it("turns a usage mistake into exit 2 and an error line", async () => {
    expect(await cli(["token", "--sever", "https://x.example"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "error: token: unknown flag --sever; did you mean --server? (see mcp-client-credentials token --help)\n",
    });
    expect(await cli(["token", "https://a.example/mcp", "--server", "https://b.example/mcp"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "error: token: give the server once, as --server URL or as the argument\n",
    });
    expect(await cli(["token", "--server", "https://mcp.example.com/mcp"])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^error: no credentials: /),
    });
  });
});

describe("run: errors and exit codes", () => {
  it("exits 2 for a ClientCredentialsError of phase config, 1 for one of phase token", async () => {
    throwing.mockRejectedValueOnce(new ClientCredentialsError("config", "clientId is required", { code: "invalid_options" }));
    expect(await cli(["stdio", "https://x.example"])).toEqual({ code: 2, stdout: "", stderr: "error: [config] clientId is required (invalid_options)\n" });
    throwing.mockRejectedValueOnce(new ClientCredentialsError("token", "token request failed: invalid_client", { code: "invalid_client", status: 401 }));
    expect(await cli(["stdio", "https://x.example"])).toEqual({
      code: 1,
      stdout: "",
      stderr: "error: [token] token request failed: invalid_client (invalid_client, HTTP 401)\n",
    });
    throwing.mockRejectedValueOnce(new ClientCredentialsError("discovery", "no protected resource metadata"));
    expect((await cli(["stdio", "https://x.example"])).code).toBe(1);
  });

  it("redacts a credential after Bearer, and a JWT anywhere, in the message of any other error", async () => {
    throwing.mockRejectedValueOnce(new Error(`upstream refused Bearer ${JWT} at https://x.example/mcp?key=hidden and echoed ${JWT}`));
    const { code, stderr } = await cli(["stdio", "https://x.example"]);
    expect(code).toBe(1);
    expect(stderr.includes(JWT)).toBe(false);
    expect(stderr.includes("c2lnbmF0dXJlLWNhbmFyeQ")).toBe(false);
    expect(stderr).toBe("error: upstream refused Bearer [redacted] at https://x.example/mcp and echoed [redacted JWT]\n");
  });

  it("redacts opaque credentials after Bearer, DPoP and Basic in an HTTP error, and strips its control characters", async () => {
    const body = "bearer opaque-token_1~x Basic dXNlcjpwYXNz== DPoP tok.en/+= \x1b]52;c;aGk=\x07 \x1b[2K \u009b2J\r\nfake line";
    throwing.mockRejectedValueOnce(new RpcHttpError(401, "tools/call", body));
    const { code, stderr } = await cli(["stdio", "https://x.example"]);
    expect(code).toBe(1);
    for (const credential of ["opaque-token_1~x", "dXNlcjpwYXNz==", "tok.en/+="]) expect(stderr.includes(credential)).toBe(false);
    expect(stderr).toBe(
      "error: tools/call: the server answered HTTP 401: bearer [redacted] Basic [redacted] DPoP [redacted]  ]52;c;aGk=   [2K  2J fake line\n",
    );
    expect(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(stderr)).toBe(false);
  });

  it("returns the command's own exit code", async () => {
    throwing.mockResolvedValueOnce(0);
    expect((await cli(["stdio", "https://x.example"])).code).toBe(0);
    expect(throwing).toHaveBeenCalledWith(["https://x.example"], expect.objectContaining({ io: expect.any(Object) }));
  });
});

describe("run: through the MSW kit", () => {
  const secretEnv = () => ({ MCP_CLIENT_ID: c.clientId, MCP_CLIENT_SECRET: c.clientSecret });

  it("token prints the access token alone", async () => {
    const mock = msw.mock({ clients: [c.client] });
    const { code, stdout, stderr } = await cli(["token", "--server", mock.resource], secretEnv());
    expect(code).toBe(0);
    expect(mock.tokens).toHaveLength(1);
    expect(stdout === `${mock.tokens[0]!.accessToken}\n`).toBe(true);
    expect(stderr).toBe("");
  });

  it("token --json describes the token", async () => {
    const mock = msw.mock({ clients: [c.client] });
    const { code, stdout } = await cli(["token", mock.resource, "--json"], secretEnv());
    expect(code).toBe(0);
    // The token is compared, never shown: a failing toMatchObject would print it.
    const { accessToken, ...json } = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(["tokenType", "expiresAt", "expiresIn", "scope", "resource", "issuer"]);
    expect(accessToken === mock.tokens[0]!.accessToken).toBe(true);
    expect(json).toMatchObject({ tokenType: "Bearer", resource: mock.resource, issuer: mock.issuer });
    // The middleware dates expiry from its own clock, a few ms before the mock's.
    expect(Math.abs(Date.parse(json.expiresAt as string) - mock.tokens[0]!.expiresAt)).toBeLessThan(5000);
    expect(json.expiresIn).toBeGreaterThan(3500);
    expect(json.expiresIn).toBeLessThanOrEqual(3600);
  });

  it("exits 1 when the token endpoint refuses the client, without printing the secret", async () => {
    const mock = msw.mock({ clients: [c.client] });
    const { code, stdout, stderr } = await cli(["token", "--server", mock.resource], { MCP_CLIENT_ID: c.clientId, MCP_CLIENT_SECRET: "wrong-secret" });
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^error: \[token\] .*invalid_client/);
    expect(stderr.includes("wrong-secret")).toBe(false);
  });

  it("exits 2 when the key does not fit the configured algorithm (phase config)", async () => {
    const mock = msw.mock({ clients: [c.client] });
    const { code, stderr } = await cli(["token", "--server", mock.resource, "--alg", "RS256"], { MCP_CLIENT_ID: c.clientId, MCP_PRIVATE_KEY: c.privatePem });
    expect(code).toBe(2);
    expect(stderr).toMatch(/^error: \[config\] /);
    for (const secret of c.secrets()) expect(stderr.includes(secret)).toBe(false);
  });

  it("fetch --rpc redacts a JWT the server echoes in an HTTP error", async () => {
    const mock = msw.mock(
      { clients: [c.client] },
      http.post("https://mcp.example.com/mcp", () => new HttpResponse(`invalid token ${JWT}`, { status: 500 })),
    );
    const { code, stdout, stderr } = await cli(["fetch", mock.resource, "--rpc", "tools/list"], secretEnv());
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr.includes(JWT)).toBe(false);
    expect(stderr).toBe("error: initialize: the server answered HTTP 500: invalid token [redacted JWT]\n");
  });
});
