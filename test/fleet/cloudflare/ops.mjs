// Shared by the store workers: builds a store on this worker's bindings and runs one operation,
// so the test can drive the same Durable Object / KV namespace through two separate Workers.
import { durableObjectStore, kvStore } from "../../../dist/stores/cloudflare.js";

/** `kind`: "do" (env.TOKENS, a Durable Object binding) or "kv" (env.KV); `options` as the store takes them. */
export function storeFor(env, kind, options = {}) {
  if (kind === "do") return durableObjectStore(env.TOKENS, options);
  if (kind === "kv") return kvStore(env.KV, options);
  throw new Error(`unknown store kind ${kind}`);
}

/** POST { store, op, args, options } → { result, ms }: how long the call took matters for lock waits. */
export async function runOp(request, env) {
  const { store, op, args, options } = await request.json();
  const s = storeFor(env, store, options);
  if (typeof s[op] !== "function") return Response.json({ error: `${store} has no ${op}` }, { status: 400 });
  const started = Date.now();
  const result = await s[op](...args);
  return Response.json({ result: result ?? null, ms: Date.now() - started });
}
