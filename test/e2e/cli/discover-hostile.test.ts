// `mcp-client-credentials discover` (the built bin, as a child process) against servers/broken-mcp.mjs
// answering with hostile input, servers that would make it leave loopback or probe it (parity with
// the library), and the attempt lists that name every URL tried and why one was refused. Hostile
// answers must end in a verdict, never in a stack trace.
import { describe, expect, it } from "vitest";
import type { DiscoveryReport } from "../../../src/cli/discover.js";
import * as broken from "../servers/broken-mcp.mjs";
import { AS_PATH, MCP_PATH, PRM_PATH, PRM_ROOT_PATH, type Routes } from "../servers/broken-mcp.mjs";
import { asWith, changed, discoverJson, only401, prmWith, run, statuses, useServers } from "./discover-helpers.js";

describe("discover against broken servers", () => {
  const serve = useServers();

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

  // A terminal acts on these: OSC 52 writes the clipboard, CSI 2K erases the line, U+009B is a one-byte CSI.
  describe("escape sequences in server metadata never reach the terminal", () => {
    const hostile = (marker: string) => `${marker}\u001b]52;c;ZXZpbA==\u0007\u001b[2K\u009b31m`;
    const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
    it.each([
      [
        "scopes, auth methods and grant types",
        changed((o) => ({
          [PRM_PATH]: broken.resourceMetadata(o, { scopes_supported: ["mcp:tools", hostile("scope-marker")] }),
          [AS_PATH]: broken.serverMetadata(o, {
            token_endpoint_auth_methods_supported: ["client_secret_basic", hostile("method-marker")],
            grant_types_supported: ["client_credentials", hostile("grant-marker")],
          }),
        })),
        ["scope-marker", "method-marker", "grant-marker"],
      ],
      [
        "the resource (refused, and quoted in why: percent-encoded by the URL parser)",
        (o: string) => prmWith({ resource: `${o}/${hostile("resource-marker")}` })(o),
        ["resource-marker"],
      ],
    ])("%s", async (_, routes, markers) => {
      const server = await serve(routes);
      const text = await run([server.url]);
      // The markers show the hostile values were printed, so their absence of control characters means something.
      for (const marker of markers) expect(text.stdout).toContain(marker);
      expect(controls.test(text.stdout)).toBe(false);
      expect(controls.test(text.stderr)).toBe(false);
    });
  });
});
