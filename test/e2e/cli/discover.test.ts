// `mcp-client-credentials discover` (the built bin, as a child process) against the real stack
// (oidc-provider + the MCP SDK server) and against servers/broken-mcp.mjs broken one way at a
// time: each case checks the exit code, the library's failure code, and that the verdict says
// what to change. Hostile answers must end in a verdict, never in a stack trace.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DiscoveryReport } from "../../../src/cli/discover.js";
import * as broken from "../servers/broken-mcp.mjs";
import { type Answer, AS_PATH, type BrokenServer, MCP_PATH, OIDC_PATH, PRM_PATH, PRM_ROOT_PATH, type Routes } from "../servers/broken-mcp.mjs";
import { generateClientKey, randomSecret } from "../servers/keys.mjs";
import { type Stack, start as startStack } from "../servers/stack.mjs";
import { baseEnv, type CliResult, cli } from "./process.js";

/**
 * Records every host name the CLI resolves (a request that leaves loopback shows up here), and
 * resolves DNS_ALIAS to 127.0.0.1: a name that is not loopback to the CLI, served on loopback.
 */
const GUARD = `const dns = require("node:dns"); const fs = require("node:fs"); const lookup = dns.lookup;
dns.lookup = function (host, ...rest) {
  fs.appendFileSync(process.env.DNS_LOG, host + "\\n");
  return lookup.call(this, host === process.env.DNS_ALIAS ? "127.0.0.1" : host, ...rest);
};`;
const scratch = mkdtempSync(join(tmpdir(), "discover-"));
const guard = join(scratch, "dns-guard.cjs");
writeFileSync(guard, GUARD);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const STACK_TRACE = /^\s+at .+:\d+|TypeError|ReferenceError|SyntaxError|node:internal/m;

interface Run extends CliResult {
  report: DiscoveryReport;
  /** Host names resolved during the run. */
  lookups: string[];
}

/** The client secret and the lines of a private key's body, as they would leak. */
function secretsIn(env: Record<string, string>): string[] {
  const pemLines = (env.MCP_PRIVATE_KEY ?? "").split(/\n|\\n/).filter((line) => line.length > 16 && !line.startsWith("-----"));
  return [env.MCP_CLIENT_SECRET, ...pemLines].filter((secret): secret is string => Boolean(secret));
}

/** Runs `discover`; retries while a rebuild has emptied dist/ for a moment. */
async function run(args: string[], env: Record<string, string> = {}): Promise<CliResult & { lookups: string[] }> {
  const log = join(scratch, `dns-${crypto.randomUUID()}.log`);
  writeFileSync(log, "");
  const environment = baseEnv({ TERM: "xterm-256color", NODE_OPTIONS: `--require ${guard}`, DNS_LOG: log, ...env });
  for (let attempt = 1; ; attempt++) {
    const result = await cli(["discover", ...args], { env: environment });
    if (attempt < 10 && result.stderr.includes("Cannot find module")) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      continue;
    }
    // Checked first, and as a boolean: any later failure message may quote stdout or stderr.
    const leaked = secretsIn(env).some((secret) => result.stdout.includes(secret) || result.stderr.includes(secret));
    expect(leaked, "a secret on stdout or stderr").toBe(false);
    expect(STACK_TRACE.test(result.stderr), "a stack trace on stderr").toBe(false);
    return { ...result, lookups: readFileSync(log, "utf8").split("\n").filter(Boolean) };
  }
}

async function discoverJson(url: string, env: Record<string, string> = {}): Promise<Run> {
  const result = await run([url, "--json"], env);
  const report = JSON.parse(result.stdout) as DiscoveryReport;
  expect(Object.keys(report).at(-1), "verdict is the last key").toBe("verdict");
  expect(result.code, result.stderr).toBe(report.verdict.ok ? 0 : 1);
  return { ...result, report };
}

const statuses = (tried: { url: string; status?: number }[] | undefined) => (tried ?? []).map(({ url, status }) => [url, status]);

