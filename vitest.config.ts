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
  },
});
