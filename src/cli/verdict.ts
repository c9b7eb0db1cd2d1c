import { algorithmsFor, SIGNING_ALGS } from "../grant/key-type.js";
import type { ClientAuthMethod } from "../types.js";
import type { Credentials } from "./credentials.js";
import type { DiscoveryReport } from "./discover.js";

/** Where the discovery chain broke. */
export interface Problem {
  code: string;
  message: string;
  status?: number;
}

/** Can this client authenticate at the server, with what, and if not, what to change. */
export interface Verdict {
  ok: boolean;
  /** One sentence. */
  summary: string;
  /** The method the configured credential will use, when there is one and it fits. */
  method?: string;
  /** What each kind of credential would use here (when none is configured). */
  options?: string[];
  /** What to change, when `ok` is false. */
  fix?: string;
  /** True but worth knowing: advisory metadata, an odd status. */
  warnings?: string[];
}

// "Ed25519" is the name some servers list for EdDSA (draft-ietf-jose-fully-specified-algorithms).
const USABLE_ALGS = [...SIGNING_ALGS, "Ed25519"];
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** What to change for each way discovery breaks, by error code. */
const FIXES: Record<string, string> = {
  unreachable: "Check the URL, and that the server runs and is reachable from here (a proxy, VPN or firewall may be in the way).",
  resource_metadata_not_found:
    "The server must publish RFC 9728 protected resource metadata, named by resource_metadata in its 401 or at /.well-known/oauth-protected-resource{path}. Until it does, configure the authorization server yourself: --issuer (or --token-endpoint) and --resource.",
  resource_mismatch:
    "The metadata's `resource` must be this URL or a prefix of it. Fix the resource URL the server is configured with (another host name, a missing path, or a proxy in front are the usual causes), or call the URL the metadata names.",
  invalid_resource_metadata:
    "The server's protected resource metadata is malformed; it needs `resource` and a non-empty `authorization_servers` (RFC 9728 §2).",
  authorization_server_metadata_not_found:
    "The authorization server must publish RFC 8414 (/.well-known/oauth-authorization-server) or OpenID Connect metadata for its issuer. Until it does, pass --token-endpoint with --issuer.",
  invalid_authorization_server_metadata: "The authorization server's metadata is malformed; it needs `issuer` and `token_endpoint` (RFC 8414 §2).",
  issuer_mismatch:
    "The `issuer` in the authorization server's metadata must equal, exactly, the issuer the resource lists. Fix whichever is misconfigured: a base path, a trailing slash, http against https, another host name.",
  invalid_issuer: "An issuer is an https URL without query or fragment (RFC 8414 §2); fix the resource's authorization_servers.",
  insecure_url: "Serve it over https: plain http is allowed on loopback only (or with --allow-insecure-requests, for a test network).",
  invalid_url: "The server sent a URL that does not parse; fix its metadata.",
  redirect: "Metadata endpoints must answer directly: credentials never follow redirects. Publish the document at the URL itself.",
  timeout: "The server did not answer in time; check its health, or raise --timeout.",
  network_error: "The connection failed; check that the server runs and is reachable from here.",
  retry_later: "The server is overloaded or down (429/5xx); try again later.",
  http_error: "The server failed with an HTTP error; check its logs.",
  response_too_large: "A metadata document over 1 MiB is refused; check that the URL serves metadata.",
};

