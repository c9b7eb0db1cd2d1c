// Fleets of separate OS processes (test/fleet/redis-member.mjs) sharing one redis-server through
// redisStore, against the loopback authorization server + MCP resource of the portable suite.
// What a shared store must buy a fleet: one token request for all of it (distributed
// single-flight through acquire/release), a fresh process that starts warm (discovery and token
// from the store, no 401 first), and requests that keep succeeding while Redis is down. With
// sealedStore on top, the same for the holders of the key, nothing readable for anyone else
// (another key reads as empty), and only ciphertext in Redis.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import IORedis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, redisAvailable, startRedis } from "./redis-server.mjs";
import { createTenant, type LoopbackServer, startServer, type Tenant, type TenantCounts, tenantCounts } from "./tenants.mjs";
import { startUpstashRest, type UpstashRest } from "./upstash-rest.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MEMBER = fileURLToPath(new URL("./redis-member.mjs", import.meta.url));
const FLEET = 8;

type MemberClient = "ioredis" | "redis" | "redis5" | "redis4" | "upstash";

interface MemberResult {
  ok: boolean;
  kind: string;
  calls: number;
  statuses: Record<string, number>;
  failures: string[];
  events: Record<string, number>;
  errorEvents: string[];
  clientErrors: number;
  firstMs: number;
  totalMs: number;
  sealed: boolean;
  /** With `bearerDigest`: SHA-256 (hex) and length of each distinct bearer token sent. */
  bearers?: Array<{ sha256: string; length: number }>;
}

interface Member {
  ready: Promise<{ kind: string; pid: number }>;
  result: Promise<MemberResult>;
  go(): void;
  stop(): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const children = new Set<ChildProcessWithoutNullStreams>();

function diff(after: TenantCounts, before: TenantCounts) {
  return {
    token: after.token - before.token,
    resourceMetadata: after.resourceMetadata - before.resourceMetadata,
    authorizationServerMetadata: after.authorizationServerMetadata - before.authorizationServerMetadata,
    unauthorized: after.unauthorized - before.unauthorized,
    resource: after.resource - before.resource,
  };
}

/** Numbers for the report: one line per scenario. Never tokens or secrets. */
function report(scenario: string, numbers: Record<string, unknown>) {
  console.log(`[redis-fleet] ${scenario} ${JSON.stringify(numbers)}`);
}

describe.skipIf(!redisAvailable())("fleets sharing redis-server", () => {
  let redis: RedisServer;
  let rest: UpstashRest;
  let server: LoopbackServer;
  let raw: IORedis;

  beforeAll(async () => {
    redis = await startRedis();
    rest = await startUpstashRest({ redisPort: redis.port });
    server = await startServer();
    raw = new IORedis(redis.url, { maxRetriesPerRequest: 1 });
    raw.on("error", () => {});
  });

  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL");
    raw?.disconnect();
    await rest?.close();
    await server?.close();
    await redis?.stop();
  });

