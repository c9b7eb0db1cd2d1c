#!/usr/bin/env node
// Agent frameworks against the real protected stack (oidc-provider + MCP SDK server on 127.0.0.1):
// each framework's own MCP client lists the tools and calls one, with withClientCredentials()
// doing the auth, and the README's recipes in examples/ run verbatim.
//
//   node test/frameworks/run.mjs        (npm run test:frameworks builds dist/ first)
//
// The frameworks live in test/frameworks/package.json (exact pins, package-lock.json), installed
// here with `npm ci` when node_modules is missing or the lock has changed. mcp-client-credentials
// is a symlink to the repository root, so it is always the current dist/. Frameworks whose
// packages require Node 22 run on Node 22 (.cache/node, from test/runtimes/node-versions.mjs).
// Last line: `N passed, N failed`; non-zero exit on any failure. Nothing is skipped.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generateClientKey, privateKeyJwtClient, randomSecret, secretClient } from "../e2e/servers/keys.mjs";
import { start } from "../e2e/servers/stack.mjs";
import { ensureNodes } from "../runtimes/node-versions.mjs";
import { installDependencies, outputOf, ROOT, redactor, waitForDist } from "../support/suite-runner.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MODULES = path.join(HERE, "node_modules");

/** node: "22" where the framework's packages declare engines >= 22; "self" = the Node running this. */
const FRAMEWORKS = [
  { name: "ai-sdk", packages: ["@ai-sdk/mcp"], node: "22" },
  { name: "mastra", packages: ["@mastra/mcp", "@mastra/core"], node: "22" },
  { name: "openai-agents", packages: ["@openai/agents", "@modelcontextprotocol/client"], node: "22" },
  { name: "langchain", packages: ["@langchain/mcp-adapters", "@langchain/core", "@modelcontextprotocol/sdk"], node: "self" },
];

function linkPackage() {
  // Not a file: dependency: npm would install the root package's own dependencies into the root.
  const link = path.join(MODULES, "mcp-client-credentials");
  rmSync(link, { force: true, recursive: false });
  symlinkSync(path.relative(MODULES, ROOT), link, "dir");
}

function versionOf(name) {
  return JSON.parse(readFileSync(path.join(MODULES, name, "package.json"), "utf8")).version;
}

/** Loopback stats for the children: successful token requests per client, from oidc-provider's events. */
async function startStats(as) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname !== "/grants") return res.writeHead(404).end();
    const clientId = url.searchParams.get("client_id");
    const count = as.events.filter((e) => e.type === "grant.success" && e.clientId === clientId).length;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ count }));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function runChild(binary, file, env) {
  const child = spawn(binary, [file], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const { code, signal, output, error } = await outputOf(child, 240_000);
  return { code, signal, output: error ? output + String(error) : output };
}

async function main() {
  installDependencies(HERE);
  linkPackage();
  await waitForDist();
  const src = path.join(ROOT, "src", "fetch.ts");
  if (existsSync(src) && statSync(src).mtimeMs > statSync(path.join(ROOT, "dist", "index.js")).mtimeMs) {
    console.log("note: src/ is newer than dist/ (npm run test:frameworks builds first)");
  }
  const nodes = { self: { binary: process.execPath, version: process.version } };
  for (const { version, binary, error } of ensureNodes(["22"])) {
    nodes[version] = { binary, error, version: binary ? execFileSync(binary, ["--version"], { encoding: "utf8" }).trim() : undefined };
  }

  // Two clients per framework (private_key_jwt and client_secret_basic), so each file's token
  // counts are its own and the files can run at the same time.
  const clients = {};
  const registrations = [];
  for (const { name } of FRAMEWORKS) {
    const key = await generateClientKey("ES256");
    clients[name] = { jwt: { clientId: `${name}-jwt`, privateKey: key.privateKeyPem }, secret: { clientId: `${name}-secret`, clientSecret: randomSecret() } };
    registrations.push(privateKeyJwtClient(clients[name].jwt.clientId, key), secretClient(clients[name].secret.clientId, clients[name].secret.clientSecret));
  }
  const stack = await start({ clients: registrations });
  const stats = await startStats(stack.as);
  // Every secret the children hold (and any JWT, Bearer token or private key) is cut from what we print.
  const redact = redactor(Object.values(clients).flatMap((c) => [c.jwt.privateKey, c.secret.clientSecret]));

  let passed = 0;
  let failed = 0;
  try {
    const runs = FRAMEWORKS.map(async (framework) => {
      const node = nodes[framework.node];
      if (!node.binary) return { framework, node, results: [], failure: `Node ${framework.node} unavailable: ${node.error}` };
      const env = {
        FRAMEWORK_STACK: JSON.stringify({ mcpUrl: stack.mcp.url, statsUrl: stats.url, tokenEndpoint: stack.as.tokenEndpoint, ...clients[framework.name] }),
      };
      const { code, signal, output } = await runChild(node.binary, path.join(HERE, `${framework.name}.test.mjs`), env);
      const results = output
        .split("\n")
        .filter((line) => line.startsWith("@@result "))
        .map((line) => JSON.parse(line.slice("@@result ".length)));
      const noise = output
        .split("\n")
        .filter((line) => !line.startsWith("@@result "))
        .join("\n")
        .trim();
      const failure =
        results.length === 0 || (code !== 0 && results.every((r) => r.ok)) ? `exited with ${signal ?? code} after ${results.length} results` : undefined;
      return { framework, node, results, failure, noise };
    });
    for (const { framework, node, results, failure, noise } of await Promise.all(runs)) {
      const versions = framework.packages.map((p) => `${p} ${existsSync(path.join(MODULES, p)) ? versionOf(p) : "missing"}`).join(", ");
      const label = `${framework.name} [${versions}; node ${node.version ?? framework.node}]`;
      for (const result of results) {
        if (result.ok) passed += 1;
        else failed += 1;
        console.log(`${result.ok ? "ok  " : "FAIL"} ${label} › ${result.name}`);
        if (!result.ok) console.log(redact(result.error).replace(/^/gm, "       "));
      }
      if (failure) {
        failed += 1;
        console.log(`FAIL ${label} › ${failure}`);
      }
      if ((failure || results.some((r) => !r.ok)) && noise) console.log(redact(noise).replace(/^/gm, "       | "));
    }
  } finally {
    await stats.close();
    await stack.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

main().catch((error) => {
  console.log(`FAIL frameworks › ${error?.stack ?? error}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
});
