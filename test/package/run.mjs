// Packaging checks: what users install, installed the way users install it.
//
//   npm run test:package            (= npm run build && node test/package/run.mjs)
//
// 1. publint and `attw --pack .` (are the types wrong?) are clean.
// 2. `npm pack` → the tarball holds dist/, README, LICENSE, package.json and nothing else; the ESM
//    library has no `node:` imports.
// 3. The tarball is installed with `npm install <tgz>` (dependencies from the registry) into a
//    fresh temp project, then: a CommonJS smoke test (require + a full token flow against the
//    loopback server, client_secret_basic and private_key_jwt), an ESM one (import), both subpaths
//    (`/msw` with require and import), and tsc over .cts/.mts consumers (node16 resolution).
// 4. The bin through `npx` in that project, offline (cli.mjs): --help, --version, token, fetch,
//    the stdio bridge (with the MCP SDK, installed there as the optional peer), and without it.
// Prints `ok - …` lines and finally `N passed, N failed`; exits non-zero on any failure.
// KEEP_TMP=1 keeps the temp project.
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startServer } from "../runtimes/server.mjs";
import { cliChecks } from "./cli.mjs";

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const bin = (name) => path.join(ROOT, "node_modules", ".bin", name);
const started = Date.now();

const results = [];
async function check(name, fn) {
  const t0 = Date.now();
  try {
    const note = await fn();
    results.push({ name, ok: true });
    console.log(`ok - ${name} (${Date.now() - t0} ms)${note ? `  ${note}` : ""}`);
  } catch (error) {
    results.push({ name, ok: false });
    const detail = [error.message, error.stdout, error.stderr].filter(Boolean).join("\n").trim();
    console.log(
      `not ok - ${name} (${Date.now() - t0} ms)\n${detail
        .split("\n")
        .map((l) => `    ${l}`)
        .join("\n")}`,
    );
  }
}

