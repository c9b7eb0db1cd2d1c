// The store contract with one Redis client, in whichever runtime runs this file: Node (any
// version), Bun (`bun run --no-install`) or Deno (`deno run --node-modules-dir=manual`, the Redis
// clients resolved from node_modules by bare specifier, nothing fetched; --allow-env, see matrix.mjs).
//
//   <runtime> test/fleet/redis-runtimes/runner.mjs '{"client":"ioredis","redisUrl":"redis://127.0.0.1:P"}'
//   … '{"client":"node-redis","redisUrl":…}'
//   … '{"client":"upstash","upstash":{"url":"http://127.0.0.1:P","token":…}}'
//
// Prints the protocol lines of checks.mjs on stdout, closes the client and exits (0 when every
// check passed). Nothing printed carries the Upstash token.
import { errorText, line, runChecks } from "./checks.mjs";

const g = globalThis;
const args = g.Deno ? g.Deno.args : process.argv.slice(2);
const config = JSON.parse(args[0] ?? "{}");
const emit = (message) => console.log(line(message));
const exit = (code) => (g.Deno ? g.Deno.exit(code) : process.exit(code));

// A client that cannot connect usually says why on its "error" event, then retries forever.
let clientError;
const onClientError = (error) => {
  clientError ??= errorText(error);
};
async function connected(promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection to Redis within 10 s${clientError ? `; the client said: ${clientError}` : ""}`)), 10_000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function connect() {
  switch (config.client) {
    case "ioredis": {
      const { default: Redis } = await import("ioredis");
      const client = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      client.on("error", onClientError);
      await connected(client.connect());
      return { client, close: () => client.quit() };
    }
    case "node-redis": {
      const { createClient } = await import("redis");
      const client = createClient({ url: config.redisUrl });
      client.on("error", onClientError);
      await connected(client.connect());
      return { client, close: () => client.quit() };
    }
    case "upstash": {
      const { Redis } = await import("@upstash/redis");
      // url and token explicitly: only Redis.fromEnv() reads UPSTASH_REDIS_REST_URL/TOKEN.
      const client = new Redis({ url: config.upstash.url, token: config.upstash.token, enableTelemetry: false });
      return { client, close: () => {} };
    }
    default:
      throw new Error(`unknown client ${JSON.stringify(config.client)}`);
  }
}

let code = 1;
try {
  const { client, close } = await connect();
  const { failed } = await runChecks({ client, emit });
  code = failed === 0 ? 0 : 1;
  await Promise.race([Promise.resolve().then(close), new Promise((resolve) => setTimeout(resolve, 1_000))]).catch(() => {});
} catch (error) {
  emit({ type: "fatal", error: errorText(error) });
  console.error(error);
}
exit(code);
