#!/usr/bin/env node
// MCP conformance-suite client for mcp-client-credentials (SEP-1046 client credentials).
//
//   npx conformance client --command "node examples/conformance-client.mjs" --scenario auth/client-credentials-jwt
//
// The runner sets MCP_CONFORMANCE_SCENARIO and MCP_CONFORMANCE_CONTEXT (JSON: client_id +
// client_secret, or client_id + private_key_pem + signing_algorithm) and appends the MCP
// server URL as the last argument. This client runs a whole MCP session through the package:
// initialize (+ notifications/initialized), tools/list, and tools/call when there are tools.
// Exit code 0 on success, 1 when the package refuses (e.g. a metadata mismatch) or fails.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ClientCredentialsError, withClientCredentials } from "mcp-client-credentials";

const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? "(none)";
const serverUrl = process.argv.at(-1);
const log = (...parts) => console.error(`[conformance-client] ${parts.join(" ")}`);

function credentialsFrom(context) {
  if (context.client_id && context.private_key_pem) {
    return {
      kind: `private_key_jwt (${context.signing_algorithm ?? "alg from key"})`,
      options: {
        clientId: context.client_id,
        privateKey: context.private_key_pem,
        ...(context.signing_algorithm ? { algorithm: context.signing_algorithm } : {}),
      },
    };
  }
  if (context.client_id && context.client_secret) {
    return { kind: "client secret", options: { clientId: context.client_id, clientSecret: context.client_secret } };
  }
  // Scenarios that test discovery checks (resource or issuer mismatch) give no credentials:
  // the client must refuse before it would use any. A placeholder is never sent anywhere then.
  return { kind: "none given (placeholder)", options: { clientId: "conformance-client", clientSecret: "placeholder-never-sent" } };
}

async function main() {
  if (!serverUrl || !/^https?:\/\//.test(serverUrl)) throw new Error(`expected the server URL as the last argument, got ${JSON.stringify(serverUrl)}`);
  const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT || "{}");
  const { kind, options } = credentialsFrom(context);
  log(`scenario ${scenario}, server ${serverUrl}, credentials: ${kind}`);

  const authFetch = withClientCredentials({
    ...options,
    ...(context.issuer ? { issuer: context.issuer } : {}),
    onEvent: (event) => {
      if (event.type === "discovery") log(`discovery ${event.kind} ${event.url} → ${event.status ?? "-"}`);
      if (event.type === "discovered") log(`issuer ${event.issuer}, token endpoint ${event.tokenEndpoint}, ${event.authMethod}`);
      if (event.type === "token-response") log(`token response ${event.status}${event.error ? ` ${event.error}` : ""}`);
    },
  })(fetch);

  const client = new Client({ name: "mcp-client-credentials-conformance", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { fetch: authFetch }));
  log("initialized");
  try {
    const { tools } = await client.listTools();
    log(`tools/list: ${tools.map((tool) => tool.name).join(", ") || "(none)"}`);
    const tool = tools.find((t) => !(t.inputSchema?.required?.length > 0)) ?? tools[0];
    if (tool) {
      const result = await client.callTool({ name: tool.name, arguments: {} });
      log(`tools/call ${tool.name}: ${result.isError ? "error result" : "ok"}`);
    }
  } finally {
    await client.close();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    if (error instanceof ClientCredentialsError) {
      log(`refused: ClientCredentialsError phase=${error.phase} code=${error.code ?? "-"} status=${error.status ?? "-"}: ${error.message}`);
    } else {
      log(`failed: ${error?.stack ?? error}`);
    }
    process.exit(1);
  },
);
