// Bundles a worker or an EdgeVM script in memory with esbuild, as wrangler or Vercel would:
// everything inlined (the Upstash client, dist/stores/redis.js, the contract), no files written.
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * @param {string} file  a file in this folder
 * @param {{ format: "esm" | "iife", conditions: string[] }} options
 * @returns {Promise<string>} the bundled code
 */
export async function bundleCode(file, { format, conditions }) {
  const result = await esbuild.build({
    entryPoints: [path.join(ROOT, "test", "fleet", "redis-runtimes", file)],
    bundle: true,
    write: false,
    format,
    platform: "browser",
    target: "es2022",
    conditions,
    mainFields: ["browser", "module", "main"],
    absWorkingDir: ROOT,
    logLevel: "warning",
    legalComments: "none",
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild produced nothing for ${file}`);
  return output.text;
}

/** The version in node_modules/<name>/package.json. */
export async function packageVersion(name) {
  const { readFile } = await import("node:fs/promises");
  return JSON.parse(await readFile(path.join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
}