/** Judges a finished (or broken) discovery report, for the configured credential if there is one. */
export function verdict(report: DiscoveryReport, credentials?: Pick<Credentials, "kind" | "key" | "authMethod" | "clientId">): Verdict {
  const warnings: string[] = [];
  const status = report.probe.status;
  if (report.failure) {
    const { code, message } = report.failure;
    if (code === "resource_metadata_not_found" && status !== undefined && status !== 401) {
      if (status >= 200 && status < 300) {
        return { ok: true, summary: `The server answered ${status} without a token and publishes no resource metadata: it needs no token here.` };
      }
      return {
        ok: false,
        summary: `The server answered ${status}, not 401 with a challenge, and publishes no protected resource metadata.`,
        fix: 'Check that the URL is the MCP endpoint itself (often ending in /mcp). A protected MCP server answers 401 with WWW-Authenticate: Bearer resource_metadata="…".',
      };
    }
    const fix = FIXES[code] ?? "See the message; docs/troubleshooting.md lists what each error code means.";
    return { ok: false, summary: `Discovery stopped: ${message}`, fix };
  }
  if (status !== 401) {
    warnings.push(
      `The server answered ${status} to a request without a token, not 401: it may not need a token at this URL, or it rejects the request before authentication.`,
    );
  } else if (!report.probe.resourceMetadata.length) {
    warnings.push("The 401 names no resource_metadata (the MCP spec asks for it); the well-known URL was used instead.");
  }

  const server = report.authorizationServer!;
  // RFC 8414 §2: without the list, client_secret_basic is the default.
  const methods = server.authMethods ?? ["client_secret_basic"];
  const algs = server.signingAlgs;
  const grants = server.grantTypes;
  const usableAlgs = algs?.filter((alg) => USABLE_ALGS.includes(alg));
  const secretMethod = (["client_secret_basic", "client_secret_post"] as const).find((method) => methods.includes(method));
  const keyOffered = methods.includes("private_key_jwt") && (!usableAlgs || usableAlgs.length > 0);
  const clientCredentialsListed = !grants || grants.includes("client_credentials");
  const jwtBearerListed = grants?.includes(JWT_BEARER) ?? false;

  if (!credentials) {
    const options: string[] = [];
    if (secretMethod) options.push(`with a client secret: ${secretMethod}`);
    if (keyOffered) options.push(`with a private key: private_key_jwt (${usableAlgs?.join(", ") ?? "any algorithm"})`);
    if (jwtBearerListed) options.push("with a platform token (workload identity): the jwt-bearer grant");
    if (!clientCredentialsListed && options.length) {
      warnings.push(`grant_types_supported lists ${grants!.join(", ")} without client_credentials; it is advisory, and the grant will be tried once.`);
    }
    if (!options.length) return noMethod(methods, algs, warnings);
    return withWarnings({ ok: true, summary: "This client can authenticate here.", options }, warnings);
  }

  if (credentials.kind === "workload") {
    if (!credentials.clientId) {
      warnings.push("No client id (MCP_CLIENT_ID): the grant goes without client_id, which some authorization servers (oidc-provider, Keycloak) refuse.");
    }
    if (grants && !jwtBearerListed) warnings.push(`grant_types_supported does not list the jwt-bearer grant (${grants.join(", ")}); it will be tried once.`);
    return withWarnings({ ok: true, summary: "Your platform token will be sent as a jwt-bearer grant (RFC 7523 §2.1).", method: "jwt-bearer grant" }, warnings);
  }
  if (!clientCredentialsListed) warnings.push(`grant_types_supported lists ${grants!.join(", ")} without client_credentials; it will be tried once.`);
  const withKey = credentials.kind !== "secret";
  const wanted: readonly ClientAuthMethod[] = credentials.authMethod
    ? [credentials.authMethod]
    : withKey
      ? ["private_key_jwt"]
      : ["client_secret_basic", "client_secret_post"];
  const method = wanted.find((candidate) => methods.includes(candidate));
  if (!method) {
    const other = withKey ? "a client secret (MCP_CLIENT_SECRET)" : "a private key (MCP_PRIVATE_KEY)";
    const fits = withKey ? secretMethod : keyOffered;
    return withWarnings(
      {
        ok: false,
        summary: `The authorization server accepts ${methods.join(", ") || "no client authentication"}; your ${describeKind(credentials.kind)} needs ${wanted.join(" or ")}.`,
        fix: fits
          ? `Use ${other} instead, or register the client for ${wanted.join(" or ")}.`
          : "Ask for a client registration this package can use: client_secret_basic, client_secret_post or private_key_jwt.",
      },
      warnings,
    );
  }
  if (credentials.kind === "key" && credentials.key !== undefined && usableAlgs) {
    let keyAlgs: string[] = [];
    try {
      keyAlgs = algorithmsFor(credentials.key);
    } catch {
      return {
        ok: false,
        summary: "Your private key cannot be read.",
        fix: "Give a PKCS#8 PEM or a private JWK (`openssl pkcs8 -topk8 -nocrypt -in key.pem`).",
      };
    }
    const fit = keyAlgs.find((alg) => usableAlgs.includes(alg) || (alg === "EdDSA" && usableAlgs.includes("Ed25519")));
    if (!fit) {
      return {
        ok: false,
        summary: `The authorization server accepts assertions signed with ${algs!.join(", ") || "nothing"}; your key signs ${keyAlgs.join(", ")}.`,
        fix: usableAlgs.length
          ? `Register a key of a type the server accepts (${usableAlgs.join(", ")}; for ES256, an EC P-256 key).`
          : "No key can sign what it accepts here (WebCrypto signs RS*, PS*, ES* and EdDSA): use a client secret (MCP_CLIENT_SECRET), or ask for a registration with one of those algorithms.",
      };
    }
    return withWarnings(
      { ok: true, summary: `Your private key will authenticate with private_key_jwt, signed ${fit}.`, method: `private_key_jwt (${fit})` },
      warnings,
    );
  }
  return withWarnings({ ok: true, summary: `Your ${describeKind(credentials.kind)} will authenticate with ${method}.`, method }, warnings);
}

function noMethod(methods: string[], algs: string[] | undefined, warnings: string[]): Verdict {
  const unusableKey = methods.includes("private_key_jwt") && algs ? ` (private_key_jwt only with ${algs.join(", ")}, none of which WebCrypto signs)` : "";
  return withWarnings(
    {
      ok: false,
      summary: `The authorization server offers no client authentication this package can use: ${methods.join(", ") || "none"}${unusableKey}.`,
      fix: "Ask for a client registration with client_secret_basic, client_secret_post or private_key_jwt (RS256, PS256, ES256 or EdDSA), or the jwt-bearer grant for workload identity.",
    },
    warnings,
  );
}

function describeKind(kind: Credentials["kind"]): string {
  return kind === "secret" ? "client secret" : kind === "key" ? "private key" : kind === "client-assertion" ? "client assertion" : "platform token";
}

function withWarnings(result: Verdict, warnings: string[]): Verdict {
  return warnings.length ? { ...result, warnings } : result;
}
