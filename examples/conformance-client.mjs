#!/usr/bin/env node
// MCP conformance-suite client for mcp-client-credentials (SEP-1046 client credentials, SEP-1933
// workload identity federation), on the MCP TypeScript SDK v2 client (@modelcontextprotocol/client).
//
//   npx conformance client --command "node examples/conformance-client.mjs" --scenario auth/client-credentials-jwt
//   npx conformance client --command "node examples/conformance-client.mjs" --scenario auth/client-credentials-jwt --spec-version 2026-07-28 --force
//   npx conformance client --command "node examples/conformance-client.mjs" --scenario auth/wif-jwt-bearer
//
// The runner sets MCP_CONFORMANCE_SCENARIO, MCP_CONFORMANCE_PROTOCOL_VERSION (the wire version its
// MCP server speaks: 2025-11-25 unless --spec-version or the scenario says otherwise) and
// MCP_CONFORMANCE_CONTEXT (JSON: client_id + client_secret, or client_id + private_key_pem +
// signing_algorithm; sometimes issuer; for auth/wif-jwt-bearer client_id + valid_jwt +
// wrong_audience_jwt + expired_jwt), and appends the MCP server URL as the last argument.
// Options before it, for runs that must fail: --assertion=<context key> presents another of the
// scenario's JWTs than valid_jwt, --scope=<scope> asks for a scope, --assertion-audience=<aud>
// sets assertionAudience.
// This client runs a whole MCP session through the package: the handshake (initialize, or
// server/discover when pinned to 2026-07-28), tools/list, and tools/call when there are tools.
// Exit code 0 on success, 1 when the package refuses (e.g. a metadata mismatch) or fails.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { ClientCredentialsError, withClientCredentials, withWorkloadIdentity } from "mcp-client-credentials";

const MODERN = "2026-07-28";
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? "(none)";
const wireVersion = process.env.MCP_CONFORMANCE_PROTOCOL_VERSION ?? "2025-11-25";
const serverUrl = process.argv.at(-1);
const flags = new Map(
  process.argv
    .slice(2, -1)
    .map((arg) => /^--([a-z-]+)=(.*)$/.exec(arg))
    .filter(Boolean)
    .map((match) => [match[1], match[2]]),
);
const log = (...parts) => console.error(`[conformance-client] ${parts.join(" ")}`);

function credentialsFrom(context) {
  // SEP-1933: the platform's JWT is the grant itself; the client_id only names the workload.
  if (context.valid_jwt) {
    const key = flags.get("assertion") ?? "valid_jwt";
    if (typeof context[key] !== "string") throw new Error(`the scenario's context has no ${key}`);
    return { kind: `workload JWT (${key})`, workload: true, options: { clientId: context.client_id, assertion: context[key] } };
  }
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
  const { kind, workload, options } = credentialsFrom(context);
  log(`scenario ${scenario}, wire version ${wireVersion}, server ${serverUrl}, credentials: ${kind}`);

  const withAuth = workload ? withWorkloadIdentity : withClientCredentials;
  const authFetch = withAuth({
    ...options,
    ...(context.issuer ? { issuer: context.issuer } : {}),
    ...(flags.has("scope") ? { scope: flags.get("scope") } : {}),
    ...(flags.has("assertion-audience") ? { assertionAudience: flags.get("assertion-audience") } : {}),
    onEvent: (event) => {
      if (event.type === "discovery") log(`discovery ${event.kind} ${event.url} → ${event.status ?? "-"}`);
      if (event.type === "discovered") log(`issuer ${event.issuer}, token endpoint ${event.tokenEndpoint}, ${event.authMethod}`);
      if (event.type === "token-request") log(`token request grant_type=${event.grantType} auth=${event.authMethod}`);
      if (event.type === "token-response") log(`token response ${event.status}${event.error ? ` ${event.error}` : ""}`);
    },
  })(fetch);

  // Pinned when the runner's server speaks 2026-07-28 (no silent fallback to the 2025 handshake);
  // otherwise the plain 2025 handshake, byte-identical to a client without negotiation.
  const mode = wireVersion === MODERN ? { pin: MODERN } : "legacy";
  const client = new Client({ name: "mcp-client-credentials-conformance", version: "1.0.0" }, { versionNegotiation: { mode } });
  await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { fetch: authFetch }));
  log(`connected, protocol ${client.getNegotiatedProtocolVersion()}`);
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
    // The package's own refusal, also when the SDK wrapped it (cause) on its way out of connect().
    const refusal = error instanceof ClientCredentialsError ? error : error?.cause instanceof ClientCredentialsError ? error.cause : undefined;
    if (refusal) {
      log(`refused: ClientCredentialsError phase=${refusal.phase} code=${refusal.code ?? "-"} status=${refusal.status ?? "-"}: ${refusal.message}`);
    } else {
      log(`failed: ${error?.stack ?? error}`);
    }
    process.exit(1);
  },
);
