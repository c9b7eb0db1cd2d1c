const CREDENTIALS = `Credentials (flags win over the environment; give exactly one kind):
  MCP_CLIENT_ID, --client-id ID          the client id
  MCP_CLIENT_SECRET                      client secret (client_secret_basic or _post)
  MCP_PRIVATE_KEY                        PKCS#8 PEM or private JWK JSON (private_key_jwt)
  MCP_PRIVATE_KEY_FILE, --private-key-file PATH
  MCP_KEY_ID, --key-id KID               the JWT header's kid
  MCP_SIGNING_ALG, --alg ALG             e.g. ES256; default: from the key and the server
  MCP_ASSERTION                          a platform JWT (workload identity, SEP-1933)
  MCP_ASSERTION_FILE, --assertion-file PATH   a platform JWT file, read before each token request
  --github-oidc                          the GitHub Actions job's OIDC token (permissions: id-token: write)
  --client-assertion                     send the platform JWT as the client assertion of a
                                         client_credentials request (Entra), with the client id
  --client-secret SECRET                 works, but lands in shell history: prefer the variable

Options:
  --scope "a b"                          scopes to ask for (default: the server's challenge)
  --resource URL | --no-resource         the RFC 8707 resource (default: from the server's metadata)
  --issuer URL, --token-endpoint URL     skip discovery of the authorization server
  --auth-method METHOD                   client_secret_basic | client_secret_post | private_key_jwt
  --assertion-audience AUD               issuer (default) | token_endpoint | a URL
  --timeout MS                           per request to the authorization server (default 10000)
  --dpop                                 DPoP-bound tokens (RFC 9449): a key for this process, a proof per request
  --allow-insecure-requests              plain http beyond loopback (test networks only)
  -v, --verbose                          each discovery and token step on stderr (never a secret)
  -h, --help`;

const EXIT = `Exit codes: 0 ok, 1 a server refused or failed, 2 a usage or configuration mistake.`;

export const HELP: Record<string, string> = {
  main: `mcp-client-credentials — OAuth client credentials and workload identity for MCP servers

Usage: mcp-client-credentials <command> [options]

Commands:
  token      print an access token for an MCP server
  discover   show the discovery chain of an MCP server and whether this client can authenticate
  fetch      send a request (or one MCP call with --rpc) with a token attached
  stdio      bridge a stdio MCP client to a remote MCP server
  proxy      serve a remote MCP server on a loopback URL, tokens attached

Run mcp-client-credentials <command> --help for its options and examples.
${EXIT}`,

  token: `Usage: mcp-client-credentials token --server URL [options]
       mcp-client-credentials token --issuer URL --resource URL [options]

Prints the access token alone on stdout; --json prints token, type, expiry, scope, resource and issuer.

Examples:
  TOKEN=$(mcp-client-credentials token --server https://mcp.example.com/mcp)
  mcp-client-credentials token --server https://mcp.example.com/mcp --github-oidc --json
  mcp-client-credentials token --token-endpoint https://login.example.com/token --resource https://mcp.example.com/mcp

  --server URL                           the MCP server; its 401 starts discovery
  --json                                 a JSON object instead of the bare token

${CREDENTIALS}

${EXIT}`,

  discover: `Usage: mcp-client-credentials discover <url> [--json]

Walks the discovery chain of an MCP server: its 401 and challenge, each protected resource
metadata URL tried, each authorization server metadata URL tried, what the server offers, and a
verdict: can this client authenticate there, with which method, and if not, what to change.
Needs no credentials; with credentials in the environment the verdict is about them.

Examples:
  mcp-client-credentials discover https://mcp.example.com/mcp
  mcp-client-credentials discover https://mcp.example.com/mcp --json | jq .verdict
  MCP_CLIENT_ID=my-agent MCP_PRIVATE_KEY_FILE=key.pem mcp-client-credentials discover https://mcp.example.com/mcp

  --json                                 the report as one JSON object (verdict last)

${CREDENTIALS}

Exit codes: 0 this client can authenticate, 1 it cannot (the verdict says why), 2 usage.`,

  fetch: `Usage: mcp-client-credentials fetch <url> [options]

Sends one request through the middleware and prints the response body (SSE events as their
data, one per line). Exit 1 on HTTP 400 and above, and on a JSON-RPC error or a tool error.

Examples:
  mcp-client-credentials fetch https://mcp.example.com/mcp --rpc tools/list
  mcp-client-credentials fetch https://mcp.example.com/mcp --rpc tools/call \\
    --params '{"name":"echo","arguments":{"text":"hi"}}'
  mcp-client-credentials fetch https://api.example.com/mcp/items -X POST -d @item.json -H 'Content-Type: application/json' -i

  -X, --request METHOD                   default GET, or POST with a body
  -H, --header 'Name: value'             repeatable
  -d, --data TEXT | @FILE | @-           the body (@- reads stdin)
  --json TEXT | @FILE                    a JSON body, with its Content-Type and Accept
  --rpc METHOD                           one MCP request: initialize, the request, session closed
  --params JSON | @FILE                  its params
                                         (--timeout: how long each MCP answer may take, default 60000)
  -i, --include                          print status and headers first

${CREDENTIALS}

${EXIT}`,

  stdio: `Usage: mcp-client-credentials stdio <url> [options]

An MCP server on stdin/stdout that forwards every message to the remote Streamable HTTP server,
tokens attached: for desktop clients and inspectors that speak stdio. Needs the MCP SDK
(@modelcontextprotocol/sdk) installed next to it:

  npx -y -p mcp-client-credentials -p @modelcontextprotocol/sdk mcp-client-credentials stdio https://mcp.example.com/mcp

Credentials come from the environment the client gives it (its "env" in a config file).

${CREDENTIALS}

${EXIT}`,

  proxy: `Usage: mcp-client-credentials proxy <url> [--port N] [options]

Serves the remote MCP server on a loopback URL with tokens attached, for tools that can only be
given a URL. The first line on stdout is the URL to use; --port 0 (the default) picks a free port.

Examples:
  mcp-client-credentials proxy https://mcp.example.com/mcp --port 8787
  mcp-client-credentials proxy https://mcp.example.com/mcp > proxy-url.txt &   # then read the URL from the file

  -p, --port N                           the port (default 0: any free one)
  --host ADDRESS                         default 127.0.0.1; any other address is reachable by
                                         others, who then call the server with your credentials

Only loopback Host and Origin headers are served (no DNS rebinding).

${CREDENTIALS}

${EXIT}`,
};
