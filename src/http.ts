import ky, { HTTPError, TimeoutError } from "ky";
import { ClientCredentialsError, type ClientCredentialsPhase, withoutQuery } from "./errors.js";
import { initOf } from "./request-init.js";
import type { ClientCredentialsEvent, FetchLike } from "./types.js";

/** Responses from authorization servers and metadata endpoints are small; anything bigger is hostile. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;
const MAX_RETRY_AFTER_MS = 60_000;

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
}

export interface HttpOptions {
  fetch: FetchLike;
  timeoutMs: number;
  retries: number;
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
  } catch (cause) {
    throw new ClientCredentialsError(phase, `${what} is not a valid absolute URL`, { code: "invalid_url", cause });
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

export function createHttp(options: HttpOptions): Http {
  // A plain function call: browsers and workerd throw "Illegal invocation" when fetch gets a `this`.
  const next = options.fetch;
  const client = ky.create({
    fetch: async (input, init) => {
      if (!(input instanceof Request)) return next(input, init);
      const body = input.method === "GET" || input.method === "HEAD" ? undefined : await input.text();
      return next(input.url, { ...init, ...initOf(input), body });
    },
    timeout: options.timeoutMs,
    redirect: "manual",
    // Only retryable statuses throw (and so get retried); the rest are handled by the caller.
    throwHttpErrors: (status) => status === 408 || status === 429 || status >= 500,
    retry: {
      limit: options.retries,
      methods: ["get", "post"],
      statusCodes: [408, 429, 500, 502, 503, 504],
      afterStatusCodes: [429, 503],
      maxRetryAfter: MAX_RETRY_AFTER_MS,
      backoffLimit: 5_000,
    },
    hooks: {
      beforeRetry: [
        ({ request, error, retryCount }) => {
          const status = error instanceof HTTPError ? error.response.status : undefined;
          options.emit({ type: "http-retry", url: withoutQuery(request.url), attempt: retryCount, ...(status ? { status } : {}) });
        },
      ],
    },
  });

  async function send(phase: ClientCredentialsPhase, url: URL, run: () => Promise<Response>): Promise<HttpResult> {
    let response: Response;
    try {
      response = await run();
    } catch (error) {
      if (error instanceof ClientCredentialsError) throw error;
      if (error instanceof HTTPError) {
        response = error.response;
      } else if (error instanceof TimeoutError) {
        // No `cause`: ky's TimeoutError holds the Request, whose headers/body carry credentials.
        throw new ClientCredentialsError(phase, `request timed out after ${options.timeoutMs} ms`, { code: "timeout", url: url.href });
      } else {
        throw new ClientCredentialsError(phase, `request failed: ${describe(error)}`, { code: "network_error", url: url.href, cause: error });
      }
    }
    if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
      response.body?.cancel().catch(() => {});
      throw new ClientCredentialsError(phase, "redirects are not followed for authorization server requests", {
        status: response.status || undefined,
        code: "redirect",
        url: url.href,
      });
    }
    const text = await readLimited(response, phase, url, options.timeoutMs);
    return { status: response.status, headers: response.headers, text };
  }

  return {
    get: (url, phase) => send(phase, url, () => client.get(url, { headers: { accept: "application/json" } })),
    postForm: (url, build, phase) =>
      send(phase, url, async () => {
        const init = await build();
        return client.post(url, {
          ...init,
          hooks: {
            beforeRequest: [
              async (request, _options, { retryCount }) => {
                if (retryCount === 0) return;
                const fresh = await build();
                return new Request(request, { body: fresh.body, headers: fresh.headers });
              },
            ],
          },
        });
      }),
    secureUrl: (value, phase, what) => secureUrl(value, phase, what, options.allowInsecureRequests),
  };
}

/** Reads the body within `timeoutMs` (ky's timeout ends with the headers) and at most MAX_RESPONSE_BYTES. */
async function readLimited(response: Response, phase: ClientCredentialsPhase, url: URL, timeoutMs: number): Promise<string> {
  const tooLarge = () =>
    new ClientCredentialsError(phase, `response larger than ${MAX_RESPONSE_BYTES} bytes`, {
      status: response.status,
      code: "response_too_large",
      url: url.href,
    });
  const declared = Number(response.headers.get("content-length"));
  if (declared > MAX_RESPONSE_BYTES) {
    response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {}); // settles the pending read
  }, timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_RESPONSE_BYTES) {
        reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof ClientCredentialsError) throw error;
    if (!timedOut) {
      throw new ClientCredentialsError(phase, `could not read the response: ${describe(error)}`, {
        status: response.status,
        code: "network_error",
        url: url.href,
        cause: error,
      });
    }
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) {
    throw new ClientCredentialsError(phase, `response body not received within ${timeoutMs} ms`, { status: response.status, code: "timeout", url: url.href });
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** JSON.parse that answers `undefined` instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
