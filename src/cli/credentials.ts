import { readFileSync } from "node:fs";
import { sanitize } from "../errors.js";
import type { AuthenticatedFetch } from "../fetch.js";
import { withClientCredentials } from "../fetch.js";
import type { CommonOptions } from "../option-types.js";
import { fileToken } from "../sources/file.js";
import { envToken, githubActionsToken } from "../sources/index.js";
import type { AssertionSource, ClientAuthMethod, ClientCredentialsEvent } from "../types.js";
import { withWorkloadIdentity } from "../workload-identity.js";
import { millis, stringValue, UsageError, type Values } from "./args.js";
import type { Output } from "./output.js";

const AUTH_METHODS: readonly ClientAuthMethod[] = ["client_secret_basic", "client_secret_post", "private_key_jwt"];

/** What the command line and environment hold, without the secrets themselves. */
export type CredentialKind = "secret" | "key" | "workload" | "client-assertion";

export interface Credentials {
  kind: CredentialKind;
  /** Algorithms the configured key can sign with (for `discover`'s verdict). */
  key?: string | JsonWebKey;
  clientId?: string;
  authMethod?: ClientAuthMethod;
  /** The middleware; with `pin`, tokens go only to that URL and below (unless --resource-url says otherwise). */
  create(next?: typeof fetch, pin?: URL): AuthenticatedFetch;
}

const NONE_GIVEN = [
  "no credentials: set MCP_CLIENT_ID with MCP_CLIENT_SECRET or MCP_PRIVATE_KEY (or MCP_PRIVATE_KEY_FILE),",
  "or give a platform token with --assertion-file PATH, --github-oidc or MCP_ASSERTION",
].join(" ");

/**
 * The credential the flags and environment describe (flags win), or `undefined` when there is
 * none. A secret passed as a flag works, with a warning: shell history and `ps` keep it.
 */
export function readCredentials(values: Values, output: Output): Credentials | undefined {
  const { env } = output.io;
  const clientId = stringValue(values, "client-id") ?? env.MCP_CLIENT_ID;
  const flagSecret = stringValue(values, "client-secret");
  if (flagSecret !== undefined) {
    output.warn("--client-secret puts the secret in your shell history and in `ps`; set MCP_CLIENT_SECRET instead");
  }
  const secret = flagSecret ?? env.MCP_CLIENT_SECRET;
  const key = readKey(values, env);
  const assertion = assertionSource(values, env);
  const given = [
    secret && `a client secret (${flagSecret === undefined ? "MCP_CLIENT_SECRET" : "--client-secret"})`,
    key && `a private key (${key.from})`,
    assertion && `a platform token (${assertion.from})`,
  ].filter(Boolean);
  if (given.length > 1) throw new UsageError(`more than one credential: ${given.join(", ")}; keep one`);
  const asClientAssertion = values["client-assertion"] === true;
  if (!assertion && asClientAssertion) throw new UsageError("--client-assertion needs a platform token: --assertion-file, --github-oidc or MCP_ASSERTION");
  if (!given.length) return undefined;

  const authMethod = stringValue(values, "auth-method") as ClientAuthMethod | undefined;
  if (authMethod !== undefined && !AUTH_METHODS.includes(authMethod)) {
    throw new UsageError(`--auth-method must be one of ${AUTH_METHODS.join(", ")}`);
  }
  const common = commonOptions(values, output);
  // Tokens go only under the URL the command was given, whatever a redirect or a proxied path says.
  const pinned = (pin: URL | undefined): CommonOptions => ({ ...common, resourceUrl: common.resourceUrl ?? (pin && `${pin.origin}${pin.pathname}`) });
  if ((secret || key || asClientAssertion) && !clientId) {
    throw new UsageError("a client secret, a private key or --client-assertion needs a client id: set MCP_CLIENT_ID or --client-id");
  }
  if (assertion && !asClientAssertion) {
    if (authMethod) {
      throw new UsageError(
        "--auth-method does not apply to a platform token, which is the grant itself (add --client-assertion to send it as a client assertion)",
      );
    }
    const { source } = assertion;
    return { kind: "workload", clientId, create: (next, pin) => withWorkloadIdentity({ ...pinned(pin), assertion: source, clientId })(next) };
  }
  if (assertion) {
    const { source } = assertion;
    return {
      kind: "client-assertion",
      clientId,
      create: (next, pin) => withClientCredentials({ ...pinned(pin), clientId: clientId!, clientAssertion: source })(next),
    };
  }
  const base = { clientId: clientId!, authMethod };
  if (secret) {
    return { kind: "secret", clientId, authMethod, create: (next, pin) => withClientCredentials({ ...pinned(pin), ...base, clientSecret: secret })(next) };
  }
  const algorithm = stringValue(values, "alg") ?? env.MCP_SIGNING_ALG;
  const keyId = stringValue(values, "key-id") ?? env.MCP_KEY_ID;
  return {
    kind: "key",
    key: key!.key,
    clientId,
    authMethod,
    create: (next, pin) => withClientCredentials({ ...pinned(pin), ...base, privateKey: key!.key, algorithm, keyId })(next),
  };
}

