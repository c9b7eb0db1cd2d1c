// Bundle sizes as users' bundlers see them: esbuild, minified, gzipped.
// `node bench/size.mjs` prints the table; `--check` also enforces the budgets (used by CI).

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");
const check = process.argv.includes("--check");

// Budgets in gzipped bytes. Raise them deliberately, with a reason in the commit.
const scenarios = [
  {
    name: "client secret (initial chunk)",
    budget: 23_500,
    source: `import { withClientCredentials } from "mcp-client-credentials";
export default withClientCredentials({ clientId: "a", clientSecret: "b" })(fetch);`,
  },
  {
    // Bundlers that do not split (wrangler's default) inline the lazily imported jose module.
    name: "client secret (no splitting)",
    budget: 32_000,
    split: false,
    source: `import { withClientCredentials } from "mcp-client-credentials";
export default withClientCredentials({ clientId: "a", clientSecret: "b" })(fetch);`,
  },
  {
    name: "private key (all chunks)",
    budget: 32_500,
    all: true,
    source: `import { withClientCredentials } from "mcp-client-credentials";
export default withClientCredentials({ clientId: "a", privateKey: "k" })(fetch);`,
  },
  {
    // What a store adds on top of the secret bundle, measured as the whole bundle.
    name: "client secret + redisStore",
    budget: 25_000,
    source: `import { withClientCredentials } from "mcp-client-credentials";
import { redisStore } from "mcp-client-credentials/stores/redis";
export default (client) => withClientCredentials({ clientId: "a", clientSecret: "b", store: redisStore({ client }) })(fetch);`,
  },
  {
    name: "client secret + durableObjectStore",
    budget: 26_000,
    source: `import { withClientCredentials } from "mcp-client-credentials";
import { durableObjectStore } from "mcp-client-credentials/stores/cloudflare";
export { TokenStoreDurableObject } from "mcp-client-credentials/stores/cloudflare";
export default (ns) => withClientCredentials({ clientId: "a", clientSecret: "b", store: durableObjectStore(ns) })(fetch);`,
  },
  {
    name: "client secret + sealedStore(idbStore)",
    budget: 26_000,
    source: `import { sealedStore, withClientCredentials } from "mcp-client-credentials";
import { idbStore } from "mcp-client-credentials/stores/idb";
export default (key) => withClientCredentials({ clientId: "a", clientSecret: "b", store: sealedStore(idbStore(), key) })(fetch);`,
  },
  {
    name: "msw kit",
    budget: 14_000,
    all: true,
    external: ["msw"],
    source: `export { createMcpAuthMock, faults } from "mcp-client-credentials/msw";`,
  },
];

const dir = mkdtempSync(join(tmpdir(), "mcc-size-"));
let passed = 0;
let failed = 0;
try {
  console.log("scenario".padEnd(40), "min".padStart(9), "gzip".padStart(9), "budget".padStart(9));
  for (const scenario of scenarios) {
    const entry = join(dir, "entry.mjs");
    const out = join(dir, "out");
    rmSync(out, { recursive: true, force: true });
    writeFileSync(entry, scenario.source);
    await build({
      entryPoints: [entry],
      bundle: true,
      splitting: scenario.split ?? true,
      format: "esm",
      minify: true,
      platform: "neutral",
      mainFields: ["module", "main"],
      conditions: ["import"],
      outdir: out,
      external: scenario.external ?? [],
      nodePaths: [join(root, "node_modules")],
      alias: {
        "mcp-client-credentials/msw": join(root, "dist/msw/index.js"),
        ...Object.fromEntries(
          ["idb", "redis", "cloudflare", "deno"].map((store) => [`mcp-client-credentials/stores/${store}`, join(root, `dist/stores/${store}.js`)]),
        ),
        "mcp-client-credentials": join(root, "dist/index.js"),
      },
      logLevel: "error",
    });
    const files = readdirSync(out).filter((f) => f.endsWith(".js"));
    const chosen = scenario.all ? files : ["entry.js"];
    const bytes = chosen.map((f) => readFileSync(join(out, f)));
    const min = bytes.reduce((sum, b) => sum + b.length, 0);
    const gz = bytes.reduce((sum, b) => sum + gzipSync(b, { level: 9 }).length, 0);
    const ok = gz <= scenario.budget;
    ok ? passed++ : failed++;
    console.log(scenario.name.padEnd(40), String(min).padStart(9), String(gz).padStart(9), String(scenario.budget).padStart(9), ok ? "" : "OVER BUDGET");
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (check) {
  console.log(`size: ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}
