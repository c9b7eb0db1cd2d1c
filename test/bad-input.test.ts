// Hostile and broken input from the resource, its metadata, the authorization server's metadata
// and its token endpoint: each case is the error a user sees, the requests that were (not) sent,
// what was (not) cached, and that no canary secret, key, platform JWT or token surfaced anywhere:
// every case runs with a client secret, a private key and (workload identity) a platform JWT.
import { HttpResponse, http, type RequestHandler } from "msw";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type ClientCredentialsEvent,
  type ClientCredentialsOptions,
  type WorkloadIdentityOptions,
  withClientCredentials,
  withWorkloadIdentity,
} from "../src/index.js";
import type { McpAuthMock, McpAuthMockOptions } from "../src/msw/index.js";
import { type Canaries, canaries, captureConsole, countUnhandled, expectNoLeak } from "./canary.js";
import { collectEvents, recordingStore, rejection, useMockServer } from "./helpers.js";

const { mock: install, server } = useMockServer();
const consoleOutput = captureConsole();
const unhandled = countUnhandled();
let canary: Canaries;
beforeAll(async () => {
  canary = await canaries();
});

const URLS = {
  resource: "https://mcp.example.com/mcp",
  prm: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
  meta: "https://auth.example.com/.well-known/oauth-authorization-server",
  token: "https://auth.example.com/token",
  evil: "https://evil.example/",
};
type Counted = keyof typeof URLS;
const MB = 1024 * 1024;
/** Credentials a hostile token endpoint echoed back: they must not surface either. */
const echoed: string[] = [];

const json = (body: unknown, init?: ResponseInit) => HttpResponse.json(body as Record<string, unknown>, init);
const text = (body: string, type: string, status = 200) => new HttpResponse(body, { status, headers: { "content-type": type } });
const challenge = (value: string) => new HttpResponse(null, { status: 401, headers: { "www-authenticate": value } });
const token = (fields: Record<string, unknown>) => () => json({ access_token: canary.token, token_type: "Bearer", expires_in: 3600, ...fields });

interface Case {
  name: string;
  /** Options of the mock authorization server and resource. */
  mock?: Partial<McpAuthMockOptions>;
  /** Handlers that win over the mock's. */
  handlers?: () => RequestHandler[];
  options?: Partial<ClientCredentialsOptions>;
  only?: "secret" | "key";
  /** A case about client authentication, which workload identity does not send. */
  client?: true;
  phase: string;
  code: string;
  message: RegExp;
  /** Exact number of requests to each of these URLs (by prefix). */
  sent: Partial<Record<Counted, number>>;
  /** The token endpoint answers invalid_client, quoting the Authorization header and body it got. */
  echo?: boolean;
  /** The kind of document that was bad: nothing of it may reach the store. */
  bad?: "resource-metadata" | "authorization-server-metadata";
}

const prm = (body: Record<string, unknown>) => () => [
  http.get(URLS.prm, () => json({ resource: URLS.resource, authorization_servers: ["https://auth.example.com"], ...body })),
];
const meta = (body: Record<string, unknown>) => () => [
  http.get(URLS.meta, () => json({ issuer: "https://auth.example.com", token_endpoint: URLS.token, ...body })),
];
const tokenEndpoint = (respond: () => Response) => () => [http.post(URLS.token, respond)];
const resource401 = (header?: string) => () => [
  http.all(URLS.resource, () => (header === undefined ? new HttpResponse(null, { status: 401 }) : challenge(header))),
];

