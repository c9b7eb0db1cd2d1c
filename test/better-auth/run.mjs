#!/usr/bin/env node
// better-auth's OAuth provider as a real authorization server, end to end, against the built
// package (dist/). Installs this folder's pinned dependencies with `npm ci` when they are
// missing or the lockfile changed, gets Node 22 (better-auth's database here is node:sqlite)
// into .cache/node, and runs suite.mjs with it.
//
//   npm run test:better-auth            (builds first)
//   node test/better-auth/run.mjs [name filter]
//
// Prints one line per test, then "N passed, N failed"; exits 1 on any failure.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ensureNodes } from "../runtimes/node-versions.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

function installDependencies() {
  const lockfile = path.join(here, "package-lock.json");
  const stamp = path.join(here, "node_modules", ".lockfile-sha256");
  const hash = existsSync(lockfile) ? createHash("sha256").update(readFileSync(lockfile)).digest("hex") : "no lockfile";
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === hash) return;
  const command = existsSync(lockfile) ? "ci" : "install";
  console.log(`npm ${command} --prefix test/better-auth …`);
  execFileSync("npm", [command, "--prefix", here, "--no-audit", "--no-fund", "--loglevel=error"], {
    stdio: ["ignore", "inherit", "inherit"],
    timeout: 300_000,
  });
  writeFileSync(stamp, hash);
}

/** A concurrent build empties dist/ for a few seconds (tsup clean): wait for it rather than fail at once. */
async function waitForDist() {
  const entry = path.join(root, "dist", "index.js");
  for (let attempt = 0; attempt < 12 && !existsSync(entry); attempt++) await sleep(5_000);
  if (!existsSync(entry)) throw new Error("dist/ is missing: run `npm run build` first (npm run test:better-auth does)");
}

let node22;
try {
  installDependencies();
  await waitForDist();
  const [node] = ensureNodes(["22"]);
  if (!node.binary) throw new Error(`Node 22 is needed for node:sqlite and could not be installed: ${node.error}`);
  node22 = node.binary;
} catch (error) {
  // Under CI nothing may be skipped: a missing dependency or runtime is a failure.
  console.log(`✗ setup: ${error.message}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}

const child = spawn(node22, ["--disable-warning=ExperimentalWarning", path.join(here, "suite.mjs"), ...process.argv.slice(2)], {
  stdio: ["ignore", "pipe", "inherit"],
});
let output = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  output += chunk;
});
child.on("close", (code, signal) => {
  const last = output.trimEnd().split("\n").at(-1) ?? "";
  // A crash before the summary must still end in a summary line that counts as a failure.
  if (!/^\d+ passed, \d+ failed$/.test(last)) {
    console.log(`✗ suite.mjs ended without a summary (exit ${code ?? signal})`);
    console.log("0 passed, 1 failed");
    process.exit(1);
  }
  process.exit(code ?? 1);
});
