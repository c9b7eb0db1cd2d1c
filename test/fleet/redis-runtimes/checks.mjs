// The store contract (test/portable/store-contract.js, locks: true) against redisStore from
// dist/, reported one line per check so the vitest side can turn each into its own `it`:
//
//   RRT {"type":"meta","runtime":…,"kind":…}          once, before the checks
//   RRT {"type":"check","name":…,"ok":…,"error":…,"ms":…}   one per contract check
//   RRT {"type":"done","passed":…,"failed":…}         after the last check
//
// Plain ESM with Web APIs only: imported as is by Node, Bun and Deno (runner.mjs), bundled into
// the workerd worker (worker.mjs) and the EdgeVM script (edge-entry.mjs).
import { redisStore } from "../../../dist/stores/redis.js";
import { storeContract } from "../../portable/store-contract.js";

export const LINE_PREFIX = "RRT ";

/** One protocol line. */
export function line(message) {
  return `${LINE_PREFIX}${JSON.stringify(message)}`;
}

/** Which runtime this is, from its own globals (Deno and Bun also define `process`). */
export function runtimeName() {
  const g = globalThis;
  if (typeof g.Deno?.version?.deno === "string") return `deno ${g.Deno.version.deno}`;
  if (typeof g.Bun?.version === "string") return `bun ${g.Bun.version}`;
  if (typeof g.EdgeRuntime === "string") return `edge-runtime (${g.EdgeRuntime})`;
  if (g.navigator?.userAgent === "Cloudflare-Workers") return "workerd";
  if (typeof g.process?.versions?.node === "string") return `node ${g.process.version}`;
  return "unknown";
}

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs every contract check with `client` and calls `emit(message)` for each protocol line.
 * Never throws: an error constructing the store is reported as a failed meta line.
 */
export async function runChecks({ client, emit, timeoutMs = 15_000 }) {
  let kind;
  try {
    kind = redisStore({ client }).kind;
  } catch (error) {
    emit({ type: "meta", runtime: runtimeName(), kind: null, error: errorText(error) });
  }
  if (kind) emit({ type: "meta", runtime: runtimeName(), kind, error: null });
  let passed = 0;
  let failed = 0;
  for (const test of storeContract({ createStore: () => redisStore({ client }), locks: true, name: kind })) {
    const started = Date.now();
    let error = null;
    try {
      await withTimeout(test.fn(), timeoutMs);
      passed++;
    } catch (caught) {
      error = errorText(caught);
      failed++;
    }
    emit({ type: "check", name: test.name, ok: error === null, error, ms: Date.now() - started });
  }
  emit({ type: "done", passed, failed });
  return { passed, failed };
}

export function errorText(error) {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
