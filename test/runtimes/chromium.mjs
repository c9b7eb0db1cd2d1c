// Chromium (Debian's /usr/bin/chromium, driven by playwright-core; no browser download): the suite
// runs in a page AND in a dedicated module Web Worker, both served from their own 127.0.0.1 port,
// so every call to the auth server / resource is cross-origin (CORS preflights included).
//   node test/runtimes/chromium.mjs '{"baseUrl":"…","echoUrl":"…"}'
// Prints two summaries: chromium-page and chromium-worker. Then, in the same origin, the idbStore
// checks (chromium/idb-checks.mjs): chromium-page-idb, chromium-worker-idb (the store contract with
// real Web Locks and with lock records), chromium-idb-cross (page ↔ workers ↔ tabs) and
// chromium-idb-tokens (the middleware sharing one token across them). Those have their own counts.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { bundle } from "./bundle.mjs";
import { IDB_LABELS, runIdbChecks } from "./chromium/idb-checks.mjs";
import { CHROMIUM, CHROMIUM_ARGS } from "./chromium-args.mjs";
import { crashed, formatSummary } from "./report.mjs";

const config = JSON.parse(process.argv[2] ?? "{}");
const { baseUrl, echoUrl, ci, filter } = config;
const suiteConfig = { baseUrl, echoUrl, ci, filter };

const PAGE = `<!doctype html><meta charset="utf-8"><title>portable suite</title><p>mcp-client-credentials portable suite</p>`;

async function serve(files) {
  const server = http.createServer(async (req, res) => {
    const name = new URL(req.url ?? "/", "http://x").pathname;
    if (name === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      return res.end(PAGE);
    }
    const file = files[name];
    if (!file) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" });
    res.end(await readFile(file));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

let exitCode = 0;
const print = (label, summary) => {
  console.log(formatSummary(label, summary));
  if (summary.failed > 0 || summary.total === 0) exitCode = 1;
};

let context;
let site;
let profile;
let printed = false;
try {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const [pageBundle, workerBundle, idbPageBundle, idbWorkerBundle, idbServiceWorkerBundle] = await Promise.all([
    bundle("test/runtimes/chromium/page.mjs", { outfile: "chromium-page.js", format: "esm", conditions: ["browser"] }),
    bundle("test/runtimes/chromium/worker.mjs", { outfile: "chromium-worker.js", format: "esm", conditions: ["worker", "browser"] }),
    bundle("test/runtimes/chromium/idb-page.mjs", { outfile: "chromium-idb-page.js", format: "esm", conditions: ["browser"] }),
    bundle("test/runtimes/chromium/idb-worker.mjs", { outfile: "chromium-idb-worker.js", format: "esm", conditions: ["worker", "browser"] }),
    bundle("test/runtimes/chromium/idb-sw.mjs", { outfile: "chromium-idb-sw.js", format: "esm", conditions: ["worker", "browser"] }),
  ]);
  site = await serve({
    "/page.js": pageBundle,
    "/worker.js": workerBundle,
    "/idb-page.js": idbPageBundle,
    "/idb-worker.js": idbWorkerBundle,
    "/idb-sw.js": idbServiceWorkerBundle,
  });
  profile = await mkdtemp(path.join(os.tmpdir(), "mcc-chromium-"));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (error) => console.error(`[chromium page error] ${error.message}`));
  page.on("console", (message) => {
    // "Failed to load resource" is every 401/404 the suite provokes on purpose.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) console.error(`[chromium console] ${message.text()}`);
  });
  await page.goto(`${site.origin}/`);
  const browserVersion = context.browser()?.version() ?? "";

  const inPage = page
    .evaluate(async (cfg) => {
      const mod = await import("/page.js");
      return mod.runSuite(cfg);
    }, suiteConfig)
    .catch((error) => crashed("chromium-page", error));
  const inWorker = page
    .evaluate(
      (cfg) =>
        new Promise((resolve, reject) => {
          const worker = new Worker("/worker.js", { type: "module" });
          worker.onmessage = (event) => {
            worker.terminate();
            if (event.data.error) reject(new Error(event.data.error));
            else resolve(event.data.summary);
          };
          worker.onerror = (event) => reject(new Error(`worker error: ${event.message}`));
          worker.postMessage(cfg);
        }),
      suiteConfig,
    )
    .catch((error) => crashed("chromium-worker", error));
  const [pageSummary, workerSummary] = await Promise.all([inPage, inWorker]);
  if (browserVersion) {
    pageSummary.runtime = `chromium ${browserVersion} (page)`;
    workerSummary.runtime = `chromium ${browserVersion} (dedicated worker)`;
  }
  print("chromium-page", pageSummary);
  print("chromium-worker", workerSummary);
  printed = true;

  // After the portable suite, so its timings are not disturbed; same page, same origin.
  const idb = await runIdbChecks({ context, page, origin: site.origin, baseUrl, version: browserVersion, log: (line) => console.log(line) }).catch((error) =>
    Object.fromEntries(IDB_LABELS.map((label) => [label, crashed(label, error)])),
  );
  for (const label of IDB_LABELS) print(label, idb[label] ?? crashed(label, "no summary"));
} catch (error) {
  const labels = printed ? IDB_LABELS : ["chromium-page", "chromium-worker", ...IDB_LABELS];
  for (const label of labels) print(label, crashed(label, error));
} finally {
  await context?.close().catch(() => {});
  site?.server.close();
  site?.server.closeAllConnections?.();
  if (profile) await rm(profile, { recursive: true, force: true }).catch(() => {});
}
process.exitCode = exitCode;
