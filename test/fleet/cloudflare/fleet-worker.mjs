// A user's Worker: one module-level middleware per isolate, on a shared store. The fleet test runs
// several copies of this script (separate Workers, separate isolates) against one store.
import { withClientCredentials } from "../../../dist/index.js";
import { durableObjectStore, kvStore } from "../../../dist/stores/cloudflare.js";

export { TokenStoreDurableObject } from "../../../dist/stores/cloudflare.js";

let mcpFetch;
/** Event types seen by this isolate (events never carry secrets or tokens). */
const events = {};

function middleware(env) {
  mcpFetch ??= withClientCredentials({
    clientId: env.CLIENT_ID,
    clientSecret: env.CLIENT_SECRET,
    store: env.STORE === "kv" ? kvStore(env.KV) : durableObjectStore(env.TOKENS),
    onEvent: (event) => {
      events[event.type] = (events[event.type] ?? 0) + 1;
    },
  })();
  return mcpFetch;
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === "/call") {
      try {
        const response = await middleware(env)(env.RESOURCE, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
        });
        const body = await response.json().catch(() => null);
        return Response.json({ status: response.status, ok: body?.ok === true });
      } catch (error) {
        return Response.json({ status: 0, ok: false, error: `${error?.name}: ${error?.message}` });
      }
    }
    if (pathname === "/events") return Response.json(events);
    return new Response("not found", { status: 404 });
  },
};
