/**
 * Assertion sources for {@link withWorkloadIdentity} and `clientAssertion` that read the
 * environment: an environment variable, and the GitHub Actions OIDC token. Web APIs only, plus
 * the environment (`process.env`, or `Deno.env`). For a token file, see `mcp-client-credentials/sources/file`.
 * @module
 */

import { ClientCredentialsError } from "../errors.js";
import { claimsOf } from "../grant/assertion.js";
import { secureUrl } from "../http.js";
import type { AssertionContext, FetchLike } from "../types.js";

type Source = (context: AssertionContext) => Promise<string>;

/** Tokens are fetched afresh this long before their `exp`, so none expires on its way to the server. */
const EXPIRY_MARGIN_MS = 60_000;

/** An environment variable, or `undefined` where there is none or no permission to read it (Deno). */
function env(name: string): string | undefined {
  const global = globalThis as { process?: { env?: Record<string, string | undefined> }; Deno?: { env: { get(name: string): string | undefined } } };
  try {
    return global.process?.env?.[name] ?? global.Deno?.env.get(name);
  } catch {
    return undefined;
  }
}

function unavailable(message: string, options: { status?: number; cause?: unknown } = {}): ClientCredentialsError {
  return new ClientCredentialsError("token", message, { code: "assertion_unavailable", ...options });
}

/**
 * The JWT in an environment variable, read before each token request (a supervisor that
 * restarts the process with a new token is picked up; so is a test that sets the variable).
 * @example
 * withWorkloadIdentity({ assertion: envToken("MCP_ASSERTION") });
 */
export function envToken(name: string): Source {
  return async () => {
    const value = env(name);
    if (!value) throw unavailable(`the environment variable ${name} is not set`);
    return value;
  };
}

export interface GitHubActionsTokenOptions {
  /**
   * The `aud` to ask GitHub for.
   * @default the audience the flow asks for: the authorization server's issuer, or `assertionAudience`
   */
  audience?: string;
  /**
   * The job's token request URL.
   * @default the `ACTIONS_ID_TOKEN_REQUEST_URL` environment variable
   */
  requestUrl?: string;
  /**
   * The job's token request bearer.
   * @default the `ACTIONS_ID_TOKEN_REQUEST_TOKEN` environment variable
   */
  requestToken?: string;
  /**
   * The `fetch` to call GitHub with.
   * @default globalThis.fetch
   */
  fetch?: FetchLike;
  /**
   * Timeout of the request to GitHub.
   * @default 10000
   */
  timeoutMs?: number;
}

/**
 * The GitHub Actions OIDC token of the running job, for the audience the authorization server
 * expects. The workflow needs `permissions: id-token: write`. Tokens are kept per audience until a
 * minute before they expire; concurrent token requests share one request to GitHub.
 * @example
 * import { githubActionsToken } from "mcp-client-credentials/sources";
 * withWorkloadIdentity({ assertion: githubActionsToken() });
 */
export function githubActionsToken(options: GitHubActionsTokenOptions = {}): Source {
  const tokens = new Map<string, { jwt: string; renewAt: number }>();
  const requests = new Map<string, Promise<{ jwt: string; renewAt: number }>>();
  return async (context) => {
    const audience = options.audience ?? context.audience;
    const held = tokens.get(audience);
    if (held && Date.now() < held.renewAt) return held.jwt;
    // Callers that arrive while a request is in flight share it (and its token, `exp` or not).
    let request = requests.get(audience);
    if (!request) {
      request = fetchToken(options, audience).finally(() => requests.delete(audience));
      requests.set(audience, request);
      request.then(
        (entry) => tokens.set(audience, entry),
        () => {},
      );
    }
    return (await request).jwt;
  };
}

async function fetchToken(options: GitHubActionsTokenOptions, audience: string): Promise<{ jwt: string; renewAt: number }> {
  const requestUrl = options.requestUrl ?? env("ACTIONS_ID_TOKEN_REQUEST_URL");
  const requestToken = options.requestToken ?? env("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
  if (!requestUrl || !requestToken) {
    throw unavailable(
      "no GitHub Actions OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set (give the job `permissions: id-token: write`)",
    );
  }
  const url = secureUrl(requestUrl, "token", "ACTIONS_ID_TOKEN_REQUEST_URL", false);
  url.searchParams.set("audience", audience);
  const fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${requestToken}`, accept: "application/json" },
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      redirect: "error",
    });
  } catch (error) {
    // The cause is not kept: a network error's message may quote the URL, whose query GitHub signs.
    throw unavailable(`the GitHub Actions OIDC token request failed (${error instanceof Error ? error.name : "error"})`);
  }
  const body: unknown = await response.json().catch(() => undefined);
  const value = (body as { value?: unknown } | undefined)?.value;
  if (!response.ok || typeof value !== "string") {
    throw unavailable(`the GitHub Actions OIDC token request answered HTTP ${response.status}${response.ok ? " without a token" : ""}`, {
      status: response.status,
    });
  }
  const exp = claimsOf(value)?.exp;
  // A token without a readable `exp` is used once; with one, until a minute before it.
  const renewAt = typeof exp === "number" ? exp * 1000 - EXPIRY_MARGIN_MS : 0;
  return { jwt: value, renewAt };
}
