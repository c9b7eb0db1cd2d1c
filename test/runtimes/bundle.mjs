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
 * @param {{ outfile: string, format: "esm" | "iife", conditions?: string[], globalName?: string, platform?: "browser" | "neutral" }} options
 */
export async function bundle(entry, { outfile, format, conditions = [], globalName, platform = "browser" }) {
  await mkdir(OUT_DIR, { recursive: true });
  const out = path.join(OUT_DIR, outfile);
  await esbuild.build({
    entryPoints: [path.join(ROOT, entry)],
    outfile: out,
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
  return out;
}