const CASES: Case[] = [
  // From the resource
  ...[
    ["no WWW-Authenticate", undefined],
    ["a garbage WWW-Authenticate", '\u0001@@"unclosed ,,, ='],
  ].map(
    ([what, header]): Case => ({
      name: `${what}, and no metadata at the well-known locations`,
      mock: { prmLocations: [] },
      handlers: resource401(header),
      phase: "discovery",
      code: "resource_metadata_not_found",
      message: /no protected resource metadata for https:\/\/mcp\.example\.com\/mcp \(tried .*oauth-protected-resource\/mcp → 404/,
      sent: { resource: 1, token: 0 },
    }),
  ),
  {
    name: "resource_metadata at another origin, naming that origin as the resource",
    mock: { prmLocations: [] },
    handlers: () => [
      ...resource401('Bearer resource_metadata="https://evil.example/prm"')(),
      http.get("https://evil.example/prm", () => json({ resource: "https://evil.example/", authorization_servers: ["https://evil.example"] })),
    ],
    phase: "discovery",
    code: "resource_mismatch",
    message: /protected resource metadata is for https:\/\/evil\.example\/, which does not cover https:\/\/mcp\.example\.com\/mcp/,
    sent: { evil: 1, token: 0 },
  },
  {
    name: "resource_metadata on http: off loopback",
    mock: { prmLocations: [] },
    handlers: resource401('Bearer resource_metadata="http://evil.example/prm"'),
    phase: "discovery",
    code: "insecure_url",
    message: /metadata URL must use https/,
    sent: { evil: 0, token: 0 },
  },
  {
    name: "resource_metadata that is not a URL",
    mock: { prmLocations: [] },
    handlers: resource401('Bearer resource_metadata="not a url"'),
    phase: "discovery",
    code: "invalid_url",
    message: /metadata URL is not a valid absolute URL/,
    sent: { token: 0 },
  },
  // From protected resource metadata
  {
    name: "metadata that is not JSON",
    handlers: () => [http.get(URLS.prm, () => text("<html>sign in</html>", "text/html"))],
    phase: "discovery",
    code: "resource_metadata_not_found",
    message: /oauth-protected-resource\/mcp → 200 \(not JSON\)/,
    bad: "resource-metadata",
    sent: { token: 0 },
  },
  {
    name: "metadata for another origin",
    handlers: prm({ resource: "https://other.example/mcp" }),
    phase: "discovery",
    code: "resource_mismatch",
    message: /is for https:\/\/other\.example\/mcp, which does not cover/,
    bad: "resource-metadata",
    sent: { meta: 0, token: 0 },
  },
  {
    name: "metadata for an unrelated path",
    handlers: prm({ resource: "https://mcp.example.com/admin" }),
    phase: "discovery",
    code: "resource_mismatch",
    message: /is for https:\/\/mcp\.example\.com\/admin, which does not cover https:\/\/mcp\.example\.com\/mcp/,
    bad: "resource-metadata",
    sent: { meta: 0, token: 0 },
  },
  {
    name: "empty authorization_servers",
    handlers: prm({ authorization_servers: [] }),
    phase: "discovery",
    code: "invalid_resource_metadata",
    message: /lists no authorization_servers/,
    bad: "resource-metadata",
    sent: { meta: 0, token: 0 },
  },
  {
    name: "authorization_servers that is not an array",
    handlers: prm({ authorization_servers: "https://auth.example.com" }),
    phase: "discovery",
    code: "invalid_resource_metadata",
    message: /authorization_servers: invalid_type/,
    bad: "resource-metadata",
    sent: { meta: 0, token: 0 },
  },
  {
    name: "metadata over 1 MB",
    handlers: () => [http.get(URLS.prm, () => text(`{"pad":"${"x".repeat(MB)}"}`, "application/json"))],
    phase: "discovery",
    code: "response_too_large",
    message: /response larger than 1048576 bytes/,
    bad: "resource-metadata",
    sent: { meta: 0, token: 0 },
  },
  // From authorization server metadata
  {
    name: "an issuer that does not match",
    handlers: meta({ issuer: "https://evil.example" }),
    phase: "discovery",
    code: "issuer_mismatch",
    message: /names issuer "https:\/\/evil\.example", expected https:\/\/auth\.example\.com/,
    bad: "authorization-server-metadata",
    sent: { token: 0 },
  },
  {
    name: "no token_endpoint",
    handlers: meta({ token_endpoint: undefined }),
    phase: "discovery",
    code: "invalid_authorization_server_metadata",
    message: /has no token_endpoint/,
    bad: "authorization-server-metadata",
    sent: { token: 0 },
  },
  {
    name: "a token_endpoint on http: off loopback",
    handlers: meta({ token_endpoint: "http://auth.example.com/token" }),
    phase: "discovery",
    code: "insecure_url",
    message: /token_endpoint must use https/,
    bad: "authorization-server-metadata",
    sent: { token: 0 },
  },
  {
    name: "no client authentication method in common",
    mock: { authMethodsSupported: ["tls_client_auth"] },
    client: true,
    phase: "config",
    code: "unsupported_auth_method",
    message: /accepts tls_client_auth; with a (clientSecret|privateKey) this client can use/,
    sent: { token: 0 },
  },
  {
    name: "no signing algorithm in common",
    mock: { signingAlgsSupported: ["HS256"] },
    only: "key",
    phase: "config",
    code: "unsupported_algorithm",
    message: /HS256/,
    sent: { token: 0 },
  },
  // From the token endpoint
  {
    name: "200 with an OAuth error",
    handlers: tokenEndpoint(() => json({ error: "invalid_client", error_description: "unknown client" })),
    phase: "token",
    code: "invalid_client",
    message: /token request failed: invalid_client \(unknown client\)/,
    sent: { token: 1 },
  },
  {
    name: "an OAuth error that echoes the credentials it received",
    echo: true,
    phase: "token",
    code: "invalid_client",
    message: /token request failed: invalid_client \(got (Basic \[redacted\]|.*client_assertion=\[redacted\]|.*&assertion=\[redacted\])/,
    sent: { token: 1 },
  },
  {
    name: "no access_token",
    handlers: tokenEndpoint(() => json({ token_type: "Bearer", expires_in: 60 })),
    phase: "token",
    code: "invalid_token_response",
    message: /token response is invalid \(access_token: invalid_type\)/,
    sent: { token: 1 },
  },
  {
    name: "an access_token that is not a string",
    handlers: tokenEndpoint(token({ access_token: 12345 })),
    phase: "token",
    code: "invalid_token_response",
    message: /access_token: invalid_type/,
    sent: { token: 1 },
  },
  {
    name: "a token_type other than Bearer",
    handlers: tokenEndpoint(token({ token_type: "mac" })),
    phase: "token",
    code: "unsupported_token_type",
    message: /unsupported token_type "mac" \(only Bearer is supported\)/,
    sent: { token: 1 },
  },
  ...[0, -60, "soon", true, {}].map(
    (value): Case => ({
      name: `expires_in ${JSON.stringify(value)}`,
      handlers: tokenEndpoint(token({ expires_in: value })),
      phase: "token",
      code: "invalid_token_response",
      message: /expires_in: must be a positive number of seconds/,
      sent: { token: 1 },
    }),
  ),
  {
    name: "an HTML error page",
    handlers: tokenEndpoint(() => text("<html><h1>Bad Gateway</h1></html>", "text/html", 502)),
    options: { retries: 1 },
    phase: "token",
    code: "http_error",
    message: /token endpoint answered HTTP 502 without an OAuth error; its body is not JSON \(text\/html\)/,
    sent: { token: 2 },
  },
  {
    name: "truncated JSON",
    handlers: tokenEndpoint(() => text(`{"access_token": "${"canary"}`, "application/json")),
    phase: "token",
    code: "invalid_token_response",
    message: /token response is not JSON \(application\/json\)/,
    sent: { token: 1 },
  },
  {
    name: "a token response over 1 MB",
    handlers: tokenEndpoint(() => text(JSON.stringify({ access_token: "a".repeat(MB), token_type: "Bearer" }), "application/json")),
    phase: "token",
    code: "response_too_large",
    message: /response larger than 1048576 bytes/,
    sent: { token: 1 },
  },
  {
    name: "a redirect from the token endpoint",
    handlers: () => [...tokenEndpoint(() => new HttpResponse(null, { status: 307, headers: { location: `${URLS.evil}token` } }))()],
    phase: "token",
    code: "redirect",
    message: /redirects are not followed for authorization server requests/,
    sent: { token: 1, evil: 0 },
  },
  // Options
  {
    name: "a resource that is not a URL, without resourceUrl",
    options: { resource: "api://mcp-prod" },
    phase: "config",
    code: "invalid_config",
    message: /resource "api:\/\/mcp-prod" is not a URL that can receive tokens: set resourceUrl/,
    sent: { resource: 0 },
  },
];

/** Runs one case: the error, the requests, the store and every place a secret could surface. */
async function run(c: Case, kind: Kind) {
  const requests: Array<{ url: string; authorization: boolean }> = [];
  const record = ({ request }: { request: Request }) => void requests.push({ url: request.url, authorization: request.headers.has("authorization") });
  server.events.on("request:start", record);
  const echo = http.post(URLS.token, async ({ request }) => {
    const body = await request.text();
    const params = new URLSearchParams(body);
    echoed.push(params.get("client_assertion") ?? "", params.get("assertion") ?? "");
    return json({ error: "invalid_client", error_description: `got ${request.headers.get("authorization") ?? ""} ${body}` }, { status: 401 });
  });
  const handlers = c.echo ? [echo] : (c.handlers?.() ?? []);
  const mock: McpAuthMock = install(
    { clients: [canary.client], ...c.mock },
    ...handlers,
    http.all(`${URLS.evil}*`, () => json({})),
  );
  const { events, onEvent } = collectEvents();
  const { store, writes } = recordingStore();
  let error: unknown;
  try {
    const options = { ...canary.credentials(kind), store, onEvent, ...c.options };
    const authFetch =
      kind === "workload" ? withWorkloadIdentity(options as WorkloadIdentityOptions)(fetch) : withClientCredentials(options as ClientCredentialsOptions)(fetch);
    error = await rejection(authFetch(URLS.resource));
  } catch (thrown) {
    error = thrown; // a synchronous configuration error
  } finally {
    await new Promise((resolve) => setTimeout(resolve, 20)); // let any stray rejection surface
    server.events.removeListener("request:start", record);
  }
  return { error, events, writes, requests, mock };
}

type Kind = "secret" | "key" | "workload";

describe.each(["secret", "key", "workload"] as const)("bad input, with a client %s", (kind) => {
  const applies = (c: Case) => (!c.only || c.only === kind) && !(c.client && kind === "workload");
  it.each(CASES.filter(applies).map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const { error, events, writes, requests, mock } = await run(c, kind);
    expect(error).toMatchObject({ name: "ClientCredentialsError", phase: c.phase, code: c.code });
    expect((error as Error).message).toMatch(c.message);
    for (const [name, count] of Object.entries(c.sent)) {
      expect(requests.filter((r) => r.url.startsWith(URLS[name as Counted])).length, `requests to ${name}`).toBe(count);
    }
    // A token went nowhere: no request carried one, and none was cached.
    expect(requests.filter((r) => r.authorization && !r.url.startsWith(URLS.token))).toEqual([]);
    expect(writes.filter((w) => w.entry.kind === "token")).toEqual([]);
    if (c.bad) expect(writes.filter((w) => w.entry.kind === c.bad)).toEqual([]);
    expect(unhandled.count()).toBe(0);
    expect(events.some((e: ClientCredentialsEvent) => e.type === "token-response" && e.ok)).toBe(false);
    const tokens = [canary.token, ...mock.tokens.map((t) => t.accessToken), ...echoed];
    expectNoLeak({ error, events, console: consoleOutput.output(), storeKeys: writes.map((w) => w.key) }, canary.secrets(), tokens);
  });
});