export function requireCredentials(values: Values, output: Output): Credentials {
  const credentials = readCredentials(values, output);
  if (!credentials) throw new UsageError(NONE_GIVEN);
  return credentials;
}

/** PEM (PKCS#8) or a private JWK as JSON, from a file or the environment. */
function readKey(values: Values, env: Output["io"]["env"]): { key: string | JsonWebKey; from: string } | undefined {
  const flagFile = stringValue(values, "private-key-file");
  const file = flagFile ?? env.MCP_PRIVATE_KEY_FILE;
  const from = file === undefined ? "MCP_PRIVATE_KEY" : flagFile === undefined ? "MCP_PRIVATE_KEY_FILE" : "--private-key-file";
  let text = env.MCP_PRIVATE_KEY;
  if (file !== undefined) {
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new UsageError(`the private key file ${file} could not be read (${(error as { code?: string }).code ?? "unreadable"})`);
    }
  }
  if (text === undefined || text.trim() === "") return undefined;
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      return { key: JSON.parse(trimmed) as JsonWebKey, from };
    } catch {
      // Never quote the text: it is a private key.
      throw new UsageError("the private key looks like JSON but does not parse; give a private JWK or a PKCS#8 PEM");
    }
  }
  // CI secret stores often keep a PEM on one line with literal "\n".
  return { key: trimmed.includes("\n") ? trimmed : trimmed.replace(/\\n/g, "\n"), from };
}

function assertionSource(values: Values, env: Output["io"]["env"]): { source: AssertionSource; from: string } | undefined {
  const sources: { source: AssertionSource; from: string }[] = [];
  const flagFile = stringValue(values, "assertion-file");
  const file = flagFile ?? env.MCP_ASSERTION_FILE;
  if (file !== undefined) sources.push({ source: fileToken(file), from: flagFile === undefined ? "MCP_ASSERTION_FILE" : "--assertion-file" });
  if (values["github-oidc"] === true) sources.push({ source: githubActionsToken(), from: "--github-oidc" });
  if (env.MCP_ASSERTION) sources.push({ source: envToken("MCP_ASSERTION"), from: "MCP_ASSERTION" });
  if (sources.length > 1) throw new UsageError(`more than one platform token: ${sources.map((s) => s.from).join(", ")}; keep one`);
  return sources[0];
}

/** Options that do not depend on the credential. */
function commonOptions(values: Values, output: Output): CommonOptions {
  const resource = values["no-resource"] === true ? false : stringValue(values, "resource");
  return {
    scope: stringValue(values, "scope"),
    resource,
    resourceUrl: stringValue(values, "resource-url"),
    issuer: stringValue(values, "issuer"),
    tokenEndpoint: stringValue(values, "token-endpoint"),
    assertionAudience: stringValue(values, "assertion-audience"),
    timeoutMs: millis(values, "timeout"),
    allowInsecureRequests: values["allow-insecure-requests"] === true || undefined,
    dpop: values.dpop === true || undefined,
    // Events carry no secret, but URLs and scopes a server chose: no control characters on a terminal.
    onEvent: values.verbose === true ? (event) => output.info(output.paint("dim", sanitize(describeEvent(event), 2000))) : undefined,
  };
}

/** One line per event for --verbose. Events never carry secrets or tokens. */
export function describeEvent(event: ClientCredentialsEvent): string {
  switch (event.type) {
    case "challenge":
      return `· ${event.status} from ${event.url}${event.resourceMetadata.length ? `, resource_metadata ${event.resourceMetadata.join(" ")}` : ""}${event.scope ? `, scope "${event.scope}"` : ""}`;
    case "discovery":
      return `· ${event.kind} ${event.url} → ${event.status ?? "no answer"}`;
    case "discovered":
      return `· issuer ${event.issuer}, token endpoint ${event.tokenEndpoint}, ${event.authMethod}`;
    case "token-request":
      return `· token request to ${event.tokenEndpoint} (${event.grantType === "client_credentials" ? "client_credentials" : "jwt-bearer"}, ${event.authMethod}${event.dpop ? ", DPoP" : ""}${event.scope ? `, scope "${event.scope}"` : ""})`;
    case "token-response":
      return `· token response ${event.status}${event.error ? ` ${event.error}` : ""}${event.expiresAt ? `, expires ${new Date(event.expiresAt).toISOString()}` : ""}`;
    case "cache-hit":
    case "cache-miss":
      return `· ${event.type} for ${event.resource ?? event.issuer}`;
    case "http-retry":
      return `· retry ${event.attempt} of ${event.url}${event.status ? ` after ${event.status}` : ""}`;
    case "retry":
      return `· retrying ${event.url} (${event.reason})`;
    case "error":
      return `· ${event.phase} error: ${event.message}`;
    case "dpop-nonce":
      return `· new DPoP nonce from ${event.url}`;
    case "dpop-proof":
      return `· DPoP proof for ${event.method} ${event.url}`;
  }
}
