// The Vercel edge runtime through @edge-runtime/vm (EdgeVM 5: a Node vm context with only the
// edge primitives; scripts, not modules). The suite + library are bundled into an IIFE with the
// "edge-light" export condition, as Vercel bundles edge functions, then evaluated in the VM.
//   node test/runtimes/edge.mjs '{"baseUrl":"…","echoUrl":"…"}'
import { readFile } from "node:fs/promises";
import { EdgeVM } from "@edge-runtime/vm";
import { bundle } from "./bundle.mjs";
import { crashed, formatSummary } from "./report.mjs";

const config = JSON.parse(process.argv[2] ?? "{}");
const label = config.label ?? "edge-runtime";
let summary;
try {
  const file = await bundle("test/runtimes/edge/entry.mjs", {
    outfile: "edge-runtime.js",
    format: "iife",
    conditions: ["edge-light", "worker", "browser"],
  });
  const vm = new EdgeVM();
  vm.evaluate(await readFile(file, "utf8"));
  const { baseUrl, echoUrl, ci, filter } = config;
  // JSON in, JSON out: results cross the VM boundary as plain data.
  const json = await vm.evaluate(`__portable.run(${JSON.stringify({ baseUrl, echoUrl, ci, filter })}).then((s) => JSON.stringify(s))`);
  summary = JSON.parse(json);
  const { version } = JSON.parse(await readFile(new URL("../../node_modules/@edge-runtime/vm/package.json", import.meta.url), "utf8"));
  summary.runtime = `edge-runtime (@edge-runtime/vm ${version} EdgeVM)`;
} catch (error) {
  summary = crashed(label, error);
}
console.log(formatSummary(label, summary));
process.exitCode = summary.failed > 0 || summary.total === 0 ? 1 : 0;
