import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeProtectedHeader } from "jose";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { UsageError, type Values } from "../../src/cli/args.js";
import { type Credentials, describeEvent, readCredentials, requireCredentials } from "../../src/cli/credentials.js";
import { createOutput, type Output } from "../../src/cli/output.js";
import type { ClientCredentialsEvent } from "../../src/types.js";
import { type Canaries, canaries } from "../canary.js";
import { jwtSigner, useMockServer } from "../helpers.js";

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const PLATFORM = "https://platform.example";
const msw = useMockServer();
const dir = mkdtempSync(join(tmpdir(), "cli-credentials-"));
let c: Canaries;
beforeAll(async () => {
  c = await canaries();
});
afterEach(() => vi.unstubAllEnvs());

/** An environment as the CLI sees it. */
type Env = Record<string, string | undefined>;

/** An Output whose streams are strings, with `env` as the whole environment. */
function capture(env: Env = {}) {
  const text = { stdout: "", stderr: "" };
  const output = createOutput({
    stdout: { write: (chunk: string) => (text.stdout += chunk) },
    stderr: { write: (chunk: string) => (text.stderr += chunk) },
    env,
  });
  return { output, text };
}

function read(values: Values, env: Env = {}): { credentials: Credentials | undefined; output: Output; text: { stderr: string } } {
  const { output, text } = capture(env);
  return { credentials: readCredentials(values, output), output, text };
}

