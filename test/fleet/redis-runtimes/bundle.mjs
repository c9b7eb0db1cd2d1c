// Bundles a worker or an EdgeVM script in memory, as wrangler or Vercel would: everything inlined
// (the Upstash client, dist/stores/redis.js, the contract), no files written.
import path from "node:path";
import { bundle, ROOT } from "../../runtimes/bundle.mjs";

export { ROOT };

/**
 * @param {string} file  a file in this folder
 * @param {{ format: "esm" | "iife", conditions: string[] }} options
 * @returns {Promise<string>} the bundled code
 */
export function bundleCode(file, { format, conditions }) {
  return bundle(path.join("test", "fleet", "redis-runtimes", file), { format, conditions });
}

/** The version in node_modules/<name>/package.json. */
export async function packageVersion(name) {
  const { readFile } = await import("node:fs/promises");
  return JSON.parse(await readFile(path.join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
}
