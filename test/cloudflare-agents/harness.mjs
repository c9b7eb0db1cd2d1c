// Shared plumbing: bundling a Worker as wrangler would (esbuild, everything inlined, `agents` and
// friends resolved from this folder's own node_modules), Miniflare options and loopback helpers
// (run.mjs redacts failure messages with test/support/suite-runner.mjs).
import { mkdir, readFile } from "node:fs/promises";
import http from "node:http";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { closer, listen } from "../e2e/servers/listen.mjs";

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, "../..");
export const OUT_DIR = path.join(ROOT, ".cache", "cloudflare-agents");
// agents needs nodejs_compat (its docs ask for it): node:async_hooks, and node:os for mimetext,
// which workerd serves only from compatibility dates in 2026 (2025-09-01: "No such module").
export const COMPATIBILITY_DATE = "2026-04-01";
export const COMPATIBILITY_FLAGS = ["nodejs_compat"];

/** Bundles `entry` (relative to the repository root) into one ES module; returns its path. */
export async function bundleWorker(entry, outfile) {
  await mkdir(OUT_DIR, { recursive: true });
  const out = path.join(OUT_DIR, outfile);
  await esbuild.build({
    entryPoints: [path.join(ROOT, entry)],
    outfile: out,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    // "mcp-client-credentials" is this package itself (dist/, through its package.json exports);
    // the heavy dependencies live in this folder's node_modules, not the root's.
    absWorkingDir: ROOT,
    nodePaths: [path.join(HERE, "node_modules")],
    // Provided by workerd itself (node:* through nodejs_compat), as wrangler leaves them.
    external: ["cloudflare:*", "node:*"],
    plugins: [nodeBuiltins],
    logLevel: "error",
    legalComments: "none",
  });
  return out;
}

// Bare `require("path")` (mime-types, under agents) becomes an external `node:path`, as wrangler does.
const nodeBuiltins = {
  name: "node-builtins",
  setup(build) {
    build.onResolve({ filter: new RegExp(`^(${builtinModules.join("|")})$`) }, (args) => ({ path: `node:${args.path}`, external: true }));
  },
};

/** Miniflare options for one module worker. */
export function workerOptions(scriptPath, extra = {}) {
  return {
    modules: true,
    scriptPath,
    modulesRules: [{ type: "ESModule", include: ["**/*.js", "**/*.mjs"] }],
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: COMPATIBILITY_FLAGS,
    ...extra,
  };
}

/** A loopback server answering every request with a 302 to `location`; counts its requests. */
export async function redirectServer(location) {
  const counter = { requests: 0 };
  const server = http.createServer((_req, res) => {
    counter.requests += 1;
    res.writeHead(302, { location }).end();
  });
  const close = closer(server);
  const port = await listen(server, 0, "127.0.0.1");
  return { url: `http://127.0.0.1:${port}/moved`, counter, close };
}

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

export function assertEqual(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

/** The version of an installed package, looked up from this folder first, then the root. */
export async function versionOf(name) {
  for (const base of [path.join(HERE, "node_modules"), path.join(ROOT, "node_modules")]) {
    try {
      return JSON.parse(await readFile(path.join(base, name, "package.json"), "utf8")).version;
    } catch {}
  }
  return "not installed";
}

/** Token requests the oidc-provider answered, per outcome. */
export function grants(as) {
  return {
    success: as.events.filter((e) => e.type === "grant.success").length,
    error: as.events.filter((e) => e.type === "grant.error").length,
  };
}
