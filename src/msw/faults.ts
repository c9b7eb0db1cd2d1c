/**
 * Fault helpers and how a queued fault turns into a response.
 * @module
 */
import { delay, HttpResponse } from "msw";
import type { MockFault } from "./types.js";

/** Ready-made {@link MockFault} values for {@link McpAuthMock.fault}. */
export const faults = {
  /**
   * `429 Too Many Requests`, with `Retry-After: <seconds>` when given.
   * @param retryAfterSeconds the `Retry-After` value; omitted when undefined
   */
  rateLimited(retryAfterSeconds?: number): MockFault {
    return retryAfterSeconds === undefined
      ? { kind: "status", status: 429 }
      : { kind: "status", status: 429, headers: { "retry-after": String(retryAfterSeconds) } };
  },
  /**
   * A server error with an empty body.
   * @param status the HTTP status; default 500
   */
  serverError(status = 500): MockFault {
    return { kind: "status", status };
  },
  /** Wait `ms` milliseconds, then answer normally (for timeouts and single-flight tests). */
  delay(ms: number): MockFault {
    return { kind: "delay", ms };
  },
  /**
   * An OAuth error response `{ error, error_description }`.
   * @param status the HTTP status; default 400
   */
  oauthError(error: string, description?: string, status?: number): MockFault {
    const fault: MockFault = { kind: "oauth-error", error };
    if (description !== undefined) fault.description = description;
    if (status !== undefined) fault.status = status;
    return fault;
  },
  /** `200 OK`, `Content-Type: application/json`, and a body that is not JSON. */
  malformedJson(): MockFault {
    return { kind: "malformed-json" };
  },
  /** A network failure: `fetch` rejects with a `TypeError`. */
  networkError(): MockFault {
    return { kind: "network-error" };
  },
};

/** The body the `malformed-json` fault answers with. */
export const MALFORMED_JSON_BODY = '{"access_token": "truncated';

/** An OAuth error response (RFC 6749 §5.2). */
export function oauthErrorResponse(error: string, description: string | undefined, status = 400, headers: Record<string, string> = {}): Response {
  const body: Record<string, string> = { error };
  if (description !== undefined) body.error_description = description;
  return HttpResponse.json(body, {
    status,
    headers: { "cache-control": "no-store", pragma: "no-cache", ...headers },
  });
}

/**
 * Answers with `fault`, or runs `normal` (after the delay of a `delay` fault).
 */
export async function applyFault(fault: MockFault, normal: () => Promise<Response>): Promise<Response> {
  switch (fault.kind) {
    case "status":
      return new HttpResponse(fault.body ?? null, { status: fault.status, headers: fault.headers ?? {} });
    case "delay":
      await delay(fault.ms);
      return normal();
    case "oauth-error":
      return oauthErrorResponse(fault.error, fault.description, fault.status ?? 400);
    case "malformed-json":
      return new HttpResponse(MALFORMED_JSON_BODY, {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    case "network-error":
      return HttpResponse.error();
  }
}
