import { ClientCredentialsError } from "../errors.js";
import { describe } from "../http.js";
import type { Credential, ResolvedOptions } from "../options.js";
import type { AssertionContext, ClientAuthMethod, GrantType, TokenAuthMethod } from "../types.js";
import { deadline, defined } from "../util.js";
import type { KeyCache } from "./jwt.js";

export const JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const ASSERTION_LIFETIME_SECONDS = 60;

/** Where the credentials go, as far as the authorization server's metadata says. */
export interface ServerAuthSupport {
  methods?: readonly string[];
  signingAlgs?: readonly string[];
}

/** Where a token request goes, as far as the credential needs to know (an assertion's audience). */
export interface RequestContext {
  issuer?: string;
  tokenEndpoint: string;
  resource?: string;
}

/** Adds the grant and client authentication to a token request. Holds the credential; never exposes it. */
export interface ClientAuthenticator {
  readonly grant: GrantType;
  readonly method: TokenAuthMethod;
  /** Secret-free identity of the credential, for cache keys: the method and key thumbprint, or whom an assertion speaks for. */
  identity(context: RequestContext): Promise<string>;
  apply(body: URLSearchParams, headers: Headers, context: RequestContext): Promise<void>;
  /** Removes the secret from text a server sent back (some echo what they received). */
  redact(text: string): string;
}

/**
 * The configured method, else the best one the server lists for the credential we hold.
 * A server that omits the list is assumed to accept the method that fits the credential.
 */
export function chooseAuthMethod(options: ResolvedOptions, server: ServerAuthSupport): TokenAuthMethod {
  const { kind } = options.credential;
  // The JWT-bearer grant authenticates with its assertion: nothing to choose.
  if (kind === "workload") return "none";
  if (options.authMethod) return options.authMethod;
  const withKey = kind !== "secret";
  const preferred: ClientAuthMethod[] = withKey ? ["private_key_jwt"] : ["client_secret_basic", "client_secret_post"];
  if (!server.methods) return preferred[0]!;
  const fit = preferred.find((method) => server.methods?.includes(method));
  if (fit) return fit;
  throw new ClientCredentialsError(
    "config",
    `the authorization server accepts ${server.methods.join(", ") || "no client authentication methods"}; with ${
      kind === "key" ? "a privateKey" : kind === "assertion" ? "a clientAssertion" : "a clientSecret"
    } this client can use ${preferred.join(" or ")}`,
    { code: "unsupported_auth_method" },
  );
}

export type { KeyCache } from "./jwt.js";

export function createClientAuth(options: ResolvedOptions, method: TokenAuthMethod, server: ServerAuthSupport, keys: KeyCache): ClientAuthenticator {
  const { credential } = options;
  const clientId = options.clientId as string; // only workload identity goes without one
  if (credential.kind === "workload" || credential.kind === "assertion") return external(options, credential);
  if (credential.kind === "key") {
    /** The last few client assertions sent, which redact() removes. */
    const sent: string[] = [];
    // The key's type, the algorithm and jose all live in the lazily loaded jwt chunk; a key that
    // does not fit fails there, on the first token request (which asks for identity() first).
    const key = async () => {
      const jwt = await import("./jwt.js");
      try {
        return { jwt, key: await jwt.signingKey(credential, server.signingAlgs, keys) };
      } catch (error) {
        if (!(error instanceof jwt.KeyError)) throw error;
        throw new ClientCredentialsError("config", error.message, { code: error.code, cause: error.cause });
      }
    };
    return {
      grant: "client_credentials",
      method: "private_key_jwt",
      identity: async () => {
        const { alg, thumbprint } = (await key()).key;
        return `private_key_jwt:${alg}:${thumbprint}`;
      },
      // An assertion is a credential until it expires: a server echoing one must not put it in an error.
      redact: (text) => redactAll(text, sent),
      async apply(body, _headers, context) {
        const { jwt, key: signing } = await key();
        const assertion = await jwt.signAssertion(signing, clientId, assertionAudience(options.assertionAudience, context), ASSERTION_LIFETIME_SECONDS);
        remember(sent, assertion);
        body.set("client_assertion_type", JWT_BEARER_ASSERTION);
        body.set("client_assertion", assertion);
      },
    };
  }
  const { secret } = credential;
  const basic = btoa(`${formEncode(clientId)}:${formEncode(secret)}`);
  // Every form the secret travels in: some servers echo the header or the form body they received.
  const forms = secret.length >= 4 ? [basic, formEncode(secret), encodeURIComponent(secret), secret] : [basic];
  return {
    grant: "client_credentials",
    method: method as ClientAuthMethod,
    identity: async () => method,
    redact: (text) => redactAll(text, forms),
    async apply(body, headers) {
      if (method === "client_secret_basic") {
        headers.set("authorization", `Basic ${basic}`);
      } else {
        body.set("client_id", clientId);
        body.set("client_secret", secret);
      }
    },
  };
}

