import { createStore, get, promisifyRequest, set, type UseStore, update } from "idb-keyval";
import { configError } from "../errors.js";
import type { LockingTokenStore, TokenStore } from "../types.js";

export interface IdbStoreOptions {
  /**
   * IndexedDB database. Give each `storeName` its own database: idb-keyval creates the object
   * store only when it creates the database, so a second store name in an existing one fails.
   * @default "mcp-client-credentials"
   */
  dbName?: string;
  /**
   * Object store inside `dbName`.
   * @default "tokens"
   */
  storeName?: string;
  /**
   * How `acquire`/`release` lock. `"auto"`: Web Locks (`navigator.locks`) where the context has
   * them, else lock records in IndexedDB. `"indexeddb"`: always lock records (every context that
   * shares the store must then use them too: the two kinds do not see each other).
   * @default "auto"
   */
  locks?: "auto" | "indexeddb";
}

/** A {@link TokenStore} in IndexedDB, with locks; says which lock mechanism it picked. */
export interface IdbStore extends LockingTokenStore<undefined> {
  /** `"web-locks"` (navigator.locks) or `"indexeddb"` (lock records in the object store). */
  readonly lockMode: "web-locks" | "indexeddb";
}

/** What is stored under a value key: IndexedDB has no TTL, so the expiry travels with the value. */
interface ValueRecord {
  mcc: "value";
  value: string;
  expiresAt: number;
}

/** A lock held without Web Locks. */
interface LockRecord {
  mcc: "lock";
  owner: string;
  expiresAt: number;
}

/** How often a waiter without Web Locks looks at the lock record again. */
const POLL_MS = 50;

/**
 * Web Locks held in this context (page, worker), by lock name: each stays held while its
 * callback's promise is pending. Module-wide, so any idbStore on the same database and store
 * in this context can release for the owner, as with lock records.
 */
const held = new Map<string, { owner: string; drop: () => void }>();

/**
 * A store in the browser's IndexedDB (via idb-keyval), shared by every page, tab, dedicated or
 * service worker and extension context of one origin: they share tokens and discovery, and
 * single-flight token requests through `acquire`/`release`. Uses only Web APIs; IndexedDB is
 * opened on first use, so creating one where there is none (server-side rendering) is harmless
 * (calls then fail and the middleware treats them as misses).
 *
 * Locks use Web Locks where they exist: held until `release` or `ttlMs`, and dropped by the
 * browser when the holding tab or worker dies. A caller that finds the lock held waits for its
 * release (at most `ttlMs`) and gets `false`, so it reads the store at once. Without Web Locks
 * (insecure `http:` pages, older browsers, Node with fake-indexeddb) a lock is an owner+expiry
 * record written in one IndexedDB transaction, and waiters poll it.
 *
 * Tokens sit in IndexedDB in clear: any script of the origin can read them (seal them with
 * `sealedStore` if that matters). In an extension, use it from extension pages and the service
 * worker, never from content scripts: those write to the visited site's IndexedDB.
 *
 * @example
 * import { withClientCredentials } from "mcp-client-credentials";
 * import { idbStore } from "mcp-client-credentials/stores/idb";
 *
 * const authFetch = withClientCredentials({ clientId, clientSecret, store: idbStore() })(fetch);
 *
 * // An extension's popup and service worker sharing one database of their own:
 * const store = idbStore({ dbName: "my-extension-mcp-auth" });
 */
