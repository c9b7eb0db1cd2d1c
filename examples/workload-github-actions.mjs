#!/usr/bin/env node
// Call an OAuth-protected MCP server from a GitHub Actions job as the job itself: the job's OIDC
// token is the credential, so no client secret is stored in the repository. The workflow needs
//
//   permissions:
//     id-token: write
//
// and the authorization server must trust GitHub's issuer, https://token.actions.githubusercontent.com,
// for this repository's subject (e.g. repo:octo-org/octo-repo:ref:refs/heads/main).
//
//   MCP_SERVER_URL=https://mcp.example.com/mcp MCP_CLIENT_ID=ci-robot node examples/workload-github-actions.mjs
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { withWorkloadIdentity } from "mcp-client-credentials";
import { githubActionsToken } from "mcp-client-credentials/sources";

const { MCP_SERVER_URL, MCP_CLIENT_ID } = process.env;

const authFetch = withWorkloadIdentity({
  clientId: MCP_CLIENT_ID, // only where the authorization server wants one
  // Asks GitHub for a token whose audience is the authorization server's issuer, as discovered
  // from the MCP server's 401, and keeps it until a minute before it expires.
  assertion: githubActionsToken(),
})(fetch);

const client = new Client({ name: "ci-job", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(MCP_SERVER_URL), { fetch: authFetch }));

const result = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
console.log("add(2, 3) =", result.content[0].text);

await client.close();
