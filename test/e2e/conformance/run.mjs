#!/usr/bin/env node
// Runs the MCP conformance suite's client scenarios for the client-credentials extension and
// workload identity federation (SEP-1933, auth/wif-jwt-bearer) against
// examples/conformance-client.mjs (SDK v2 client + the built package, by name), at both
// wire versions: 2025-11-25 and 2026-07-28 (`--spec-version V --force`; the runner then hands
// the client MCP_CONFORMANCE_PROTOCOL_VERSION=V and its MCP server speaks V).
//
//   npm run test:conformance            (builds first)
//   node test/e2e/conformance/run.mjs [scenario or run name …] [--verbose]
//
// Prints one line per run × wire version, then "N passed, N failed"; exits 1 on any failure.
// Nothing is baselined: a failing scenario is a bug to fix. Runs that must fail (the client is
// handed a wrong-audience or expired JWT, or asks for a scope the AS refuses) pass only when the
// client refuses with the expected typed error after exactly one token request, and the suite's
// failed checks are exactly the ones that bad input must cause.
//
// Not run, on purpose: the authorization-code scenarios (metadata-*, basic-cimd, scope-*,
// token-endpoint-auth-* (they expect dynamic registration: no credentials are given),
// offline-access-*, iss-*, authorization-server-migration (re-registration), 2025-03-26-*),
// and the dpop / enterprise-managed-authorization extensions.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { redactor, waitForDist } from "../../support/suite-runner.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const shim = path.join(here, "globsync-shim.mjs");
const cli = path.join(root, "node_modules/@modelcontextprotocol/conformance/dist/index.js");
const client = path.join(root, "examples/conformance-client.mjs");

const WIRE_VERSIONS = ["2025-11-25", "2026-07-28"];

const WIF = "auth/wif-jwt-bearer";
/** A refusal that ends the run: by default one token request, the client exits 1, and so does the suite's runner. */
const wifRefusal = (args, code, failedChecks = [], tokenRequests = 1) => ({
  scenario: WIF,
  args,
  expect: "refusal",
  phase: "token",
  code,
  failedChecks,
  tokenRequests,
  runnerExit: 1,
});

/**
 * The runs, by name, and what our client must do in each beyond the suite's own checks.
 * `scenario`: the suite's scenario (default: the name); `args`: for the client, before the URL;
 * `failedChecks`: the suite's FAILURE checks this run must cause (any other fails it);
 * `requiredChecks`: SUCCESS checks that must be there; `tokenRequests`: exact count.
 */
const SCENARIOS = {
  "auth/client-credentials-jwt": { expect: "session" },
  "auth/client-credentials-basic": { expect: "session" },
  // Pre-registered client_secret_basic credentials; the AS lists only authorization_code and
  // refresh_token in grant_types_supported, but its token endpoint accepts client_credentials.
  "auth/pre-registration": { expect: "session" },
  "auth/metadata-issuer-mismatch": { expect: "refusal", phase: "discovery", code: "issuer_mismatch" },
  "auth/resource-mismatch": { expect: "refusal", phase: "discovery", code: "resource_mismatch" },
  // The AS lists only the jwt-bearer grant and auth method none; the client presents valid_jwt.
  [WIF]: { expect: "session", requiredChecks: ["wif-assertion-verified"], tokenRequests: 1 },
  // The same AS refuses each of these once; a retry (wif-no-retry) or another grant
  // (wif-grant-fallback) would be a WARNING, which fails the run.
  // A JWT whose aud is not the issuer is not sent at all (it could be replayed where it is valid):
  // the suite then reports that no JWT-bearer request came.
  [`${WIF} wrong_audience_jwt`]: wifRefusal(["--assertion=wrong_audience_jwt"], "invalid_assertion", ["wif-assertion-verified"], 0),
  // Told to use that audience, the client sends it and the AS's own check refuses it.
  [`${WIF} wrong_audience_jwt, told its audience`]: wifRefusal(
    ["--assertion=wrong_audience_jwt", "--assertion-audience=https://wrong.example"],
    "invalid_grant",
    ["wif-assertion-audience"],
  ),
  // Sent as given: exp is the AS's to judge (the client does not read it).
  [`${WIF} expired_jwt`]: wifRefusal(["--assertion=expired_jwt"], "invalid_grant", ["wif-assertion-expired"]),
  [`${WIF} scope=wif.rejected`]: wifRefusal(["--scope=wif.rejected"], "invalid_scope"),
  [`${WIF} scope=wif.trigger-unauthorized`]: wifRefusal(["--scope=wif.trigger-unauthorized"], "unauthorized_client"),
};

const args = process.argv.slice(2);
const verbose = args.includes("--verbose");
const selected = args.filter((arg) => !arg.startsWith("--"));
const names =
  selected.length > 0 ? Object.keys(SCENARIOS).filter((name) => selected.some((s) => s === name || s === SCENARIOS[name].scenario)) : Object.keys(SCENARIOS);
const unknown = selected.filter((s) => !Object.entries(SCENARIOS).some(([name, spec]) => s === name || s === spec.scenario));
names.push(...unknown);

