// Workload identity on the platforms README "Workload identity" shows, against loopback
// stand-ins: the GitHub Actions OIDC token endpoint, a Kubernetes service-account issuer and
// Microsoft Entra ID's federated credentials. The examples run as written, as child processes,
// against oidc-provider's JWT-bearer grant (GitHub, Kubernetes) and the Entra stand-in; the
// `githubActionsToken` source and Entra's refusals are also tested in-process.
// Platform JWTs and tokens are only ever compared as booleans, so a failure never prints one.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import * as jose from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientCredentialsError, type ClientCredentialsEvent, withClientCredentials, withWorkloadIdentity } from "../../src/index.js";
import { githubActionsToken } from "../../src/sources/index.js";
import { initializeRequest } from "./mcp-messages.js";
import { type EntraId, start as startEntra, TOKEN_EXCHANGE_AUDIENCE } from "./servers/entra.mjs";
import { type GitHubActionsOidc, start as startActions } from "./servers/github-actions.mjs";
import { type ProtectedMcpServer, start as startMcp } from "./servers/mcp-server.mjs";
import { type Stack, start as startStack } from "./servers/stack.mjs";
import { start as startIssuer, type WorkloadIssuer } from "./servers/workload-issuer.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const exec = promisify(execFile);
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const SERVICE_ACCOUNT = "system:serviceaccount:agents:mcp-client";
const INITIALIZE = initializeRequest("t");

let actions: GitHubActionsOidc;
let cluster: WorkloadIssuer;
let stack: Stack;
let entra: EntraId;
let entraMcp: ProtectedMcpServer;
let app: { clientId: string; objectId: string };
let entraScope: string;
let dir: string;

beforeAll(async () => {
  [actions, cluster, entra, dir] = await Promise.all([startActions(), startIssuer(), startEntra(), mkdtemp(path.join(tmpdir(), "mcp-wif-"))]);
  stack = await startStack({
    jwtBearer: {
      trust: [
        { issuer: actions.issuer.issuer, subject: actions.subject },
        { issuer: cluster.issuer, subject: SERVICE_ACCOUNT },
      ],
    },
  });
  app = entra.addApplication({ federatedCredentials: [{ issuer: cluster.issuer, subject: SERVICE_ACCOUNT, name: "aks-agents" }] });
  // Entra app-only tokens carry `roles`, not `scope`: this server checks issuer, audience and expiry.
  entraMcp = await startMcp({ issuer: entra.issuer, jwksUri: entra.jwksUri, requiredScopes: [] });
  entraScope = `api://mcp-${entra.tenant}/.default`;
  entra.addResource(entraScope.replace(/\/\.default$/, ""), { audience: entraMcp.resource, roles: ["MCP.Tools"] });
});

afterAll(async () => {
  await Promise.allSettled([stack?.close(), entraMcp?.close()]);
  await Promise.allSettled([actions?.close(), cluster?.close(), entra?.close(), dir && rm(dir, { recursive: true, force: true })]);
});

/** Runs an example with only the variables given: no credential or platform variable is inherited. */
async function run(file: string, env: Record<string, string>) {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(MCP_|VITEST|ACTIONS_|AZURE_|GITHUB_)/.test(name)));
  return exec(process.execPath, [file], { cwd: root, timeout: 30_000, env: { ...inherited, NO_COLOR: "1", ...env } });
}

/** A token file as the kubelet writes one (owner-only), holding a fresh service-account token. */
async function tokenFile(aud: string): Promise<string> {
  const file = path.join(dir, `token-${randomBytes(4).toString("hex")}`);
  const claims = { "kubernetes.io": { namespace: "agents", serviceaccount: { name: "mcp-client", uid: crypto.randomUUID() } } };
  await writeFile(file, `${await cluster.mint({ sub: SERVICE_ACCOUNT, aud, claims })}\n`, { mode: 0o600 });
  return file;
}

/** What the authorization server and the MCP server saw from now on. */
function watch(mcp = stack.mcp) {
  const events = stack.as.events.length;
  const requests = mcp.requests.length;
  return {
    grants: () => stack.as.events.slice(events).filter((event) => event.type === "grant.success" || event.type === "grant.error"),
    mcp: () => mcp.requests.slice(requests).filter((request) => request.path === "/mcp"),
  };
}

const rejection = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => "resolved").catch((error: unknown) => error);
const codeOf = (error: unknown) => (error instanceof ClientCredentialsError ? error.code : `not a ClientCredentialsError: ${String(error).slice(0, 80)}`);
/** Does any of the JWTs occur in the texts? A boolean, so that a failure prints neither. */
const leaks = (jwts: string[], ...texts: string[]) => jwts.some((jwt) => texts.some((text) => text.includes(jwt)));
const errorText = (error: unknown) => (error instanceof Error ? `${error.message} ${JSON.stringify(error)} ${String(error.stack)}` : String(error));

