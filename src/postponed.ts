import { ClientCredentialsError } from "./errors.js";
import { defined } from "./util.js";

/** The longest a Retry-After is remembered: 9999999999 s (or a date in 2300) must not lock a key out for the process's life; after it, the server is asked again. */
const MAX_POSTPONE_SECONDS = 3600;

/**
 * Token requests a server asked to postpone: a `Retry-After` beyond the retry budget. Until it
 * has passed, callers get the same error at once, without a request: a rate-limited server is
 * not asked again by every call in the meantime.
 */
export class Postponed {
  readonly #entries = new Map<string, { until: number; error: ClientCredentialsError }>();

  /** Remembers `error` for `key` when it carries a `retryAfter`. */
  remember(key: string, error: unknown): void {
    if (!(error instanceof ClientCredentialsError && error.retryAfter)) return;
    const now = Date.now();
    for (const [other, { until }] of this.#entries) if (until <= now) this.#entries.delete(other);
    this.#entries.set(key, { until: now + Math.min(error.retryAfter, MAX_POSTPONE_SECONDS) * 1000, error });
  }

  /** Until when (epoch ms) `key` is postponed; 0 when it is not. */
  until(key: string): number {
    return this.#entries.get(key)?.until ?? 0;
  }

  /** A fresh copy of the remembered error, its `retryAfter` counting down, while the wait lasts. */
  check(key: string): ClientCredentialsError | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    const left = entry.until - Date.now();
    if (left <= 0) {
      this.#entries.delete(key);
      return undefined;
    }
    const { phase, status, code, url, retryAfter: asked } = entry.error;
    const retryAfter = Math.ceil(left / 1000);
    const message = `HTTP ${status}: the server asked to retry after ${asked} s; ${retryAfter} s to go, and it is not asked again before then`;
    return new ClientCredentialsError(phase, message, defined({ status, code, url, retryAfter }));
  }

  clear(): void {
    this.#entries.clear();
  }
}
