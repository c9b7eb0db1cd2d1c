/** Which step of the flow failed. */
export type ClientCredentialsPhase = "config" | "discovery" | "token" | "resource";

/**
 * This package's own error codes; README "Errors" says what each means and what to do.
 * A token endpoint's OAuth `error` (RFC 6749 §5.2, e.g. `invalid_client`) is passed through as is.
 */
export type ClientCredentialsErrorCode =
  // config
  | "invalid_config"
  | "invalid_key"
  | "unsupported_key_format"
  | "unsupported_algorithm"
  | "invalid_url"
  | "insecure_url"
  | "unsupported_auth_method"
  | "resource_mismatch"
  // discovery
  | "resource_metadata_not_found"
  | "invalid_resource_metadata"
  | "authorization_server_metadata_not_found"
  | "invalid_authorization_server_metadata"
  | "invalid_issuer"
  | "issuer_mismatch"
  | "issuer_not_allowed"
  // any request to an authorization server or metadata endpoint
  | "timeout"
  | "network_error"
  | "redirect"
  | "response_too_large"
  | "retry_later"
  // token
  | "http_error"
  | "invalid_token_response"
  | "unsupported_token_type"
  | "store_value_too_large"
  | "assertion_unavailable"
  | "invalid_assertion"
  | "dpop_not_bound"
  // resource
  | "unexpected_redirect"
  | "too_many_redirects";

/** The OAuth `error` codes a token endpoint answers with (RFC 6749 §5.2, RFC 8707 §2). */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_grant"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "invalid_target";

export interface ClientCredentialsErrorOptions {
  /** HTTP status of the response that caused the error, if any. */
  status?: number;
  /** One of this package's own codes, or the OAuth `error` a token endpoint answered with. */
  code?: ClientCredentialsErrorCode | OAuthErrorCode | (string & {});
  /** OAuth `error_description`, sanitised. */
  description?: string;
  /** The URL that was being requested (never carries credentials). */
  url?: string;
  /** Seconds the server asked to wait (its `Retry-After`), on `retry_later` errors. */
  retryAfter?: number;
  /** The underlying error. */
  cause?: unknown;
}

const MAX_DESCRIPTION = 300;
/** Messages quote server lists (authorization servers, auth methods, algorithms): one line, bounded. */
const MAX_MESSAGE = 2000;

/** Strips control characters (C0, DEL, C1) and caps length: descriptions come from untrusted servers. */
export function sanitize(text: string, max = MAX_DESCRIPTION): string {
  // C1 controls too: a terminal may read U+009B as the start of an escape sequence.
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ").trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/**
 * Everything this package throws. `phase` names the step that failed; `status`, `code`
 * and `description` carry the HTTP status and the OAuth `error` / `error_description`.
 * Messages and properties never contain client secrets, private keys or access tokens.
 */
export class ClientCredentialsError extends Error {
  override readonly name = "ClientCredentialsError";
  readonly phase: ClientCredentialsPhase;
  readonly status?: number;
  readonly code?: ClientCredentialsErrorCode | OAuthErrorCode | (string & {});
  readonly description?: string;
  readonly url?: string;
  /** Seconds the server asked to wait before trying again (its `Retry-After`), when it said. */
  readonly retryAfter?: number;

  constructor(phase: ClientCredentialsPhase, message: string, { cause, status, code, description, url, retryAfter }: ClientCredentialsErrorOptions = {}) {
    super(`[${phase}] ${sanitize(message, MAX_MESSAGE)}`, cause === undefined ? undefined : { cause });
    // The fields are own properties (undefined when not given) in declaration order, which toJSON relies on.
    this.phase = phase;
    this.status = status;
    this.code = code;
    this.description = description === undefined ? undefined : sanitize(description);
    this.url = url === undefined ? undefined : withoutQuery(url);
    this.retryAfter = retryAfter;
  }

  /** name, message, phase, status, code, description, url, retryAfter: never `cause`, which may hold anything. */
  toJSON(): Record<string, unknown> {
    return Object.assign({ name: this.name, message: this.message }, this) as object as Record<string, unknown>;
  }
}

/** Query strings and fragments may carry credentials of other schemes: keep origin + path. */
export function withoutQuery(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

/** A mistake in options, reported before any request is made. */
export function configError(message: string): ClientCredentialsError {
  return new ClientCredentialsError("config", message, { code: "invalid_config" });
}

export function isClientCredentialsError(error: unknown): error is ClientCredentialsError {
  return error instanceof ClientCredentialsError;
}