describe("examples/workload-github-actions.mjs", () => {
  it("asks the Actions endpoint for a token for the AS issuer; oidc-provider verifies it; the tool call succeeds", async () => {
    const seen = watch();
    const before = actions.requests.length;
    const { stdout } = await run("examples/workload-github-actions.mjs", {
      MCP_SERVER_URL: stack.mcp.url,
      MCP_CLIENT_ID: stack.credentials.workloadIdentity!.clientId,
      ACTIONS_ID_TOKEN_REQUEST_URL: actions.url,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: actions.requestToken,
    });
    expect(stdout).toBe("add(2, 3) = 5\n");
    expect(actions.requests.slice(before)).toEqual([{ method: "GET", audience: stack.as.issuer, authorized: true, apiVersion: "2.0" }]);
    const grants = seen.grants();
    expect(grants.map((event) => [event.type, event.grantType, event.assertion?.iss, event.assertion?.sub, event.assertion?.verified])).toEqual([
      ["grant.success", JWT_BEARER, actions.issuer.issuer, actions.subject, true],
    ]);
    expect(actions.issuer.requests).toContain("/jwks");
    const mcp = seen.mcp();
    expect(mcp[0]).toMatchObject({ authorized: false, status: 401 });
    expect(mcp.slice(1).every((request) => request.authorized && (request.status ?? 500) < 300)).toBe(true);
    expect(mcp.some((request) => request.rpc === "tools/call")).toBe(true);
  });
});

describe("examples/workload-kubernetes.mjs", () => {
  it("presents the projected service-account token from the file; oidc-provider verifies it against the cluster's JWKS", async () => {
    const seen = watch();
    const { stdout } = await run("examples/workload-kubernetes.mjs", {
      MCP_SERVER_URL: stack.mcp.url,
      MCP_CLIENT_ID: stack.credentials.workloadIdentity!.clientId,
      MCP_TOKEN_FILE: await tokenFile(stack.as.issuer),
    });
    expect(stdout).toBe("add(2, 3) = 5\n");
    expect(seen.grants().map((event) => [event.type, event.grantType, event.assertion?.iss, event.assertion?.sub, event.assertion?.verified])).toEqual([
      ["grant.success", JWT_BEARER, cluster.issuer, SERVICE_ACCOUNT, true],
    ]);
    expect(cluster.requests).toContain("/jwks");
    expect(seen.mcp().filter((request) => request.rpc === "tools/call" && request.authorized && request.status === 200)).toHaveLength(1);
  });
});

describe("examples/workload-entra.mjs", () => {
  it("the AKS token as client assertion: Entra verifies it, matches the federated credential, and the MCP server takes its token", async () => {
    const seen = watch(entraMcp);
    const before = entra.requests.length;
    const { stdout } = await run("examples/workload-entra.mjs", {
      AZURE_CLIENT_ID: app.clientId,
      AZURE_TENANT_ID: entra.tenant,
      AZURE_FEDERATED_TOKEN_FILE: await tokenFile(TOKEN_EXCHANGE_AUDIENCE),
      AZURE_AUTHORITY_HOST: entra.authorityHost,
      MCP_SERVER_URL: entraMcp.url,
      MCP_SCOPE: entraScope,
    });
    expect(stdout).toBe("add(2, 3) = 5\n");
    const requests = entra.requests.slice(before);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      status: 200,
      clientId: app.clientId,
      grantType: "client_credentials",
      scope: entraScope,
      verified: true,
      credential: "aks-agents",
      assertion: { issuer: cluster.issuer, subject: SERVICE_ACCOUNT, audience: TOKEN_EXCHANGE_AUDIENCE },
      params: ["client_assertion", "client_assertion_type", "client_id", "grant_type", "scope"],
    });
    expect(cluster.requests).toContain("/jwks");
    // Static configuration: the very first request already carries Entra's token.
    const mcp = seen.mcp();
    expect(mcp.length).toBeGreaterThan(0);
    expect(mcp.every((request) => request.authorized && (request.status ?? 500) < 300)).toBe(true);
  });
});

