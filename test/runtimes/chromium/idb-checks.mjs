// Node side of the Chromium idb checks (run by ../chromium.mjs after the portable suite). Four
// labels, each with its own test count (run.mjs counts them but does not compare them with the
// portable suite's):
//   chromium-page-idb     the TokenStore contract with locks in a page: Web Locks, then lock records
//   chromium-worker-idb   the same in a dedicated module worker
//   chromium-idb-cross    one origin, several contexts: page ↔ worker ↔ service worker, tab ↔ tab,
//                         a holder that dies
//   chromium-idb-tokens   withClientCredentials + idbStore in page, worker and tabs: one token
// Pages load /idb-page.js (idb-page.mjs) and run ops through it; see idb.mjs for the ops.

export const IDB_LABELS = ["chromium-page-idb", "chromium-worker-idb", "chromium-idb-cross", "chromium-idb-tokens"];

const TEST_TIMEOUT_MS = 60_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const random = () => Math.random().toString(36).slice(2, 10);

class CheckError extends Error {}
function assert(condition, message) {
  if (!condition) throw new CheckError(message);
}
function assertEqual(actual, expected, message) {
  if (actual !== expected) throw new CheckError(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `{ name, fn }` tests in order; the summary shape of the portable suite. */
async function runTests(runtime, tests) {
  const results = [];
  for (const test of tests) {
    const started = Date.now();
    try {
      await withTimeout(test.fn(), TEST_TIMEOUT_MS);
      results.push({ name: test.name, ok: true, skipped: false, error: null, ms: Date.now() - started });
    } catch (error) {
      const message = error instanceof CheckError ? error.message : String(error?.stack ?? error);
      results.push({ name: test.name, ok: false, skipped: false, error: message, ms: Date.now() - started });
    }
  }
  const passed = results.filter((r) => r.ok).length;
  return { runtime, passed, failed: results.length - passed, skipped: 0, total: results.length, results };
}

/** Two contract summaries (Web Locks, lock records) as one. */
function merge(runtime, summaries) {
  const results = summaries.flatMap((s) => s.results);
  const passed = results.filter((r) => r.ok).length;
  return { runtime, passed, failed: results.length - passed, skipped: 0, total: results.length, results };
}

const op = (page, name, args) => page.evaluate(([name, args]) => import("/idb-page.js").then((m) => m.handle(name, args)), [name, args]);
const workerOp = (page, name, args) => page.evaluate(([name, args]) => import("/idb-page.js").then((m) => m.inWorker(name, args)), [name, args]);
const serviceWorkerOp = (page, name, args) => page.evaluate(([name, args]) => import("/idb-page.js").then((m) => m.inServiceWorker(name, args)), [name, args]);
const stopWorker = (page) => page.evaluate(() => import("/idb-page.js").then((m) => m.stopWorker()));

/**
 * @param {{ context: import("playwright-core").BrowserContext, page: import("playwright-core").Page, origin: string, baseUrl?: string, version: string, log: (line: string) => void }} options
 * @returns {Promise<Record<string, object>>} summaries by label
 */
export async function runIdbChecks({ context, page, origin, baseUrl, version, log }) {
  const runtime = (what) => `chromium${version ? ` ${version}` : ""} (${what})`;
  const openTab = async () => {
    const tab = await context.newPage();
    await tab.goto(`${origin}/`);
    return tab;
  };
  const tabs = [];
  const tab = async () => {
    const t = await openTab();
    tabs.push(t);
    return t;
  };

  try {
    // The contract, in the page and in the worker at the same time (one database, random keys).
    const contract = (run, where, locks) =>
      run("contract", { dbName: "mcc-idb-contract", locks, name: locks === "auto" ? "web-locks" : "indexeddb locks", runtime: where });
    const started = Date.now();
    const [pageWeb, workerWeb] = await Promise.all([
      contract((n, a) => op(page, n, a), "page", "auto"),
      contract((n, a) => workerOp(page, n, a), "worker", "auto"),
    ]);
    const [pageRec, workerRec] = await Promise.all([
      contract((n, a) => op(page, n, a), "page", "indexeddb"),
      contract((n, a) => workerOp(page, n, a), "worker", "indexeddb"),
    ]);
    log(`# idb contract in page + worker: ${Date.now() - started} ms`);
    const out = {
      "chromium-page-idb": merge(runtime("page, idbStore"), [pageWeb, pageRec]),
      "chromium-worker-idb": merge(runtime("dedicated worker, idbStore"), [workerWeb, workerRec]),
    };

    const tab2 = await tab();
    const db = { dbName: "mcc-idb-cross" };
    const key = (label) => `mcc1:cross-${label}-${random()}`;
    const where = {
      page: (n, a) => op(page, n, { ...db, ...a }),
      worker: (n, a) => workerOp(page, n, { ...db, ...a }),
      tab2: (n, a) => op(tab2, n, { ...db, ...a }),
      serviceWorker: (n, a) => serviceWorkerOp(page, n, { ...db, ...a }),
    };

    /** `holder` takes the lock; `waiter` asks while it is held; holder releases after 400 ms. */
    async function waitsForRelease(holder, waiter, extra = {}) {
      const k = key("lock");
      assertEqual((await holder("acquire", { key: k, owner: "holder", ttlMs: 10_000, ...extra })).ok, true, "holder acquires");
      // Timed here, not in the context, so a slow machine cannot make an early answer look late.
      const asked = waiter("acquire", { key: k, owner: "waiter", ttlMs: 10_000, ...extra }).then((answer) => ({ ...answer, at: Date.now() }));
      await sleep(400);
      const releasing = Date.now();
      await holder("release", { key: k, owner: "holder", ...extra });
      const answer = await asked;
      assertEqual(answer.ok, false, "waiter's acquire while the lock was held");
      assert(answer.at >= releasing, `the waiter answered ${releasing - answer.at} ms before the release: it did not wait`);
      assert(answer.at - releasing < 5_000, `the waiter answered ${answer.at - releasing} ms after the release (ttl 10 s): it did not wake on release`);
      assertEqual((await waiter("acquire", { key: k, owner: "waiter", ttlMs: 10_000, ...extra })).ok, true, "waiter acquires once released");
      await waiter("release", { key: k, owner: "waiter", ...extra });
    }

    /** 12 acquirers over page, worker and tab2: one wins (and releases after 300 ms). */
    async function race(extra = {}) {
      const k = key("race");
      const contexts = [where.page, where.worker, where.tab2];
      const answers = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const run = contexts[i % 3];
          const { ok } = await run("acquire", { key: k, owner: `owner-${i}`, ttlMs: 10_000, ...extra });
          if (ok) void sleep(300).then(() => run("release", { key: k, owner: `owner-${i}`, ...extra }).catch(() => {}));
          return ok;
        }),
      );
      assertEqual(answers.filter(Boolean).length, 1, `winners among ${JSON.stringify(answers)}`);
    }

    /** A holder context dies without releasing: the lock must not stay held for its 60 s ttl. */
    async function dyingHolder(acquireInVictim, kill, k) {
      assertEqual((await acquireInVictim("acquire", { key: k, owner: "victim", ttlMs: 60_000 })).ok, true, "the doomed context acquires for 60 s");
      await kill();
      const started = Date.now();
      let { ok } = await where.page("acquire", { key: k, owner: "survivor", ttlMs: 5_000 });
      if (!ok) ({ ok } = await where.page("acquire", { key: k, owner: "survivor", ttlMs: 5_000 }));
      assertEqual(ok, true, "the page acquires the lock of a dead context");
      assert(Date.now() - started < 5_000, `freed in ${Date.now() - started} ms`);
      await where.page("release", { key: k, owner: "survivor" });
    }

    out["chromium-idb-cross"] = await runTests(runtime("page, tabs, dedicated + service worker, one origin"), [
      {
        name: "page, worker and a second tab all lock with Web Locks",
        async fn() {
          for (const name of ["page", "worker", "tab2"]) assertEqual(await where[name]("lockMode", {}), "web-locks", `${name} lockMode`);
        },
      },
      {
        name: "a value set in the page is read in the worker, and one set in the worker in the page",
        async fn() {
          const [a, b] = [key("value"), key("value")];
          await where.page("set", { key: a, value: "from the page" });
          assertEqual(await where.worker("get", { key: a }), "from the page", "worker reads the page's value");
          await where.worker("set", { key: b, value: "from the worker" });
          assertEqual(await where.page("get", { key: b }), "from the worker", "page reads the worker's value");
        },
      },
      {
        name: "a lock held by the page: the worker's acquire waits for the release, then answers false",
        fn: () => waitsForRelease(where.page, where.worker),
      },
      {
        name: "a lock held by the worker: the page's acquire waits for the release, then answers false",
        fn: () => waitsForRelease(where.worker, where.page),
      },
      {
        name: "two tabs: a value set in one is read in the other",
        async fn() {
          const k = key("tabs");
          await where.tab2("set", { key: k, value: "from tab 2" });
          assertEqual(await where.page("get", { key: k }), "from tab 2", "tab 1 reads tab 2's value");
        },
      },
      {
        name: "two tabs: a lock held by one makes the other's acquire wait, then answer false",
        fn: () => waitsForRelease(where.page, where.tab2),
      },
      {
        name: "a service worker: Web Locks, reads the page's value, waits for the page's lock then answers false",
        async fn() {
          assertEqual(await where.serviceWorker("lockMode", {}), "web-locks", "service worker lockMode");
          const k = key("sw");
          await where.page("set", { key: k, value: "from the page" });
          assertEqual(await where.serviceWorker("get", { key: k }), "from the page", "service worker reads the page's value");
          await waitsForRelease(where.page, where.serviceWorker);
        },
      },
      {
        name: "12 acquirers across two tabs and a worker: exactly one wins (Web Locks)",
        fn: () => race(),
      },
      {
        name: "lock records (locks: indexeddb) exclude across contexts too: one winner of 12; a waiter waits for the release",
        async fn() {
          await race({ locks: "indexeddb" });
          await waitsForRelease(where.tab2, where.worker, { locks: "indexeddb" });
        },
      },
      {
        name: "closing the tab that holds a lock frees it at once (Web Locks)",
        async fn() {
          const doomed = await openTab();
          await dyingHolder(
            (n, a) => op(doomed, n, { ...db, ...a }),
            () => doomed.close(),
            key("closed-tab"),
          );
        },
      },
      {
        name: "terminating the worker that holds a lock frees it at once (Web Locks)",
        fn: () => dyingHolder(where.worker, () => stopWorker(page), key("dead-worker")),
      },
    ]);

    out["chromium-idb-tokens"] = await runTests(
      runtime("withClientCredentials + idbStore across contexts"),
      tokenTests({ page, tab2, openTab: tab, baseUrl, log }),
    );
    return out;
  } finally {
    await Promise.all(tabs.map((t) => t.close().catch(() => {})));
  }
}

