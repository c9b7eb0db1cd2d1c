import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Shared token stores against the real thing: redis-server, workerd KV + Durable Objects through
// miniflare, Deno KV under Deno, and fleets of separate OS processes sharing them. Run with
// `npm run test:fleet` (it builds first: every process imports dist/ as a user would).
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/fleet/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own servers on free ports; files run one at a time to keep timings sane on 2 cores.
    fileParallelism: false,
  },
});