describe("githubActionsToken()", () => {
  const source = () => githubActionsToken({ requestUrl: actions.url, requestToken: actions.requestToken });
  const workload = (assertion: ReturnType<typeof githubActionsToken>, events: ClientCredentialsEvent[] = []) =>
    withWorkloadIdentity({ clientId: stack.credentials.workloadIdentity!.clientId, assertion, onEvent: (event) => void events.push(event) })(fetch);

  it("a wrong request token: assertion_unavailable naming the status, never the token; nothing reaches the AS", async () => {
    const wrong = randomBytes(32).toString("base64url");
    const seen = watch();
    const before = actions.requests.length;
    const error = await rejection(workload(githubActionsToken({ requestUrl: actions.url, requestToken: wrong })).getToken(stack.mcp.url));
    expect(codeOf(error)).toBe("assertion_unavailable");
    expect((error as ClientCredentialsError).status).toBe(401);
    expect((error as Error).message).toMatch(/\b401\b/);
    expect(leaks([wrong, actions.requestToken], errorText(error))).toBe(false);
    expect(actions.requests.slice(before)).toEqual([{ method: "GET", audience: stack.as.issuer, authorized: false, apiVersion: "2.0" }]);
    expect(seen.grants()).toEqual([]);
  });

  it("outside a job with id-token permission: assertion_unavailable naming both variables and the permission", async () => {
    const saved = { url: process.env.ACTIONS_ID_TOKEN_REQUEST_URL, token: process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN };
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL;
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
    try {
      const seen = watch();
      const error = await rejection(workload(githubActionsToken()).getToken(stack.mcp.url));
      expect(codeOf(error)).toBe("assertion_unavailable");
      const { message } = error as Error;
      expect(message).toContain("ACTIONS_ID_TOKEN_REQUEST_URL");
      expect(message).toContain("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
      expect(message).toContain("permissions: id-token: write");
      expect(seen.grants()).toEqual([]);
    } finally {
      if (saved.url !== undefined) process.env.ACTIONS_ID_TOKEN_REQUEST_URL = saved.url;
      if (saved.token !== undefined) process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = saved.token;
    }
  });

  it("two token requests, one Actions request: the JWT is kept until a minute before its exp; no JWT in events", async () => {
    const events: ClientCredentialsEvent[] = [];
    const authFetch = workload(source(), events);
    const seen = watch();
    const before = actions.requests.length;
    expect((await authFetch(stack.mcp.url, INITIALIZE)).status).toBe(200);
    await authFetch.clearTokens();
    expect((await authFetch(stack.mcp.url, INITIALIZE)).status).toBe(200);
    expect(seen.grants().map((event) => `${event.type} ${event.grantType}`)).toEqual([`grant.success ${JWT_BEARER}`, `grant.success ${JWT_BEARER}`]);
    expect(actions.requests.length - before).toBe(1);
    const requests = events.filter((event) => event.type === "token-request");
    expect(requests.map((event) => `${event.grantType} ${event.authMethod}`)).toEqual([`${JWT_BEARER} none`, `${JWT_BEARER} none`]);
    expect(leaks(actions.issued(), JSON.stringify(events))).toBe(false);
  });

  it("a JWT within 60 s of its exp is not reused: each token request asks the Actions endpoint afresh", async () => {
    actions.lifetime = 59;
    try {
      const authFetch = workload(source());
      const seen = watch();
      const before = actions.requests.length;
      expect((await authFetch(stack.mcp.url, INITIALIZE)).status).toBe(200);
      await authFetch.clearTokens();
      expect((await authFetch(stack.mcp.url, INITIALIZE)).status).toBe(200);
      expect(seen.grants().filter((event) => event.type === "grant.success")).toHaveLength(2);
      expect(actions.requests.length - before).toBe(2);
    } finally {
      actions.lifetime = 300;
    }
  });

  it("kept per audience; a configured audience wins over the flow's", async () => {
    const before = actions.requests.length;
    const perFlow = source();
    const context = (audience: string) => ({ audience, tokenEndpoint: stack.as.tokenEndpoint });
    const audiences: string[] = [];
    for (const aud of ["https://a.example", "https://b.example", "https://a.example"]) audiences.push(await perFlow(context(aud)));
    const fixed = await githubActionsToken({ requestUrl: actions.url, requestToken: actions.requestToken, audience: "api://fixed" })(
      context("https://a.example"),
    );
    expect([...audiences, fixed].map((jwt) => jose.decodeJwt(jwt).aud)).toEqual(["https://a.example", "https://b.example", "https://a.example", "api://fixed"]);
    expect(actions.requests.slice(before).map((request) => request.audience)).toEqual(["https://a.example", "https://b.example", "api://fixed"]);
  });
});

describe("Entra federated credentials (withClientCredentials + clientAssertion)", () => {
  const entraClient = (clientAssertion: string, events: ClientCredentialsEvent[] = [], resource: string | false = false, audience = TOKEN_EXCHANGE_AUDIENCE) =>
    withClientCredentials({
      clientId: app.clientId,
      clientAssertion,
      assertionAudience: audience,
      tokenEndpoint: entra.tokenEndpoint,
      scope: entraScope,
      resource,
      resourceUrl: entraMcp.url,
      onEvent: (event) => void events.push(event),
    })(fetch);

  it.each<[string, { sub?: string; aud?: string; expiresIn?: number; foreignIssuer?: boolean; forged?: boolean }, number]>([
    ["a subject no credential names", { sub: "system:serviceaccount:agents:other" }, 700213],
    ["an audience no credential names", { aud: "https://somewhere.example" }, 700212],
    ["an issuer no credential names", { foreignIssuer: true }, 700211],
    ["a signature by a key the issuer never published", { forged: true }, 700027],
    ["an expired token (sent: the client leaves exp to the server)", { expiresIn: -120 }, 700024],
  ])("%s: invalid_client after one request, no JWT in the error or the events", async (_, { foreignIssuer, forged, ...change }, aadsts) => {
    const issuer = foreignIssuer ? actions.issuer : cluster;
    const key = forged ? await issuer.foreignKey() : undefined;
    const jwt = await issuer.mint({ sub: SERVICE_ACCOUNT, aud: TOKEN_EXCHANGE_AUDIENCE, ...change, ...(key ? { key } : {}) });
    const events: ClientCredentialsEvent[] = [];
    const before = entra.requests.length;
    // The client is told the JWT's audience, so that Entra's own check is what refuses it.
    const error = await rejection(entraClient(jwt, events, false, change.aud).getToken());
    expect(codeOf(error)).toBe("invalid_client");
    expect((error as ClientCredentialsError).phase).toBe("token");
    expect(entra.requests.slice(before).map((request) => [request.aadsts, request.params.includes("client_secret")])).toEqual([[aadsts, false]]);
    expect(events.filter((event) => event.type === "token-request").map((event) => `${event.grantType} ${event.authMethod}`)).toEqual([
      "client_credentials private_key_jwt",
    ]);
    expect(leaks([jwt], errorText(error), JSON.stringify(events))).toBe(false);
  });

  it("sending `resource` is refused as Entra v2 does; `resource: false` is what makes the recipe work", async () => {
    const jwt = await cluster.mint({ sub: SERVICE_ACCOUNT, aud: TOKEN_EXCHANGE_AUDIENCE });
    const before = entra.requests.length;
    const error = await rejection(entraClient(jwt, [], entraMcp.url).getToken());
    expect(codeOf(error)).toBe("invalid_request");
    expect((error as ClientCredentialsError).status).toBe(400);
    const token = await entraClient(jwt).getToken();
    expect(typeof token.accessToken).toBe("string");
    expect(entra.requests.slice(before).map((request) => [request.resource, request.aadsts, request.status])).toEqual([
      [entraMcp.url, 9010010, 400],
      [undefined, undefined, 200],
    ]);
  });

  it("without assertionAudience the projected token is not sent: its aud is not Entra's issuer", async () => {
    const jwt = await cluster.mint({ sub: SERVICE_ACCOUNT, aud: TOKEN_EXCHANGE_AUDIENCE });
    const before = entra.requests.length;
    const error = await rejection(
      withClientCredentials({
        clientId: app.clientId,
        clientAssertion: jwt,
        tokenEndpoint: entra.tokenEndpoint,
        scope: entraScope,
        resource: false,
        resourceUrl: entraMcp.url,
      })(fetch).getToken(),
    );
    expect(codeOf(error)).toBe("invalid_assertion");
    expect(entra.requests.length).toBe(before);
  });

  it("discovered from the MCP server's 401 as well: Entra's OIDC metadata, the token endpoint in the assertion's context", async () => {
    const file = await tokenFile(TOKEN_EXCHANGE_AUDIENCE);
    const contexts: Array<{ audience: string; tokenEndpoint: string }> = [];
    const authFetch = withClientCredentials({
      clientId: app.clientId,
      clientAssertion: async (context) => {
        contexts.push({ audience: context.audience, tokenEndpoint: context.tokenEndpoint });
        return readFile(file, "utf8");
      },
      assertionAudience: TOKEN_EXCHANGE_AUDIENCE,
      scope: entraScope,
      resource: false,
      resourceUrl: entraMcp.url,
    })(fetch);
    expect((await authFetch(entraMcp.url, INITIALIZE)).status).toBe(200);
    expect(contexts).toEqual([{ audience: TOKEN_EXCHANGE_AUDIENCE, tokenEndpoint: entra.tokenEndpoint }]);
  });
});
