import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// End-to-end tests against real software (oidc-provider, the MCP TypeScript SDK, the built
// package). Run with `npm run test:e2e`; the root config excludes this folder.
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/e2e/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
