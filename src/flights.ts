import type { StoredToken } from "./types.js";

/** A token being obtained for every caller of one key; it stops early once all of them left (a background one never does). */
export interface Flight {
  promise: Promise<StoredToken>;
  waiters: number;
  startedAt: number;
  background: boolean;
  /** Aborted once every caller has left: a retry nobody waits for is not made. */
  controller: AbortController;
}

/** How long a flight may take at worst: its attempts alone, and with the waits (fleet lock, retry budget). */
export interface FlightLimits {
  attemptsMs: number;
  waitsMs: number;
}

/**
 * One token request per cache key at a time in this instance. Runtimes may freeze or cancel work
 * left running after a response, so a flight older than its worst case is taken for dead: a
 * background one sooner (nobody awaits it, and callers must not wait on a refresh that died).
 */
export class Flights {
  readonly #flights = new Map<string, Flight>();
  readonly #limits: FlightLimits;

  constructor(limits: FlightLimits) {
    this.#limits = limits;
  }

  /** The flight for `key` when it may still be alive. */
  live(key: string): Flight | undefined {
    const flight = this.#flights.get(key);
    if (!flight) return undefined;
    const staleMs = flight.background ? this.#limits.attemptsMs : this.#limits.attemptsMs + this.#limits.waitsMs;
    return Date.now() - flight.startedAt < staleMs ? flight : undefined;
  }

  /** The live flight for `key`, else a new one running `run`. */
  join(key: string, run: (flight: Flight) => Promise<StoredToken>, background: boolean): Flight {
    const current = this.live(key);
    if (current) return current;
    const started: Flight = {
      promise: Promise.resolve() as unknown as Promise<StoredToken>,
      waiters: background ? 1 : 0,
      startedAt: Date.now(),
      background,
      controller: new AbortController(),
    };
    started.promise = Promise.resolve(started)
      .then(run)
      .finally(() => {
        if (this.#flights.get(key) === started) this.#flights.delete(key);
      });
    started.promise.catch(() => {}); // every caller gets the error through its own await
    this.#flights.set(key, started);
    return started;
  }

  /** A caller stopped waiting; when it aborted and was the last, the flight stops (no retry, no wait) and the next caller starts afresh. */
  leave(key: string, flight: Flight, aborted: boolean): void {
    flight.waiters--;
    if (flight.waiters > 0 || !aborted || flight.background) return;
    if (this.#flights.get(key) === flight) this.#flights.delete(key);
    flight.controller.abort(new DOMException("every caller waiting for this token aborted", "AbortError"));
  }

  clear(): void {
    this.#flights.clear();
  }
}

/** Every caller aborted: nobody wants the token, so no request is made for it. */
export function abandoned(flight: Flight): void {
  if (flight.waiters === 0) throw new DOMException("every caller waiting for this token aborted", "AbortError");
}
