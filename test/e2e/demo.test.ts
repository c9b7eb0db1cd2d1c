// `npm run demo` as a person (or a script) runs it: a child process against the built package.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

async function demo(...args: string[]) {
  const { stdout, stderr } = await run(process.execPath, ["demo/index.mjs", ...args], { cwd: root, timeout: 30_000, env: { ...process.env, NO_COLOR: "" } });
  return { stdout, stderr };
}

/** Nothing that looks like a token, an assertion, a key or the random secret's shape. */
function expectNoSecrets(text: string) {
  expect(text).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}/); // JWS compact serialisation
  expect(text).not.toContain("PRIVATE KEY");
  expect(text).not.toMatch(/"d"\s*:/); // private JWK member
  expect(text).not.toMatch(/\b[A-Za-z0-9_-]{43}\b/); // the demo's 32-byte base64url secret
}

const RUNS = ["private_key_jwt", "client_secret"] as const;
const STEPS = [
  "challenge",
  "resource-metadata",
  "authorization-server-metadata",
  "client-authentication",
  "token",
  "initialize",
  "initialized",
  "connected",
  "tools/list",
  "tools",
  "tools/call",
  "result",
  "done",
];

beforeAll(() => {
  if (!existsSync(new URL("../../dist/index.js", import.meta.url))) throw new Error("dist/ is missing: run `npm run build` (npm run test:e2e does)");
});

describe("npm run demo", () => {
  it("prints every step of both runs, in aligned columns without colour when not a TTY, and exits 0", async () => {
    const { stdout, stderr } = await demo();
    expect(stderr).toBe("");
    expect(stdout).not.toContain("\x1b[");
    for (const text of [
      "1. private_key_jwt",
      "2. client secret",
      "POST /mcp initialize (no token)",
      "protected resource metadata",
      "authorization server metadata",
      "(OIDC, path appended) issuer=",
      "client authentication",
      "POST token endpoint",
      "client assertion ES256",
      "token: (redacted)",
      "retried with Authorization: Bearer (redacted)",
      "POST /mcp tools/list",
      "echo, add, whoami",
      "add(2, 3) → 5",
      "whoami() → client demo-agent-jwt",
      "whoami() → client demo-agent-secret",
      "servers stopped",
    ]) {
      expect(stdout).toContain(text);
    }
    expect(stdout.match(/401 {2}WWW-Authenticate: Bearer resource_metadata=/g)).toHaveLength(2);
    expect(stdout).toMatch(/client authentication\s+private_key_jwt/);
    expect(stdout).toMatch(/client authentication\s+client_secret_basic/);
    // Steps with an HTTP status line up: the status column starts at the same place.
    const columns = stdout
      .split("\n")
      .filter((line) => /\s(200|202|401|404)\s{2}/.test(line))
      .map((line) => line.search(/\s(200|202|401|404)\s{2}/));
    expect(columns.length).toBeGreaterThan(20);
    expect(new Set(columns).size).toBe(1);
    expectNoSecrets(stdout);
  });

  it("--json prints one JSON object per line with every step of both runs", async () => {
    const { stdout, stderr } = await demo("--json");
    expect(stderr).toBe("");
    const lines = stdout.trim().split("\n");
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events[0]).toMatchObject({
      type: "servers",
      authorizationServer: { software: "oidc-provider" },
      mcpServer: { software: "@modelcontextprotocol/sdk" },
    });
    expect(events.at(-1)).toMatchObject({
      type: "summary",
      ok: true,
      runs: [
        { name: "private_key_jwt", tokenRequests: 1 },
        { name: "client_secret", tokenRequests: 1 },
      ],
    });
    for (const name of RUNS) {
      const steps = events.filter((e) => e.type === "step" && e.run === name);
      for (const step of STEPS)
        expect(
          steps.map((s) => s.step),
          `${name}: ${step}`,
        ).toContain(step);
      expect(steps.find((s) => s.step === "challenge")).toMatchObject({ status: 401, method: "POST", rpc: "initialize" });
      expect(steps.find((s) => s.step === "token")).toMatchObject({ status: 200, detail: { token_type: "Bearer", access_token: "(redacted)" } });
      expect(steps.find((s) => s.step === "initialize")).toMatchObject({ status: 200, authorized: true, retried: true });
      expect(steps.find((s) => s.step === "client-authentication")).toMatchObject({
        detail: { method: name === "private_key_jwt" ? "private_key_jwt" : "client_secret_basic" },
      });
      for (const step of steps.filter((s) => "status" in s)) expect(typeof step.ms).toBe("number");
    }
    expectNoSecrets(stdout);
  });
});