  function spawnMember(tenant: Tenant, client: MemberClient, extra: Record<string, unknown> = {}): Member {
    const config = {
      client,
      redisUrl: redis.url,
      upstash: { url: rest.url, token: rest.token },
      clientId: "fleet",
      clientSecret: "fleet-secret",
      resource: tenant.resource,
      ...extra,
    };
    const child = spawn(process.execPath, [MEMBER, JSON.stringify(config)], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    children.add(child);
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-2000);
    });
    // "close", not "exit": stdout is drained by then, so a result printed just before exiting is read.
    const exited = new Promise<void>((resolve) =>
      child.once("close", () => {
        children.delete(child);
        resolve();
      }),
    );
    let onReady: (value: { kind: string; pid: number }) => void = () => {};
    let onResult: (value: MemberResult) => void = () => {};
    const ready = new Promise<{ kind: string; pid: number }>((resolve) => {
      onReady = resolve;
    });
    const result = new Promise<MemberResult>((resolve) => {
      onResult = resolve;
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      let message: { ready?: boolean; kind?: string; pid?: number; result?: MemberResult };
      try {
        message = JSON.parse(line);
      } catch {
        return;
      }
      if (message.ready) onReady({ kind: String(message.kind), pid: Number(message.pid) });
      if (message.result) onResult(message.result);
    });
    const died = (what: string) =>
      exited.then(() => {
        throw new Error(`fleet member (${client}) exited before ${what}: ${stderr.trim() || "no stderr"}`);
      });
    return {
      ready: Promise.race([ready, died("it was ready")]),
      result: Promise.race([result, died("it reported")]),
      go: () => child.stdin.write("go\n"),
      stop: () => child.stdin.write("stop\n"),
    };
  }

  /**
   * `clients.length` processes on an empty Redis, started together; each makes 3 calls.
   * `tenantClients` replaces the tenant's default client; `member` is added to every member's config.
   */
  async function coldFleet(
    scenario: string,
    clients: MemberClient[],
    { tenantClients, member = {} }: { tenantClients?: Array<{ clientId: string; clientSecret: string }>; member?: Record<string, unknown> } = {},
  ) {
    await raw.flushall();
    const tenant = await createTenant(server.baseUrl, tenantClients ? { clients: tenantClients } : {});
    const started = Date.now();
    const members = clients.map((client) => spawnMember(tenant, client, { requests: 3, ...member }));
    await Promise.all(members.map((member) => member.ready));
    const before = await tenantCounts(server.baseUrl, tenant.id);
    const go = Date.now();
    for (const member of members) member.go();
    const results = await Promise.all(members.map((member) => member.result));
    const after = await tenantCounts(server.baseUrl, tenant.id);
    const numbers = diff(after, before);
    report(scenario, {
      processes: clients.length,
      ...numbers,
      ok: results.filter((r) => r.ok).length,
      calls: results.reduce((sum, r) => sum + r.calls, 0),
      spawnMs: go - started,
      runMs: Date.now() - go,
      tokenRequestEvents: results.map((r) => r.events["token-request"] ?? 0),
      errorEvents: results.flatMap((r) => r.errorEvents).slice(0, 3),
    });
    return { tenant, results, numbers };
  }

  let warmTenant: Tenant | undefined;

  it(`${FLEET} ioredis processes on a cold cache: every call succeeds, 1 token request, 1 401 and one discovery in total`, async () => {
    const { tenant, results, numbers } = await coldFleet("cold ioredis", Array(FLEET).fill("ioredis"));
    warmTenant = tenant;
    expect(results.map((r) => r.kind)).toEqual(Array(FLEET).fill("ioredis"));
    expect(results.flatMap((r) => r.failures)).toEqual([]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(numbers.token).toBe(1);
    // The fleet's cold gate: one process collects the 401 and discovers; the others wait for its binding.
    expect(numbers).toMatchObject({ unauthorized: 1, resourceMetadata: 1, authorizationServerMetadata: 1 });
  });

  it("a 9th process on the warm store: no metadata or token request, no 401 before its first authorized call", async () => {
    expect(warmTenant, "needs the cold ioredis fleet's tenant").toBeDefined();
    const tenant = warmTenant as Tenant;
    const member = spawnMember(tenant, "ioredis", { requests: 3 });
    await member.ready;
    const before = await tenantCounts(server.baseUrl, tenant.id);
    member.go();
    const result = await member.result;
    const numbers = diff(await tenantCounts(server.baseUrl, tenant.id), before);
    report("warm 9th ioredis", { ...numbers, ok: result.ok, firstMs: result.firstMs, events: result.events });
    expect(result.failures).toEqual([]);
    expect(result.ok).toBe(true);
    expect(numbers).toEqual({ token: 0, resourceMetadata: 0, authorizationServerMetadata: 0, unauthorized: 0, resource: 3 });
  });

  it(`${FLEET} @upstash/redis processes (REST stand-in) on a cold cache: 1 token request`, async () => {
    const { results, numbers } = await coldFleet("cold upstash", Array(FLEET).fill("upstash"));
    expect(results.every((r) => r.kind === "upstash")).toBe(true);
    expect(results.flatMap((r) => r.failures)).toEqual([]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(numbers.token).toBe(1);
  });

  it(`${FLEET} node-redis 6 processes on a cold cache: 1 token request`, async () => {
    const { results, numbers } = await coldFleet("cold node-redis 6", Array(FLEET).fill("redis"));
    expect(results.every((r) => r.kind === "node-redis")).toBe(true);
    expect(results.flatMap((r) => r.failures)).toEqual([]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(numbers.token).toBe(1);
  });

  it(`a mixed fleet of ${FLEET} (ioredis, node-redis 6/5/4, upstash) shares one store: 1 token request`, async () => {
    const mix: MemberClient[] = ["ioredis", "redis", "redis5", "redis4", "upstash", "ioredis", "redis", "upstash"];
    const { results, numbers } = await coldFleet("cold mixed", mix);
    expect(results.flatMap((r) => r.failures)).toEqual([]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(numbers.token).toBe(1);
  });

  /** Every key under mcc1:* and its value, read with the raw client behind the stores' backs. */
  async function rawEntries(): Promise<Array<{ key: string; value: string | null }>> {
    const keys = (await raw.keys("mcc1:*")).sort();
    return Promise.all(keys.map(async (key) => ({ key, value: await raw.get(key) })));
  }

  /** Whether `text` contains the string with this SHA-256 and length (the token itself never reaches this process). */
  function containsDigest(text: string, { sha256, length }: { sha256: string; length: number }): boolean {
    for (let i = 0; i + length <= text.length; i++) {
      if (
        createHash("sha256")
          .update(text.slice(i, i + length))
          .digest("hex") === sha256
      )
        return true;
    }
    return false;
  }

  /** One member on an existing tenant: what its 3 calls cost the tenant. */
  async function loneMember(tenant: Tenant, extra: Record<string, unknown>) {
    const member = spawnMember(tenant, "ioredis", { requests: 3, ...extra });
    await member.ready;
    const before = await tenantCounts(server.baseUrl, tenant.id);
    member.go();
    const result = await member.result;
    return { result, numbers: diff(await tenantCounts(server.baseUrl, tenant.id), before) };
  }

  it(`${FLEET} processes on sealedStore(redisStore): 1 token request, a 9th with the key starts warm, a 10th with another key reads nothing, Redis holds only ciphertext`, async () => {
    const clientId = `sealed-fleet-${randomBytes(12).toString("hex")}`;
    const clientSecret = randomBytes(24).toString("base64url");
    const key = randomBytes(32).toString("base64");
    const otherKey = randomBytes(32).toString("base64");
    const sealed = { clientId, clientSecret, sealingKey: key, bearerDigest: true };
    /** Reported even when an assertion fails: request counts per phase, raw values' prefix and length. */
    const summary: Record<string, unknown> = {};
    const shapes = (entries: Array<{ value: string | null }>) => entries.map(({ value }) => ({ prefix: value?.slice(0, 5), length: value?.length }));
    try {
      // 1. The fleet, started together on an empty database.
      const { tenant, results, numbers } = await coldFleet("cold sealed ioredis", Array(FLEET).fill("ioredis"), {
        tenantClients: [{ clientId, clientSecret }],
        member: sealed,
      });
      expect(results.every((r) => r.sealed && r.kind === "ioredis")).toBe(true);
      expect(results.flatMap((r) => r.failures)).toEqual([]);
      expect(results.every((r) => r.ok)).toBe(true);
      expect(numbers.token).toBe(1);
      const fleetBearers = new Map(results.flatMap((r) => r.bearers ?? []).map((b) => [b.sha256, b]));
      expect(fleetBearers.size, "every member sent the one token of the fleet").toBe(1);
      const fleetBearer = [...fleetBearers.values()][0]!;
      summary.fleet = { processes: FLEET, ...numbers, ok: results.filter((r) => r.ok).length };

      // What the database holds, with a raw client: hashed keys, ciphertext values.
      const forbidden = [
        clientId,
        clientSecret,
        '"accessToken"',
        "access_token",
        tenant.resource,
        tenant.issuer,
        tenant.tokenEndpoint,
        new URL(tenant.resource).host,
      ];
      const checkRaw = (entries: Array<{ key: string; value: string | null }>, bearers: Array<{ sha256: string; length: number }>) => {
        expect(entries.length).toBeGreaterThan(0);
        for (const { key: name, value } of entries) {
          expect(name).toMatch(/^mcc1:[A-Za-z0-9_-]{43}$/);
          expect(typeof value, name).toBe("string");
          // "mcs1." then base64url only: no JSON, no URL, nothing readable. (Booleans only in
          // assertions: a failure must not print a value that may hold a token.)
          const shape = `starts ${JSON.stringify(value?.slice(0, 5))}, ${value?.length} chars`;
          expect(/^mcs1\.[A-Za-z0-9_-]+$/.test(value ?? ""), `${name} is not sealed (${shape})`).toBe(true);
          for (const text of forbidden) expect(value?.includes(text), `${name} contains a forbidden string`).toBe(false);
          for (const bearer of bearers) expect(containsDigest(value ?? "", bearer), `${name} contains an access token`).toBe(false);
        }
      };
      // The digest search finds a token where there is one.
      const probe = randomBytes(30).toString("base64url");
      expect(containsDigest(`mcs1.${probe}xyz`, { sha256: createHash("sha256").update(probe).digest("hex"), length: probe.length })).toBe(true);
      const afterFleet = await rawEntries();
      summary.rawAfterFleet = shapes(afterFleet);
      checkRaw(afterFleet, [fleetBearer]);

      // 2. A 9th process with the same key starts warm.
      const ninth = await loneMember(tenant, sealed);
      summary.ninth = { ...ninth.numbers, ok: ninth.result.ok };
      expect(ninth.result.failures).toEqual([]);
      expect(ninth.result.ok).toBe(true);
      expect(ninth.numbers).toEqual({ token: 0, resourceMetadata: 0, authorizationServerMetadata: 0, unauthorized: 0, resource: 3 });
      expect(ninth.result.bearers?.map((b) => b.sha256)).toEqual([fleetBearer.sha256]);

      // 3. A 10th process with another key can read nothing: its own discovery and token, and it still succeeds.
      const tenth = await loneMember(tenant, { ...sealed, sealingKey: otherKey });
      summary.tenth = { ...tenth.numbers, ok: tenth.result.ok, events: tenth.result.events };
      expect(tenth.result.failures).toEqual([]);
      expect(tenth.result.ok).toBe(true);
      // Cold in every respect: a 401 first (no bindings), both metadata documents, a token.
      expect(tenth.numbers.unauthorized).toBe(1);
      expect(tenth.numbers.token).toBe(1);
      expect(tenth.numbers.resourceMetadata).toBe(1);
      expect(tenth.numbers.authorizationServerMetadata).toBe(1);
      const tenthBearers = tenth.result.bearers ?? [];
      expect(tenthBearers).toHaveLength(1);
      expect(tenthBearers[0]?.sha256).not.toBe(fleetBearer.sha256);

      const afterTenth = await rawEntries();
      summary.rawAfterTenth = shapes(afterTenth);
      summary.rewrittenByTenth = afterTenth.filter(({ key: name, value }) => afterFleet.find((entry) => entry.key === name)?.value !== value).length;
      checkRaw(afterTenth, [fleetBearer, ...tenthBearers]);
    } finally {
      report("sealed fleet", summary);
    }
  });

  it("redis-server killed mid-run: every call succeeds; after a restart a fresh process gets its token from the store", async () => {
    await raw.flushall();
    // Tokens live 6 s and are refreshed at half their life (the 60 s skew is capped there): the
    // refresh due at 3 s falls while Redis is down (1.5 s → 5.5 s).
    const tenant = await createTenant(server.baseUrl, { options: { tokenLifetimeSeconds: 6 } });
    const running = { untilStop: true, intervalMs: 100 };
    const members = [
      spawnMember(tenant, "ioredis", running),
      spawnMember(tenant, "ioredis", running),
      spawnMember(tenant, "redis", running),
      spawnMember(tenant, "upstash", running),
      // Default client settings (offline queue, retries): the middleware's store timeout copes.
      spawnMember(tenant, "ioredis", { ...running, defaults: true }),
      spawnMember(tenant, "redis", { ...running, defaults: true }),
    ];
    await Promise.all(members.map((member) => member.ready));
    const t0 = Date.now();
    for (const member of members) member.go();
    await sleep(1_500);
    const atKill = await tenantCounts(server.baseUrl, tenant.id);
    await redis.kill();
    await sleep(4_000);
    const atRestart = await tenantCounts(server.baseUrl, tenant.id);
    await redis.restart();
    const restartedAt = Date.now();

    // A fresh process, connected to the restarted Redis. After a store failure the middleware
    // works without the store for 5 s (STORE_COOL_DOWN_MS), so refreshes right after the restart
    // bypass it; the first token request once that is over goes through the restarted Redis and
    // leaves a token there. The fresh process starts just after it.
    const fresh = spawnMember(tenant, "ioredis", { requests: 2 });
    await fresh.ready;
    await sleep(Math.max(0, restartedAt + 6_500 - Date.now()));
    const afterCoolDown = await tenantCounts(server.baseUrl, tenant.id);
    let refreshed = afterCoolDown;
    for (const deadline = Date.now() + 15_000; refreshed.token === afterCoolDown.token && Date.now() < deadline; ) {
      await sleep(100);
      refreshed = await tenantCounts(server.baseUrl, tenant.id);
    }
    await sleep(500); // the store write is not awaited by the caller that refreshed
    for (const member of members) member.stop();
    const results = await Promise.all(members.map((member) => member.result));
    const before = await tenantCounts(server.baseUrl, tenant.id);
    fresh.go();
    const freshResult = await fresh.result;
    const after = await tenantCounts(server.baseUrl, tenant.id);

    report("redis killed mid-run", {
      members: members.length,
      calls: results.reduce((sum, r) => sum + r.calls, 0),
      ok: results.filter((r) => r.ok).length,
      statuses: results.map((r) => r.statuses),
      tokenRequests: { beforeKill: atKill.token, whileDown: atRestart.token - atKill.token, afterRestart: before.token - atRestart.token },
      restartedAtMs: restartedAt - t0,
      refreshThroughStoreSeen: refreshed.token > afterCoolDown.token,
      storeErrorEvents: results.map((r) => r.events.error ?? 0),
      clientErrors: results.map((r) => r.clientErrors),
      meanCallMs: results.map((r) => Math.round(r.totalMs / Math.max(1, r.calls))),
      fresh: { ...diff(after, before), ok: freshResult.ok, events: freshResult.events },
    });
    expect(results.flatMap((r) => r.failures)).toEqual([]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(atRestart.token - atKill.token, "tokens were refreshed while Redis was down").toBeGreaterThan(0);
    expect(freshResult.failures).toEqual([]);
    expect(freshResult.ok).toBe(true);
    expect(diff(after, before).token, "the fresh process found its token in the restarted Redis").toBe(0);
  });
});
