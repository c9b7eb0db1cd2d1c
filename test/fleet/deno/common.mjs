// Helpers for the Deno-side scripts of test/fleet/deno.test.ts (Deno only).
//
// Protocol with the vitest process: the script prints `MSG {json}` lines on stdout and reads
// one JSON command per line on stdin, so vitest can start several processes at the same moment
// (a start signal) and hand over credentials without putting them on a command line.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const BUSY = /database (?:table )?is (?:locked|busy)|SQLITE_(?:BUSY|LOCKED)/i;

/** Deno.openKv(path), retried while another process holds the new file (creating its schema). */
export async function openKv(path) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await Deno.openKv(path);
    } catch (error) {
      if (attempt >= 30 || !BUSY.test(String(error?.message ?? error))) throw error;
      await sleep(10 + Math.random() * 90);
    }
  }
}

/**
 * The real Deno.Kv behind the store's view of it: `around(op, call)` runs each call (op is get,
 * set, delete or commit) and `onWrite(op, key, options)` sees each write (set, atomic.set).
 * Used to observe the store, or to put an error in front of a real call; nothing is faked.
 */
export function wrapKv(kv, { around = (_op, call) => call(), onWrite = () => {} } = {}) {
  return {
    get: (key) => around("get", () => kv.get(key)),
    set(key, value, options) {
      onWrite("set", key, options);
      return around("set", () => kv.set(key, value, options));
    },
    delete: (key) => around("delete", () => kv.delete(key)),
    atomic() {
      const op = kv.atomic();
      const builder = {
        check(...checks) {
          op.check(...checks);
          return builder;
        },
        set(key, value, options) {
          onWrite("atomic.set", key, options);
          op.set(key, value, options);
          return builder;
        },
        delete(key) {
          op.delete(key);
          return builder;
        },
        commit: () => around("commit", () => op.commit()),
      };
      return builder;
    },
  };
}

/** The real Deno.Kv, counting the busy errors it throws (the store retries them; this only reports them). */
export function countBusy(kv) {
  const counts = { busy: 0 };
  const around = (_op, call) =>
    call().catch((error) => {
      if (BUSY.test(String(error?.message ?? error))) counts.busy++;
      throw error;
    });
  return { kv: wrapKv(kv, { around }), counts };
}

/** Prints one message for the vitest process. */
export function say(message) {
  console.log(`MSG ${JSON.stringify(message)}`);
}

/** Commands from the vitest process, one JSON object per stdin line. */
export async function* commands() {
  const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n")) {
      const line = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      if (line) yield JSON.parse(line);
    }
  }
}

/** Waits until the epoch-ms instant `at`, so processes told at once also start at once. */
export async function until(at) {
  const wait = at - Date.now();
  if (wait > 2) await sleep(wait - 2);
  while (Date.now() < at) {
    // spin the last milliseconds: timers are too coarse to line processes up
  }
}

/** A message for an error that never carries a value, a token or a secret. */
export function describeError(error) {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
