// Deno-KV-specific checks of denoKvStore, beyond the portable TokenStore contract. Nothing here
// touches Deno until a check runs: the vitest file imports it only for the names (one `it`
// each), run-checks.mjs runs it in Deno against a real `Deno.openKv(<file>)`. A check may return
// a note for the report.
//
// Wrappers below pass every call through to the real Deno.Kv: they record what the store asked
// for, or (for the retry checks only) put an error in front of a real call.

import { wrapKv } from "./common.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const id = () => Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

function assertEqual(actual, expected, message) {
  const a = JSON.stringify(actual, (_, v) => (typeof v === "bigint" ? `${v}n` : v));
  const e = JSON.stringify(expected, (_, v) => (typeof v === "bigint" ? `${v}n` : v));
  if (a !== e) throw new Error(`${message}: expected ${e}, got ${a}`);
}

async function rejects(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection, got none");
}

async function keysUnder(kv, prefix) {
  const keys = [];
  for await (const entry of kv.list({ prefix })) keys.push(entry.key);
  return keys;
}

/** The real kv, recording the `expireIn` of every write. */
function recording(kv, log) {
  return wrapKv(kv, { onWrite: (op, key, options) => log.push({ op, key, expireIn: options?.expireIn }) });
}

/**
 * The real kv with `fault(op, n)` consulted before each call (`n` counts calls of that op from 1):
 * an `{ error }` it returns is thrown instead of the real call, or after it with `when: "after"`
 * (the call happened, yet the caller sees an error).
 */
function faulty(kv, fault) {
  const calls = { get: 0, set: 0, delete: 0, commit: 0 };
  const around = async (op, call) => {
    calls[op]++;
    const planned = fault(op, calls[op]);
    if (planned && planned.when !== "after") throw planned.error;
    const result = await call();
    if (planned) throw planned.error;
    return result;
  };
  return { calls, kv: wrapKv(kv, { around }) };
}

const busyError = () => new TypeError("database is locked");

/**
 * @param {{ kv: object, denoKvStore: Function } | undefined} env  undefined when only the names are wanted
 * @returns {Array<{ name: string, fn: () => Promise<string | void> }>}
 */
