#!/usr/bin/env node
// npm run demo — the whole machine-to-machine flow against real software, on this machine:
//
//   oidc-provider (authorization server, issuer http://127.0.0.1:PORT/oidc)
//   MCP TypeScript SDK server (Streamable HTTP, bearer auth, protected resource metadata)
//   MCP SDK Client  ──fetch──▶  withClientCredentials(...)  ──▶  the two servers
//
// Runs once with private_key_jwt (an ES256 key generated just now) and once with a client
// secret, printing every step with its timing, then shuts everything down.
// No configuration, no internet: everything listens on 127.0.0.1, free ports.
//
//   node demo/index.mjs          human-readable (colour on a TTY unless NO_COLOR is set)
//   node demo/index.mjs --json   one JSON object per line
//
// Never printed: access tokens, client secrets, private keys.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { withClientCredentials } from "mcp-client-credentials";
import { start as startStack } from "../test/e2e/servers/stack.mjs";

const json = process.argv.includes("--json");
const color = !json && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const paint = (code) => (text) => (color ? `\x1b[${code}m${text}\x1b[0m` : String(text));
const bold = paint("1");
const dim = paint("2");
const green = paint("32");
const yellow = paint("33");
const red = paint("31");
const cyan = paint("36");

const LABEL_WIDTH = 37;

// `node demo/index.mjs | head` closes the pipe early: stop quietly.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

function out(line) {
  process.stdout.write(`${line}\n`);
}

function statusText(status) {
  if (status === undefined) return "";
  const text = String(status);
  if (status >= 200 && status < 300) return green(text);
  if (status === 401 || status === 404) return yellow(text);
  return red(text);
}

/** Relative URL for display: which server, and the path. */
function shortUrl(url, stack) {
  return url.replace(stack.as.origin, "AS").replace(stack.mcp.origin, "MCP");
}

function rpcMethod(body) {
  try {
    const text = typeof body === "string" ? body : body instanceof ArrayBuffer || ArrayBuffer.isView(body) ? new TextDecoder().decode(body) : undefined;
    return text ? JSON.parse(text).method : undefined;
  } catch {
    return undefined;
  }
}

function challengeParams(header) {
  const params = {};
  for (const match of (header ?? "").matchAll(/(\w+)="([^"]*)"/g)) params[match[1]] = match[2];
  return params;
}

