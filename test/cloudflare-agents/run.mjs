// Cloudflare suite: the `agents` SDK (a Durable Object agent whose restored MCP connection stays
// authorized), @cloudflare/workers-oauth-provider as an authorization server without a
// client_credentials grant, and `redirect: "error"` through authFetch in workerd. Real software on
// 127.0.0.1 only; this folder's dependencies are installed here with `npm ci` when needed.
//
//   node test/cloudflare-agents/run.mjs      (after `npm run build`)
//
// Prints one line per test and, last, `N passed, N failed`; exits non-zero on any failure.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { installDependencies, redactor, waitForDist } from "../support/suite-runner.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const results = [];
const ctx = { stack: undefined, secrets: [], notes: [] };
// What the tests push to ctx.secrets, and any JWT, Bearer token or private key.
const redact = redactor(ctx.secrets);

function record(name, error) {
  results.push({ name, ok: !error });
  const reason = error ? `: ${redact(error?.message ?? error)}` : "";
  console.log(`${error ? "not ok" : "ok"} - ${name}${redact(reason)}`);
}

try {
  installDependencies(HERE);
  await waitForDist(["index.js", "adapters.js"]);
  const harness = await import("./harness.mjs");
  const { start } = await import("../e2e/servers/stack.mjs");
  ctx.stack = await start({ log: () => {} });
  ctx.secrets.push(ctx.stack.credentials.clientSecret.clientSecret);

  const modules = [
    ["agents", async () => (await import("./agents.mjs")).agentsTests(ctx)],
    ["workers-oauth-provider", async () => (await import("./oauth-provider.mjs")).oauthProviderTests(ctx)],
    ["redirect", async () => (await import("./redirect.mjs")).redirectTests(ctx)],
  ];
  for (const [label, setup] of modules) {
    let suite;
    try {
      suite = await setup();
    } catch (error) {
      record(`${label}: set up`, error);
      continue;
    }
    try {
      for (const test of suite.tests) {
        try {
          await test.run();
          record(test.name);
        } catch (error) {
          record(test.name, error);
        }
      }
    } finally {
      await suite.close().catch((error) => console.log(`# ${label}: close failed: ${redact(error?.message)}`));
    }
  }

  const versions = await Promise.all(
    [
      "agents",
      "@modelcontextprotocol/client",
      "@cloudflare/workers-oauth-provider",
      "miniflare",
      "workerd",
      "esbuild",
      "@modelcontextprotocol/sdk",
      "oidc-provider",
    ].map(async (name) => `${name} ${await harness.versionOf(name)}`),
  );
  console.log(`# versions: ${versions.join(", ")}; compat ${harness.COMPATIBILITY_DATE} ${harness.COMPATIBILITY_FLAGS.join(",")}`);
  for (const note of ctx.notes) console.log(`# ${redact(note)}`);
} catch (error) {
  record("run the Cloudflare suite", error);
} finally {
  await ctx.stack?.close().catch(() => {});
}

const failed = results.filter((result) => !result.ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exitCode = failed > 0 || results.length === 0 ? 1 : 0;