export function idbStore(options: IdbStoreOptions = {}): IdbStore {
  const dbName = options.dbName ?? "mcp-client-credentials";
  const storeName = options.storeName ?? "tokens";
  const lockOption = options.locks ?? "auto";
  for (const [name, value] of [
    ["dbName", dbName],
    ["storeName", storeName],
  ] as const) {
    if (typeof value !== "string" || value === "") {
      throw configError(`idbStore: ${name} must be a non-empty string`);
    }
  }
  if (lockOption !== "auto" && lockOption !== "indexeddb") {
    throw configError('idbStore: locks must be "auto" or "indexeddb"');
  }

  const db = createStore(dbName, storeName);
  // Looked up once: `navigator` is missing in Node < 21 and `locks` outside secure contexts.
  const webLocks = lockOption === "auto" ? (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks : undefined;
  // Lock names are origin-wide, so they carry the database and store like the lock records do.
  const lockName = (key: string) => `mcc-idb:${dbName}/${storeName}:${key}`;
  // Array keys never equal string keys in IndexedDB: lock records cannot clobber values.
  const lockKey = (key: string): IDBValidKey => ["lock", key];

  // A caller may release right after a set it did not await: release waits for this store's
  // writes first, so a waiter that wakes up finds the value.
  const writes = new Set<Promise<void>>();
  const track = (write: Promise<void>): Promise<void> => {
    const settled = write.then(
      () => {},
      () => {},
    );
    writes.add(settled);
    void settled.then(() => writes.delete(settled));
    return write;
  };
  const flush = () => Promise.all(writes);

  async function acquireWebLock(locks: LockManager, key: string, owner: string, ttlMs: number): Promise<boolean> {
    const name = lockName(key);
    const won = await new Promise<boolean>((resolve, reject) => {
      locks
        .request(name, { ifAvailable: true }, (lock) => {
          if (!lock) return resolve(false);
          return new Promise<void>((done) => {
            const entry = {
              owner,
              drop: () => {
                clearTimeout(timer);
                if (held.get(name) === entry) held.delete(name);
                done();
              },
            };
            // Expiry: a holder that never releases (a hung request) frees the lock after ttlMs.
            const timer = setTimeout(entry.drop, ttlMs);
            held.set(name, entry);
            resolve(true);
          });
        })
        .catch(reject);
    });
    if (won) return true;
    // Wait for the holder: a shared request is granted once the exclusive holder is gone, and
    // all waiters are granted together. Bounded by ttlMs; either way the answer is false.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), ttlMs);
    try {
      await locks.request(name, { mode: "shared", signal: controller.signal }, () => {});
    } catch {
      // Aborted: the holder kept the lock for ttlMs.
    } finally {
      clearTimeout(timer);
    }
    return false;
  }

  async function acquireRecord(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const outcome: { seen?: LockRecord } = {};
    // update() reads and writes in one readwrite transaction: IndexedDB serialises those per
    // store across every connection of the origin, so exactly one concurrent caller wins.
    await update(
      lockKey(key),
      (current: unknown) => {
        if (isLock(current) && current.expiresAt > Date.now()) {
          outcome.seen = current; // held (even by this owner): rewrite it unchanged
          return current;
        }
        return { mcc: "lock", owner, expiresAt: Date.now() + ttlMs } satisfies LockRecord;
      },
      db,
    );
    const seen = outcome.seen;
    if (!seen) return true;
    // Wait until that holder's record is gone, replaced or expired, at most ttlMs.
    const until = Math.min(Date.now() + ttlMs, seen.expiresAt);
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(until - Date.now(), 0))));
      const current: unknown = await get(lockKey(key), db);
      if (!isLock(current) || current.owner !== seen.owner || current.expiresAt !== seen.expiresAt) break;
    }
    return false;
  }

  return {
    lockMode: webLocks ? "web-locks" : "indexeddb",
    async get(key) {
      const record: unknown = await get(key, db);
      if (!isValue(record)) return undefined; // missing, or not ours: a miss, not an error
      if (record.expiresAt > Date.now()) return record.value;
      // Lazy expiry, checked again inside the transaction: another context may have just set it.
      await removeIf(db, key, (current) => isValue(current) && current.expiresAt <= Date.now()).catch(() => {});
      return undefined;
    },
    set(key, value, ttlSeconds) {
      const record: ValueRecord = { mcc: "value", value, expiresAt: Date.now() + Math.max(ttlSeconds, 0) * 1000 };
      return track(set(key, record, db));
    },
    delete(key) {
      return track(removeIf(db, key, () => true).then(() => {}));
    },
    acquire(key, owner, ttlMs) {
      return webLocks ? acquireWebLock(webLocks, key, owner, ttlMs) : acquireRecord(key, owner, ttlMs);
    },
    async release(key, owner) {
      await flush();
      if (webLocks) {
        const entry = held.get(lockName(key));
        if (entry?.owner === owner) entry.drop();
        return;
      }
      await removeIf(db, lockKey(key), (current) => isLock(current) && current.owner === owner);
    },
  };
}

/** Deletes `key` if `matches` its current record, in one readwrite transaction. */
function removeIf(db: UseStore, key: IDBValidKey, matches: (current: unknown) => boolean): Promise<boolean> {
  return db("readwrite", (store) => {
    let removed = false;
    const request = store.get(key);
    request.onsuccess = () => {
      if (!matches(request.result)) return;
      store.delete(key);
      removed = true;
    };
    return promisifyRequest(store.transaction).then(() => removed);
  });
}

function isValue(record: unknown): record is ValueRecord {
  const r = record as Partial<ValueRecord> | null;
  return typeof r === "object" && r !== null && r.mcc === "value" && typeof r.value === "string" && Number.isFinite(r.expiresAt);
}

function isLock(record: unknown): record is LockRecord {
  const r = record as Partial<LockRecord> | null;
  return typeof r === "object" && r !== null && r.mcc === "lock" && typeof r.owner === "string" && Number.isFinite(r.expiresAt);
}
