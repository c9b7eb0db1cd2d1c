// Which runtime runs which Redis client, and how each (runtime, client) pair is started: a child
// process that prints the protocol lines of checks.mjs. Node 22/24 come from .cache/node
// (test/runtimes/node-versions.mjs installs them on first use, as `npm run test:runtimes` does).
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureNodes } from "../../runtimes/node-versions.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const HERE = path.join(ROOT, "test", "fleet", "redis-runtimes");
const bin = (name) => path.join(ROOT, "node_modules", ".bin", name);
const installed = (name) => existsSync(path.join(ROOT, "node_modules", name, "package.json"));

export const CLIENTS = {
  upstash: { label: "@upstash/redis", package: "@upstash/redis", kind: "upstash" },
  ioredis: { label: "ioredis", package: "ioredis", kind: "ioredis" },
  "node-redis": { label: "node-redis", package: "redis", kind: "node-redis" },
};

/** The version in node_modules/<name>/package.json, or "missing". */
export function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return "missing";
  }
}

// Deno runs with --allow-env (ioredis's `debug` lists every variable, node-redis 6 reads
// REDIS_DEBUG_MAINTENANCE, @upstash/redis reads UPSTASH_CONSOLE/VERCEL/AWS_REGION): it gets a
// bare environment so that grants nothing of ours.
function denoEnv() {
  const env = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) if (process.env[name]) env[name] = process.env[name];
  return env;
}

/**
 * Every runtime with the clients it runs. `command(config)` is argv for one pair; `unavailable`
 * says why a runtime cannot run here; `runtime` is what the child's meta line must match.
 */
export function runtimes() {
  const nodeEnv = { ...process.env, NO_COLOR: "1" };
  const runner = path.join(HERE, "runner.mjs");
  const nodes = ensureNodes(["22", "24"]);
  return [
    {
      name: "workerd",
      clients: ["upstash"],
      runtime: /^workerd$/,
      env: nodeEnv,
      command: (config) => [process.execPath, path.join(HERE, "workerd-host.mjs"), JSON.stringify(config)],
      unavailable: installed("miniflare") && installed("workerd") ? undefined : "miniflare/workerd not in node_modules (npm ci)",
    },
    {
      name: "edge-runtime",
      clients: ["upstash"],
      runtime: /^edge-runtime /,
      env: nodeEnv,
      command: (config) => [process.execPath, path.join(HERE, "edge-host.mjs"), JSON.stringify(config)],
      unavailable: installed("@edge-runtime/vm") ? undefined : "@edge-runtime/vm not in node_modules (npm ci)",
    },
    {
      name: "deno",
      clients: ["upstash", "ioredis", "node-redis"],
      runtime: /^deno \d/,
      env: denoEnv(),
      // Bare specifiers resolve from node_modules through the package.json (manual mode); with
      // --cached-only nothing is ever fetched.
      command: (config) => [
        bin("deno"),
        "run",
        "--no-prompt",
        "--cached-only",
        "--node-modules-dir=manual",
        "--allow-env",
        "--allow-net=127.0.0.1",
        `--allow-read=${ROOT}`,
        runner,
        JSON.stringify(config),
      ],
      unavailable: existsSync(bin("deno")) ? undefined : "node_modules/.bin/deno missing (npm ci)",
    },
    {
      name: "bun",
      clients: ["upstash", "ioredis", "node-redis"],
      runtime: /^bun \d/,
      env: { ...nodeEnv, DO_NOT_TRACK: "1" },
      // --no-install: a missing package is an error, never an auto-install from the registry.
      command: (config) => [bin("bun"), "run", "--no-install", runner, JSON.stringify(config)],
      unavailable: existsSync(bin("bun")) ? undefined : "node_modules/.bin/bun missing (npm ci)",
    },
    ...nodes.map(({ version, binary, error }) => ({
      name: `node${version}`,
      clients: ["upstash", "ioredis", "node-redis"],
      runtime: new RegExp(`^node v${version}\\.`),
      env: nodeEnv,
      command: (config) => [binary ?? "", runner, JSON.stringify(config)],
      unavailable: binary ? undefined : error,
    })),
  ];
}