/**
 * A JWT someone else issued: the grant itself (workload identity, RFC 7523 §2.1) or the client
 * assertion of a client_credentials request (RFC 7523 §2.2, with `client_id`, as Entra requires).
 * Reading it is loaded on first use, as the key's code is: a client with a secret never carries it.
 */
function external(options: ResolvedOptions, credential: Extract<Credential, { kind: "workload" | "assertion" }>): ClientAuthenticator {
  const { clientId } = options;
  const grant = credential.kind === "workload";
  const name = grant ? "assertion" : "clientAssertion";
  let module: typeof import("./assertion.js") | undefined;
  let assertions: import("./assertion.js").Assertions | undefined;
  /** Runs `read` with the assertions loaded and the context the source gets, as a ClientCredentialsError on failure. */
  const withAssertions = async <T>(context: RequestContext, read: (assertions: import("./assertion.js").Assertions, full: AssertionContext) => Promise<T>) => {
    module ??= await import("./assertion.js");
    assertions ??= new module.Assertions(credential.source, name);
    try {
      // A source that never answers must not hold every caller of the resource for ever.
      return await deadline(read(assertions, { ...context, audience: assertionAudience(options.assertionAudience, context) }), options.timeoutMs);
    } catch (error) {
      throw sourceError(error, module.AssertionError, name, options.timeoutMs);
    }
  };
  return {
    grant: grant ? JWT_BEARER_GRANT : "client_credentials",
    method: grant ? "none" : "private_key_jwt",
    identity: (context) => withAssertions(context, async (assertions, full) => `${name}:${await assertions.subject(full)}`),
    // Nothing was sent before it loaded, so there is nothing to redact.
    redact: (text) => (assertions ? redactAll(text, assertions.sent) : text),
    apply: (body, _headers, context) =>
      withAssertions(context, async (assertions, full) => {
        const jwt = await assertions.forRequest(full);
        if (clientId !== undefined) body.set("client_id", clientId);
        if (grant) {
          body.set("assertion", jwt);
        } else {
          body.set("client_assertion_type", JWT_BEARER_ASSERTION);
          body.set("client_assertion", jwt);
        }
      }),
  };
}

/** What reading an assertion threw, as a ClientCredentialsError of this copy of the package. */
function sourceError(error: unknown, AssertionError: typeof import("./assertion.js").AssertionError, name: string, timeoutMs: number): unknown {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return new ClientCredentialsError("token", `the ${name} source did not answer within ${timeoutMs} ms`, { code: "assertion_unavailable" });
  }
  if (error instanceof AssertionError) {
    // What a failing source said, without URL queries or anything shaped like a JWT.
    const said = error.cause === undefined ? "" : `: ${describe(error.cause).replace(/eyJ[\w-]*\.[\w-]+\.[\w-]*/g, "[redacted]")}`;
    return new ClientCredentialsError("token", `${error.message}${said}`, { code: error.code, cause: error.cause });
  }
  // A shipped source's error from the CommonJS subpath bundles, which carry their own copy of the class.
  if (error instanceof Error && error.name === "ClientCredentialsError" && !(error instanceof ClientCredentialsError)) {
    const { code, status } = error as ClientCredentialsError;
    return new ClientCredentialsError("token", error.message.replace(/^\[token\] /, ""), defined({ code, status, cause: error.cause }));
  }
  return error;
}

/** Keeps the last few assertions sent, which redact() removes from what servers send back. */
function remember(sent: string[], assertion: string): void {
  if (sent[0] === assertion) return;
  sent.unshift(assertion);
  sent.length = Math.min(sent.length, 4);
}

function redactAll(text: string, secrets: readonly string[]): string {
  return secrets.reduce((redacted, secret) => redacted.split(secret).join("[redacted]"), text);
}

function assertionAudience(setting: string, context: RequestContext): string {
  if (setting === "token_endpoint") return context.tokenEndpoint;
  if (setting === "issuer") return context.issuer ?? context.tokenEndpoint;
  return setting;
}

/**
 * `application/x-www-form-urlencoded` encoding, as RFC 6749 §2.3.1 requires before Basic's
 * base64. The result is ASCII, so `btoa` is safe for any input.
 */
export function formEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}
