// `mcp-client-credentials discover` (the built bin, as a child process) against the real stack
// (oidc-provider + the MCP SDK server) and against servers/broken-mcp.mjs broken one way at a
// time: each case checks the exit code, the library's failure code, and that the verdict says
// what to change. Hostile answers, loopback/DNS parity and the attempt lists are in
// discover-hostile.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as broken from "../servers/broken-mcp.mjs";
import { AS_PATH, MCP_PATH, OIDC_PATH, PRM_PATH, PRM_ROOT_PATH, type Routes } from "../servers/broken-mcp.mjs";
import { generateClientKey, randomSecret } from "../servers/keys.mjs";
import { type Stack, start as startStack } from "../servers/stack.mjs";
import { asWith, changed, discoverJson, only401, prmWith, run, secretsIn, statuses, useServers } from "./discover-helpers.js";

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
  const serve = useServers();

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
});