async function sh(command, args, options = {}) {
  return run(command, args, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 240_000, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" }, ...options });
}

if (!existsSync(path.join(ROOT, "dist", "index.js"))) {
  console.error("dist/ is missing: run `npm run build` first (npm run test:package does).");
  process.exit(1);
}

const pkg = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8"));
const tmp = await mkdtemp(path.join(os.tmpdir(), "mcc-package-"));
const server = await startServer();
let tarball;

try {
  await check("publint", async () => {
    const { stdout } = await sh(bin("publint"), ["--strict"]);
    if (!/All good!/.test(stdout)) throw Object.assign(new Error("publint reported problems"), { stdout });
  });

  await check("attw --pack . (no problems in any resolution mode: node10, node16 CJS/ESM, bundler)", async () => {
    // Exit code 1 on any problem; the table says which entry point and mode.
    await sh(bin("attw"), ["--pack", ".", "--format", "table"]);
  });

  await check("npm pack: dist, README, LICENSE, package.json only", async () => {
    const { stdout } = await sh("npm", ["pack", "--json", "--pack-destination", tmp]);
    const [info] = JSON.parse(stdout);
    tarball = path.join(tmp, info.filename);
    const files = info.files.map((f) => f.path);
    const stray = files.filter((f) => !(f.startsWith("dist/") || ["README.md", "LICENSE", "package.json"].includes(f)));
    if (stray.length) throw new Error(`unexpected files in the tarball: ${stray.join(", ")}`);
    for (const needed of [
      "dist/index.js",
      "dist/index.cjs",
      "dist/index.d.ts",
      "dist/index.d.cts",
      "dist/msw/index.js",
      "dist/msw/index.cjs",
      "dist/adapters.js",
      "dist/adapters.cjs",
      "dist/adapters.d.ts",
      "dist/adapters.d.cts",
      ...["idb", "redis", "cloudflare", "deno"].flatMap((store) => [
        `dist/stores/${store}.js`,
        `dist/stores/${store}.cjs`,
        `dist/stores/${store}.d.ts`,
        `dist/stores/${store}.d.cts`,
      ]),
      "package.json",
    ]) {
      if (!files.includes(needed)) throw new Error(`${needed} missing from the tarball`);
    }
    return `${info.filename}, ${files.length} files, ${(info.size / 1024).toFixed(1)} KB packed, ${(info.unpackedSize / 1024).toFixed(1)} KB unpacked`;
  });

  await check("the ESM library has no node: imports and no require()", async () => {
    const dist = path.join(ROOT, "dist");
    const offenders = [];
    // The bin (dist/cli/) is Node-only; cli.mjs checks that it is the only Node code.
    const files = (await readdir(dist, { recursive: true })).filter((file) => file.endsWith(".js") && !file.startsWith(`cli${path.sep}`));
    for (const file of files) {
      const text = await readFile(path.join(dist, file), "utf8");
      if (/from\s*["']node:|import\(\s*["']node:|\brequire\(/.test(text)) offenders.push(file);
    }
    if (offenders.length) throw new Error(`node-only code in ${offenders.join(", ")}`);
    if (!files.includes(path.join("stores", "redis.js"))) throw new Error("dist/stores/*.js not checked");
    return `${files.length} files`;
  });

  const project = path.join(tmp, "consumer");
  await check("npm install <tarball> (+ msw and the MCP SDK, the optional peers) into a fresh project", async () => {
    if (!tarball) throw new Error("no tarball (npm pack failed)");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(project, { recursive: true });
    await writeFile(path.join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }, null, 2));
    const msw = pkg.devDependencies?.msw ?? pkg.peerDependencies?.msw ?? "2";
    const sdk = pkg.devDependencies?.["@modelcontextprotocol/sdk"] ?? pkg.peerDependencies?.["@modelcontextprotocol/sdk"] ?? "1";
    await sh("npm", ["install", tarball, `msw@${msw}`, `@modelcontextprotocol/sdk@${sdk}`, "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], {
      cwd: project,
    });
    const installed = JSON.parse(await readFile(path.join(project, "node_modules", pkg.name, "package.json"), "utf8"));
    if (installed.version !== pkg.version) throw new Error(`installed ${installed.version}, packed ${pkg.version}`);
  });

  // One tenant per smoke test on the loopback server, plus an RSA key for private_key_jwt.
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" });
  const jwk = publicKey.export({ format: "jwk" });
  async function tenant() {
    const response = await fetch(`${server.baseUrl}/__control/tenants`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        clients: [
          { clientId: "smoke-secret", clientSecret: "smoke s3cret" },
          { clientId: "smoke-key", jwks: [jwk] },
        ],
      }),
    });
    return response.json();
  }

  // The same flow for require() and import(): secret, private key, typed error, msw and adapters subpaths.
  const flow = (load, loadMsw, loadAdapters) => `
    const assert = (c, m) => { if (!c) throw new Error(m); };
    const { withClientCredentials, ClientCredentialsError } = ${load};
    const env = JSON.parse(process.env.SMOKE);
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    const call = async (authFetch) => {
      const response = await authFetch(env.resource, { method: "POST", headers: { "content-type": "application/json" }, body });
      const json = await response.json();
      assert(response.status === 200 && json.ok === true && json.body === body, "resource call failed: " + JSON.stringify(json));
      return json;
    };
    const secret = withClientCredentials({ clientId: "smoke-secret", clientSecret: "smoke s3cret" })(fetch);
    assert((await call(secret)).clientId === "smoke-secret", "secret client");
    const token = await secret.getToken(env.resource);
    assert(typeof token.accessToken === "string" && token.expiresAt > Date.now(), "getToken()");
    const { authProvider } = ${loadAdapters};
    const provider = authProvider(secret, env.resource);
    assert((await provider.token()) === token.accessToken, "authProvider().token() serves the cached token");
    await provider.onUnauthorized();
    const renewed = await provider.token();
    assert(typeof renewed === "string" && renewed !== token.accessToken, "onUnauthorized() makes token() ask for a new token");
    const keyed = withClientCredentials({ clientId: "smoke-key", privateKey: env.pem })(fetch);
    assert((await call(keyed)).clientId === "smoke-key", "private_key_jwt client");
    const wrong = withClientCredentials({ clientId: "smoke-secret", clientSecret: "nope" })(fetch);
    let error;
    try { await wrong(env.resource); } catch (e) { error = e; }
    assert(error instanceof ClientCredentialsError && error.phase === "token" && error.code === "invalid_client" && error.status === 401, "typed error: " + error);
    const { createMcpAuthMock } = ${loadMsw};
    const mock = createMcpAuthMock({ clients: [{ clientId: "a", clientSecret: "b" }] });
    assert(Array.isArray(mock.handlers) && mock.handlers.length >= 3 && typeof mock.fault === "function", "msw kit");
    const counts = await (await fetch(env.counts)).json();
    assert(counts.token === 4, "expected 4 token requests, got " + counts.token);
    console.log("smoke ok");
  `;

  async function smoke(file, source) {
    const t = await tenant();
    await writeFile(path.join(project, file), source);
    const env = { ...process.env, SMOKE: JSON.stringify({ resource: t.resource, pem, counts: `${server.baseUrl}/__control/tenants/${t.id}/counts` }) };
    const { stdout } = await sh(process.execPath, [file], { cwd: project, env });
    if (!stdout.includes("smoke ok")) throw Object.assign(new Error("no 'smoke ok'"), { stdout });
  }

  await check(
    "CommonJS: require('mcp-client-credentials') + full token flow (secret, private_key_jwt, typed error), require('…/msw'), require('…/adapters')",
    () =>
      smoke(
        "smoke.cjs",
        `(async () => {${flow(`require("${pkg.name}")`, `require("${pkg.name}/msw")`, `require("${pkg.name}/adapters")`)}})().catch((e) => { console.error(e); process.exit(1); });`,
      ),
  );

  await check("ESM: import 'mcp-client-credentials' + full token flow, import '…/msw', import '…/adapters'", () =>
    smoke("smoke.mjs", flow(`await import("${pkg.name}")`, `await import("${pkg.name}/msw")`, `await import("${pkg.name}/adapters")`)),
  );

  // Every store subpath loads both ways and exposes its functions; three instances share a sealed memory store.
  const stores = (load) => `
    const assert = (c, m) => { if (!c) throw new Error(m); };
    const expected = { idb: ["idbStore"], redis: ["redisStore"], cloudflare: ["kvStore", "durableObjectStore", "TokenStoreDurableObject"], deno: ["denoKvStore"] };
    for (const [store, names] of Object.entries(expected)) {
      const mod = ${load('name + "/stores/" + store')};
      for (const n of names) assert(typeof mod[n] === "function", store + ": " + n + " is " + typeof mod[n]);
    }
    const { withClientCredentials, memoryStore, sealedStore } = ${load("name")};
    const env = JSON.parse(process.env.SMOKE);
    const store = sealedStore(memoryStore(), "${Buffer.alloc(32, 7).toString("base64")}");
    for (let i = 0; i < 3; i++) {
      const response = await withClientCredentials({ clientId: "smoke-secret", clientSecret: "smoke s3cret", store })(fetch)(env.resource);
      assert(response.status === 200, "status " + response.status);
    }
    const counts = await (await fetch(env.counts)).json();
    assert(counts.token === 1, "expected 1 token request for 3 instances sharing a store, got " + counts.token);
    console.log("smoke ok");
  `;

  await check("store subpaths with require(): idb, redis, cloudflare, deno; sealedStore(memoryStore()) shared by 3 instances", () =>
    smoke(
      "stores.cjs",
      `const name = "${pkg.name}"; (async () => {${stores((spec) => `require(${spec})`)}})().catch((e) => { console.error(e); process.exit(1); });`,
    ),
  );

  await check("store subpaths with import(): idb, redis, cloudflare, deno; sealedStore(memoryStore()) shared by 3 instances", () =>
    smoke("stores.mjs", `const name = "${pkg.name}";${stores((spec) => `await import(${spec})`)}`),
  );

  // The assertion sources load both ways; fileToken reads a real file; withWorkloadIdentity is exported.
  const sources = (load) => `
    const assert = (c, m) => { if (!c) throw new Error(m); };
    const { fileToken } = ${load('name + "/sources/file"')};
    const { envToken, githubActionsToken } = ${load('name + "/sources"')};
    const { withWorkloadIdentity } = ${load("name")};
    assert([fileToken, envToken, githubActionsToken, withWorkloadIdentity].every((f) => typeof f === "function"), "a source is missing");
    const file = require("node:path").join(require("node:os").tmpdir(), "mcc-smoke-" + process.pid);
    require("node:fs").writeFileSync(file, "a.b.c\\n");
    assert((await fileToken(file)({ audience: "x", tokenEndpoint: "https://x" })) === "a.b.c", "fileToken");
    process.env.MCC_SMOKE_ASSERTION = "d.e.f";
    assert((await envToken("MCC_SMOKE_ASSERTION")({ audience: "x", tokenEndpoint: "https://x" })) === "d.e.f", "envToken");
    assert(typeof withWorkloadIdentity({ assertion: fileToken(file) })() === "function", "withWorkloadIdentity");
    // A source's error (the subpath bundles carry their own copy of the class) is the main entry's class.
    const { ClientCredentialsError, isClientCredentialsError } = ${load("name")};
    const failed = await withWorkloadIdentity({ assertion: envToken("MCC_SMOKE_MISSING"), tokenEndpoint: "https://auth.example/token", resource: "https://mcp.example/mcp" })().getToken().catch((e) => e);
    assert(failed instanceof ClientCredentialsError && isClientCredentialsError(failed), "a source's error is no ClientCredentialsError of the main entry: " + failed);
    assert(failed.code === "assertion_unavailable", "code " + failed.code);
    console.log("smoke ok");
  `;

  await check("source subpaths with require() and import(): fileToken, envToken, githubActionsToken, withWorkloadIdentity", async () => {
    await smoke(
      "sources.cjs",
      `const name = "${pkg.name}"; (async () => {${sources((spec) => `require(${spec})`)}})().catch((e) => { console.error(e); process.exit(1); });`,
    );
    await smoke(
      "sources.mjs",
      `import { createRequire } from "node:module"; const require = createRequire(import.meta.url); const name = "${pkg.name}";${sources((spec) => `await import(${spec})`)}`,
    );
  });

  await check("CommonJS: require('mcp-client-credentials/package.json') and the exports map", async () => {
    await writeFile(
      path.join(project, "exports.cjs"),
      `const p = require("${pkg.name}/package.json");
       if (p.version !== ${JSON.stringify(pkg.version)}) throw new Error("version " + p.version);
       try { require("${pkg.name}/dist/index.cjs"); throw new Error("deep import should be blocked by exports"); }
       catch (e) { if (e.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") throw e; }
       console.log("smoke ok");`,
    );
    const { stdout } = await sh(process.execPath, ["exports.cjs"], { cwd: project });
    if (!stdout.includes("smoke ok")) throw Object.assign(new Error("no 'smoke ok'"), { stdout });
  });

  await check("TypeScript consumers (.mts and .cts, module node16, skipLibCheck off) type-check", async () => {
    await writeFile(
      path.join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "node16",
          moduleResolution: "node16",
          target: "es2022",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          lib: ["es2022", "dom"],
          types: [],
        },
        files: ["check.mts", "check.cts"],
      }),
    );
    // The store subpaths type-check for consumers too, and their results are TokenStores.
    const storeTypes = `
      import { memoryStore, sealedStore, type TokenStore } from "${pkg.name}";
      import { idbStore } from "${pkg.name}/stores/idb";
      import { redisStore } from "${pkg.name}/stores/redis";
      import { kvStore, durableObjectStore, TokenStoreDurableObject } from "${pkg.name}/stores/cloudflare";
      import { denoKvStore } from "${pkg.name}/stores/deno";
      import { authProvider, type AuthProvider } from "${pkg.name}/adapters";
      import { envToken, githubActionsToken } from "${pkg.name}/sources";
      import { fileToken } from "${pkg.name}/sources/file";
      import { withWorkloadIdentity, type AssertionSource } from "${pkg.name}";
      const sources: AssertionSource[] = [envToken("X"), githubActionsToken({ audience: "a" }), fileToken("/t"), "a.b.c"];
      const workload = withWorkloadIdentity({ assertion: sources[0]!, clientId: "w" })(fetch);
      void workload;
      const stores: Array<(...args: never[]) => TokenStore> = [idbStore, redisStore, kvStore, durableObjectStore, denoKvStore, memoryStore];
      const sealed: TokenStore = sealedStore(memoryStore(), new Uint8Array(32));
      const provider: AuthProvider = authProvider(withClientCredentials({ clientId: "x", clientSecret: "y" })(fetch), "https://mcp.example.com/mcp");
      void stores; void sealed; void TokenStoreDurableObject; void provider;`;
    const body = (errorImport) => `
      const authFetch = withClientCredentials({ clientId: "x", clientSecret: "y" })(fetch);
      const token: Promise<AccessToken> = authFetch.getToken("https://mcp.example.com/mcp");
      const phase: "config" | "discovery" | "token" | "resource" = new ClientCredentialsError("token", "m").phase;
      const mock: McpAuthMock = createMcpAuthMock({ clients: [] });
      void token; void phase; void mock; ${errorImport}`;
    await writeFile(
      path.join(project, "check.mts"),
      `import { withClientCredentials, ClientCredentialsError, type AccessToken } from "${pkg.name}";
       import { createMcpAuthMock, type McpAuthMock } from "${pkg.name}/msw";${body("")}${storeTypes}`,
    );
    await writeFile(
      path.join(project, "check.cts"),
      `import { withClientCredentials, ClientCredentialsError, type AccessToken } from "${pkg.name}";
       import { createMcpAuthMock, type McpAuthMock } from "${pkg.name}/msw";${body("")}${storeTypes}\nexport {};`,
    );
    // skipLibCheck is off so our own .d.ts/.d.cts are checked; msw's declarations have errors of
    // their own under node16 CJS (they import the ESM-only "rettime"), which are not ours to judge.
    const output = await sh(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "."], { cwd: project }).then(
      () => "",
      (error) => String(error.stdout ?? error.message),
    );
    const ours = output.split("\n").filter((line) => /error TS/.test(line) && !line.startsWith("node_modules/msw/"));
    if (ours.length) throw new Error(ours.join("\n"));
    const ignored = output.split("\n").filter((line) => line.startsWith("node_modules/msw/")).length;
    return ignored ? `(${ignored} errors inside msw's own declarations ignored)` : "";
  });

  await cliChecks({ root: ROOT, pkg, tmp, tarball, project, check, sh });
} finally {
  await server.close();
  if (!process.env.KEEP_TMP) await rm(tmp, { recursive: true, force: true });
  else console.log(`kept ${tmp}`);
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`\npackage checks: ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
