// The idb store in a Chromium context (page or dedicated worker): one `handle(op, args)` that
// the runner drives through page.evaluate (page) or postMessage (worker; see idb-worker.mjs).
// Imports the built package (dist/), never src/.
import * as lib from "../../../dist/index.js";
import { idbStore } from "../../../dist/stores/idb.js";
import { runStoreContract } from "../../portable/store-contract.js";

/** One store per database and lock mode in this context, so a lock is released where it was taken. */
const stores = new Map();
function storeFor({ dbName, locks = "auto" }) {
  const id = `${dbName}|${locks}`;
  if (!stores.has(id)) stores.set(id, idbStore({ dbName, locks }));
  return stores.get(id);
}

const MCP_BODY = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });

/** `calls` concurrent POSTs to the resource through one middleware instance on an idbStore. */
async function callResource({ resource, clientId, clientSecret, dbName, calls = 1 }) {
  const events = {};
  const authFetch = lib.withClientCredentials({
    clientId,
    clientSecret,
    store: storeFor({ dbName }),
    onEvent: (event) => {
      events[event.type] = (events[event.type] ?? 0) + 1;
    },
  })(fetch);
  const statuses = await Promise.all(
    Array.from({ length: calls }, () =>
      authFetch(resource, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: MCP_BODY,
      }).then(
        async (response) => {
          await response.body?.cancel();
          return response.status;
        },
        (error) => `${error?.name}: ${error?.message}`,
      ),
    ),
  );
  return { statuses, events };
}

export async function handle(op, args = {}) {
  switch (op) {
    case "contract":
      return runStoreContract({ createStore: () => idbStore({ dbName: args.dbName, locks: args.locks }), locks: true, name: args.name, runtime: args.runtime });
    case "lockMode":
      return storeFor(args).lockMode;
    case "set":
      await storeFor(args).set(args.key, args.value, args.ttlSeconds ?? 60);
      return null;
    case "get":
      return (await storeFor(args).get(args.key)) ?? null;
    case "acquire": {
      const started = performance.now();
      const ok = await storeFor(args).acquire(args.key, args.owner, args.ttlMs);
      return { ok, ms: Math.round(performance.now() - started) };
    }
    case "release":
      await storeFor(args).release(args.key, args.owner);
      return null;
    case "callResource":
      return callResource(args);
    default:
      throw new Error(`unknown op ${op}`);
  }
}
