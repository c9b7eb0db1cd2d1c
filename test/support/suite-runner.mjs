// What the suite runners (test/frameworks, test/better-auth, test/cloudflare-agents and the
// conformance runner) share: installing a suite folder's own pinned dependencies, waiting out a
// concurrent build of dist/, and cutting secrets from anything they print.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * `npm ci --prefix dir` when dir/node_modules is missing or dir/package-lock.json has changed since
 * the last install (its sha256 is stamped in node_modules). npm's own output goes to stderr: stdout
 * is the test report.
 */
export function installDependencies(dir) {
  const hash = createHash("sha256")
    .update(readFileSync(path.join(dir, "package-lock.json")))
    .digest("hex");
  const stamp = path.join(dir, "node_modules", ".lock-sha256");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === hash) return;
  console.error(`npm ci --prefix ${path.relative(ROOT, dir)} …`);
  // npm is npm.cmd on Windows, which Node runs only through a shell.
  const windows = process.platform === "win32";
  const args = ["ci", "--prefix", windows ? `"${dir}"` : dir, "--no-audit", "--no-fund", "--loglevel=error", "--engine-strict=false"];
  execFileSync(windows ? "npm.cmd" : "npm", args, { cwd: ROOT, shell: windows, stdio: ["ignore", 2, 2], timeout: 300_000 });
  writeFileSync(stamp, hash);
}

/** A concurrent `npm run build` (tsup clean) empties dist/ for a few seconds: wait up to 60 s for `files`. */
export async function waitForDist(files = ["index.js"]) {
  const needed = files.map((file) => path.join(ROOT, "dist", file));
  const deadline = Date.now() + 60_000;
  while (!needed.every((file) => existsSync(file)) && Date.now() < deadline) await sleep(500);
  const missing = needed.filter((file) => !existsSync(file)).map((file) => path.relative(ROOT, file));
  if (missing.length > 0) throw new Error(`${missing.join(", ")} missing: run npm run build first`);
}

const PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g;
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]*/g;
// A token68 after "Bearer": 12+ characters, at least one not a letter (so not prose), and not an
// auth-param of a challenge (realm="…", resource_metadata="…").
const BEARER = /\b(Bearer)\s+(?![\w-]+=[^=\s,])(?=[A-Za-z]*[\d._~+/:-])[\w.~+/:-]{12,}=*/gi;
// Opaque tokens and secrets in JSON (a token response, a logged object): the value goes.
const FIELD = /("(?:access_token|accessToken|client_secret|clientSecret|refresh_token)"\s*:\s*)"[^"]*"/g;

/**
 * redact(text): every string in `secrets` (read at each call, so an array or a Set may grow; a
 * PEM also line by line, in case a message wraps it differently), every PEM private key, anything
 * shaped like a JWT, the token after "Bearer" and token or secret fields of JSON become [redacted].
 */
export function redactor(secrets = []) {
  return (text) => {
    const values = [...secrets]
      .filter((value) => typeof value === "string" && value.length >= 4)
      .flatMap((value) => [value, ...(value.includes("-----BEGIN") ? value.split("\n").filter((line) => line.length > 16 && !line.startsWith("-----")) : [])])
      .sort((a, b) => b.length - a.length);
    let out = String(text);
    for (const value of values) out = out.split(value).join("[redacted]");
    return out.replace(PEM, "[redacted]").replace(JWT, "[redacted]").replace(BEARER, "$1 [redacted]").replace(FIELD, '$1"[redacted]"');
  };
}

/**
 * Copies a child's stream to `to` through `redact`, a whole line at a time (and a PEM block whole),
 * so that a secret split across two chunks is still cut; returns what was written so far.
 */
export function pipeRedacted(from, to, redact = redactor()) {
  let pending = "";
  let written = "";
  const write = (text) => {
    const shown = redact(text);
    written += shown;
    to.write(shown);
  };
  from.setEncoding("utf8");
  from.on("data", (chunk) => {
    pending += chunk;
    let end = pending.lastIndexOf("\n") + 1;
    const key = pending.lastIndexOf("-----BEGIN");
    const close = key >= 0 ? pending.indexOf("-----END", key) : -1;
    if (key >= 0 && key < end && (close < 0 || close >= end)) end = pending.lastIndexOf("\n", key) + 1;
    if (end === 0) return;
    write(pending.slice(0, end));
    pending = pending.slice(end);
  });
  from.on("end", () => {
    if (pending) write(pending);
    pending = "";
  });
  return () => written;
}

/**
 * Waits for a spawned child (stdio piped) to close, killing it after `timeoutMs`; resolves with
 * its exit code or signal, stdout, stderr, both as they interleaved (`output`), and the spawn
 * error if there was one.
 */
export function outputOf(child, timeoutMs) {
  return new Promise((resolve) => {
    const out = { stdout: "", stderr: "", output: "", error: undefined };
    for (const name of ["stdout", "stderr"]) {
      child[name].on("data", (chunk) => {
        out[name] += chunk;
        out.output += chunk;
      });
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      out.error = error;
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ ...out, code, signal });
    });
  });
}
