// Runs the per-runtime examples (test/runtimes/examples/*.js, shown verbatim in docs/runtimes.md),
// each in its own runtime, against the loopback server: the docs only show code that ran here.
//   node test/runtimes/examples.mjs '{"baseUrl":"…","echoUrl":"…"}'
// Each example imports "mcp-client-credentials" by name: Node, Bun and Deno resolve it through
// package.json self-reference, esbuild bundles it like wrangler / Vercel / a web bundler would.
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { EdgeVM } from "@edge-runtime/vm";
import { Miniflare } from "miniflare";
import { chromium } from "playwright-core";
import { bundle, ROOT } from "./bundle.mjs";
import { CHROMIUM, CHROMIUM_ARGS } from "./chromium-args.mjs";
import { crashed, formatSummary } from "./report.mjs";

const exec = promisify(execFile);
const config = JSON.parse(process.argv[2] ?? "{}");
const label = config.label ?? "examples";
const { baseUrl } = config;
const EXAMPLES = path.join(ROOT, "test", "runtimes", "examples");
const bin = (name) => path.join(ROOT, "node_modules", ".bin", name);

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

async function tenant(clients) {
  const response = await fetch(`${baseUrl}/__control/tenants`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ clients }),
  });
  const created = await response.json();
  created.counts = async () => (await fetch(`${baseUrl}/__control/tenants/${created.id}/counts`)).json();
  return created;
}

/** The example's resource answer: 200 and the mock resource's JSON for this client. */
function checkAnswer(status, body, clientId) {
  let json = body;
  if (typeof body === "string") {
    try {
      json = JSON.parse(body);
    } catch {
      throw new Error(`status ${status}, not JSON: ${body.slice(0, 300)}`);
    }
  }
  assert(status === 200, `status ${status}: ${JSON.stringify(json).slice(0, 300)}`);
  assert(json.ok === true && json.clientId === clientId && json.method === "POST", `unexpected answer ${JSON.stringify(json).slice(0, 300)}`);
}

