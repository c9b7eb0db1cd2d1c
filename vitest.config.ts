import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [
      "**/node_modules/**",
      "test/e2e/**",
      "test/fleet/**",
      "test/runtimes/**",
      "test/portable/**",
      "test/frameworks/**",
      "test/cloudflare-agents/**",
      "test/better-auth/**",
    ],
    testTimeout: 15_000,
    // Most unit tests wait on timers (backoff, Retry-After, TTLs), not on the CPU: on a 2-CPU machine
    // vitest's default of one worker per spare CPU would run them one file at a time.
    maxWorkers: 4,
  },
});
