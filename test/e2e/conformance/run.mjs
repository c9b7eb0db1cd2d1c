#!/usr/bin/env node
// Runs the MCP conformance suite's client scenarios for the client-credentials extension
// against examples/conformance-client.mjs (SDK v2 client + the built package, by name), at both
// wire versions: 2025-11-25 and 2026-07-28 (`--spec-version V --force`; the runner then hands
// the client MCP_CONFORMANCE_PROTOCOL_VERSION=V and its MCP server speaks V).
//
//   npm run test:conformance            (builds first)
//   node test/e2e/conformance/run.mjs [scenario …] [--verbose]
//
// Prints one line per scenario × wire version, then "N passed, N failed"; exits 1 on any failure.
// Nothing is baselined: a failing scenario is a bug to fix.
//
// Not run, on purpose: the authorization-code scenarios (metadata-*, basic-cimd, scope-*,
// token-endpoint-auth-* (they expect dynamic registration: no credentials are given),
// offline-access-*, iss-*, authorization-server-migration (re-registration), 2025-03-26-*),
// and the wif / dpop / enterprise-managed-authorization extensions.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { redactor } from "../../support/suite-runner.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const shim = path.join(here, "globsync-shim.mjs");
const cli = path.join(root, "node_modules/@modelcontextprotocol/conformance/dist/index.js");
const client = path.join(root, "examples/conformance-client.mjs");

const WIRE_VERSIONS = ["2025-11-25", "2026-07-28"];

/** The scenarios, and what our client must do in each beyond the suite's own checks. */
const SCENARIOS = {
  "auth/client-credentials-jwt": { expect: "session" },
  "auth/client-credentials-basic": { expect: "session" },
  // Pre-registered client_secret_basic credentials; the AS lists only authorization_code and
  // refresh_token in grant_types_supported, but its token endpoint accepts client_credentials.
  "auth/pre-registration": { expect: "session" },
  "auth/metadata-issuer-mismatch": { expect: "refusal", code: "issuer_mismatch" },
  "auth/resource-mismatch": { expect: "refusal", code: "resource_mismatch" },
};

const args = process.argv.slice(2);
const verbose = args.includes("--verbose");
const selected = args.filter((arg) => !arg.startsWith("--"));
const names = selected.length > 0 ? selected : Object.keys(SCENARIOS);

if (!existsSync(cli)) {
  console.error(`conformance suite not installed (${path.relative(root, cli)}); run npm ci`);
  process.exit(1);
}
if (!existsSync(path.join(root, "dist/index.js"))) {
  console.error("dist/ is missing: run `npm run build` first (npm run test:conformance does)");
  process.exit(1);
}

const quote = (value) => `'${value.replace(/'/g, `'\\''`)}'`;
const command = `${quote(process.execPath)} ${quote(client)}`;

function run(scenario, version, outputDir) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        shim,
        cli,
        "client",
        "--command",
        command,
        "--scenario",
        scenario,
        "--spec-version",
        version,
        "--force",
        "--output-dir",
        outputDir,
        "--timeout",
        "30000",
      ],
      { cwd: root, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("close", (code) => resolve({ code, output }));
  });
}

/** checks.json and the client's stderr, from the newest result folder for the scenario. */
function results(outputDir, scenario) {
  const folder = path.join(outputDir, path.dirname(scenario));
  const prefix = `${path.basename(scenario)}-`;
  const runs = existsSync(folder)
    ? readdirSync(folder)
        .filter((name) => name.startsWith(prefix))
        .sort()
    : [];
  const latest = runs.at(-1);
  if (!latest) return { checks: [], clientStderr: "" };
  const read = (file) => (existsSync(path.join(folder, latest, file)) ? readFileSync(path.join(folder, latest, file), "utf8") : "");
  let checks = [];
  try {
    checks = JSON.parse(read("checks.json") || "[]");
  } catch {
    checks = [];
  }
  return { checks, clientStderr: read("stderr.txt") };
}

/** The runner echoes the scenario's context (its throwaway key/secret): never print it, nor a key or token elsewhere. */
const redactSecrets = redactor();
const redact = (text) => redactSecrets(text.replace(/^With context:.*$/gm, "With context: (redacted)"));

const suiteVersion = JSON.parse(readFileSync(path.join(root, "node_modules/@modelcontextprotocol/conformance/package.json"), "utf8")).version;
let passed = 0;
let failed = 0;
const started = Date.now();
for (const scenario of names) {
  for (const version of WIRE_VERSIONS) {
    // One output folder per run: results() reads the newest run folder of the scenario.
    const outputDir = mkdtempSync(path.join(tmpdir(), "mcc-conformance-"));
    try {
      const ok = await check(scenario, version, outputDir);
      if (ok) passed++;
      else failed++;
    } finally {
      rmSync(outputDir, { recursive: true, force: true });
    }
  }
}
console.log(`(${Date.now() - started} ms, @modelcontextprotocol/conformance ${suiteVersion})`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);

async function check(scenario, version, outputDir) {
  const spec = SCENARIOS[scenario] ?? { expect: "session" };
  const t0 = Date.now();
  const { code, output } = await run(scenario, version, outputDir);
  const ms = Date.now() - t0;
  const { checks, clientStderr } = results(outputDir, scenario);
  const counts = /Passed: (\d+)\/(\d+), (\d+) failed, (\d+) warnings/.exec(output);
  const problems = [];
  if (code !== 0) problems.push(`conformance runner exited with ${code}`);
  if (!counts) problems.push("no test results in the runner output");
  for (const c of checks.filter((c) => c.status === "FAILURE" || c.status === "WARNING")) {
    problems.push(`${c.status} ${c.id}: ${c.description}${c.errorMessage ? ` (${c.errorMessage})` : ""}`);
  }
  const told = /wire version (\S+),/.exec(clientStderr)?.[1];
  if (told !== version) problems.push(`the runner told the client wire version ${told ?? "(nothing)"}, expected ${version}`);
  if (spec.expect === "refusal") {
    const refusal = /refused: ClientCredentialsError phase=(\w+) code=(\S+)/.exec(clientStderr);
    if (!refusal) problems.push("the client did not refuse with a ClientCredentialsError");
    else if (refusal[1] !== "discovery" || refusal[2] !== spec.code) {
      problems.push(`the client refused with phase=${refusal[1]} code=${refusal[2]}, expected phase=discovery code=${spec.code}`);
    }
  } else {
    if (/refused:|failed:/.test(clientStderr)) problems.push("the client reported an error");
    // The session really ran at this wire version (the SDK v2 client says what it negotiated).
    const negotiated = /connected, protocol (\S+)/.exec(clientStderr)?.[1];
    if (negotiated !== version) problems.push(`negotiated protocol ${negotiated ?? "(none)"}, expected ${version}`);
  }

  const label = `${scenario} @ ${version}`;
  const summary = counts ? `${counts[1]}/${counts[2]} checks` : "no checks";
  const what = spec.expect === "refusal" ? `refused (${spec.code})` : `session completed at ${version}`;
  if (problems.length === 0) console.log(`PASS  ${label.padEnd(45)} ${summary.padEnd(12)} ${what.padEnd(33)} ${ms} ms`);
  else {
    console.log(`FAIL  ${label.padEnd(45)} ${summary.padEnd(12)} ${ms} ms`);
    for (const problem of problems) console.log(`        - ${problem}`);
  }
  if (verbose || problems.length > 0) {
    console.log(redact(output).replace(/^/gm, "        | "));
    if (clientStderr) console.log(redact(clientStderr).replace(/^/gm, "        client| "));
  }
  return problems.length === 0;
}
