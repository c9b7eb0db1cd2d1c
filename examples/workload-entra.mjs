#!/usr/bin/env node
// Call an MCP server protected by Microsoft Entra ID from AKS with Microsoft Entra Workload ID:
// the pod's service-account token is the client assertion of the app registration, which has a
// federated identity credential for the cluster's issuer and this service account. The
// workload identity webhook injects AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE
// (a token for api://AzureADTokenExchange) and AZURE_AUTHORITY_HOST into the pod.
//
//   MCP_SERVER_URL=https://mcp.example.com/mcp MCP_SCOPE=api://my-mcp-server/.default node examples/workload-entra.mjs
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { withClientCredentials } from "mcp-client-credentials";
import { fileToken } from "mcp-client-credentials/sources/file";

const { AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST, MCP_SERVER_URL, MCP_SCOPE } = process.env;

const authFetch = withClientCredentials({
  clientId: AZURE_CLIENT_ID,
  clientAssertion: fileToken(AZURE_FEDERATED_TOKEN_FILE), // read before each token request: rotation is picked up
  assertionAudience: "api://AzureADTokenExchange", // the audience the webhook's projected token has
  tokenEndpoint: new URL(`${AZURE_TENANT_ID}/oauth2/v2.0/token`, AZURE_AUTHORITY_HOST ?? "https://login.microsoftonline.com/").href,
  scope: MCP_SCOPE, // "<application ID URI of the MCP server>/.default"
  resource: false, // Entra v2 refuses the resource parameter …
  resourceUrl: MCP_SERVER_URL, // … so this says where the token may be sent
})(fetch);

const client = new Client({ name: "aks-agent", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(MCP_SERVER_URL), { fetch: authFetch }));

const result = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
console.log("add(2, 3) =", result.content[0].text);

await client.close();
