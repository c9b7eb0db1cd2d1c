import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "test/fleet/**", "test/runtimes/**", "test/portable/**"],
    testTimeout: 15_000,
  },
});
