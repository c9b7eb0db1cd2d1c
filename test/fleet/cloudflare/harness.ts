// Shared plumbing for test/fleet/cloudflare.test.ts: bundling workers as wrangler would (the
// runtime suite's esbuild bundler, everything inlined, output in .cache/runtimes) and Miniflare
// worker options.
import type { Miniflare, WorkerOptions } from "miniflare";
import { bundle } from "../../runtimes/bundle.mjs";

export const COMPATIBILITY_DATE = "2025-09-01";

/** Bundles test/fleet/cloudflare/<file> (which imports dist/, what users get) into one ES module; returns its path. */
export function bundleWorker(file: string): Promise<string> {
  return bundle(`test/fleet/cloudflare/${file}`, {
    outfile: `fleet-cloudflare-${file.replace(/\.m?js$/, ".mjs")}`,
    format: "esm",
    conditions: ["workerd", "worker", "browser"],
  });
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
