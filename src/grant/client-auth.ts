import { ClientCredentialsError } from "../errors.js";
import type { ResolvedOptions } from "../options.js";
import type { ClientAuthMethod } from "../types.js";
import type { KeyCache } from "./jwt.js";

export const JWT_BEARER_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const ASSERTION_LIFETIME_SECONDS = 60;

/** Where the credentials go, as far as the authorization server's metadata says. */
export interface ServerAuthSupport {
  methods?: readonly string[];
  signingAlgs?: readonly string[];
}

export interface AssertionContext {
  issuer?: string;
  tokenEndpoint: string;
}

/** Adds client authentication to a token request. Holds the credential; never exposes it. */
export interface ClientAuthenticator {
  readonly method: ClientAuthMethod;
  /** Secret-free identity of the credential, for cache keys: the method and key thumbprint. */
  identity(): Promise<string>;
  apply(body: URLSearchParams, headers: Headers, context: AssertionContext): Promise<void>;
  /** Removes the secret from text a server sent back (some echo what they received). */
  redact(text: string): string;
}

/**
 * The configured method, else the best one the server lists for the credential we hold.
 * A server that omits the list is assumed to accept the method that fits the credential.
 */
export function chooseAuthMethod(options: ResolvedOptions, server: ServerAuthSupport): ClientAuthMethod {
  if (options.authMethod) return options.authMethod;
  const withKey = options.credential.kind === "key";
  const preferred: ClientAuthMethod[] = withKey ? ["private_key_jwt"] : ["client_secret_basic", "client_secret_post"];
  if (!server.methods) return preferred[0]!;
  const fit = preferred.find((method) => server.methods?.includes(method));
  if (fit) return fit;
  throw new ClientCredentialsError(
    "config",
    `the authorization server accepts ${server.methods.join(", ") || "no client authentication methods"}; with ${
      withKey ? "a privateKey" : "a clientSecret"
    } this client can use ${preferred.join(" or ")}`,
    { code: "unsupported_auth_method" },
  );
}

export type { KeyCache } from "./jwt.js";

export function createClientAuth(options: ResolvedOptions, method: ClientAuthMethod, server: ServerAuthSupport, keys: KeyCache): ClientAuthenticator {
  const { clientId, credential } = options;
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
        sent.unshift(assertion);
        sent.length = Math.min(sent.length, 4);
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
    method,
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

function redactAll(text: string, secrets: readonly string[]): string {
  return secrets.reduce((redacted, secret) => redacted.split(secret).join("[redacted]"), text);
}

function assertionAudience(setting: string, context: AssertionContext): string {
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
