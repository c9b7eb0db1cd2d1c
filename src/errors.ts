/** Which step of the flow failed. */
export type ClientCredentialsPhase = "config" | "discovery" | "token" | "resource";

export interface ClientCredentialsErrorOptions {
  /** HTTP status of the response that caused the error, if any. */
  status?: number;
  /** OAuth `error` code (RFC 6749 §5.2), or one of this package's own codes. */
  code?: string;
  /** OAuth `error_description`, sanitised. */
  description?: string;
  /** The URL that was being requested (never carries credentials). */
  url?: string;
  /** The underlying error. */
  cause?: unknown;
}

const MAX_DESCRIPTION = 300;

/** Strips control characters and caps length: descriptions come from untrusted servers. */
export function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return clean.length > MAX_DESCRIPTION ? `${clean.slice(0, MAX_DESCRIPTION)}…` : clean;
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
  readonly code?: string;
  readonly description?: string;
  readonly url?: string;

  constructor(phase: ClientCredentialsPhase, message: string, { cause, status, code, description, url }: ClientCredentialsErrorOptions = {}) {
    super(`[${phase}] ${message}`, cause === undefined ? undefined : { cause });
    // The fields are own properties (undefined when not given) in declaration order, which toJSON relies on.
    this.phase = phase;
    this.status = status;
    this.code = code;
    this.description = description === undefined ? undefined : sanitize(description);
    this.url = url === undefined ? undefined : withoutQuery(url);
  }

  /** name, message, phase, status, code, description, url: never `cause`, which may hold anything. */
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
