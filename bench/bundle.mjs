// What a minimal Worker that calls an OAuth-protected MCP server with client credentials weighs,
// ours side by side with the MCP SDK 1.x and v2 and oauth4webapi. esbuild, ESM, minified,
// platform neutral with browser conditions, code splitting, every chunk counted, gzip -9.
// (bench/size.mjs is the CI budget script for our own bundles; this one is the comparison.)
// Run: npm run build && node bench/bundle.mjs
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { benchDir, fmt, importOurs, machine, root, table } from "./lib/common.mjs";

const worker = (setup) => `${setup.imports}
${setup.init ?? ""}
const MCP = "https://mcp.example.com/mcp";
const rpc = () => ({ method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }) });
export default { fetch: async (request, env) => ${setup.call} };
`;

const KEY_ALG = "ES256";
const o4wCall = `oauth.protectedResourceRequest(await getToken(env), "POST", new URL(MCP), new Headers(rpc().headers), rpc().body)`;
const scenarios = [
  {
    name: "ours, client secret",
    base: "secret",
    imports: `import { withClientCredentials } from "mcp-client-credentials";`,
    init: "let authFetch;",
    call: `(authFetch ??= withClientCredentials({ clientId: env.ID, clientSecret: env.SECRET })(fetch))(MCP, rpc())`,
  },
  {
    name: "ours, private key",
    base: "key",
    imports: `import { withClientCredentials } from "mcp-client-credentials";`,
    init: "let authFetch;",
    call: `(authFetch ??= withClientCredentials({ clientId: env.ID, privateKey: env.KEY })(fetch))(MCP, rpc())`,
  },
  {
    name: "SDK 1.x withOAuth + ClientCredentialsProvider",
    base: "secret",
    imports: `import { withOAuth } from "@modelcontextprotocol/sdk/client/middleware.js";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";`,
    init: "let authFetch;",
    call: `(authFetch ??= withOAuth(new ClientCredentialsProvider({ clientId: env.ID, clientSecret: env.SECRET, expectedIssuer: env.ISSUER }), MCP)(fetch))(MCP, rpc())`,
  },
  {
    name: "SDK 1.x withOAuth + PrivateKeyJwtProvider",
    base: "key",
    imports: `import { withOAuth } from "@modelcontextprotocol/sdk/client/middleware.js";
import { PrivateKeyJwtProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";`,
    init: "let authFetch;",
    call: `(authFetch ??= withOAuth(new PrivateKeyJwtProvider({ clientId: env.ID, privateKey: env.KEY, algorithm: "${KEY_ALG}", expectedIssuer: env.ISSUER }), MCP)(fetch))(MCP, rpc())`,
  },
  {
    name: "SDK v2 withOAuth + ClientCredentialsProvider",
    base: "secret",
    imports: `import { ClientCredentialsProvider, withOAuth } from "@modelcontextprotocol/client";`,
    init: "let authFetch;",
    call: `(authFetch ??= withOAuth(new ClientCredentialsProvider({ clientId: env.ID, clientSecret: env.SECRET, expectedIssuer: env.ISSUER }), MCP)(fetch))(MCP, rpc())`,
  },
  {
    name: "SDK v2 withOAuth + PrivateKeyJwtProvider",
    base: "key",
    imports: `import { PrivateKeyJwtProvider, withOAuth } from "@modelcontextprotocol/client";`,
    init: "let authFetch;",
    call: `(authFetch ??= withOAuth(new PrivateKeyJwtProvider({ clientId: env.ID, privateKey: env.KEY, algorithm: "${KEY_ALG}", expectedIssuer: env.ISSUER }), MCP)(fetch))(MCP, rpc())`,
  },
  {
    name: "oauth4webapi, ClientSecretPost",
    base: "secret",
    imports: `import * as oauth from "oauth4webapi";`,
    init: o4wInit("oauth.ClientSecretPost(env.SECRET)"),
    call: o4wCall,
  },
  {
    name: "oauth4webapi, PrivateKeyJwt",
    base: "key",
    imports: `import * as oauth from "oauth4webapi";`,
    init: o4wInit(`oauth.PrivateKeyJwt(await crypto.subtle.importKey("pkcs8", env.KEY, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]))`),
    call: o4wCall,
  },
];

