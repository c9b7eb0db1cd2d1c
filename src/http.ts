import { ClientCredentialsError, type ClientCredentialsErrorOptions, type ClientCredentialsPhase, sanitize, withoutQuery } from "./errors.js";
import type { ClientCredentialsEvent, FetchLike } from "./types.js";
import { defined } from "./util.js";

/** Responses from authorization servers and metadata endpoints are small; anything bigger is hostile. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;
const RETRY_STATUSES = [408, 429, 500, 502, 503, 504];
const MAX_BACKOFF_MS = 5_000;

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  /** Seconds the server asked to wait (`Retry-After` on a 429 or 503), when it said. */
  retryAfter?: number;
}

export interface HttpOptions {
  fetch: FetchLike;
  timeoutMs: number;
  retries: number;
  retryBudgetMs: number;
  allowInsecureRequests: boolean;
  emit: (event: ClientCredentialsEvent) => void;
}

export interface Http {
  get(url: URL, phase: ClientCredentialsPhase): Promise<HttpResult>;
  /** `build` runs before every attempt, so a retried request gets a fresh client assertion. */
  postForm(url: URL, build: () => Promise<RequestInit & { body: URLSearchParams }>, phase: ClientCredentialsPhase): Promise<HttpResult>;
  secureUrl(value: string, phase: ClientCredentialsPhase, what: string): URL;
}

export function isLoopback(url: URL): boolean {
  const host = url.hostname;
  return host === "localhost" || host === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** Parses a URL that will receive credentials: https, or http on loopback only. */
export function secureUrl(value: string, phase: ClientCredentialsPhase, what: string, allowInsecure: boolean): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // No cause: the parser's error quotes its input, which may hold credentials.
    throw new ClientCredentialsError(phase, `${what} is not a valid absolute URL`, { code: "invalid_url" });
  }
  if (url.username || url.password) {
    throw new ClientCredentialsError(phase, `${what} must not contain credentials`, { code: "invalid_url" });
  }
  if (url.protocol === "https:" || (url.protocol === "http:" && (allowInsecure || isLoopback(url)))) return url;
  throw new ClientCredentialsError(phase, `${what} must use https (plain http is allowed only on loopback, or with allowInsecureRequests)`, {
    code: "insecure_url",
    url: url.href,
  });
}

/**
 * Requests to authorization servers and metadata endpoints: no redirects, a timeout per attempt
 * that covers headers and body, at most MAX_RESPONSE_BYTES, and retries of transient failures
 * (network errors, timeouts, 408/429/5xx) with exponential backoff or the server's `Retry-After`,
 * bounded in count (`retries`) and in time (`retryBudgetMs`).
 */
export function createHttp(options: HttpOptions): Http {
  const { fetch: next, timeoutMs, retries, retryBudgetMs, emit } = options;

  async function send(url: URL, phase: ClientCredentialsPhase, build: () => RequestInit | Promise<RequestInit>): Promise<HttpResult> {
    const href = url.href;
    const startedAt = Date.now();
    const fail = (message: string, fields?: ClientCredentialsErrorOptions) => new ClientCredentialsError(phase, message, { url: href, ...fields });
    /** The wait before attempt `attempt + 1`, or `undefined` when no retry may be made. */
    const retryWait = (attempt: number, retryAfterMs?: number) => {
      const wait = retryAfterMs ?? Math.min(300 * 2 ** (attempt - 1), MAX_BACKOFF_MS);
      return attempt <= retries && Date.now() + wait - startedAt <= retryBudgetMs ? wait : undefined;
    };
    for (let attempt = 1; ; attempt++) {
      const init = await build();
      const caller = init.signal;
      if (caller?.aborted) throw caller.reason;
      const controller = new AbortController();
      let timer: ReturnType<typeof setTimeout> | undefined;
      let onAbort = () => {};
      // Settles only on timeout or the caller's abort, so a `next` that ignores its signal cannot hang us.
      const stopped = new Promise<never>((_, reject) => {
        // No `cause` on any error here: the request it came from carries credentials.
        timer = setTimeout(() => reject(fail(`request timed out after ${timeoutMs} ms`, { code: "timeout" })), timeoutMs);
        onAbort = () => reject(caller?.reason);
        caller?.addEventListener("abort", onAbort);
      });
      const exchange = async (): Promise<HttpResult | { status: number; wait: number }> => {
        // A plain call with (url, init): browsers and workerd throw "Illegal invocation" when fetch gets a `this`.
        const response = await next(href, { ...init, redirect: "manual", signal: controller.signal });
        const { status } = response;
        if (response.type === "opaqueredirect" || (status >= 300 && status < 400)) {
          cancel(response);
          throw fail("redirects are not followed for authorization server requests", { status: status || undefined, code: "redirect" });
        }
        const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(response.headers.get("retry-after")) : undefined;
        const retryAfter = retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000);
        if (RETRY_STATUSES.includes(status)) {
          const wait = retryWait(attempt, retryAfterMs);
          if (wait !== undefined) {
            cancel(response);
            return { status, wait };
          }
          if (retryAfterMs !== undefined && attempt <= retries) {
            // The server's own schedule is beyond what this caller will wait: say so now, not after it.
            cancel(response);
            throw fail(`HTTP ${status}: the server asks to retry after ${retryAfter} s, beyond what is left of retryBudgetMs (${retryBudgetMs} ms)`, {
              status,
              code: "retry_later",
              retryAfter,
            });
          }
        }
        const text = await readLimited(response, controller.signal, fail);
        return retryAfter === undefined ? { status, headers: response.headers, text } : { status, headers: response.headers, text, retryAfter };
      };
      const pending = exchange();
      pending.catch(() => {}); // after a timeout nobody awaits it
      let outcome: HttpResult | { status?: number; wait: number } | undefined;
      try {
        outcome = await Promise.race([pending, stopped]);
      } catch (error) {
        if (caller?.aborted) throw caller.reason;
        // A connection lost mid-body is as transient as one lost before the headers.
        const transient = !(error instanceof ClientCredentialsError) || error.code === "timeout" || error.code === "network_error";
        const wait = transient ? retryWait(attempt) : undefined;
        if (wait === undefined)
          throw error instanceof ClientCredentialsError ? error : fail(`request failed: ${describe(error)}`, { code: "network_error", cause: error });
        outcome = { wait };
      } finally {
        clearTimeout(timer);
        caller?.removeEventListener("abort", onAbort);
        // Ends whatever is still running; a body read to the end needs nothing (and abort() is costly).
        if (!outcome || "wait" in outcome) controller.abort();
      }
      if (!("wait" in outcome)) return outcome;
      await sleep(outcome.wait, caller);
      emit(defined({ type: "http-retry", url: withoutQuery(href), attempt, status: outcome.status || undefined }));
    }
  }

  return {
    get: (url, phase) => send(url, phase, () => ({ method: "GET", headers: { accept: "application/json" } })),
    postForm: (url, build, phase) =>
      send(url, phase, async () => {
        const { body, ...init } = await build();
        const headers = new Headers(init.headers);
        headers.set("content-type", "application/x-www-form-urlencoded");
        // A string body: a custom `next` may read init.body as text.
        return { ...init, method: "POST", headers, body: body.toString() };
      }),
    secureUrl: (value, phase, what) => secureUrl(value, phase, what, options.allowInsecureRequests),
  };
}

