// A module worker (no nodejs_compat: Web APIs only) that runs the store contract with
// `@upstash/redis/cloudflare` — what a Worker imports — against the REST stand-in, over
// workerd's real outbound network. POST the config as JSON; the answer streams the protocol
// lines of checks.mjs as they happen.
import { Redis } from "@upstash/redis/cloudflare";
import { errorText, line, runChecks } from "./checks.mjs";

export default {
  async fetch(request, _env, ctx) {
    const config = await request.json();
    const { readable, writable } = new TransformStream();
    const writer = writable.getWriter();
    const encoder = new TextEncoder();
    const emit = (message) => {
      writer.write(encoder.encode(`${line(message)}\n`)).catch(() => {});
    };
    const run = (async () => {
      try {
        const client = new Redis({ url: config.upstash.url, token: config.upstash.token, enableTelemetry: false });
        await runChecks({ client, emit });
      } catch (error) {
        emit({ type: "fatal", error: errorText(error) });
      } finally {
        await writer.close().catch(() => {});
      }
    })();
    ctx.waitUntil(run);
    return new Response(readable, { headers: { "content-type": "text/plain; charset=utf-8" } });
  },
};
