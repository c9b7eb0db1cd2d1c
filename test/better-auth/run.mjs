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
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureNodes } from "../runtimes/node-versions.mjs";
import { installDependencies, pipeRedacted, waitForDist } from "../support/suite-runner.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));

let node22;
try {
  installDependencies(here);
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

// suite.mjs redacts what it registers as secret; what reaches us (better-auth's logs, a crash's
// stack on stderr) is cut once more here, of JWTs, Bearer tokens and private keys at least.
const child = spawn(node22, ["--disable-warning=ExperimentalWarning", path.join(here, "suite.mjs"), ...process.argv.slice(2)], {
  stdio: ["ignore", "pipe", "pipe"],
});
const output = pipeRedacted(child.stdout, process.stdout);
pipeRedacted(child.stderr, process.stderr);
child.on("close", (code, signal) => {
  const last = output().trimEnd().split("\n").at(-1) ?? "";
  // A crash before the summary must still end in a summary line that counts as a failure.
  if (!/^\d+ passed, \d+ failed$/.test(last)) {
    console.log(`✗ suite.mjs ended without a summary (exit ${code ?? signal})`);
    console.log("0 passed, 1 failed");
    process.exit(1);
  }
  process.exit(code ?? 1);
});
