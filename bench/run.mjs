// Every benchmark, one after the other, in a fixed order; their markdown tables go to stdout.
// Run: npm run bench   (= npm run build && node bench/run.mjs), or node bench/run.mjs [name …]. Installs bench/node_modules
// from bench/package-lock.json first when it is missing. Timings are figures, never pass/fail:
// the exit code is non-zero only when a benchmark crashed.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { benchDir, machine, root } from "./lib/common.mjs";

const ORDER = [
  "hot-path.mjs", // CPU per call with a cached token (stub fetch)
  "signing.mjs", // private_key_jwt assertion cost per algorithm
  "dpop.mjs", // what a DPoP proof adds per request
  "cold-start.mjs", // a fresh instance's first request (loopback)
  "stampede.mjs", // N concurrent cold requests (loopback)
  "latency-tail.mjs", // steady traffic across token lifetimes (loopback)
  "memory.mjs", // heap per cached token, growth under load
  "bundle.mjs", // minimal Worker, min+gzip, side by side
  "size.mjs", // our own bundles against the CI budgets
];
const SELF = "run.mjs";

if (!existsSync(join(benchDir, "node_modules"))) {
  console.error("bench/node_modules is missing: npm ci --prefix bench");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const install = spawnSync(npm, ["ci", "--prefix", benchDir, "--no-audit", "--no-fund"], { stdio: "inherit", cwd: root });
  if (install.status !== 0) process.exit(install.status ?? 1);
}

// Files starting with "_" are scratch, not benchmarks. `node bench/run.mjs hot-path bundle` runs only those.
const present = new Set(readdirSync(benchDir).filter((file) => file.endsWith(".mjs") && file !== SELF && !file.startsWith("_")));
const only = process.argv.slice(2).map((name) => (name.endsWith(".mjs") ? name : `${name}.mjs`));
const files = [...ORDER.filter((file) => present.has(file)), ...[...present].filter((file) => !ORDER.includes(file)).sort()].filter(
  (file) => only.length === 0 || only.includes(file),
);
const missing = ORDER.filter((file) => !present.has(file));

console.log(`# mcp-client-credentials benchmarks\n\n${machine()}\n`);
if (missing.length) console.log(`Not present, skipped: ${missing.join(", ")}\n`);

const failed = [];
for (const file of files) {
  console.log(`## ${file}\n`);
  const started = Date.now();
  const result = spawnSync(process.execPath, [join(benchDir, file)], { stdio: "inherit", cwd: root });
  if (result.status !== 0) failed.push(`${file} (exit ${result.status ?? result.signal})`);
  console.log(`\n_${file}: ${((Date.now() - started) / 1000).toFixed(0)} s_\n`);
}
if (failed.length) {
  console.error(`Crashed: ${failed.join(", ")}`);
  process.exitCode = 1;
}
