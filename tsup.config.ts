import { defineConfig } from "tsup";

const entry = {
  index: "src/index.ts",
  "msw/index": "src/msw/index.ts",
  adapters: "src/adapters.ts",
  "stores/idb": "src/stores/idb.ts",
  "stores/redis": "src/stores/redis.ts",
  "stores/cloudflare": "src/stores/cloudflare.ts",
  "stores/deno": "src/stores/deno.ts",
  sources: "src/sources/index.ts",
  "sources/file": "src/sources/file.ts",
};

export default defineConfig([
  {
    entry,
    format: ["esm"],
    dts: true,
    clean: true,
    target: "es2022",
    platform: "neutral",
    sourcemap: true,
    splitting: true,
    external: ["jose", "zod", "msw", "idb-keyval"],
  },
  {
    entry,
    format: ["cjs"],
    dts: true,
    target: "es2022",
    platform: "neutral",
    sourcemap: true,
    external: ["jose", "zod", "msw", "idb-keyval"],
  },
]);
