// Runs worker.mjs in workerd through miniflare and relays its protocol lines to stdout.
//   node test/fleet/redis-runtimes/workerd-host.mjs '{"upstash":{"url":…,"token":…}}'
// The worker is bundled in memory and handed to miniflare as an ES module (so the modulesRules
// trap — .js parsed as CommonJS — cannot happen); miniflare is disposed before exiting.
import { Miniflare } from "miniflare";
import { bundleCode, packageVersion, ROOT } from "./bundle.mjs";
import { errorText, line } from "./checks.mjs";

const COMPATIBILITY_DATE = "2025-09-01";
const config = JSON.parse(process.argv[2] ?? "{}");
let mf;
let code = 1;

async function dispose() {
  await mf?.dispose().catch(() => {});
  mf = undefined;
}
process.once("SIGTERM", () => dispose().finally(() => process.exit(143)));

try {
  const contents = await bundleCode("worker.mjs", { format: "esm", conditions: ["workerd", "worker", "browser"] });
  console.log(
    line({
      type: "host",
      runtime: `workerd ${await packageVersion("workerd")} via miniflare ${await packageVersion("miniflare")}, compat ${COMPATIBILITY_DATE}`,
    }),
  );
  mf = new Miniflare({
    modules: [{ type: "ESModule", path: `${ROOT}/redis-runtimes-worker.mjs`, contents }],
    compatibilityDate: COMPATIBILITY_DATE,
  });
  const response = await mf.dispatchFetch("http://worker.local/run", { method: "POST", body: JSON.stringify(config) });
  if (response.status !== 200) throw new Error(`worker answered ${response.status}: ${(await response.text()).slice(0, 2000)}`);
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of response.body) {
    pending += decoder.decode(chunk, { stream: true });
    for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
      console.log(pending.slice(0, end));
      pending = pending.slice(end + 1);
    }
  }
  if (pending) console.log(pending);
  code = 0;
} catch (error) {
  console.log(line({ type: "fatal", error: errorText(error) }));
} finally {
  await dispose();
}
process.exit(code);
