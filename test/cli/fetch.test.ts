import { describe, expect, it } from "vitest";
import type { Io } from "../../src/cli/output.js";
import { CLIENT_ID, CLIENT_SECRET, useMockServer } from "../helpers.js";
import { cli as runCli } from "./run.js";

// Any request that got past the checks would reach the mock (and be counted), never the network.
const msw = useMockServer();
const ENV = { MCP_CLIENT_ID: "fetch-usage-client", MCP_CLIENT_SECRET: "fetch-usage-secret" };

const cli = (argv: string[], env: Io["env"] = ENV) => runCli(argv, env);

describe("fetch: usage mistakes in the request itself", () => {
  it.each([
    [["-X", "GET", "-d", "x"], "error: fetch: a GET request has no body; drop -d/--json or use -X POST\n"],
    [["-X", "get", "--json", "{}"], "error: fetch: a GET request has no body; drop -d/--json or use -X POST\n"],
    [["-X", "HEAD", "-d", "x"], "error: fetch: a HEAD request has no body; drop -d/--json or use -X POST\n"],
    [["-X", "BAD METHOD"], "error: fetch: -X takes an HTTP method, e.g. -X POST\n"],
    [["-X", "GET\r\nX-Injected: 1"], "error: fetch: -X takes an HTTP method, e.g. -X POST\n"],
  ])("%j exits 2 before sending anything", async (flags, stderr) => {
    const mock = msw.mock();
    expect(await cli(["fetch", mock.resource, ...flags])).toEqual({ code: 2, stdout: "", stderr });
    expect(mock.requests).toEqual([]);
  });

  it("sends a body with a method that takes one", async () => {
    const mock = msw.mock();
    const { code } = await cli(["fetch", mock.resource, "-X", "put", "-d", "x"]);
    // The mock refuses these credentials; what matters is that the PUT went out with its body.
    expect(code).toBe(1);
    const sent = mock.requestsTo("resource");
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.map((request) => `${request.method} ${request.body}`)).toContain("PUT x");
  });
});

describe("--dpop", () => {
  it("binds the token to a key of this process: the resource verifies a proof, token --json says DPoP", async () => {
    const mock = msw.mock({ dpop: { required: true, requireNonce: true } });
    const env = { MCP_CLIENT_ID: CLIENT_ID, MCP_CLIENT_SECRET: CLIENT_SECRET };
    const fetched = await cli(["fetch", mock.resource, "--dpop"], env);
    expect(fetched.code).toBe(0);
    expect(mock.requestsTo("resource").at(-1)?.dpop).toMatchObject({ ok: true });
    const token = await cli(["token", "--server", mock.resource, "--dpop", "--json"], env);
    expect(JSON.parse(token.stdout)).toMatchObject({ tokenType: "DPoP" });
    // Without the flag the same server refuses: its token endpoint requires a proof.
    expect((await cli(["token", "--server", mock.resource], env)).code).toBe(1);
  });
});
