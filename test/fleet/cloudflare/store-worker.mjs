// Worker "stores-a": defines the Durable Object class (as a user's Worker would) and runs the
// store contract, the KV checks and single operations inside workerd.

import { durableObjectStore, kvStore, TokenStoreDurableObject } from "../../../dist/stores/cloudflare.js";
import { storeContract } from "../../portable/store-contract.js";
import { runOp, storeFor } from "./ops.mjs";

export { TokenStoreDurableObject };

/**
 * The real class on real storage, plus a door to what the runtime would do by itself: run the
 * alarm now (instead of a minute after expiry) and show the raw storage afterwards.
 */
export class SweepProbe extends TokenStoreDurableObject {
  constructor(state, env) {
    super(state, env);
    this.storage = state.storage;
  }

  async fetch(request) {
    if (new URL(request.url).pathname !== "/probe/sweep") return super.fetch(request);
    const scheduledBefore = await this.storage.getAlarm();
    await this.alarm();
    const keys = [...(await this.storage.list()).keys()];
    return Response.json({ scheduledBefore, scheduledAfter: await this.storage.getAlarm(), keys, now: Date.now() });
  }
}

/** POST → sets a short-lived and a long-lived value through the protocol, then runs the sweep. */
async function sweep(request, env) {
  const { short, long } = await request.json();
  const store = durableObjectStore(env.PROBE);
  await store.set(short, "short-lived", 1);
  await store.set(long, "long-lived", 3600);
  const lock = await store.acquire(`${short}:lock`, "owner-a", 200);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const stub = env.PROBE.get(env.PROBE.idFromName("mcp-client-credentials"));
  const swept = await (await stub.fetch("https://probe/probe/sweep", { method: "POST" })).json();
  return Response.json({ lock, ...swept, long: await store.get(long) });
}

/** A store created in one request and used by later ones, as a module-level middleware does. */
let moduleStore;
async function acrossRequests(request, env) {
  const { key, step } = await request.json();
  moduleStore ??= durableObjectStore(env.TOKENS);
  if (step === "set") await moduleStore.set(key, "kept", 60);
  return Response.json({ value: await moduleStore.get(key) });
}

const CONTRACT = {
  kv: { minTtlSeconds: 60, locks: false },
  do: { minTtlSeconds: 1, locks: true },
};

/** POST { store, name } → { ok, error, ms }: one contract check, found by name. */
async function runContractTest(request, env) {
  const { store, name } = await request.json();
  const test = storeContract({ ...CONTRACT[store], createStore: () => storeFor(env, store) }).find((t) => t.name === name);
  if (!test) return Response.json({ ok: false, error: `no contract test named ${JSON.stringify(name)}`, ms: 0 });
  const started = Date.now();
  try {
    await test.fn();
    return Response.json({ ok: true, error: null, ms: Date.now() - started });
  } catch (error) {
    return Response.json({ ok: false, error: `${error?.name}: ${error?.message}`, ms: Date.now() - started });
  }
}

/** A KV binding that records every put's options, in front of the real one. */
function recording(namespace, calls) {
  return {
    get: (key) => namespace.get(key),
    put: (key, value, options) => {
      calls.push({ key, expirationTtl: options?.expirationTtl });
      return namespace.put(key, value, options);
    },
    delete: (key) => namespace.delete(key),
  };
}

/** POST { key } → what KV itself says about a 1 s TTL, and which TTLs kvStore passed on. */
async function kvTtl(request, env) {
  const { key } = await request.json();
  let direct = "accepted";
  try {
    await env.KV.put(`${key}:direct`, "x", { expirationTtl: 1 });
  } catch (error) {
    direct = `rejected: ${error?.message}`;
  }
  const calls = [];
  const store = kvStore(recording(env.KV, calls));
  const requested = [1, 59, 60, 61, 3600];
  for (const ttl of requested) await store.set(key, `ttl-${ttl}`, ttl);
  return Response.json({ direct, requested, passed: calls.map((c) => c.expirationTtl), keys: calls.map((c) => c.key), value: await store.get(key) });
}

/** POST { key } → what two prefixed stores and the bare namespace see of the same key. */
async function kvPrefix(request, env) {
  const { key } = await request.json();
  const a = kvStore(env.KV, { prefix: "app-a:" });
  const b = kvStore(env.KV, { prefix: "app-b:" });
  const bare = kvStore(env.KV);
  await a.set(key, "value-a", 60);
  await b.set(key, "value-b", 60);
  const before = { a: await a.get(key), b: await b.get(key), bare: await bare.get(key), raw: await env.KV.get(`app-a:${key}`) };
  await a.delete(key);
  const after = { a: await a.get(key), b: await b.get(key) };
  return Response.json({ before, after });
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === "/contract") return runContractTest(request, env);
    if (pathname === "/kv-ttl") return kvTtl(request, env);
    if (pathname === "/kv-prefix") return kvPrefix(request, env);
    if (pathname === "/op") return runOp(request, env);
    if (pathname === "/sweep") return sweep(request, env);
    if (pathname === "/across-requests") return acrossRequests(request, env);
    return new Response("not found", { status: 404 });
  },
};
