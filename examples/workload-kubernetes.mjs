#!/usr/bin/env node
// Call an OAuth-protected MCP server from a Kubernetes pod as its service account: a projected
// service-account token, minted for the authorization server, is the credential. In the pod spec:
//
//   volumes:
//     - name: mcp-token
//       projected:
//         sources:
//           - serviceAccountToken: { path: mcp, audience: https://auth.example.com, expirationSeconds: 3600 }
//   # and in the container: volumeMounts: [{ name: mcp-token, mountPath: /var/run/secrets/tokens }]
//
// The authorization server trusts the cluster's service-account issuer for the subject
// system:serviceaccount:<namespace>:<service account>, and `audience` is its issuer identifier.
//
//   MCP_SERVER_URL=https://mcp.example.com/mcp node examples/workload-kubernetes.mjs
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { withWorkloadIdentity } from "mcp-client-credentials";
import { fileToken } from "mcp-client-credentials/sources/file";

const { MCP_SERVER_URL, MCP_CLIENT_ID, MCP_TOKEN_FILE } = process.env;

const authFetch = withWorkloadIdentity({
  clientId: MCP_CLIENT_ID, // only where the authorization server wants one
  // The kubelet replaces the token before it expires; the file is read before each token request.
  assertion: fileToken(MCP_TOKEN_FILE ?? "/var/run/secrets/tokens/mcp"),
})(fetch);

const client = new Client({ name: "cluster-agent", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(MCP_SERVER_URL), { fetch: authFetch }));

const result = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
console.log("add(2, 3) =", result.content[0].text);

await client.close();
