// stores/cloudflare for real: kvStore and durableObjectStore inside workerd (through Miniflare),
// on real KV and Durable Object bindings, driven from separate Workers; then fleets of Workers
// running the middleware from dist/ against the loopback authorization server.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeContract } from "../portable/store-contract.js";
import { bundleWorker, moduleWorker, post } from "./cloudflare/harness.js";
import { createTenant, delta, type LoopbackServer, NOTHING, startServer, type Tenant, type TenantCounts, tenantCounts, warmCost } from "./tenants.mjs";

const KV_ID = "mcc-tokens";
const DO_CLASS = "TokenStoreDurableObject";
const CLIENT_ID = "fleet";
const CLIENT_SECRET = "fleet-secret";

type Kind = "kv" | "do";
interface OpResult<T> {
  result: T;
  ms: number;
  error?: string;
}

const CONTRACTS: Record<Kind, { label: string; locks: boolean; minTtlSeconds: number }> = {
  kv: { label: "kvStore", locks: false, minTtlSeconds: 60 },
  do: { label: "durableObjectStore", locks: true, minTtlSeconds: 1 },
};

const randomKey = (label: string) => `mcc1:cf-${label}-${crypto.randomUUID()}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("stores/cloudflare in workerd: two Workers sharing one KV namespace and one Durable Object namespace", () => {
  let mf: Miniflare | undefined;
  const op = <T>(worker: "stores-a" | "stores-b", store: Kind, name: string, args: unknown[], options?: object) =>
    post<OpResult<T>>(mf!, worker, "/op", { store, op: name, args, options });

  beforeAll(async () => {
    const [a, b] = await Promise.all([bundleWorker("store-worker.mjs"), bundleWorker("peer-worker.mjs")]);
    mf = new Miniflare({
      workers: [
        // stores-a defines the class; stores-b binds the same namespace through scriptName.
        moduleWorker("stores-a", a, {
          kvNamespaces: { KV: KV_ID },
          durableObjects: { TOKENS: { className: DO_CLASS, useSQLite: true }, PROBE: { className: "SweepProbe", useSQLite: true } },
        }),
        moduleWorker("stores-b", b, {
          kvNamespaces: { KV: KV_ID },
          durableObjects: { TOKENS: { className: DO_CLASS, scriptName: "stores-a", useSQLite: true } },
        }),
      ],
    });
    await mf.ready;
  });

  afterAll(async () => {
    await mf?.dispose();
  });

  // One vitest test per contract check, each run inside workerd by name.
  for (const kind of ["kv", "do"] as const) {
    const { label, ...options } = CONTRACTS[kind];
    describe(`contract: ${label}`, () => {
      for (const { name } of storeContract({ ...options, createStore: () => undefined })) {
        it(name, async () => {
          const outcome = await post<{ ok: boolean; error: string | null }>(mf!, "stores-a", "/contract", { store: kind, name });
          expect(outcome.error).toBeNull();
          expect(outcome.ok).toBe(true);
        });
      }
    });
  }

  describe("kvStore", () => {
    it("raises expirationTtl to 60 s (KV itself rejects less) and passes longer TTLs on", async () => {
      const seen = await post<{ direct: string; requested: number[]; passed: number[]; value: string }>(mf!, "stores-a", "/kv-ttl", { key: randomKey("ttl") });
      expect(seen.direct).toMatch(/^rejected/);
      expect(seen.passed).toEqual([60, 60, 60, 61, 3600]);
      expect(seen.value).toBe("ttl-3600");
    });

    it("a prefix isolates keys in a shared namespace", async () => {
      const key = randomKey("prefix");
      const seen = await post<{ before: Record<string, string | null>; after: Record<string, string | null> }>(mf!, "stores-a", "/kv-prefix", { key });
      expect(seen.before).toEqual({ a: "value-a", b: "value-b", bare: null, raw: "value-a" });
      expect(seen.after).toEqual({ a: null, b: "value-b" });
    });

    it("has no locks (KV cannot give single-flight)", async () => {
      const seen = await op<unknown>("stores-a", "kv", "acquire", ["k", "owner", 1000]);
      expect(seen.error).toBe("kv has no acquire");
    });
  });

  describe("durableObjectStore", () => {
    it("a store made in one request keeps working in later ones (a stub per call: stubs are request-bound)", async () => {
      const key = randomKey("module");
      expect(await post(mf!, "stores-a", "/across-requests", { key, step: "set" })).toEqual({ value: "kept" });
      expect(await post(mf!, "stores-a", "/across-requests", { key, step: "get" })).toEqual({ value: "kept" });
      expect(await post(mf!, "stores-a", "/across-requests", { key, step: "get" })).toEqual({ value: "kept" });
    });

    it("the alarm sweeps expired values and locks from storage and schedules the next sweep", async () => {
      const short = randomKey("sweep-short");
      const long = randomKey("sweep-long");
      const seen = await post<{
        lock: boolean;
        scheduledBefore: number | null;
        scheduledAfter: number | null;
        keys: string[];
        now: number;
        long: string | null;
      }>(mf!, "stores-a", "/sweep", { short, long });
      expect(seen.lock).toBe(true);
      // set() scheduled a sweep a minute after the earliest expiry (the 1 s value)…
      expect(seen.scheduledBefore).toBeGreaterThan(seen.now + 55_000);
      expect(seen.scheduledBefore).toBeLessThan(seen.now + 62_000);
      // …which removes the expired value and the expired lock, keeps the live value…
      expect(seen.keys).toEqual([`v:${long}`]);
      expect(seen.long).toBe("long-lived");
      // …and schedules the next one after the live value's expiry.
      expect(seen.scheduledAfter).toBeGreaterThan(seen.now + 3_600_000);
    });
  });

  describe("across Workers", () => {
    for (const kind of ["do", "kv"] as const) {
      it(`a value set through Worker A is read through Worker B (${CONTRACTS[kind].label})`, async () => {
        const key = randomKey(`shared-${kind}`);
        await op("stores-a", kind, "set", [key, "from-a", 120]);
        expect((await op<string | null>("stores-b", kind, "get", [key])).result).toBe("from-a");
        await op("stores-b", kind, "delete", [key]);
        expect((await op<string | null>("stores-a", kind, "get", [key])).result).toBeNull();
      });
    }

    it("a lock taken through Worker A: Worker B's acquire answers false (at once with lockWaitMs 0)", async () => {
      const key = randomKey("lock");
      expect((await op<boolean>("stores-a", "do", "acquire", [key, "owner-a", 10_000])).result).toBe(true);
      const b = await op<boolean>("stores-b", "do", "acquire", [key, "owner-b", 10_000], { lockWaitMs: 0 });
      expect(b.result).toBe(false);
      expect(b.ms).toBeLessThan(1000);
      // Only the owner releases: B's release is ignored.
      await op("stores-b", "do", "release", [key, "owner-b"]);
      expect((await op<boolean>("stores-b", "do", "acquire", [key, "owner-c", 10_000], { lockWaitMs: 0 })).result).toBe(false);
      await op("stores-a", "do", "release", [key, "owner-a"]);
      expect((await op<boolean>("stores-b", "do", "acquire", [key, "owner-b", 10_000])).result).toBe(true);
    });

    it("Worker B waits on Worker A's lock and is answered false as soon as A releases", async () => {
      const key = randomKey("wait-release");
      expect((await op<boolean>("stores-a", "do", "acquire", [key, "owner-a", 10_000])).result).toBe(true);
      const [b] = await Promise.all([
        op<boolean>("stores-b", "do", "acquire", [key, "owner-b", 10_000]),
        sleep(400).then(() => op("stores-a", "do", "release", [key, "owner-a"])),
      ]);
      expect(b.result).toBe(false);
      expect(b.ms).toBeGreaterThanOrEqual(300); // it waited for the release…
      expect(b.ms).toBeLessThan(3000); // …not for lockWaitMs (5 s) or the lock's 10 s
    });

    it("Worker B waits on Worker A's lock and is answered false as soon as it expires", async () => {
      const key = randomKey("wait-expiry");
      expect((await op<boolean>("stores-a", "do", "acquire", [key, "owner-a", 800])).result).toBe(true);
      const b = await op<boolean>("stores-b", "do", "acquire", [key, "owner-b", 10_000]);
      expect(b.result).toBe(false);
      expect(b.ms).toBeGreaterThanOrEqual(500);
      expect(b.ms).toBeLessThan(3000);
      expect((await op<boolean>("stores-b", "do", "acquire", [key, "owner-b", 10_000])).result).toBe(true);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Fleets: the middleware from dist/ in several Workers on one store. These assert the final
// behaviour of shared-store support in the core (distributed single-flight through
// acquire/release, discovery cached in the store).

interface Call {
  status: number;
  ok: boolean;
  error?: string;
}

function fleetWorker(name: string, scriptPath: string, tenant: Tenant, store: Kind, scriptName?: string) {
  return moduleWorker(name, scriptPath, {
    bindings: { CLIENT_ID, CLIENT_SECRET, RESOURCE: tenant.resource, STORE: store },
    kvNamespaces: { KV: KV_ID },
    durableObjects: { TOKENS: { className: DO_CLASS, useSQLite: true, ...(scriptName ? { scriptName } : {}) } },
  });
}

async function calls(mf: Miniflare, worker: string, n: number): Promise<Call[]> {
  return Promise.all(Array.from({ length: n }, () => post<Call>(mf, worker, "/call")));
}

function report(label: string, counts: TenantCounts, extra: object = {}) {
  console.log(`[cloudflare fleet] ${label}: ${JSON.stringify({ ...counts, ...extra })}`);
}

describe("fleet on durableObjectStore: Workers sharing one Durable Object", () => {
  let server: LoopbackServer | undefined;
  let tenant: Tenant;
  let mf: Miniflare | undefined;
  let persist: string | undefined;
  let script: string;

  const start = (workers: ReturnType<typeof fleetWorker>[]) => {
    mf = new Miniflare({ durableObjectsPersist: persist!, workers });
    return mf.ready;
  };

  beforeAll(async () => {
    server = await startServer();
    tenant = await createTenant(server.baseUrl, { clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }] });
    script = await bundleWorker("fleet-worker.mjs");
    persist = await mkdtemp(path.join(os.tmpdir(), "mcc-cf-fleet-"));
    await start([
      fleetWorker("fleet-a", script, tenant, "do"),
      fleetWorker("fleet-b", script, tenant, "do", "fleet-a"),
      fleetWorker("fleet-c", script, tenant, "do", "fleet-a"),
    ]);
  });

  afterAll(async () => {
    await mf?.dispose().catch(() => {});
    await server?.close();
    if (persist) await rm(persist, { recursive: true, force: true });
  });

  it("10 concurrent requests to each of two Workers: all succeed, exactly one token request and one 401", async () => {
    const before = await tenantCounts(server!.baseUrl, tenant.id);
    const [a, b] = await Promise.all([calls(mf!, "fleet-a", 10), calls(mf!, "fleet-b", 10)]);
    const d = delta(before, await tenantCounts(server!.baseUrl, tenant.id));
    report("two Workers, 10 concurrent requests each", d, { events: { a: await post(mf!, "fleet-a", "/events"), b: await post(mf!, "fleet-b", "/events") } });
    expect([...a, ...b].filter((c) => c.status !== 200 || !c.ok)).toEqual([]);
    expect(d.token).toBe(1);
    // The cold gate holds across isolates through the Durable Object's locks: one 401 for both Workers.
    expect(d).toMatchObject({ unauthorized: 1, resourceMetadata: 1, authorizationServerMetadata: 1 });
  });

  it("a fresh Worker on the warm store: no metadata, no token request, no request without Authorization", async () => {
    const before = await tenantCounts(server!.baseUrl, tenant.id);
    const [call] = await calls(mf!, "fleet-c", 1);
    const d = delta(before, await tenantCounts(server!.baseUrl, tenant.id));
    report("fresh Worker C, warm Durable Object", d);
    expect(call).toMatchObject({ status: 200, ok: true });
    expect(warmCost(d)).toEqual(NOTHING);
  });

  it("a restarted workerd on the persisted Durable Object state: no metadata, no token request, no request without Authorization", async () => {
    await mf?.dispose();
    mf = undefined;
    await start([fleetWorker("fleet-a", script, tenant, "do")]);
    const before = await tenantCounts(server!.baseUrl, tenant.id);
    const [call] = await calls(mf!, "fleet-a", 1);
    const d = delta(before, await tenantCounts(server!.baseUrl, tenant.id));
    report("restarted workerd, persisted Durable Object", d);
    expect(call).toMatchObject({ status: 200, ok: true });
    expect(warmCost(d)).toEqual(NOTHING);
  });
});

describe("fleet on kvStore: Workers sharing one KV namespace", () => {
  let server: LoopbackServer | undefined;
  let tenant: Tenant;
  let mf: Miniflare | undefined;

  beforeAll(async () => {
    server = await startServer();
    tenant = await createTenant(server.baseUrl, { clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }] });
    const script = await bundleWorker("fleet-worker.mjs");
    // Worker B's middleware is created on its first request, which comes after A has its token.
    mf = new Miniflare({ workers: [fleetWorker("kv-a", script, tenant, "kv"), fleetWorker("kv-b", script, tenant, "kv", "kv-a")] });
    await mf.ready;
  });

  afterAll(async () => {
    await mf?.dispose().catch(() => {});
    await server?.close();
  });

  it("Worker A: 10 concurrent requests, one token request (single-flight within the isolate)", async () => {
    const before = await tenantCounts(server!.baseUrl, tenant.id);
    const results = await calls(mf!, "kv-a", 10);
    const d = delta(before, await tenantCounts(server!.baseUrl, tenant.id));
    report("KV Worker A, 10 concurrent requests", d);
    expect(results.filter((c) => c.status !== 200 || !c.ok)).toEqual([]);
    expect(d.token).toBe(1);
  });

  it("Worker B, started after A got its token: no token request (KV shares it)", async () => {
    const before = await tenantCounts(server!.baseUrl, tenant.id);
    const results = await calls(mf!, "kv-b", 10);
    const d = delta(before, await tenantCounts(server!.baseUrl, tenant.id));
    report("KV Worker B, started after A", d);
    expect(results.filter((c) => c.status !== 200 || !c.ok)).toEqual([]);
    expect(d.token).toBe(0);
  });
});