export function denoKvChecks(env) {
  return [
    {
      name: "values and locks land under the prefix (kv.list): [...prefix, key] and [...prefix, 'lock', key]",
      async fn() {
        const { kv, denoKvStore } = env;
        const prefix = ["mcc-check", id(), 7];
        const store = denoKvStore(kv, { prefix });
        await store.set("mcc1:value", "v", 60);
        assertEqual(await store.acquire("mcc1:lock", "owner", 10_000), true, "acquire");
        assertEqual(
          await keysUnder(kv, prefix),
          [
            [...prefix, "lock", "mcc1:lock"],
            [...prefix, "mcc1:value"],
          ],
          "keys under the prefix",
        );
        await store.delete("mcc1:value");
        await store.release("mcc1:lock", "owner");
        assertEqual(await keysUnder(kv, prefix), [], "keys under the prefix after delete and release");

        const plain = denoKvStore(kv);
        const key = `mcc1:default-${id()}`;
        await plain.set(key, "v", 60);
        assertEqual((await kv.get(["mcp-client-credentials", key])).versionstamp !== null, true, "default prefix holds the key");
        assertEqual((await kv.get([key])).versionstamp, null, "nothing at the bare key");
        await plain.delete(key);
        return "default prefix: ['mcp-client-credentials']";
      },
    },
    {
      name: "set writes expireIn = ttlSeconds * 1000, locks expireIn = ttlMs (whole ms)",
      async fn() {
        const { kv, denoKvStore } = env;
        const log = [];
        const prefix = ["mcc-check", id()];
        const store = denoKvStore(recording(kv, log), { prefix });
        await store.set("a", "v", 90);
        await store.set("b", "v", 1);
        assertEqual(await store.acquire("l1", "owner", 1_500), true, "acquire l1");
        assertEqual(await store.acquire("l2", "owner", 250.4), true, "acquire l2");
        assertEqual(
          log.map(({ op, expireIn }) => [op, expireIn]),
          [
            ["set", 90_000],
            ["set", 1_000],
            ["atomic.set", 1_500],
            ["atomic.set", 251],
          ],
          "writes",
        );
        assertEqual(await store.get("a"), "v", "value read back");
      },
    },
    {
      name: "an expired value reads as missing even while Deno KV still holds it",
      async fn() {
        const { kv, denoKvStore } = env;
        const prefix = ["mcc-check", id()];
        const store = denoKvStore(kv, { prefix });
        await store.set("short", "short-lived", 1);
        assertEqual(await store.get("short"), "short-lived", "before the TTL");
        await sleep(1_100);
        const raw = await kv.get([...prefix, "short"]);
        assertEqual(await store.get("short"), undefined, "after the TTL");
        return `Deno KV still held the raw entry 1.1 s after expireIn 1000: ${raw.versionstamp !== null}`;
      },
    },
    {
      name: "a value over Deno KV's 64 KiB limit rejects with a clear error that does not contain it",
      async fn() {
        const { kv, denoKvStore } = env;
        const store = denoKvStore(kv, { prefix: ["mcc-check", id()] });
        const big = "tok_".repeat(17_500); // 70,000 characters
        const error = await rejects(store.set("big", big, 60));
        assertEqual(error?.name, "ClientCredentialsError", "error name");
        assertEqual(error?.code, "store_value_too_large", "error code");
        assert(/64 KiB|65536 bytes/.test(error.message), `message names the limit: ${error.message}`);
        assert(!error.message.includes("tok_tok_"), "message does not contain the value");
        // Two bytes per character once any is above U+00FF: 40,000 characters are 80,000 bytes.
        const wide = await rejects(store.set("wide", "€".repeat(40_000), 60));
        assertEqual(wide?.code, "store_value_too_large", "wide string error code");
        assertEqual(await store.get("big"), undefined, "nothing was written");
        const fits = "x".repeat(60_000);
        await store.set("fits", fits, 60);
        assertEqual(await store.get("fits"), fits, "a 60,000-character ASCII value round-trips");
        return error.message;
      },
    },
    {
      name: "a corrupted lock value is not anyone's lock: release leaves it, acquire takes it over atomically",
      async fn() {
        const { kv, denoKvStore } = env;
        const prefix = ["mcc-check", id()];
        const store = denoKvStore(kv, { prefix });
        const garbage = ["garbage", 42, { owner: 5 }, { owner: "someone", expiresAt: "tomorrow", nonce: "n" }, new Uint8Array([1, 2, 3]), null];
        for (const [i, value] of garbage.entries()) {
          const key = `lock-${i}`;
          await kv.set([...prefix, "lock", key], value);
          await store.release(key, "someone");
          assert((await kv.get([...prefix, "lock", key])).versionstamp !== null, `release(${JSON.stringify(value)}) left the value alone`);
          const results = await Promise.all(["a", "b", "c"].map((owner) => store.acquire(key, owner, 10_000)));
          assertEqual(results.filter(Boolean).length, 1, `one of three acquirers takes over ${JSON.stringify(value)}`);
          const winner = ["a", "b", "c"][results.indexOf(true)];
          assertEqual(await store.acquire(key, "d", 10_000), false, "the new lock holds");
          await store.release(key, winner);
          assertEqual((await kv.get([...prefix, "lock", key])).versionstamp, null, "the owner's release removes it");
        }
      },
    },
    {
      name: "a value that is not ours reads as missing; a bare string still reads",
      async fn() {
        const { kv, denoKvStore } = env;
        const prefix = ["mcc-check", id()];
        const store = denoKvStore(kv, { prefix });
        for (const [i, value] of [42, { value: 1 }, { value: "v" }, new Uint8Array([1]), null].entries()) {
          await kv.set([...prefix, `k${i}`], value);
          assertEqual(await store.get(`k${i}`), undefined, `get over ${JSON.stringify(value)}`);
        }
        await kv.set([...prefix, "bare"], "written by hand");
        assertEqual(await store.get("bare"), "written by hand", "bare string");
      },
    },
    {
      name: "an expired lock that Deno KV still holds is taken over, and its old owner cannot release the new one",
      async fn() {
        const { kv, denoKvStore } = env;
        const prefix = ["mcc-check", id()];
        const store = denoKvStore(kv, { prefix });
        assertEqual(await store.acquire("l", "a", 200), true, "a acquires for 200 ms");
        await sleep(350);
        const stale = (await kv.get([...prefix, "lock", "l"])).versionstamp !== null;
        assertEqual(await store.acquire("l", "b", 10_000), true, "b takes over the expired lock");
        await store.release("l", "a");
        assertEqual(await store.acquire("l", "c", 10_000), false, "a's late release did not free b's lock");
        await store.release("l", "b");
        assertEqual(await store.acquire("l", "c", 10_000), true, "free after b's release");
        return `the expired lock was still in Deno KV when b took over: ${stale}`;
      },
    },
    {
      name: "busy errors are retried (bounded, jittered); other errors propagate at once",
      async fn() {
        const { kv, denoKvStore } = env;
        const prefix = ["mcc-check", id()];
        await denoKvStore(kv, { prefix }).set("k", "v", 60);

        const flaky = faulty(kv, (op, n) => (op === "get" && n <= 3 ? { error: busyError() } : undefined));
        assertEqual(await denoKvStore(flaky.kv, { prefix }).get("k"), "v", "get after three busy errors");
        assertEqual(flaky.calls.get, 4, "get calls");

        const jammed = faulty(kv, (op) => (op === "commit" ? { error: busyError() } : undefined));
        let started = Date.now();
        const error = await rejects(denoKvStore(jammed.kv, { prefix }).acquire("l", "a", 10_000));
        const gaveUpMs = Date.now() - started;
        assert(/database is locked/.test(error?.message), `the busy error surfaces: ${error?.message}`);
        assertEqual(jammed.calls.commit, 9, "commit attempts (1 + busyRetries 8)");
        assert(gaveUpMs < 2_000, `gave up within 2 s (${gaveUpMs} ms)`);

        const none = faulty(kv, (op) => (op === "get" ? { error: busyError() } : undefined));
        await rejects(denoKvStore(none.kv, { prefix, busyRetries: 0 }).get("k"));
        assertEqual(none.calls.get, 1, "busyRetries 0: one attempt");

        const broken = faulty(kv, (op) => (op === "set" ? { error: new TypeError("boom") } : undefined));
        started = Date.now();
        const boom = await rejects(denoKvStore(broken.kv, { prefix }).set("k", "w", 60));
        assertEqual(boom?.message, "boom", "a non-busy error propagates");
        assertEqual(broken.calls.set, 1, "non-busy: one attempt");
        return `all 9 attempts of a jammed commit took ${gaveUpMs} ms`;
      },
    },
    {
      name: "a commit that landed but reported busy still counts: acquire recognises its own lock",
      async fn() {
        const { kv, denoKvStore } = env;
        const prefix = ["mcc-check", id()];
        const landed = faulty(kv, (op, n) => (op === "commit" && n === 1 ? { error: busyError(), when: "after" } : undefined));
        const store = denoKvStore(landed.kv, { prefix });
        assertEqual(await store.acquire("l", "a", 10_000), true, "acquire");
        assertEqual(await denoKvStore(kv, { prefix }).acquire("l", "b", 10_000), false, "the lock is held");
        await store.release("l", "a");
        assertEqual((await kv.get([...prefix, "lock", "l"])).versionstamp, null, "released");
      },
    },
    {
      name: "bad options and a non-Kv throw a configuration error",
      async fn() {
        const { kv, denoKvStore } = env;
        for (const [label, call] of [
          ["no kv", () => denoKvStore(undefined)],
          ["not a kv", () => denoKvStore({ get() {} })],
          ["busyRetries -1", () => denoKvStore(kv, { busyRetries: -1 })],
          ["busyRetries 1.5", () => denoKvStore(kv, { busyRetries: 1.5 })],
        ]) {
          let error;
          try {
            call();
          } catch (caught) {
            error = caught;
          }
          assertEqual(error?.code, "invalid_config", label);
        }
      },
    },
  ];
}