const AS_FORMS = [
  [/\/\.well-known\/oauth-authorization-server\//, "RFC 8414, path inserted"],
  [/\/\.well-known\/openid-configuration\/[^/]/, "OIDC, path inserted"],
  [/\/\.well-known\/openid-configuration$/, "OIDC, path appended"],
];

/** One run of the client flow, reporting each step through `report`. */
async function runFlow({ name, stack, options, describeCredential, report }) {
  const t0 = performance.now();
  const since = () => Math.round(performance.now() - t0);
  let authMethods;
  let signingAlgs;
  let tokenRequests = 0;

  report({ step: "client", t: 0, detail: describeCredential });

  // Watches the HTTP exchanges the package makes (it calls this `next` for everything:
  // the resource, metadata and the token endpoint) to time them and show what came back.
  const observe = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    const started = performance.now();
    const response = await fetch(input, init);
    const ms = Math.round(performance.now() - started);
    const base = { method, url: shortUrl(url, stack), status: response.status, ms, t: since() };
    const readJson = async () => {
      try {
        return await response.clone().json();
      } catch {
        return undefined;
      }
    };

    if (url === stack.mcp.url) {
      const rpc = rpcMethod(init?.body);
      const authorized = new Headers(init?.headers).has("authorization");
      if (response.status === 401) {
        const params = challengeParams(response.headers.get("www-authenticate"));
        report({ step: "challenge", ...base, rpc, detail: { resource_metadata: params.resource_metadata, scope: params.scope, error: params.error } });
      } else {
        const step =
          rpc === "initialize" ? "initialize" : rpc === "notifications/initialized" ? "initialized" : (rpc ?? (method === "GET" ? "sse-stream" : "mcp"));
        report({ step, ...base, rpc, authorized, ...(rpc === "initialize" ? { retried: true } : {}) });
      }
    } else if (url.includes("/.well-known/oauth-protected-resource")) {
      const body = response.ok ? await readJson() : undefined;
      report({
        step: "resource-metadata",
        ...base,
        detail: body ? { resource: body.resource, authorization_servers: body.authorization_servers, scopes_supported: body.scopes_supported } : undefined,
      });
    } else if (url.includes("/.well-known/")) {
      const form = AS_FORMS.find(([pattern]) => pattern.test(new URL(url).pathname))?.[1];
      const body = response.ok ? await readJson() : undefined;
      if (body) {
        authMethods = body.token_endpoint_auth_methods_supported;
        signingAlgs = body.token_endpoint_auth_signing_alg_values_supported;
      }
      report({ step: "authorization-server-metadata", ...base, form, detail: body ? { issuer: body.issuer, token_endpoint: body.token_endpoint } : undefined });
    } else if (url === stack.as.tokenEndpoint) {
      tokenRequests++;
      const body = await readJson();
      // Only the client assertion's JOSE header (alg, kid) is shown, never the assertion.
      let assertion;
      try {
        const form = new URLSearchParams(typeof init?.body === "string" ? init.body : String(init?.body ?? ""));
        const jwt = form.get("client_assertion");
        if (jwt) assertion = JSON.parse(Buffer.from(jwt.split(".")[0], "base64url").toString());
      } catch {
        assertion = undefined;
      }
      // The token itself is never shown: only its type, lifetime, scope and audience.
      let audience;
      try {
        audience = JSON.parse(Buffer.from(body.access_token.split(".")[1], "base64url").toString()).aud;
      } catch {
        audience = undefined;
      }
      report({
        step: "token",
        ...base,
        ...(assertion ? { assertion: { alg: assertion.alg, kid: assertion.kid } } : {}),
        detail: response.ok
          ? { token_type: body.token_type, expires_in: body.expires_in, scope: body.scope, audience, access_token: "(redacted)" }
          : { error: body?.error, error_description: body?.error_description },
      });
    } else {
      report({ step: "http", ...base });
    }
    return response;
  };

  const authFetch = withClientCredentials({
    ...options,
    onEvent: (event) => {
      if (event.type === "discovered") {
        report({
          step: "client-authentication",
          t: since(),
          detail: {
            method: event.authMethod,
            server_supports: authMethods,
            ...(event.authMethod === "private_key_jwt" ? { server_signing_algs: signingAlgs } : {}),
          },
        });
      }
    },
  })(observe);

  const client = new Client({ name: "mcp-client-credentials-demo", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(stack.mcp.url), { fetch: authFetch });
  let started = performance.now();
  await client.connect(transport);
  report({
    step: "connected",
    t: since(),
    ms: Math.round(performance.now() - started),
    detail: { server: client.getServerVersion(), session: transport.sessionId ? `${transport.sessionId.slice(0, 8)}…` : undefined },
  });

  started = performance.now();
  const { tools } = await client.listTools();
  report({ step: "tools", t: since(), ms: Math.round(performance.now() - started), detail: { tools: tools.map((tool) => tool.name) } });

  started = performance.now();
  const sum = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
  report({ step: "result", t: since(), ms: Math.round(performance.now() - started), detail: { call: "add(2, 3)", result: sum.content?.[0]?.text } });

  started = performance.now();
  const who = await client.callTool({ name: "whoami", arguments: {} });
  const { clientId, scopes } = who.structuredContent ?? {};
  report({
    step: "result",
    t: since(),
    ms: Math.round(performance.now() - started),
    detail: { call: "whoami()", result: `client ${clientId}, scopes ${scopes?.join(" ")}` },
  });

  await client.close();
  report({ step: "done", t: since(), detail: { token_requests: tokenRequests } });
  return { name, ms: since(), tokenRequests };
}

// ---------------------------------------------------------------------------------------------
// Presentation

function describeDetail(event) {
  const d = event.detail ?? {};
  switch (event.step) {
    case "client":
      return d;
    case "challenge":
      return `${dim("WWW-Authenticate: Bearer")} resource_metadata=${cyan(d.resource_metadata)}${d.scope ? ` scope=${d.scope}` : ""}`;
    case "resource-metadata":
      return event.status === 200
        ? `resource=${cyan(d.resource)}  authorization_servers=${cyan(d.authorization_servers?.join(", "))}${d.scopes_supported ? `  scopes=${d.scopes_supported.join(" ")}` : ""}`
        : dim("not here");
    case "authorization-server-metadata":
      return event.status === 200
        ? `${dim(`(${event.form})`)} issuer=${cyan(d.issuer)}  token_endpoint=${cyan(d.token_endpoint)}`
        : dim(`(${event.form}) not here`);
    case "client-authentication":
      return `${bold(d.method)}  ${dim(`server offers ${d.server_supports?.join(", ")}${d.server_signing_algs ? `; algs ${d.server_signing_algs.join(", ")}` : ""}`)}`;
    case "token":
      return event.status === 200
        ? `${event.assertion ? `${dim("client assertion")} ${event.assertion.alg}${event.assertion.kid ? dim(` kid ${event.assertion.kid}`) : ""}  ` : ""}${d.token_type}, expires in ${d.expires_in} s, scope ${d.scope}, aud ${cyan(d.audience)}  ${dim("token: (redacted)")}`
        : red(`${d.error}: ${d.error_description ?? ""}`);
    case "initialize":
      return `${dim("retried with")} Authorization: Bearer ${dim("(redacted)")}`;
    case "connected":
      return `${d.server?.name} ${d.server?.version}${d.session ? dim(`  session ${d.session}`) : ""}`;
    case "tools":
      return d.tools.join(", ");
    case "result":
      return `${d.call} → ${typeof d.result === "string" ? bold(d.result) : JSON.stringify(d.result)}`;
    case "done":
      return `${d.token_requests} token request${d.token_requests === 1 ? "" : "s"}`;
    default:
      return event.authorized ? dim("Bearer (redacted)") : "";
  }
}

const LABELS = {
  challenge: (e) => `${e.method} /mcp ${e.rpc ?? ""} (no token)`,
  "resource-metadata": () => "protected resource metadata",
  "authorization-server-metadata": () => "authorization server metadata",
  "client-authentication": () => "client authentication",
  token: (e) => `${e.method} token endpoint`,
  "sse-stream": () => "GET /mcp (server-sent events)",
  mcp: (e) => `${e.method} /mcp`,
  initialize: () => "POST /mcp initialize",
  initialized: () => "POST /mcp notifications/initialized",
  "tools/list": () => "POST /mcp tools/list",
  "tools/call": () => "POST /mcp tools/call",
  connected: () => "client.connect() done",
  tools: () => "tools",
  result: () => "tool result",
  done: () => "done",
};

function printText(event) {
  if (event.step === "client") {
    out(`  ${dim("credential".padEnd(LABEL_WIDTH + 22))}${event.detail}`);
    return;
  }
  const t = `${String(event.t ?? "").padStart(5)} ms`;
  const took = event.ms === undefined ? "".padEnd(8) : `${String(event.ms).padStart(5)} ms`;
  const label = (LABELS[event.step] ?? (() => event.step))(event).padEnd(LABEL_WIDTH);
  const status = event.status === undefined ? "   " : statusText(event.status);
  out(`  ${dim(t)}  ${took}  ${bold(label)} ${status}  ${describeDetail(event)}`);
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const t0 = performance.now();
  const stack = await startStack();
  const emit = (event) => (json ? out(JSON.stringify(event)) : undefined);
  emit({
    type: "servers",
    authorizationServer: { issuer: stack.as.issuer, software: "oidc-provider" },
    mcpServer: { url: stack.mcp.url, software: "@modelcontextprotocol/sdk" },
    startupMs: Math.round(performance.now() - t0),
  });
  if (!json) {
    out(bold("mcp-client-credentials demo") + dim("  — client_credentials for MCP, against real servers on 127.0.0.1"));
    out(`  ${"authorization server".padEnd(22)} ${cyan(stack.as.issuer)} ${dim("(oidc-provider, JWT access tokens per resource)")}`);
    out(`  ${"MCP server".padEnd(22)} ${cyan(stack.mcp.url)} ${dim("(MCP TypeScript SDK, Streamable HTTP, bearer auth)")}`);
    out(dim(`  started in ${Math.round(performance.now() - t0)} ms; times below: since the run started, and how long each step took`));
  }

  const { privateKeyJwt, clientSecret } = stack.credentials;
  const runs = [
    {
      name: "private_key_jwt",
      title: "1. private_key_jwt with an ES256 key generated just now",
      options: { clientId: privateKeyJwt.clientId, privateKey: privateKeyJwt.privateKey },
      describeCredential: `client_id ${privateKeyJwt.clientId}, private key (ES256, kid ${privateKeyJwt.publicJwk.kid}) — not shown`,
    },
    {
      name: "client_secret",
      title: "2. client secret",
      options: { clientId: clientSecret.clientId, clientSecret: clientSecret.clientSecret },
      describeCredential: `client_id ${clientSecret.clientId}, client secret (${clientSecret.clientSecret.length} chars) — not shown`,
    },
  ];

  const results = [];
  try {
    for (const run of runs) {
      if (!json) {
        out("");
        out(bold(run.title));
        out(dim(`  ${"t".padStart(8)}  ${"took".padStart(8)}  ${"step".padEnd(LABEL_WIDTH)} status`));
      }
      const report = (event) => (json ? emit({ type: "step", run: run.name, ...event }) : printText(event));
      results.push(await runFlow({ ...run, stack, report }));
    }
  } finally {
    await stack.close();
  }
  const totalMs = Math.round(performance.now() - t0);
  if (json) {
    emit({ type: "summary", ok: true, runs: results, totalMs });
  } else {
    out("");
    out(`${green("✓")} ${results.map((r) => `${r.name} ${r.ms} ms`).join(", ")}; servers stopped; total ${totalMs} ms`);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    const message =
      error?.name === "ClientCredentialsError" ? `${error.message} (phase ${error.phase}, code ${error.code ?? "-"})` : (error?.stack ?? String(error));
    if (json) out(JSON.stringify({ type: "summary", ok: false, error: message }));
    else process.stderr.write(`${red("demo failed:")} ${message}\n`);
    process.exit(1);
  },
);
