import type { StoreGuard } from "./stores/guard.js";
import { abortable } from "./util.js";

const MAX_ENTRIES = 1024;

interface Pending {
  outcome: Promise<void>;
  settle: () => void;
}

/** Called once the first request's outcome is known (`open`: the resource did not ask for a token); idempotent. */
export type Release = (open?: boolean) => void;

/**
 * One 401 per cold resource: while the first request to a resource nobody has bound yet is out,
 * the others wait for its outcome instead of each collecting a 401 and sending its body twice.
 * With a store that has locks this holds across the fleet: the first instance holds a lock while
 * it discovers, and the others wait for the binding it publishes. A resource that answered
 * without asking for a token is remembered (in this instance) as open, and nobody waits.
 */
export class ColdGate {
  /** Per resource: the first request's pending outcome, or until when the resource is known to be open. */
  readonly #entries = new Map<string, Pending | number>();
  readonly #openMs: number;
  readonly #guard: StoreGuard;
  readonly #lockTtlMs: number;
  readonly #fingerprint: readonly unknown[];

  constructor(openMs: number, guard: StoreGuard, lockTtlMs: number, fingerprint: readonly unknown[]) {
    this.#openMs = openMs;
    this.#guard = guard;
    this.#lockTtlMs = lockTtlMs;
    this.#fingerprint = fingerprint;
  }

  /**
   * `undefined`: go now. A function: go now, you are first; call it once the outcome is known.
   * A promise: wait for the first one's outcome.
   */
  enter(resource: string): Release | Promise<void> | undefined {
    const entry = this.#entries.get(resource);
    if (typeof entry === "object") return entry.outcome;
    if (entry !== undefined && entry > Date.now()) return undefined;
    if (this.#entries.size >= MAX_ENTRIES) this.clear();
    const pending = { settle: () => {} } as Pending;
    pending.outcome = new Promise<void>((resolve) => {
      pending.settle = resolve;
    });
    this.#entries.set(resource, pending);
    return (open) => {
      if (this.#entries.get(resource) === pending) {
        if (open) this.#entries.set(resource, Date.now() + this.#openMs);
        else this.#entries.delete(resource);
      }
      pending.settle();
    };
  }

  /**
   * The fleet's turn, for this instance's first request: resolves with a release once this
   * instance holds the fleet's lock (or goes without one: no locks, a store failure, a holder
   * that took too long), or with `undefined` once `found()` sees another instance's binding.
   */
  async fleet(resource: string, found: () => Promise<boolean>, signal: AbortSignal | null | undefined): Promise<(() => Promise<void>) | undefined> {
    const lock = await this.#guard.key("lock", ["gate", resource, ...this.#fingerprint]);
    const turn = this.#guard.turn(
      lock,
      this.#lockTtlMs,
      async () => (await found()) || undefined,
      () => signal?.throwIfAborted(),
    );
    // A caller that left while this instance got the lock must not keep it for the lock's lifetime.
    turn.then(
      (t) => {
        if (signal?.aborted && "release" in t) void t.release();
      },
      () => {},
    );
    const t = await abortable(turn, signal);
    return "release" in t ? t.release : undefined;
  }

  /** Forgets everything and lets every waiter go. */
  clear(): void {
    for (const entry of this.#entries.values()) if (typeof entry === "object") entry.settle();
    this.#entries.clear();
  }
}
