// Runs examples/msw-kit.test.mjs on its own (the root config only collects test/):
//   npx vitest run --config examples/vitest.config.mjs
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  cacheDir: fileURLToPath(new URL("../node_modules/.vite/examples", import.meta.url)),
  test: { include: ["*.test.mjs"] },
});
