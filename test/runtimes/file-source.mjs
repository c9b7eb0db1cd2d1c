// `fileToken` (mcp-client-credentials/sources/file) in each runtime that has node:fs: Node, Deno
// and Bun. A workload tenant of the loopback server verifies the platform JWT; the file is rotated
// the way kubelet does it (a new directory, then the `..data` symlink swapped by a rename), and the
// next token request must carry the new JWT:
//   node test/runtimes/file-source.mjs '{"baseUrl":"…","label":"file-source-node"}'
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { withWorkloadIdentity } from "../../dist/index.js";
import { fileToken } from "../../dist/sources/file.js";
import { signEs256 } from "../portable/suite.js";
import { crashed, formatSummary } from "./report.mjs";

const args = globalThis.Deno ? globalThis.Deno.args : globalThis.process.argv.slice(2);
const config = JSON.parse(args[0] ?? "{}");
const label = config.label ?? "file-source";
const runtime = globalThis.Deno ? `deno ${globalThis.Deno.version.deno}` : globalThis.Bun ? `bun ${globalThis.Bun.version}` : `node ${process.version}`;
const cache = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../.cache");

/** An ES256 platform key, and compact JWTs signed with it by the portable suite's signer. */
async function platform() {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
  return {
    jwk: { kty, crv, x, y },
    mint(claims, lifetime = 600) {
      const now = Math.floor(Date.now() / 1000);
      return signEs256(pair.privateKey, { iat: now, exp: now + lifetime, jti: crypto.randomUUID(), ...claims });
    },
  };
}

async function tenant(workload) {
  const response = await fetch(`${config.baseUrl}/__control/tenants`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ clients: [], workload }),
  });
  if (!response.ok) throw new Error(`tenant: ${response.status} ${await response.text()}`);
  return response.json();
}

const assert = (condition, message) => {
  if (!condition) throw new Error(message);
};

const results = [];
async function test(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true, skipped: false, error: null, ms: Date.now() - started });
  } catch (error) {
    results.push({ name, ok: false, skipped: false, error: String(error?.stack ?? error), ms: Date.now() - started });
  }
}

let summary;
let dir;
try {
  await mkdir(cache, { recursive: true });
  dir = await mkdtemp(path.join(cache, "file-source-"));
  const idp = await platform();
  const iss = "https://kubernetes.default.svc";
  const sub = "system:serviceaccount:ci:mcp";
  const t = await tenant({ jwk: idp.jwk, iss, sub });
  const file = path.join(dir, "token");
  /** Writes `jwt` into a new timestamped directory and swaps `..data` to it, as kubelet does. */
  let generation = 0;
  const project = async (jwt) => {
    const folder = path.join(dir, `..gen_${++generation}`);
    await mkdir(folder);
    await writeFile(path.join(folder, "token"), `${jwt}\n`);
    await symlink(folder, path.join(dir, "..data_tmp"));
    await rename(path.join(dir, "..data_tmp"), path.join(dir, "..data"));
  };
  await project(await idp.mint({ iss, sub, aud: t.issuer }));
  await symlink(path.join("..data", "token"), file);
  const authFetch = withWorkloadIdentity({ assertion: fileToken(file) })();

  await test("withWorkloadIdentity + fileToken: a projected token gets an access token for the resource", async () => {
    const response = await authFetch(t.resource);
    assert(response.status === 200, `status ${response.status}`);
  });

  await test("a rotated file is read by the next token request: an expired token (refused), then a valid one", async () => {
    await project(await idp.mint({ iss, sub, aud: t.issuer }, -120));
    await authFetch.clearTokens();
    const refused = await authFetch(t.resource).then(
      () => undefined,
      (error) => error,
    );
    assert(refused?.code === "invalid_grant", `expected invalid_grant for the rotated, expired token, got ${refused?.code ?? "a response"}`);
    await project(await idp.mint({ iss, sub, aud: t.issuer }));
    const response = await authFetch(t.resource);
    assert(response.status === 200, `status ${response.status} after the second rotation`);
  });

  await test("a missing file is assertion_unavailable naming the path", async () => {
    const error = await fileToken(path.join(dir, "absent"))({ audience: "x", tokenEndpoint: "https://x" }).then(
      () => undefined,
      (e) => e,
    );
    assert(error?.code === "assertion_unavailable", `code ${error?.code}`);
    assert(error.message.includes(path.join(dir, "absent")), error.message);
  });
  const passed = results.filter((r) => r.ok).length;
  summary = { runtime, passed, failed: results.length - passed, skipped: 0, total: results.length, results };
} catch (error) {
  summary = crashed(label, error);
} finally {
  if (dir) await rm(dir, { recursive: true, force: true });
}
console.log(formatSummary(label, summary));
const code = summary.failed > 0 || summary.total === 0 ? 1 : 0;
if (globalThis.Deno) globalThis.Deno.exit(code);
else globalThis.process.exitCode = code;