function usage(values: Values, env: Env = {}): string {
  try {
    read(values, env);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error("expected a UsageError");
}

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Sends one request to the mock resource through what `credentials.create` built. */
async function call(credentials: Credentials | undefined, mockOptions = {}) {
  const mock = msw.mock({ clients: [c.client], ...mockOptions });
  const response = await credentials!.create(fetch)(mock.resource);
  return { mock, status: response.status, token: mock.requestsTo("token").map((r) => ({ ...r, params: new URLSearchParams(r.body) })) };
}

describe("readCredentials: client secret", () => {
  it("reads MCP_CLIENT_ID and MCP_CLIENT_SECRET from the environment", async () => {
    const { credentials, text } = read({}, { MCP_CLIENT_ID: c.clientId, MCP_CLIENT_SECRET: c.clientSecret });
    expect(credentials).toMatchObject({ kind: "secret", clientId: c.clientId });
    const { status, mock } = await call(credentials);
    expect(status).toBe(200);
    expect(mock.tokens[0]).toMatchObject({ clientId: c.clientId, authMethod: "client_secret_basic" });
    expect(text.stderr).toBe("");
  });

  it("lets --client-secret and --client-id win over the environment, with a warning that never holds the secret", async () => {
    const { credentials, text } = read(
      { "client-id": c.clientId, "client-secret": c.clientSecret },
      { MCP_CLIENT_ID: "someone-else", MCP_CLIENT_SECRET: "a-wrong-secret" },
    );
    expect(credentials?.clientId).toBe(c.clientId);
    expect((await call(credentials)).status).toBe(200);
    expect(text.stderr).toBe("warning: --client-secret puts the secret in your shell history and in `ps`; set MCP_CLIENT_SECRET instead\n");
    expect(text.stderr.includes(c.clientSecret)).toBe(false);
  });

  it("passes --auth-method, --scope and --verbose to the middleware; verbose lines hold no secret or token", async () => {
    const { credentials, text } = read(
      { "auth-method": "client_secret_post", scope: "mcp:read", verbose: true },
      { MCP_CLIENT_ID: c.clientId, MCP_CLIENT_SECRET: c.clientSecret },
    );
    expect(credentials?.authMethod).toBe("client_secret_post");
    const { status, token, mock } = await call(credentials);
    expect(status).toBe(200);
    expect(token[0]!.params.get("client_secret") === c.clientSecret).toBe(true);
    expect(token[0]!.params.get("scope")).toBe("mcp:read");
    expect(text.stderr).toContain(`· token request to ${mock.tokenEndpoint} (client_credentials, client_secret_post, scope "mcp:read")`);
    expect(text.stderr).toMatch(/· token response 200, expires \d{4}-/);
    expect(text.stderr.includes(c.clientSecret)).toBe(false);
    expect(text.stderr.includes(mock.tokens[0]!.accessToken)).toBe(false);
  });
});

describe("readCredentials: private key", () => {
  const keyEnv = (key: string) => ({ MCP_CLIENT_ID: c.clientId, MCP_PRIVATE_KEY: key });
  // A kid in the assertion only matches a registered key with that kid.
  const withKid = (kid: string) => ({ clients: [{ clientId: c.clientId, jwks: [{ ...(c.client.jwks as JsonWebKey[])[0], kid }] }] });

  it("reads a PKCS#8 PEM from MCP_PRIVATE_KEY and signs private_key_jwt with it", async () => {
    const { credentials } = read({}, keyEnv(c.privatePem));
    expect(credentials).toMatchObject({ kind: "key", clientId: c.clientId });
    const { status, mock } = await call(credentials);
    expect(status).toBe(200);
    expect(mock.tokens[0]?.authMethod).toBe("private_key_jwt");
  });

  it("accepts a one-line PEM with literal \\n", async () => {
    const oneLine = c.privatePem.trim().replace(/\n/g, "\\n");
    expect(oneLine.includes("\n")).toBe(false);
    const { credentials } = read({}, keyEnv(oneLine));
    expect(credentials?.key).toBe(c.privatePem.trim());
    expect((await call(credentials)).status).toBe(200);
  });

  it("reads a private JWK as JSON", async () => {
    const { credentials } = read({}, keyEnv(JSON.stringify(c.privateJwk)));
    expect(credentials?.key).toEqual(c.privateJwk);
    expect((await call(credentials)).status).toBe(200);
  });

  it("lets --private-key-file win over MCP_PRIVATE_KEY, and --key-id/--alg over MCP_KEY_ID/MCP_SIGNING_ALG", async () => {
    const path = file("key.pem", c.privatePem);
    const { credentials } = read(
      { "private-key-file": path, "key-id": "flag-kid", alg: "ES256" },
      { ...keyEnv("-----BEGIN PRIVATE KEY-----\\nbroken\\n-----END PRIVATE KEY-----"), MCP_KEY_ID: "env-kid", MCP_SIGNING_ALG: "RS256" },
    );
    const { status, token } = await call(credentials, withKid("flag-kid"));
    expect(status).toBe(200);
    expect(decodeProtectedHeader(token[0]!.params.get("client_assertion")!)).toMatchObject({ kid: "flag-kid", alg: "ES256" });
  });

  it("reads MCP_PRIVATE_KEY_FILE, MCP_KEY_ID and MCP_SIGNING_ALG", async () => {
    const path = file("key.json", JSON.stringify(c.privateJwk));
    const { credentials } = read({}, { MCP_CLIENT_ID: c.clientId, MCP_PRIVATE_KEY_FILE: path, MCP_KEY_ID: "env-kid", MCP_SIGNING_ALG: "ES256" });
    const { status, token } = await call(credentials, withKid("env-kid"));
    expect(status).toBe(200);
    expect(decodeProtectedHeader(token[0]!.params.get("client_assertion")!).kid).toBe("env-kid");
  });

  it("names an unreadable key file and its error, never its contents", () => {
    const missing = join(dir, "missing.pem");
    expect(usage({ "private-key-file": missing }, { MCP_CLIENT_ID: "x" })).toBe(`the private key file ${missing} could not be read (ENOENT)`);
    expect(usage({}, { MCP_CLIENT_ID: "x", MCP_PRIVATE_KEY_FILE: dir })).toContain(`the private key file ${dir} could not be read (EISDIR)`);
  });

  it("refuses malformed JWK JSON without quoting it", () => {
    const broken = `{"kty":"EC","crv":"P-256","d":"${c.privateJwk.d}"`;
    const message = usage({}, keyEnv(broken));
    expect(message).toBe("the private key looks like JSON but does not parse; give a private JWK or a PKCS#8 PEM");
    expect(message.includes(c.privateJwk.d!)).toBe(false);
  });
});

describe("readCredentials: platform tokens", () => {
  async function platformJwt(sub = "system:serviceaccount:ci:mcp", iss = PLATFORM, aud = "https://auth.example.com", expiresIn = 600) {
    const signer = await jwtSigner();
    return { jwt: await signer.sign({ iss, sub, aud, expiresIn }), workload: { issuer: iss, jwks: [signer.publicJwk] }, signer };
  }

  it("sends --assertion-file as a jwt-bearer grant, without client_id unless one is set", async () => {
    const { jwt, workload } = await platformJwt();
    const { credentials } = read({ "assertion-file": file("platform.jwt", jwt) });
    expect(credentials).toMatchObject({ kind: "workload", clientId: undefined });
    const { status, token } = await call(credentials, { clients: [], workloads: [workload] });
    expect(status).toBe(200);
    expect(token[0]!.params.get("grant_type")).toBe(JWT_BEARER);
    expect(token[0]!.params.get("assertion") === jwt).toBe(true);
    expect(token[0]!.params.has("client_id")).toBe(false);
  });

  it("sends client_id with the grant when MCP_CLIENT_ID is set, and reads MCP_ASSERTION_FILE", async () => {
    const { jwt, workload } = await platformJwt();
    const { credentials } = read({}, { MCP_CLIENT_ID: "agent-7", MCP_ASSERTION_FILE: file("env.jwt", jwt) });
    const { token } = await call(credentials, { clients: [], workloads: [workload] });
    expect(token[0]!.params.get("client_id")).toBe("agent-7");
  });

  it("reads MCP_ASSERTION", async () => {
    const { jwt, workload } = await platformJwt();
    // The source reads the process environment when the token is needed, as the library's envToken does.
    vi.stubEnv("MCP_ASSERTION", jwt);
    const { credentials } = read({}, { MCP_ASSERTION: jwt });
    expect(credentials?.kind).toBe("workload");
    expect((await call(credentials, { clients: [], workloads: [workload] })).status).toBe(200);
  });

  it("takes --github-oidc as a platform token, and refuses two platform tokens", () => {
    expect(read({ "github-oidc": true }).credentials?.kind).toBe("workload");
    expect(usage({ "github-oidc": true }, { MCP_ASSERTION: "x.y.z" })).toBe("more than one platform token: --github-oidc, MCP_ASSERTION; keep one");
  });

  it("sends the platform JWT as client_assertion with --client-assertion", async () => {
    const signer = await jwtSigner();
    const jwt = await signer.sign({ iss: "entra-app", sub: "entra-app", aud: "https://auth.example.com", expiresIn: 120 });
    const { credentials } = read({ "client-assertion": true, "client-id": "entra-app", "assertion-file": file("entra.jwt", jwt) });
    expect(credentials).toMatchObject({ kind: "client-assertion", clientId: "entra-app" });
    const { status, token } = await call(credentials, { clients: [{ clientId: "entra-app", jwks: [signer.publicJwk] }] });
    expect(status).toBe(200);
    expect(token[0]!.params.get("grant_type")).toBe("client_credentials");
    expect(token[0]!.params.get("client_assertion") === jwt).toBe(true);
  });

  it("refuses --client-assertion without a platform token, or without a client id", () => {
    expect(usage({ "client-assertion": true }, { MCP_CLIENT_ID: "x", MCP_CLIENT_SECRET: "s" })).toBe(
      "--client-assertion needs a platform token: --assertion-file, --github-oidc or MCP_ASSERTION",
    );
    expect(usage({ "client-assertion": true }, { MCP_ASSERTION: "x.y.z" })).toBe(
      "a client secret, a private key or --client-assertion needs a client id: set MCP_CLIENT_ID or --client-id",
    );
  });

  it("refuses --client-assertion alone, naming the platform token it needs", () => {
    expect(usage({ "client-assertion": true }, { MCP_CLIENT_ID: "x" })).toContain("--client-assertion needs a platform token");
  });

  it("refuses --auth-method with a platform token used as the grant", () => {
    expect(usage({ "auth-method": "private_key_jwt" }, { MCP_ASSERTION: "x.y.z" })).toContain("--auth-method does not apply to a platform token");
  });
});

describe("readCredentials: mistakes", () => {
  it("returns nothing without credentials, and requireCredentials says what to set", () => {
    expect(read({}, { MCP_CLIENT_ID: "only-an-id" }).credentials).toBeUndefined();
    expect(() => requireCredentials({}, capture().output)).toThrow(/^no credentials: set MCP_CLIENT_ID with MCP_CLIENT_SECRET or MCP_PRIVATE_KEY/);
  });

  it("names both kinds when two are given, each by the flag or variable it came from", () => {
    expect(usage({}, { MCP_CLIENT_ID: "x", MCP_CLIENT_SECRET: "s", MCP_PRIVATE_KEY: "k" })).toBe(
      "more than one credential: a client secret (MCP_CLIENT_SECRET), a private key (MCP_PRIVATE_KEY); keep one",
    );
    const message = usage({ "assertion-file": "/tmp/p.jwt" }, { MCP_CLIENT_ID: "x", MCP_CLIENT_SECRET: "the-env-secret" });
    expect(message).toBe("more than one credential: a client secret (MCP_CLIENT_SECRET), a platform token (--assertion-file); keep one");
    expect(message.includes("the-env-secret")).toBe(false);
    const key = file("second.pem", "k");
    expect(usage({ "client-secret": "flag-secret", "github-oidc": true }, { MCP_CLIENT_ID: "x", MCP_PRIVATE_KEY_FILE: key })).toBe(
      "more than one credential: a client secret (--client-secret), a private key (MCP_PRIVATE_KEY_FILE), a platform token (--github-oidc); keep one",
    );
    expect(usage({ "private-key-file": key }, { MCP_CLIENT_ID: "x", MCP_ASSERTION_FILE: "/tmp/p.jwt" })).toBe(
      "more than one credential: a private key (--private-key-file), a platform token (MCP_ASSERTION_FILE); keep one",
    );
  });

  it("refuses a secret or key without a client id", () => {
    expect(usage({}, { MCP_CLIENT_SECRET: "s" })).toContain("needs a client id");
    expect(usage({}, { MCP_PRIVATE_KEY: "k" })).toContain("needs a client id");
  });

  it("refuses an unknown --auth-method without echoing it", () => {
    const message = usage({ "auth-method": "client_secret_jwt" }, { MCP_CLIENT_ID: "x", MCP_CLIENT_SECRET: "s" });
    expect(message).toBe("--auth-method must be one of client_secret_basic, client_secret_post, private_key_jwt");
  });

  it("refuses a bad --timeout", () => {
    expect(usage({ timeout: "soon" }, { MCP_CLIENT_ID: "x", MCP_CLIENT_SECRET: "s" })).toContain("--timeout takes milliseconds");
  });
});

describe("describeEvent", () => {
  // Events carry no secrets by type; a token smuggled onto one (by a future change) must not print.
  const TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
  const smuggle = { accessToken: TOKEN, clientSecret: TOKEN, assertion: TOKEN, token: TOKEN };
  // The URLs the rows share: the MCP server, its resource metadata, the authorization server and its token endpoint.
  const [MCP, PRM, AS, ENDPOINT] = ["https://m.example/mcp", "https://m.example/prm", "https://a.example", "https://a.example/token"];
  const cases: [ClientCredentialsEvent, string][] = [
    [{ type: "challenge", url: MCP, status: 401, resourceMetadata: [PRM], scope: "a b" }, `· 401 from ${MCP}, resource_metadata ${PRM}, scope "a b"`],
    [{ type: "challenge", url: MCP, status: 401, resourceMetadata: [] }, `· 401 from ${MCP}`],
    [{ type: "discovery", kind: "resource-metadata", url: PRM, status: 200, ok: true }, `· resource-metadata ${PRM} → 200`],
    [{ type: "discovery", kind: "authorization-server-metadata", url: `${AS}/x`, ok: false }, `· authorization-server-metadata ${AS}/x → no answer`],
    [{ type: "discovered", issuer: AS, tokenEndpoint: ENDPOINT, authMethod: "private_key_jwt" }, `· issuer ${AS}, token endpoint ${ENDPOINT}, private_key_jwt`],
    [
      { type: "token-request", tokenEndpoint: ENDPOINT, grantType: "client_credentials", authMethod: "client_secret_basic", scope: "s" },
      `· token request to ${ENDPOINT} (client_credentials, client_secret_basic, scope "s")`,
    ],
    [{ type: "token-request", tokenEndpoint: ENDPOINT, grantType: JWT_BEARER, authMethod: "none" }, `· token request to ${ENDPOINT} (jwt-bearer, none)`],
    [
      { type: "token-response", tokenEndpoint: ENDPOINT, status: 200, ok: true, expiresAt: Date.UTC(2030, 0, 2, 3, 4, 5) },
      "· token response 200, expires 2030-01-02T03:04:05.000Z",
    ],
    [{ type: "token-response", tokenEndpoint: ENDPOINT, status: 400, ok: false, error: "invalid_client" }, "· token response 400 invalid_client"],
    [{ type: "cache-hit", issuer: AS, resource: MCP, expiresAt: 0, tier: "memory" }, `· cache-hit for ${MCP}`],
    [{ type: "cache-miss", issuer: AS, reason: "empty" }, `· cache-miss for ${AS}`],
    [{ type: "http-retry", url: ENDPOINT, attempt: 2, status: 503 }, `· retry 2 of ${ENDPOINT} after 503`],
    [{ type: "http-retry", url: ENDPOINT, attempt: 1 }, `· retry 1 of ${ENDPOINT}`],
    [{ type: "retry", url: MCP, reason: "insufficient_scope" }, `· retrying ${MCP} (insufficient_scope)`],
    [{ type: "error", phase: "token", message: "token request failed: invalid_client" }, "· token error: token request failed: invalid_client"],
  ];

  it.each(cases)("describes %o", (event, line) => {
    expect(describeEvent({ ...event, ...smuggle } as ClientCredentialsEvent)).toBe(line);
  });

  it("covers every event type", () => {
    const types = new Set(cases.map(([event]) => event.type));
    expect([...types].sort()).toEqual(
      ["cache-hit", "cache-miss", "challenge", "discovered", "discovery", "error", "http-retry", "retry", "token-request", "token-response"].sort(),
    );
  });
});