if (!existsSync(cli)) {
  console.error(`conformance suite not installed (${path.relative(root, cli)}); run npm ci`);
  process.exit(1);
}
try {
  await waitForDist(["index.js"]);
} catch {
  console.error("dist/ is missing: run `npm run build` first (npm run test:conformance does)");
  process.exit(1);
}

const quote = (value) => `'${value.replace(/'/g, `'\\''`)}'`;
// The suite splits the command at spaces and runs it in a shell: no argument may contain one.
const commandFor = (args = []) => [process.execPath, client, ...args].map(quote).join(" ");

function run(scenario, version, outputDir, command) {
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
for (const name of names) {
  for (const version of WIRE_VERSIONS) {
    // One output folder per run: results() reads the newest run folder of the scenario.
    const outputDir = mkdtempSync(path.join(tmpdir(), "mcc-conformance-"));
    try {
      const ok = await check(name, version, outputDir);
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

/** The scenario's context, as the suite echoes it (its JWTs, secrets and keys): only to check that none leaks. */
function contextSecrets(output) {
  try {
    const context = JSON.parse(/^With context: (.*)$/m.exec(output)?.[1] ?? "{}");
    return Object.entries(context)
      .filter(([key, value]) => typeof value === "string" && /jwt|secret|private/.test(key))
      .map(([, value]) => value);
  } catch {
    return [];
  }
}

async function check(name, version, outputDir) {
  const spec = SCENARIOS[name] ?? { expect: "session" };
  const scenario = spec.scenario ?? name;
  const t0 = Date.now();
  const { code, output } = await run(scenario, version, outputDir, commandFor(spec.args));
  const ms = Date.now() - t0;
  const { checks, clientStderr } = results(outputDir, scenario);
  const counts = /Passed: (\d+)\/(\d+), (\d+) failed, (\d+) warnings/.exec(output);
  const problems = [];
  const runnerExit = spec.runnerExit ?? 0;
  if (code !== runnerExit) problems.push(`conformance runner exited with ${code}, expected ${runnerExit}`);
  if (!counts) problems.push("no test results in the runner output");
  const failedChecks = spec.failedChecks ?? [];
  for (const c of checks.filter((c) => (c.status === "FAILURE" && !failedChecks.includes(c.id)) || c.status === "WARNING")) {
    problems.push(`${c.status} ${c.id}: ${c.description}${c.errorMessage ? ` (${c.errorMessage})` : ""}`);
  }
  for (const id of failedChecks) {
    if (!checks.some((c) => c.id === id && c.status === "FAILURE")) problems.push(`the suite did not fail check ${id}, as this bad input must`);
  }
  for (const id of spec.requiredChecks ?? []) {
    if (!checks.some((c) => c.id === id && c.status === "SUCCESS")) problems.push(`no successful check ${id}`);
  }
  if (spec.tokenRequests !== undefined) {
    const tokenRequests = checks.filter((c) => c.id === "token-request").length;
    if (tokenRequests !== spec.tokenRequests) problems.push(`${tokenRequests} token requests, expected ${spec.tokenRequests}`);
  }
  const told = /wire version (\S+),/.exec(clientStderr)?.[1];
  if (told !== version) problems.push(`the runner told the client wire version ${told ?? "(nothing)"}, expected ${version}`);
  if (spec.expect === "refusal") {
    const refusal = /refused: ClientCredentialsError phase=(\w+) code=(\S+)/.exec(clientStderr);
    if (!refusal) problems.push("the client did not refuse with a ClientCredentialsError");
    else if (refusal[1] !== spec.phase || refusal[2] !== spec.code) {
      problems.push(`the client refused with phase=${refusal[1]} code=${refusal[2]}, expected phase=${spec.phase} code=${spec.code}`);
    }
  } else {
    if (/refused:|failed:/.test(clientStderr)) problems.push("the client reported an error");
    // The session really ran at this wire version (the SDK v2 client says what it negotiated).
    const negotiated = /connected, protocol (\S+)/.exec(clientStderr)?.[1];
    if (negotiated !== version) problems.push(`negotiated protocol ${negotiated ?? "(none)"}, expected ${version}`);
  }
  if (contextSecrets(output).some((secret) => clientStderr.includes(secret))) problems.push("the client printed a secret or platform JWT of the context");

  const label = `${name} @ ${version}`;
  const summary = counts ? `${counts[1]}/${counts[2]} checks` : "no checks";
  const what = spec.expect === "refusal" ? `refused (${spec.code})` : `session completed at ${version}`;
  if (problems.length === 0) console.log(`PASS  ${label.padEnd(66)} ${summary.padEnd(12)} ${what.padEnd(33)} ${ms} ms`);
  else {
    console.log(`FAIL  ${label.padEnd(66)} ${summary.padEnd(12)} ${ms} ms`);
    for (const problem of problems) console.log(`        - ${problem}`);
  }
  if (verbose || problems.length > 0) {
    console.log(redact(output).replace(/^/gm, "        | "));
    if (clientStderr) console.log(redact(clientStderr).replace(/^/gm, "        client| "));
  }
  return problems.length === 0;
}