/** `200 {"ok":true,…}` printed by the Deno and Bun scripts. */
function checkPrinted(stdout, clientId) {
  // Deno colours numbers whenever FORCE_COLOR is set, even to 0 (as CI sets it).
  const match = /^(\d{3}) (\{.*\})\s*$/m.exec(stdout.replace(/\x1b\[[0-9;]*m/g, ""));
  assert(match, `unexpected output: ${stdout.slice(0, 300)}`);
  checkAnswer(Number(match[1]), match[2], clientId);
}

const EXAMPLE_FILES = ["cloudflare-worker.js", "cloudflare-durable-object.js", "deno.js", "bun.js", "vercel-edge.js", "browser-worker.js"];

const examples = [
  {
    name: "docs/runtimes.md shows every example file verbatim",
    async fn() {
      // The per-runtime examples moved from the README to docs/runtimes.md (test/docs.test.ts checks the other direction).
      const page = await readFile(path.join(ROOT, "docs", "runtimes.md"), "utf8");
      const missing = [];
      for (const file of EXAMPLE_FILES) {
        const code = (await readFile(path.join(EXAMPLES, file), "utf8")).trim();
        if (!page.includes(code)) missing.push(file);
      }
      assert(missing.length === 0, `not in docs/runtimes.md verbatim: ${missing.join(", ")}`);
    },
  },
  {
    name: "Cloudflare Worker, secrets from env (workerd): 5 concurrent requests on a cold isolate, then 1 → one token",
    async fn() {
      const t = await tenant([{ clientId: "worker", clientSecret: "worker-secret" }]);
      const scriptPath = await bundle("test/runtimes/examples/cloudflare-worker.js", {
        outfile: "example-cloudflare-worker.mjs",
        format: "esm",
        conditions: ["workerd", "worker", "browser"],
      });
      const mf = new Miniflare({
        modules: true,
        scriptPath,
        modulesRules: [{ type: "ESModule", include: ["**/*.js", "**/*.mjs"] }],
        compatibilityDate: "2025-09-01",
        bindings: { MCP_CLIENT_ID: "worker", MCP_CLIENT_SECRET: "worker-secret", MCP_SERVER_URL: t.resource },
      });
      try {
        const call = async () => {
          const response = await mf.dispatchFetch("http://worker.local/");
          checkAnswer(response.status, await response.text(), "worker");
        };
        // Cold isolate: 5 concurrent requests share one token request, then one more hits the cache.
        await Promise.all(Array.from({ length: 5 }, call));
        await call();
      } finally {
        await mf.dispose();
      }
      const counts = await t.counts();
      assert(counts.token === 1, `token requests: ${counts.token}, expected 1 (cached across requests)`);
    },
  },
  {
    name: "Cloudflare Workers sharing a Durable Object token store (workerd): 2 Workers × 5 concurrent cold requests → one token",
    async fn() {
      const t = await tenant([{ clientId: "do-worker", clientSecret: "do-worker-secret" }]);
      const scriptPath = await bundle("test/runtimes/examples/cloudflare-durable-object.js", {
        outfile: "example-cloudflare-durable-object.mjs",
        format: "esm",
        conditions: ["workerd", "worker", "browser"],
      });
      const bindings = { MCP_CLIENT_ID: "do-worker", MCP_CLIENT_SECRET: "do-worker-secret", MCP_SERVER_URL: t.resource };
      const worker = (name, durableObjects) => ({
        name,
        modules: true,
        scriptPath,
        modulesRules: [{ type: "ESModule", include: ["**/*.js", "**/*.mjs"] }],
        compatibilityDate: "2025-09-01",
        bindings,
        durableObjects,
      });
      // Two Workers, as two deployments would be: "a" defines the class, "b" binds it by script name.
      const mf = new Miniflare({
        workers: [worker("a", { TOKENS: "TokenStoreDurableObject" }), worker("b", { TOKENS: { className: "TokenStoreDurableObject", scriptName: "a" } })],
      });
      try {
        const workers = [await mf.getWorker("a"), await mf.getWorker("b")];
        const call = async (w) => {
          const response = await w.fetch("http://worker.local/");
          checkAnswer(response.status, await response.text(), "do-worker");
        };
        await Promise.all(workers.flatMap((w) => Array.from({ length: 5 }, () => call(w))));
      } finally {
        await mf.dispose();
      }
      const counts = await t.counts();
      assert(counts.token === 1, `token requests: ${counts.token}, expected 1 for both Workers`);
    },
  },
  {
    name: "Deno script, private key PEM from Deno.env",
    async fn() {
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const t = await tenant([{ clientId: "deno", jwks: [publicKey.export({ format: "jwk" })] }]);
      const { stdout } = await exec(
        bin("deno"),
        [
          "run",
          "--no-prompt",
          "--node-modules-dir=manual",
          "--allow-net=127.0.0.1",
          "--allow-env=MCP_CLIENT_ID,MCP_PRIVATE_KEY,MCP_SERVER_URL",
          `--allow-read=${ROOT}`,
          path.join(EXAMPLES, "deno.js"),
        ],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            NO_COLOR: "1",
            MCP_CLIENT_ID: "deno",
            MCP_PRIVATE_KEY: privateKey.export({ type: "pkcs8", format: "pem" }),
            MCP_SERVER_URL: t.resource,
          },
        },
      );
      checkPrinted(stdout, "deno");
      const counts = await t.counts();
      assert(
        counts.tokens[0]?.authMethod === "private_key_jwt" && counts.tokenRequests[0]?.assertionAlg === "ES256",
        `private_key_jwt ES256 expected: ${JSON.stringify(counts.tokenRequests)}`,
      );
    },
  },
  {
    name: "Bun script, secret from Bun.env",
    async fn() {
      const t = await tenant([{ clientId: "bun", clientSecret: "bun-secret" }]);
      const { stdout } = await exec(bin("bun"), ["run", path.join(EXAMPLES, "bun.js")], {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: "1", MCP_CLIENT_ID: "bun", MCP_CLIENT_SECRET: "bun-secret", MCP_SERVER_URL: t.resource },
      });
      checkPrinted(stdout, "bun");
    },
  },
  {
    name: "Vercel Edge Function, secrets from process.env (edge-runtime): 2 requests → one token",
    async fn() {
      const t = await tenant([{ clientId: "edge", clientSecret: "edge-secret" }]);
      const entry = path.join(ROOT, ".cache", "runtimes", "example-vercel-edge-entry.mjs");
      const { writeFile, mkdir } = await import("node:fs/promises");
      await mkdir(path.dirname(entry), { recursive: true });
      // What Vercel's edge wrapper does: route the fetch event to the default export.
      await writeFile(
        entry,
        `import handler from ${JSON.stringify(path.join(EXAMPLES, "vercel-edge.js"))};\naddEventListener("fetch", (event) => event.respondWith(handler(event.request)));\n`,
      );
      const file = await bundle(path.relative(ROOT, entry), {
        outfile: "example-vercel-edge.js",
        format: "iife",
        conditions: ["edge-light", "worker", "browser"],
      });
      const env = { MCP_CLIENT_ID: "edge", MCP_CLIENT_SECRET: "edge-secret", MCP_SERVER_URL: t.resource };
      const vm = new EdgeVM({ extend: (context) => Object.assign(context, { process: { env } }) });
      vm.evaluate(await readFile(file, "utf8"));
      for (let i = 0; i < 2; i++) {
        const response = await vm.dispatchFetch("http://edge.local/api/tools");
        checkAnswer(response.status, await response.text(), "edge");
      }
      const counts = await t.counts();
      assert(counts.token === 1, `token requests: ${counts.token}, expected 1`);
    },
  },
  {
    name: "browser Web Worker with a non-extractable CryptoKey from the page (Chromium)",
    async fn() {
      assert(existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install -y chromium)`);
      const workerFile = await bundle("test/runtimes/examples/browser-worker.js", {
        outfile: "example-browser-worker.js",
        format: "esm",
        conditions: ["worker", "browser"],
      });
      const site = http.createServer(async (req, res) => {
        if (req.url === "/browser-worker.js") {
          res.writeHead(200, { "content-type": "text/javascript" });
          return res.end(await readFile(workerFile));
        }
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<!doctype html><title>example</title>");
      });
      await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
      const profile = await mkdtemp(path.join(os.tmpdir(), "mcc-example-"));
      const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        await page.goto(`http://127.0.0.1:${site.address().port}/`);
        const answers = await page.evaluate(async (controlBase) => {
          // The page: a non-extractable key, its public JWK registered out of band (here: the control API).
          const { privateKey, publicKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
          const jwk = await crypto.subtle.exportKey("jwk", publicKey);
          const created = await (
            await fetch(`${controlBase}/__control/tenants`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ clients: [{ clientId: "browser", jwks: [jwk] }] }),
            })
          ).json();
          const worker = new Worker("/browser-worker.js", { type: "module" });
          const ask = () =>
            new Promise((resolve, reject) => {
              setTimeout(() => reject(new Error("the worker did not answer within 15 s")), 15_000);
              worker.onmessage = (event) => (event.data.error ? reject(new Error(`worker: ${event.data.error}`)) : resolve(event.data));
              worker.onerror = (event) => reject(new Error(event.message));
              worker.postMessage({ clientId: "browser", privateKey, serverUrl: created.resource });
            });
          const first = await ask();
          const second = await ask();
          const counts = await (await fetch(`${controlBase}/__control/tenants/${created.id}/counts`)).json();
          worker.terminate();
          return { first, second, counts };
        }, baseUrl);
        checkAnswer(answers.first.status, answers.first.body, "browser");
        checkAnswer(answers.second.status, answers.second.body, "browser");
        assert(answers.counts.token === 1, `token requests: ${answers.counts.token}, expected 1`);
        assert(answers.counts.tokenRequests[0].assertionAlg === "ES256", "ES256 client assertion");
      } finally {
        await context.close().catch(() => {});
        site.close();
        site.closeAllConnections?.();
        await rm(profile, { recursive: true, force: true }).catch(() => {});
      }
    },
  },
];

let summary;
try {
  const results = [];
  for (const example of examples) {
    const started = Date.now();
    try {
      let timer;
      await Promise.race([
        example.fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("timed out after 60 s")), 60_000);
        }),
      ]).finally(() => clearTimeout(timer));
      results.push({ name: example.name, ok: true, skipped: false, error: null, ms: Date.now() - started });
    } catch (error) {
      const detail = [error?.message ?? String(error), error?.stdout, error?.stderr].filter(Boolean).join("\n").trim();
      results.push({ name: example.name, ok: false, skipped: false, error: detail, ms: Date.now() - started });
    }
  }
  const passed = results.filter((r) => r.ok).length;
  summary = { runtime: "README examples", passed, failed: results.length - passed, skipped: 0, total: results.length, results };
} catch (error) {
  summary = crashed(label, error);
}
console.log(formatSummary(label, summary));
process.exitCode = summary.failed > 0 || summary.total === 0 ? 1 : 0;