describe("discover against oidc-provider and the MCP SDK server", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ log: () => {} });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("walks the chain to a positive verdict and lists what each credential would use", async () => {
    const { code, stderr, report } = await discoverJson(stack.mcp.url);
    expect([code, stderr]).toEqual([0, ""]);
    expect(report.probe.status).toBe(401);
    expect(report.probe.resourceMetadata).toEqual([stack.mcp.resourceMetadataUrl]);
    expect(report.resourceMetadata.used).toBe(stack.mcp.resourceMetadataUrl);
    expect(report.resourceMetadata.authorizationServers).toEqual([stack.as.issuer]);
    // The issuer has a path (/oidc): the two path-inserted forms 404, the path-appended OIDC form answers.
    const { origin, pathname } = new URL(stack.as.issuer);
    expect(statuses(report.authorizationServer?.tried)).toEqual([
      [`${origin}/.well-known/oauth-authorization-server${pathname}`, 404],
      [`${origin}/.well-known/openid-configuration${pathname}`, 404],
      [`${stack.as.issuer}/.well-known/openid-configuration`, 200],
    ]);
    expect(report.authorizationServer?.tokenEndpoint).toBe(stack.as.tokenEndpoint);
    expect(report.authorizationServer?.authMethods).toContain("private_key_jwt");
    expect(report.failure).toBeUndefined();
    expect(report.verdict.ok).toBe(true);
    expect(report.verdict.method).toBeUndefined();
    expect(report.verdict.options?.join("\n")).toMatch(/client secret: client_secret_basic[\s\S]*private key: private_key_jwt \(.*ES256/);
    // discover asks for no token.
    expect(stack.as.events.filter((event) => event.type.startsWith("grant"))).toEqual([]);
  });

  it("with a client secret in the environment: client_secret_basic, and the secret is never printed", async () => {
    const { clientId, clientSecret } = stack.credentials.clientSecret;
    const { code, report } = await discoverJson(stack.mcp.url, { MCP_CLIENT_ID: clientId, MCP_CLIENT_SECRET: clientSecret });
    expect(code).toBe(0);
    expect(report.verdict).toMatchObject({ ok: true, method: "client_secret_basic" });
    expect(report.verdict.options).toBeUndefined();
    expect(secretsIn({ MCP_CLIENT_SECRET: clientSecret }).length, "run() looks for the secret").toBe(1);
  });

  it("with the stack's private key (multi-line or one line with literal \\n): private_key_jwt (ES256)", async () => {
    const { clientId, privateKey } = stack.credentials.privateKeyJwt;
    for (const pem of [privateKey, privateKey.trim().replace(/\n/g, "\\n")]) {
      // run() checks that no line of the key's body is printed.
      expect(secretsIn({ MCP_PRIVATE_KEY: pem }).length).toBeGreaterThan(1);
      const { code, report } = await discoverJson(stack.mcp.url, { MCP_CLIENT_ID: clientId, MCP_PRIVATE_KEY: pem });
      expect(code).toBe(0);
      expect(report.verdict).toMatchObject({ ok: true, method: "private_key_jwt (ES256)" });
    }
  });

  it("in text mode on a pipe: every URL tried with its status, the verdict, and no ANSI escapes", async () => {
    const { code, stdout, stderr } = await run([stack.mcp.url]);
    expect([code, stderr]).toEqual([0, ""]);
    const { origin, pathname } = new URL(stack.as.issuer);
    expect(stdout).toContain(`MCP server ${stack.mcp.url}`);
    expect(stdout).toContain("POST without a token → 401");
    expect(stdout).toContain(`${stack.mcp.resourceMetadataUrl} → 200`);
    expect(stdout).toContain(`${origin}/.well-known/oauth-authorization-server${pathname} → 404`);
    expect(stdout).toContain(`${stack.as.issuer}/.well-known/openid-configuration → 200`);
    expect(stdout).toMatch(/\nVerdict\n {2}✓ This client can authenticate here\./);
    expect(stdout).not.toContain("Fix:");
    expect(stdout.includes("\x1b")).toBe(false);
  });
});

