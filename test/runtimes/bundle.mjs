// Bundles an entry (the portable suite + the built library, and anything else it imports) with
// esbuild, as wrangler, Vercel and web bundlers would. Output goes to .cache/runtimes (gitignored).
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const OUT_DIR = path.join(ROOT, ".cache", "runtimes");

/**
 * @param {string} entry path relative to the repository root
 * @param {{ outfile?: string, format: "esm" | "iife", conditions?: string[], globalName?: string, platform?: "browser" | "neutral" }} options
 * @returns {Promise<string>} the output's path, or without `outfile` the bundled code itself (nothing written)
 */
export async function bundle(entry, { outfile, format, conditions = [], globalName, platform = "browser" }) {
  if (outfile) await mkdir(OUT_DIR, { recursive: true });
  const out = outfile ? path.join(OUT_DIR, outfile) : undefined;
  const result = await esbuild.build({
    entryPoints: [path.join(ROOT, entry)],
    ...(out ? { outfile: out } : { write: false }),
    bundle: true,
    format,
    platform,
    target: "es2022",
    conditions,
    mainFields: ["browser", "module", "main"],
    ...(globalName ? { globalName } : {}),
    // The examples import "mcp-client-credentials": this package itself, through its package.json.
    absWorkingDir: ROOT,
    logLevel: "warning",
    legalComments: "none",
    // Nothing is external: with platform "browser" a `node:` import in the library fails the build.
  });
  if (out) return out;
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild produced nothing for ${entry}`);
  return output.text;
}
