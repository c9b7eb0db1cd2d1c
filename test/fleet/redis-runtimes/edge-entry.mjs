// The EdgeVM script (bundled as an IIFE with the "edge-light" condition, as Vercel bundles an
// edge function): the store contract with `@upstash/redis` against the REST stand-in. The host
// puts `__emit(line)` in the VM's global scope and calls `__redisRuntimes.run(config)`.
import { Redis } from "@upstash/redis";
import { errorText, line, runChecks } from "./checks.mjs";

globalThis.__redisRuntimes = {
  async run(config) {
    const emit = (message) => globalThis.__emit(line(message));
    try {
      const client = new Redis({ url: config.upstash.url, token: config.upstash.token, enableTelemetry: false });
      await runChecks({ client, emit });
    } catch (error) {
      emit({ type: "fatal", error: errorText(error) });
    }
  },
};