describe("discover against broken servers", () => {
  const servers: BrokenServer[] = [];
  const serve = async (routes: (origin: string) => Routes) => {
    const server = await broken.start(routes);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  /** The good setup with some paths replaced, or removed (undefined). */
  const changed = (change: (origin: string) => Record<string, Answer | undefined>) => (origin: string) => broken.standard(origin, change(origin));
  const only401 = (header?: string) => () => ({ [MCP_PATH]: broken.answer(401, header ? { "www-authenticate": header } : {}) });
  const asWith = (fields: Record<string, unknown>) => changed((o) => ({ [AS_PATH]: broken.serverMetadata(o, fields) }));
  const prmWith = (fields: Record<string, unknown>) => changed((o) => ({ [PRM_PATH]: broken.resourceMetadata(o, fields) }));

  interface Case {
    routes: (origin: string) => Routes;
    /** failure.code, or undefined when discovery completed and the verdict is about the methods. */
    code: string | undefined;
    fix: RegExp;
    summary?: RegExp;
    env?: Record<string, string>;
  }
  const cases: Record<string, Case> = {
    "401 with a bare Bearer challenge and no metadata anywhere": {
      routes: only401("Bearer"),
      code: "resource_metadata_not_found",
      fix: /oauth-protected-resource[\s\S]*--issuer/,
    },
    "401 without WWW-Authenticate and no metadata anywhere": { routes: only401(), code: "resource_metadata_not_found", fix: /RFC 9728/ },
    "metadata for another path": { routes: (o) => prmWith({ resource: `${o}/other` })(o), code: "resource_mismatch", fix: /`resource`/ },
    "metadata for another host": { routes: prmWith({ resource: "https://mcp.example.com/mcp" }), code: "resource_mismatch", fix: /host name/ },
    "metadata without authorization_servers": {
      routes: prmWith({ authorization_servers: undefined }),
      code: "invalid_resource_metadata",
      fix: /authorization_servers/,
    },
    "metadata with empty authorization_servers": { routes: prmWith({ authorization_servers: [] }), code: "invalid_resource_metadata", fix: /non-empty/ },
    "authorization server metadata 404 everywhere": {
      routes: changed(() => ({ [AS_PATH]: undefined })),
      code: "authorization_server_metadata_not_found",
      fix: /--token-endpoint/,
    },
    "issuer with a trailing path": { routes: (o) => asWith({ issuer: `${o}/tenant` })(o), code: "issuer_mismatch", fix: /base path/ },
    "issuer on another port": { routes: asWith({ issuer: "http://127.0.0.1:1" }), code: "issuer_mismatch", fix: /must equal, exactly/ },
    "only tls_client_auth and none": {
      routes: asWith({ token_endpoint_auth_methods_supported: ["tls_client_auth", "none"] }),
      code: undefined,
      summary: /tls_client_auth, none/,
      fix: /client_secret_basic, client_secret_post or private_key_jwt/,
    },
    "private_key_jwt only, and a client secret configured": {
      routes: asWith({ token_endpoint_auth_methods_supported: ["private_key_jwt"] }),
      env: { MCP_CLIENT_ID: "broken-client", MCP_CLIENT_SECRET: randomSecret() },
      code: undefined,
      summary: /accepts private_key_jwt; your client secret/,
      fix: /private key \(MCP_PRIVATE_KEY\)/,
    },
    "a redirecting resource metadata endpoint": {
      routes: (o) => changed(() => ({ [PRM_PATH]: broken.redirect(`${o}/moved`) }))(o),
      code: "redirect",
      fix: /answer directly/,
    },
    "resource metadata answering 503": {
      routes: changed(() => ({ [PRM_PATH]: broken.answer(503, { "retry-after": "30" }), [PRM_ROOT_PATH]: broken.answer(503) })),
      code: "retry_later",
      summary: /503/,
      fix: /try again later/,
    },
    "authorization server metadata answering 503": {
      routes: changed(() => ({ [AS_PATH]: broken.answer(503), [OIDC_PATH]: broken.answer(503) })),
      code: "retry_later",
      fix: /try again later/,
    },
    "the URL is not the MCP endpoint (404) and no metadata": { routes: () => ({}), code: "resource_metadata_not_found", fix: /MCP endpoint[\s\S]*\/mcp/ },
  };

  it.each(Object.entries(cases))("%s: a negative verdict that says what to change", async (_, { routes, code, fix, summary, env }) => {
    const server = await serve(routes);
    const { code: exit, stderr, report, lookups } = await discoverJson(server.url, env);
    expect([exit, stderr]).toEqual([1, ""]);
    expect(report.failure?.code).toBe(code);
    expect(report.verdict.ok).toBe(false);
    expect(report.verdict.fix).toMatch(fix);
    if (summary) expect(report.verdict.summary).toMatch(summary);
    expect(lookups, "host names resolved").toEqual([]);
  });

  it("no metadata: both well-known URLs are listed with their 404, in JSON and in text", async () => {
    const server = await serve(only401("Bearer"));
    const expected = [`${server.origin}${PRM_PATH}`, `${server.origin}${PRM_ROOT_PATH}`];
    const { report } = await discoverJson(server.url);
    expect(statuses(report.resourceMetadata.tried)).toEqual(expected.map((url) => [url, 404]));
    expect(report.authorizationServer).toBeUndefined();
    const text = await run([server.url]);
    expect(text.code).toBe(1);
    for (const url of expected) expect(text.stdout).toContain(`✗ ${url} → 404`);
    expect(text.stdout).toMatch(/\nVerdict\n {2}✗ Discovery stopped: no protected resource metadata/);
    expect(text.stdout).toContain(`Fix: ${report.verdict.fix}`);
    expect(text.stdout.includes("\x1b")).toBe(false);
  });

  it("a mismatched resource: the refused document is marked with why", async () => {
    const server = await serve((o) => prmWith({ resource: `${o}/other` })(o));
    const { report } = await discoverJson(server.url);
    expect(report.resourceMetadata.tried[0]).toMatchObject({
      url: `${server.origin}${PRM_PATH}`,
      status: 200,
      ok: false,
      refused: expect.stringMatching(/does not cover/),
    });
    expect(report.resourceMetadata.used).toBeUndefined();
    const text = await run([server.url]);
    expect(text.stdout).toMatch(/✗ \S+oauth-protected-resource\/mcp → 200 {2}refused: .*does not cover/);
  });

  it("a key that cannot sign what the server accepts (private_key_jwt with HS256 only, an EC key configured)", async () => {
    const key = await generateClientKey("ES256");
    const server = await serve(
      asWith({ token_endpoint_auth_methods_supported: ["private_key_jwt"], token_endpoint_auth_signing_alg_values_supported: ["HS256"] }),
    );
    const { code, report } = await discoverJson(server.url, { MCP_CLIENT_ID: "broken-client", MCP_PRIVATE_KEY: key.privateKeyPem });
    expect(code).toBe(1);
    expect(report.failure).toBeUndefined();
    expect(report.verdict).toMatchObject({ ok: false, summary: expect.stringMatching(/signed with HS256; your key signs ES256/) });
    expect(report.verdict.method).toBeUndefined();
    expect(report.verdict.fix).toMatch(/No key can sign[\s\S]*client secret \(MCP_CLIENT_SECRET\)/);
    // Without a credential, the same server is judged unusable for this package.
    const bare = await discoverJson(server.url);
    expect(bare.report.verdict).toMatchObject({ ok: false, summary: expect.stringMatching(/private_key_jwt only with HS256/) });
  });

  it.each([
    [
      "grant_types_supported without client_credentials",
      asWith({ grant_types_supported: ["authorization_code"] }),
      /without client_credentials; it is advisory/,
    ],
    [
      "a Bearer challenge without resource_metadata, metadata at the well-known URL",
      changed(() => ({ [MCP_PATH]: broken.answer(401, { "www-authenticate": 'Bearer realm="mcp"' }) })),
      /names no resource_metadata[\s\S]*well-known URL was used/,
    ],
  ])("%s: a positive verdict with a warning", async (_, routes, warning) => {
    const server = await serve(routes);
    const { code, report } = await discoverJson(server.url);
    expect(code).toBe(0);
    expect(report.verdict.ok).toBe(true);
    expect(report.verdict.warnings?.join("\n")).toMatch(warning);
    expect(report.resourceMetadata.used).toBe(`${server.origin}${PRM_PATH}`);
    const text = await run([server.url]);
    expect(text.stdout).toMatch(/\n {2}! .*(advisory|resource_metadata)/);
  });

  it("a server that answers 200 without a token and publishes no metadata needs no token", async () => {
    const server = await serve(() => ({ [MCP_PATH]: broken.json({ jsonrpc: "2.0", id: 0, result: {} }) }));
    const { code, report } = await discoverJson(server.url);
    expect(code).toBe(0);
    expect(report.probe.status).toBe(200);
    expect(report.verdict).toMatchObject({ ok: true, summary: expect.stringMatching(/needs no token/) });
  });

  it.each([PRM_PATH, AS_PATH])("a redirect from %s is not followed: its target receives nothing", async (path) => {
    const target = await serve(broken.standard);
    const server = await serve(changed(() => ({ [path]: broken.redirect(`${target.origin}${path}`) })));
    const { report } = await discoverJson(server.url);
    expect(report.failure).toMatchObject({ code: "redirect", status: 302 });
    expect(report.verdict.fix).toMatch(/Metadata endpoints must answer directly/);
    expect(server.count(path)).toBe(1);
    expect(target.requests).toEqual([]);
  });

  it("a closed port: unreachable, with a fix about reaching the server", async () => {
    const url = await broken.closedUrl();
    const { code, report } = await discoverJson(url);
    expect(code).toBe(1);
    expect(report.probe.status).toBeUndefined();
    expect(report.probe.error).toMatch(/ECONNREFUSED/);
    expect(report.failure?.code).toBe("unreachable");
    expect(report.verdict.fix).toMatch(/server runs and is reachable/);
    const text = await run([url]);
    expect(text.stdout).toMatch(/POST without a token → no answer \(.*ECONNREFUSED/);
    expect(text.stdout).toContain("Fix: Check the URL");
  });

  it("an authorization server on plain http off loopback is refused before any request leaves loopback", async () => {
    const server = await serve(prmWith({ authorization_servers: ["http://auth.example.com"] }));
    const { code, report, lookups } = await discoverJson(server.url);
    expect(code).toBe(1);
    expect(report.failure?.code).toBe("insecure_url");
    expect(report.verdict.fix).toMatch(/https/);
    expect(report.authorizationServer).toBeUndefined();
    expect(lookups).toEqual([]);
  });

  it("the DNS guard sees lookups (so an empty list above means none was made)", async () => {
    const server = await serve(broken.standard);
    const { report, lookups } = await discoverJson(server.url.replace("127.0.0.1", "localhost"));
    expect(report.probe.status).toBe(401);
    expect(lookups).toContain("localhost");
  });

  // Parity with the library (discoverResource): a remote server must not make us probe loopback.
  it("a remote server's challenge naming a loopback metadata URL is not fetched, as the library does", async () => {
    const server = await serve((o) =>
      broken.standard(o, { [MCP_PATH]: broken.answer(401, { "www-authenticate": `Bearer resource_metadata="${o}/internal"` }) }),
    );
    const remote = server.url.replace("127.0.0.1", "mcp.test");
    const { stdout, lookups } = await run([remote, "--json", "--allow-insecure-requests"], { DNS_ALIAS: "mcp.test" });
    expect(lookups).toContain("mcp.test");
    expect((JSON.parse(stdout) as DiscoveryReport).probe.status).toBe(401);
    expect(server.count("/internal")).toBe(0);
  });

  describe("hostile answers end in a verdict, not a crash", () => {
    const big = "x".repeat(2 * 1024 * 1024);
    const document = (o: string) => JSON.stringify({ resource: `${o}${MCP_PATH}`, authorization_servers: [o], pad: big });
    const hostile: Record<string, [(origin: string) => Routes, string]> = {
      "a 100 KB WWW-Authenticate header": [only401(`Bearer realm="${"a".repeat(100_000)}"`), "unreachable"],
      "resource metadata that is not JSON": [
        changed(() => ({ [PRM_PATH]: broken.answer(200, { "content-type": "application/json" }, "<html>") })),
        "resource_metadata_not_found",
      ],
      "resource metadata that is an array": [changed(() => ({ [PRM_PATH]: broken.json([1, 2]) })), "invalid_resource_metadata"],
      "authorization server metadata that is an array": [changed(() => ({ [AS_PATH]: broken.json([]) })), "invalid_authorization_server_metadata"],
      "2 MB of resource metadata, chunked": [
        (o) => changed(() => ({ [PRM_PATH]: { ...broken.answer(200, {}, document(o)), stream: true } }))(o),
        "response_too_large",
      ],
      "2 MB of authorization server metadata with its content-length": [
        changed(() => ({ [AS_PATH]: broken.answer(200, { "content-type": "application/json" }, big) })),
        "response_too_large",
      ],
    };
    it.each(Object.entries(hostile))("%s", async (_, [routes, code]) => {
      const server = await serve(routes);
      const { code: exit, stderr, report } = await discoverJson(server.url);
      expect([exit, stderr]).toEqual([1, ""]);
      expect(report.failure?.code).toBe(code);
      expect(report.verdict.fix).toBeTruthy();
      expect(report.probe.wwwAuthenticate?.length ?? 0).toBeLessThanOrEqual(2000);
    });

    it("a challenge naming hundreds of metadata URLs: only the first four are fetched", async () => {
      const many = Array.from({ length: 300 }, (_, i) => `resource_metadata="/rm/${i}"`).join(", ");
      const server = await serve((o) => ({ [MCP_PATH]: broken.answer(401, { "www-authenticate": `Bearer ${many.replaceAll('"/rm', `"${o}/rm`)}` }) }));
      const { report } = await discoverJson(server.url);
      expect(report.failure?.code).toBe("resource_metadata_not_found");
      expect(server.requests.filter((request) => request.path.startsWith("/rm/")).map((request) => request.path)).toEqual(["/rm/0", "/rm/1", "/rm/2", "/rm/3"]);
    });
  });

  it("a refused authorization server document is marked with why, and not used", async () => {
    const server = await serve((o) => asWith({ issuer: `${o}/tenant` })(o));
    const { report } = await discoverJson(server.url);
    expect(report.authorizationServer?.tried[0]).toMatchObject({
      url: `${server.origin}${AS_PATH}`,
      status: 200,
      ok: false,
      refused: expect.stringMatching(/names issuer/),
    });
    expect(report.authorizationServer?.used).toBeUndefined();
    const text = await run([server.url]);
    expect(text.stdout).toMatch(/✗ \S+oauth-authorization-server → 200 {2}refused: .*names issuer/);
  });

  // The attempt lists name every URL tried: a 200 that is not JSON, and a URL that failed in transport.
  it("a 200 that is not JSON is not marked ok", async () => {
    const server = await serve(changed(() => ({ [PRM_PATH]: broken.answer(200, { "content-type": "text/html" }, "<html>") })));
    const { report } = await discoverJson(server.url);
    expect(report.resourceMetadata.tried[0]).toMatchObject({ url: `${server.origin}${PRM_PATH}`, status: 200, ok: false });
  });

  it.each([
    ["redirected", (o: string) => broken.redirect(`${o}/moved`), 302, /redirects are not followed/],
    ["sent 2 MB", () => ({ ...broken.answer(200, {}, "x".repeat(2 * 1024 * 1024)), stream: true }), 200, /larger than/],
  ])("the URL that %s is listed in its place, with why", async (_, broke, status, why) => {
    const server = await serve((o) => broken.standard(o, { [PRM_PATH]: broke(o) }));
    const { report } = await discoverJson(server.url);
    expect(report.resourceMetadata.tried[0]).toEqual({ url: `${server.origin}${PRM_PATH}`, status, ok: false, refused: expect.stringMatching(why) });
  });

  it("a refused resource metadata document's reason reads like the failure, without a [phase] prefix", async () => {
    const server = await serve((o) => prmWith({ resource: `${o}/other` })(o));
    const { report } = await discoverJson(server.url);
    expect(report.resourceMetadata.tried[0]?.refused).toBe(report.failure?.message);
  });
});
