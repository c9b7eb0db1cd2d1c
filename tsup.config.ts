import { readFileSync } from "node:fs";
import { defineConfig } from "tsup";

const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };

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
  {
    // The bin: Node only. eventsource-parser (1.5 KB) is bundled so the package gains no runtime
    // dependency for it; the MCP SDK stays an optional peer, loaded by `stdio` alone.
    entry: { index: "src/cli/main.ts" },
    outDir: "dist/cli",
    format: ["esm"],
    target: "node20",
    platform: "node",
    banner: { js: "#!/usr/bin/env node" },
    define: { PACKAGE_VERSION: JSON.stringify(version) },
    external: ["jose", "zod", "@modelcontextprotocol/sdk"],
    noExternal: ["eventsource-parser"],
  },
]);
