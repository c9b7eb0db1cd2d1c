// Shared by discover.test.ts and discover-hostile.test.ts: runs `mcp-client-credentials discover`
// (the built bin, as a child process) under a DNS hook, parses its --json report, and starts
// servers/broken-mcp.mjs servers that are closed after each test.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, expect } from "vitest";
import type { DiscoveryReport } from "../../../src/cli/discover.js";
import * as broken from "../servers/broken-mcp.mjs";
import { type Answer, AS_PATH, type BrokenServer, MCP_PATH, PRM_PATH, type Routes } from "../servers/broken-mcp.mjs";
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

export interface Run extends CliResult {
  report: DiscoveryReport;
  /** Host names resolved during the run. */
  lookups: string[];
}

/** The client secret and the lines of a private key's body, as they would leak. */
export function secretsIn(env: Record<string, string>): string[] {
  const pemLines = (env.MCP_PRIVATE_KEY ?? "").split(/\n|\\n/).filter((line) => line.length > 16 && !line.startsWith("-----"));
  return [env.MCP_CLIENT_SECRET, ...pemLines].filter((secret): secret is string => Boolean(secret));
}

/** Runs `discover`; retries while a rebuild has emptied dist/ for a moment. */
export async function run(args: string[], env: Record<string, string> = {}): Promise<CliResult & { lookups: string[] }> {
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

export async function discoverJson(url: string, env: Record<string, string> = {}): Promise<Run> {
  const result = await run([url, "--json"], env);
  const report = JSON.parse(result.stdout) as DiscoveryReport;
  expect(Object.keys(report).at(-1), "verdict is the last key").toBe("verdict");
  expect(result.code, result.stderr).toBe(report.verdict.ok ? 0 : 1);
  return { ...result, report };
}

export const statuses = (tried: { url: string; status?: number }[] | undefined) => (tried ?? []).map(({ url, status }) => [url, status]);

/** Starts broken-mcp servers for the tests of the enclosing describe, and closes them after each test. */
export function useServers() {
  const servers: BrokenServer[] = [];
  const serve = async (routes: (origin: string) => Routes) => {
    const server = await broken.start(routes);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  return serve;
}

/** The good setup with some paths replaced, or removed (undefined). */
export const changed = (change: (origin: string) => Record<string, Answer | undefined>) => (origin: string) => broken.standard(origin, change(origin));
export const only401 = (header?: string) => () => ({ [MCP_PATH]: broken.answer(401, header ? { "www-authenticate": header } : {}) });
export const asWith = (fields: Record<string, unknown>) => changed((o) => ({ [AS_PATH]: broken.serverMetadata(o, fields) }));
export const prmWith = (fields: Record<string, unknown>) => changed((o) => ({ [PRM_PATH]: broken.resourceMetadata(o, fields) }));