/**
 * A status that is no answer, as a code and for a message: 429 and 503 say "come back later"
 * whatever the body (`retry_later`), any other is `http_error`.
 */
export function statusFailure(status: number, retryAfter: number | undefined): { code: "retry_later" | "http_error"; answered: string } {
  const code = status === 429 || status === 503 ? "retry_later" : "http_error";
  return { code, answered: `HTTP ${status}${retryAfter === undefined ? "" : ` (Retry-After: ${retryAfter} s)`}` };
}

/**
 * `Retry-After` (RFC 9110 §10.2.3: delay-seconds or an HTTP date) in milliseconds from now;
 * `undefined` when absent or unreadable. Only a value with letters is read as a date: V8 takes
 * "-1" or "1.5" for dates in 2001, other engines do not.
 */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = /^\s*(\d{1,10})\s*(?:,|$)/.exec(value)?.[1];
  const ms = seconds !== undefined ? Number(seconds) * 1000 : /[a-z]/i.test(value) ? Date.parse(value) - Date.now() : Number.NaN;
  return Number.isNaN(ms) ? undefined : Math.max(ms, 0);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal: AbortSignal | null | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function cancel(response: Response): void {
  response.body?.cancel().catch(() => {});
}

/** Reads the body as text, at most MAX_RESPONSE_BYTES of it; `signal` stops the read. */
async function readLimited(
  response: Response,
  signal: AbortSignal,
  fail: (message: string, fields?: ClientCredentialsErrorOptions) => ClientCredentialsError,
): Promise<string> {
  const { status } = response;
  const tooLarge = () => fail(`response larger than ${MAX_RESPONSE_BYTES} bytes`, { status, code: "response_too_large" });
  if (Number(response.headers.get("content-length")) > MAX_RESPONSE_BYTES) {
    cancel(response);
    throw tooLarge();
  }
  if (!response.body) return "";
  if (signal.aborted) {
    cancel(response); // it arrived after the timeout: nobody wants it
    return "";
  }
  const reader = response.body.getReader();
  signal.addEventListener("abort", () => reader.cancel().catch(() => {}));
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (cause) {
      throw fail(`could not read the response: ${describe(cause)}`, { status, code: "network_error", cause });
    }
    if (chunk.done) return text + decoder.decode();
    size += chunk.value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      reader.cancel().catch(() => {});
      throw tooLarge();
    }
    text += decoder.decode(chunk.value, { stream: true });
  }
}

/** JSON.parse that answers `undefined` instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A foreign error, for a message: its message and the system error code beneath it (`ENOTFOUND`, `ECONNRESET`). */
export function describe(thrown: unknown): string {
  // Duck-typed: an error from another realm (a test environment's fetch) is no `instanceof Error`.
  const error = thrown as { message?: unknown; cause?: { code?: unknown } } | null | undefined;
  if (typeof error?.message !== "string") return typeof thrown;
  // URLs in it lose their query: Deno's message quotes the request URL, and a query may hold a key.
  const message = error.message.replace(/\bhttps?:\/\/[^\s()"'<>]+/g, (url) => withoutQuery(url));
  const code = error.cause?.code;
  return sanitize(`${message}${typeof code === "string" && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? ` (${code})` : ""}`);
}
