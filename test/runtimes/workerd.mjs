// workerd (the Cloudflare Workers runtime) through miniflare: the suite + library bundled into a
// module worker (no nodejs_compat flag: Web APIs only), whose fetch handler runs the suite against
// the loopback server over workerd's real outbound network.
//   node test/runtimes/workerd.mjs '{"baseUrl":"…","echoUrl":"…"}'
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Miniflare } from "miniflare";
import { bundle } from "./bundle.mjs";
import { crashed, formatSummary } from "./report.mjs";

const COMPATIBILITY_DATE = "2025-09-01";
const config = JSON.parse(process.argv[2] ?? "{}");
const label = config.label ?? "workerd";
let summary;
let mf;
try {
  const scriptPath = await bundle("test/runtimes/workerd/worker.mjs", {
    outfile: "workerd-worker.mjs",
    format: "esm",
    conditions: ["workerd", "worker", "browser"],
  });
  mf = new Miniflare({
    modules: true,
    scriptPath,
    modulesRules: [{ type: "ESModule", include: ["**/*.js", "**/*.mjs"] }],
    compatibilityDate: COMPATIBILITY_DATE,
  });
  const response = await mf.dispatchFetch("http://worker.local/run", { method: "POST", body: JSON.stringify(config) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`worker answered ${response.status}: ${text.slice(0, 2000)}`);
  summary = JSON.parse(text);
  const version = (name) => JSON.parse(readFileSync(createRequire(import.meta.url).resolve(`${name}/package.json`), "utf8")).version;
  summary.runtime = `workerd ${version("workerd")} via miniflare ${version("miniflare")}, compat ${COMPATIBILITY_DATE}`;
} catch (error) {
  summary = crashed(label, error);
} finally {
  await mf?.dispose().catch(() => {});
}
console.log(formatSummary(label, summary));
process.exitCode = summary.failed > 0 || summary.total === 0 ? 1 : 0;
