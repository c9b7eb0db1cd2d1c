// Cloudflare suite: the `agents` SDK (a Durable Object agent whose restored MCP connection stays
// authorized), @cloudflare/workers-oauth-provider as an authorization server without a
// client_credentials grant, and `redirect: "error"` through authFetch in workerd. Real software on
// 127.0.0.1 only; this folder's dependencies are installed here with `npm ci` when needed.
//
//   node test/cloudflare-agents/run.mjs      (after `npm run build`)
//
// Prints one line per test and, last, `N passed, N failed`; exits non-zero on any failure.
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");

/** npm ci into this folder when node_modules is missing or older than the lock file. */
function installDependencies() {
  const lock = path.join(HERE, "package-lock.json");
  const installed = path.join(HERE, "node_modules", ".package-lock.json");
  const hasLock = existsSync(lock);
  const fresh = existsSync(installed) && (!hasLock || statSync(installed).mtimeMs >= statSync(lock).mtimeMs);
  if (fresh) return;
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  // npm's own output goes to stderr: stdout is the test report.
  execFileSync(npm, [hasLock ? "ci" : "install", "--prefix", HERE, "--no-audit", "--no-fund"], { cwd: ROOT, stdio: ["ignore", 2, 2] });
}

/** dist/ is built by `npm run build`; a concurrent build empties it for a few seconds. */
async function waitForDist() {
  const needed = ["index.js", "adapters.js"].map((file) => path.join(ROOT, "dist", file));
  for (let attempt = 0; attempt < 12; attempt++) {
    if (needed.every((file) => existsSync(file))) return;
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
  throw new Error(`dist/ is incomplete (${needed.filter((file) => !existsSync(file)).join(", ")}): run npm run build first`);
}

const results = [];
const ctx = { stack: undefined, secrets: [], notes: [] };
let redact = (text) => String(text);

function record(name, error) {
  results.push({ name, ok: !error });
  const reason = error ? `: ${redact(error?.message ?? error)}` : "";
  console.log(`${error ? "not ok" : "ok"} - ${name}${redact(reason)}`);
}

try {
  installDependencies();
  await waitForDist();
  const harness = await import("./harness.mjs");
  redact = (text) => harness.redact(text, ctx.secrets);
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