/** The shared-store behaviour of the middleware across the contexts of one origin. */
function tokenTests({ page, tab2, openTab, baseUrl, log }) {
  const control = async (path, init = {}) => {
    const response = await fetch(`${baseUrl}/__control${path}`, { ...init, headers: init.body ? { "content-type": "application/json" } : {} });
    const text = await response.text();
    if (!response.ok) throw new Error(`control ${path} → ${response.status} ${text}`);
    return JSON.parse(text);
  };
  const summary = (c) => ({
    token: c.token,
    resourceMetadata: c.resourceMetadata,
    authorizationServerMetadata: c.authorizationServerMetadata,
    resource: c.resource,
    unauthorized: c.resource - c.resourceAuthorized,
  });
  const state = {};
  const args = (resource) => ({ resource, clientId: "idb", clientSecret: "idb-secret", dbName: state.dbName });

  return [
    {
      name: "page, worker and a second tab, 5 concurrent calls each on one idbStore: all 200, exactly 1 token request",
      async fn() {
        if (!baseUrl) throw new Error("no baseUrl: run through test/runtimes/run.mjs");
        const tenant = await control("/tenants", { method: "POST", body: JSON.stringify({ clients: [{ clientId: "idb", clientSecret: "idb-secret" }] }) });
        Object.assign(state, { tenant, dbName: `mcc-idb-tokens-${random()}` });
        const call = { ...args(tenant.resource), calls: 5 };
        const started = Date.now();
        const results = await Promise.all([op(page, "callResource", call), workerOp(page, "callResource", call), op(tab2, "callResource", call)]);
        const counts = summary(await control(`/tenants/${tenant.id}/counts`));
        state.before = counts;
        const statuses = results.flatMap((r) => r.statuses);
        log(
          `# idb tokens, concurrent (page+worker+tab2, 15 calls, ${Date.now() - started} ms): ${JSON.stringify(counts)} statuses ${JSON.stringify(statuses)}`,
        );
        assert(
          statuses.every((s) => s === 200),
          `all 200: ${JSON.stringify(statuses)}`,
        );
        assertEqual(counts.token, 1, `token requests over page, worker and tab (counts ${JSON.stringify(counts)})`);
      },
    },
    {
      name: "a tab and a worker started later on the warm store: 0 metadata requests, 0 token requests, no unauthorized request",
      async fn() {
        if (!state.before) throw new Error("needs the previous test's tenant and warm store");
        const late = await openTab();
        await stopWorker(page); // the next workerOp starts a fresh worker
        const started = Date.now();
        const results = await Promise.all([op(late, "callResource", args(state.tenant.resource)), workerOp(page, "callResource", args(state.tenant.resource))]);
        const after = summary(await control(`/tenants/${state.tenant.id}/counts`));
        const delta = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - state.before[k]]));
        const statuses = results.flatMap((r) => r.statuses);
        log(`# idb tokens, late tab + fresh worker (${Date.now() - started} ms): delta ${JSON.stringify(delta)} statuses ${JSON.stringify(statuses)}`);
        assert(
          statuses.every((s) => s === 200),
          `all 200: ${JSON.stringify(statuses)}`,
        );
        const problems = [];
        if (delta.resourceMetadata !== 0) problems.push(`${delta.resourceMetadata} resource metadata requests`);
        if (delta.authorizationServerMetadata !== 0) problems.push(`${delta.authorizationServerMetadata} AS metadata requests`);
        if (delta.token !== 0) problems.push(`${delta.token} token requests`);
        if (delta.unauthorized !== 0) problems.push(`${delta.unauthorized} unauthorized resource requests`);
        assert(problems.length === 0, `a context on the warm store made ${problems.join(", ")} (expected none)`);
      },
    },
  ];
}
