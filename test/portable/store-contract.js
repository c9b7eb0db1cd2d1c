// The TokenStore contract: what every store must do, as plain ESM JavaScript with no imports,
// so the same checks run against memoryStore and sealedStore in vitest, idbStore in Chromium,
// the Cloudflare stores in workerd, denoKvStore in Deno and redisStore against a real Redis.
//
//   import { storeContract, runStoreContract } from "./store-contract.js";
//   for (const test of storeContract(options)) it(test.name, test.fn);          // vitest
//   const summary = await runStoreContract(options);                            // elsewhere
//
// options:
//   createStore()   → a store (or a promise of one); called once per test, may share a backend
//   locks           the store implements acquire/release (checked: a store without them fails)
//   minTtlSeconds   the store's smallest native TTL (Workers KV: 60); default 1
//   name            for the report
//
// Every test uses its own random keys, so stores may share one backend between tests and runs.

class ContractError extends Error {}

function assert(condition, message) {
  if (!condition) throw new ContractError(message);
}

function assertEqual(actual, expected, message) {
  if (actual !== expected) {
    const show = (v) => (typeof v === "string" && v.length > 80 ? `${JSON.stringify(v.slice(0, 80))}… (${v.length} chars)` : JSON.stringify(v));
    throw new ContractError(`${message}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const isEmpty = (value) => value === undefined || value === null;

function randomKey(label) {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `mcc1:contract-${label}-${id}`;
}

/** A string with what a careless store mangles: quotes, backslashes, newlines, non-ASCII, size. */
function awkwardValue(size = 20_000) {
  const head = `{"v":1,"quote":"\\"","nl":"line\\nbreak","ü":"ünïcødé ✓ 🔐","tab":"\\t"}`;
  return head + "x".repeat(Math.max(0, size - head.length));
}

/** Runs `fn` on a timer, so lock tests can release while another call waits. */
function later(ms, fn) {
  return sleep(ms).then(fn);
}

/**
 * @param {{ createStore: () => unknown, locks?: boolean, minTtlSeconds?: number, name?: string }} options
 * @returns {Array<{ name: string, fn: () => Promise<void> }>}
 */
export function storeContract(options) {
  const { createStore, locks = false, minTtlSeconds = 1 } = options;
  const store = async () => createStore();

  const tests = [
    {
      name: "a missing key reads as empty (undefined or null), never an error",
      async fn() {
        const s = await store();
        assert(isEmpty(await s.get(randomKey("missing"))), "get(missing) is empty");
      },
    },
    {
      name: "a value round-trips verbatim (quotes, newlines, non-ASCII, 20 KB)",
      async fn() {
        const s = await store();
        const key = randomKey("roundtrip");
        const value = awkwardValue();
        await s.set(key, value, 60);
        assertEqual(await s.get(key), value, "get(key) after set");
      },
    },
    {
      name: "set replaces, delete removes, deleting a missing key is fine",
      async fn() {
        const s = await store();
        const key = randomKey("replace");
        await s.set(key, "first", 60);
        await s.set(key, "second", 60);
        assertEqual(await s.get(key), "second", "get(key) after the second set");
        await s.delete(key);
        assert(isEmpty(await s.get(key)), "get(key) after delete is empty");
        await s.delete(key);
        await s.delete(randomKey("never-set"));
      },
    },
    {
      name: "keys are independent",
      async fn() {
        const s = await store();
        const a = randomKey("a");
        const b = randomKey("b");
        await s.set(a, "value-a", 60);
        await s.set(b, "value-b", 60);
        await s.delete(a);
        assert(isEmpty(await s.get(a)), "a is gone");
        assertEqual(await s.get(b), "value-b", "b is untouched");
      },
    },
    {
      name: "50 concurrent writes and reads of distinct keys",
      async fn() {
        const s = await store();
        const keys = Array.from({ length: 50 }, (_, i) => randomKey(`concurrent${i}`));
        await Promise.all(keys.map((key, i) => s.set(key, `value-${i}`, 60)));
        const values = await Promise.all(keys.map((key) => s.get(key)));
        values.forEach((value, i) => {
          assertEqual(value, `value-${i}`, `key ${i}`);
        });
      },
    },
    minTtlSeconds <= 1
      ? {
          name: "an entry is gone once its TTL has passed",
          async fn() {
            const s = await store();
            const key = randomKey("ttl");
            const kept = randomKey("ttl-kept");
            await s.set(key, "short-lived", 1);
            await s.set(kept, "long-lived", 60);
            assertEqual(await s.get(key), "short-lived", "readable before the TTL");
            let gone = false;
            for (let waited = 0; waited < 5_000 && !gone; waited += 250) {
              await sleep(250);
              gone = isEmpty(await s.get(key));
            }
            assert(gone, "get(key) is empty within 5 s of a 1 s TTL");
            assertEqual(await s.get(kept), "long-lived", "an entry with a longer TTL stays");
          },
        }
      : {
          name: `a TTL below the store's minimum (${minTtlSeconds} s) is raised, not rejected`,
          async fn() {
            const s = await store();
            const key = randomKey("short-ttl");
            await s.set(key, "short-lived", 1);
            assertEqual(await s.get(key), "short-lived", "get(key) after set with ttl 1");
          },
        },
  ];

  if (!locks) return tests;

  return [
    ...tests,
    {
      name: "acquire/release are both implemented",
      async fn() {
        const s = await store();
        assertEqual(typeof s.acquire, "function", "typeof acquire");
        assertEqual(typeof s.release, "function", "typeof release");
      },
    },
    {
      name: "a lock has one owner at a time; release frees it",
      async fn() {
        const s = await store();
        const key = randomKey("lock");
        assertEqual(await s.acquire(key, "owner-a", 10_000), true, "a acquires a free lock");
        // A store may wait for the holder before answering false: release after a while.
        const [b] = await Promise.all([s.acquire(key, "owner-b", 10_000), later(300, () => s.release(key, "owner-a"))]);
        assertEqual(b, false, "b does not get a lock a held when b asked");
        assertEqual(await s.acquire(key, "owner-c", 10_000), true, "c acquires it after a released it");
        await s.release(key, "owner-c");
      },
    },
    {
      name: "only the owner can release a lock",
      async fn() {
        const s = await store();
        const key = randomKey("lock-owner");
        assertEqual(await s.acquire(key, "owner-a", 10_000), true, "a acquires");
        await s.release(key, "owner-b");
        const [c] = await Promise.all([s.acquire(key, "owner-c", 10_000), later(300, () => s.release(key, "owner-a"))]);
        assertEqual(c, false, "c does not get the lock after b's release (b never held it)");
      },
    },
    {
      name: "a lock whose holder never releases expires by itself",
      async fn() {
        const s = await store();
        const key = randomKey("lock-expiry");
        assertEqual(await s.acquire(key, "owner-a", 500), true, "a acquires for 500 ms");
        await sleep(1_200);
        assertEqual(await s.acquire(key, "owner-b", 10_000), true, "b acquires once a's lock expired");
        await s.release(key, "owner-b");
      },
    },
    {
      name: "10 concurrent acquirers: exactly one wins",
      async fn() {
        const s = await store();
        const key = randomKey("lock-race");
        const results = await Promise.all(
          Array.from({ length: 10 }, async (_, i) => {
            const won = await s.acquire(key, `owner-${i}`, 10_000);
            if (won) later(300, () => s.release(key, `owner-${i}`));
            return won;
          }),
        );
        assertEqual(results.filter(Boolean).length, 1, `winners among ${JSON.stringify(results)}`);
      },
    },
    {
      name: "locks and values live side by side",
      async fn() {
        const s = await store();
        const key = randomKey("lock-value");
        await s.set(key, "value", 60);
        assertEqual(await s.acquire(`${key}:lock`, "owner-a", 10_000), true, "acquire a lock next to a value");
        assertEqual(await s.get(key), "value", "the value is untouched");
        await s.release(`${key}:lock`, "owner-a");
        assertEqual(await s.get(key), "value", "the value survives the release");
      },
    },
  ];
}

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs the contract outside vitest. Returns the portable suite's summary shape:
 * { runtime, passed, failed, skipped, total, results: [{ name, ok, skipped, error, ms }] }.
 */
export async function runStoreContract(options) {
  const results = [];
  const prefix = options.name ? `${options.name}: ` : "";
  for (const test of storeContract(options)) {
    const started = Date.now();
    try {
      await withTimeout(test.fn(), options.timeoutMs ?? 15_000);
      results.push({ name: prefix + test.name, ok: true, skipped: false, error: null, ms: Date.now() - started });
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      results.push({ name: prefix + test.name, ok: false, skipped: false, error: message, ms: Date.now() - started });
    }
  }
  const passed = results.filter((r) => r.ok).length;
  return { runtime: options.runtime ?? options.name ?? "store", passed, failed: results.length - passed, skipped: 0, total: results.length, results };
}