// oauth4webapi is a toolkit: AS metadata discovery, the grant, and the resource request are the
// Worker's code, with a token cached in module scope (no PRM discovery, no 401 retry).
function o4wInit(clientAuth) {
  return `let as, token, expiresAt = 0;
async function getToken(env) {
  if (token && Date.now() < expiresAt) return token;
  const issuer = new URL(env.ISSUER);
  as ??= await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer));
  const client = { client_id: env.ID };
  const response = await oauth.clientCredentialsGrantRequest(as, client, ${clientAuth}, { resource: MCP });
  const result = await oauth.processClientCredentialsResponse(as, client, response);
  expiresAt = Date.now() + (result.expires_in ?? 3600) * 1000 - 60_000;
  return (token = result.access_token);
}`;
}

await importOurs(); // waits for dist/ when a rebuild is in progress
const builtins = new Set(builtinModules);
const dir = mkdtempSync(join(tmpdir(), "mcc-bundle-"));
const results = [];
try {
  for (const scenario of scenarios) {
    const entry = join(dir, "entry.mjs");
    const out = join(dir, "out");
    rmSync(out, { recursive: true, force: true });
    writeFileSync(entry, worker(scenario));
    const externals = new Set();
    const { metafile } = await build({
      metafile: true,
      absWorkingDir: root,
      entryPoints: [entry],
      bundle: true,
      splitting: true,
      format: "esm",
      minify: true,
      platform: "neutral",
      mainFields: ["browser", "module", "main"],
      conditions: ["browser", "import"],
      outdir: out,
      nodePaths: [join(benchDir, "node_modules"), join(root, "node_modules")],
      alias: { "mcp-client-credentials": join(root, "dist/index.js") },
      logLevel: "error",
      plugins: [
        {
          name: "node-builtins-external",
          setup(b) {
            b.onResolve({ filter: /.*/ }, (args) => {
              const name = args.path.replace(/^node:/, "");
              if (!args.path.startsWith("node:") && !builtins.has(name.split("/")[0])) return undefined;
              externals.add(args.path);
              return { path: args.path, external: true };
            });
          },
        },
      ],
    });
    const files = readdirSync(out).filter((f) => f.endsWith(".js"));
    const bytes = files.map((f) => readFileSync(join(out, f)));
    // The initial load: the entry chunk and the chunks it imports statically (not import()).
    const initial = new Set();
    const visit = (path) => {
      if (initial.has(path)) return;
      initial.add(path);
      for (const dep of metafile.outputs[path].imports) if (dep.kind === "import-statement" && !dep.external) visit(dep.path);
    };
    visit(Object.keys(metafile.outputs).find((path) => metafile.outputs[path].entryPoint));
    results.push({
      ...scenario,
      initial: [...initial].reduce((sum, path) => sum + gzipSync(readFileSync(join(root, path)), { level: 9 }).length, 0),
      chunks: files.length,
      min: bytes.reduce((sum, b) => sum + b.length, 0),
      gzip: bytes.reduce((sum, b) => sum + gzipSync(b, { level: 9 }).length, 0),
      externals: [...externals].sort(),
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const ours = { secret: results[0], key: results[1] };
const footnotes = [];
const rows = results.map((r) => {
  let name = r.name;
  if (r.externals.length) {
    footnotes.push(
      `[${footnotes.length + 1}] Node built-ins left external (a Worker needs \`nodejs_compat\` or a bundler shim for them): ${r.externals.map((e) => `\`${e}\``).join(", ")}.`,
    );
    name += ` [${footnotes.length}]`;
  }
  return [
    name,
    r.chunks,
    r.min.toLocaleString("en-US"),
    r.gzip.toLocaleString("en-US"),
    `${fmt(r.gzip / ours[r.base].gzip)}×`,
    r.initial.toLocaleString("en-US"),
  ];
});
console.log(
  [
    "### Bundle size of a minimal Worker",
    "",
    machine(),
    "",
    `esbuild, ESM, minify, \`platform: "neutral"\` with \`browser\` conditions, code splitting, every chunk counted, gzip -9. Keys are ${KEY_ALG}. "× ours" compares all chunks with ours for the same kind of credential. "Initial load" counts only the entry chunk and what it imports statically: code behind \`import()\` (jose in ours and in both SDKs) loads only when used.`,
    "",
    table(["Worker", "chunks", "min, all chunks (B)", "min+gzip, all chunks (B)", "× ours", "min+gzip, initial load (B)"], rows),
    "",
    ...(footnotes.length ? footnotes : ["No library needed a Node built-in under these conditions."]),
    "",
  ].join("\n"),
);
