// Shared plumbing for test/fleet/cloudflare.test.ts: bundling workers as wrangler would (esbuild,
// everything inlined), Miniflare worker options, and the loopback authorization server's
// control API. Outputs go to .cache/fleet/cloudflare (gitignored).
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import type { Miniflare, WorkerOptions } from "miniflare";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const HERE = path.join(ROOT, "test", "fleet", "cloudflare");
const OUT_DIR = path.join(ROOT, ".cache", "fleet", "cloudflare");
export const COMPATIBILITY_DATE = "2025-09-01";

/**
 * Workers import dist/stores/cloudflare.js, what users get. `CF_STORE_FROM_SRC=1` bundles
 * src/stores/cloudflare.ts in its place: only for iterating while `npm run build` is broken.
 */
const fromSource: esbuild.Plugin = {
  name: "cloudflare-store-from-src",
  setup(build) {
    build.onResolve({ filter: /dist\/stores\/cloudflare\.js$/ }, () => ({ path: path.join(ROOT, "src", "stores", "cloudflare.ts") }));
  },
};

/** Bundles test/fleet/cloudflare/<file> into one ES module; returns its path. */
export async function bundleWorker(file: string): Promise<string> {
  await mkdir(OUT_DIR, { recursive: true });
  const outfile = path.join(OUT_DIR, file.replace(/\.m?js$/, ".bundle.mjs"));
  await esbuild.build({
    entryPoints: [path.join(HERE, file)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    absWorkingDir: ROOT,
    logLevel: "warning",
    legalComments: "none",
    plugins: process.env.CF_STORE_FROM_SRC === "1" ? [fromSource] : [],
  });
  return outfile;
}

/** One module worker; without the modulesRules entry workerd would parse the .mjs as CommonJS. */
export function moduleWorker(name: string, scriptPath: string, extra: Partial<WorkerOptions> = {}): WorkerOptions {
  return {
    name,
    modules: true,
    scriptPath,
    modulesRules: [{ type: "ESModule", include: ["**/*.js", "**/*.mjs"] }],
    compatibilityDate: COMPATIBILITY_DATE,
    ...extra,
  } as WorkerOptions;
}

/** POSTs JSON to a named worker and parses its JSON answer (any status: the body says what failed). */
export async function post<T>(mf: Miniflare, worker: string, pathname: string, body: unknown = {}): Promise<T> {
  // Miniflare types its Fetcher with workers-types it does not ship here: only fetch is used.
  const fetcher = (await mf.getWorker(worker)) as unknown as { fetch(url: string, init: RequestInit): Promise<Response> };
  const response = await fetcher.fetch(`http://worker.local${pathname}`, { method: "POST", body: JSON.stringify(body) });
  const text = await response.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${worker}${pathname} answered ${response.status}: ${text.slice(0, 500)}`);
  }
}
