// Runs the portable suite directly in the current runtime: Node (any version), Bun or Deno.
//   node test/runtimes/direct.mjs '{"baseUrl":"…","echoUrl":"…","ci":false,"label":"node"}'
//   npx bun run test/runtimes/direct.mjs '{…}'
//   npx deno run --allow-net=127.0.0.1 --allow-read test/runtimes/direct.mjs '{…}'   (see deno/)
// Imports the built package by path, exactly as a user's code imports it from node_modules.
import * as lib from "../../dist/index.js";
import { run } from "../portable/suite.js";
import { crashed, formatSummary } from "./report.mjs";

// A test that fails early may leave a rejected promise behind: report it, never crash the run.
if (globalThis.Deno)
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    console.error(`unhandled rejection: ${event.reason}`);
  });
else globalThis.process.on("unhandledRejection", (reason) => console.error(`unhandled rejection: ${reason}`));

const args = globalThis.Deno ? globalThis.Deno.args : globalThis.process.argv.slice(2);
const config = JSON.parse(args[0] ?? "{}");
const label = config.label ?? "direct";
let summary;
try {
  summary = await run({ lib, baseUrl: config.baseUrl, echoUrl: config.echoUrl, ci: Boolean(config.ci), filter: config.filter });
} catch (error) {
  summary = crashed(label, error);
}
console.log(formatSummary(label, summary));
const code = summary.failed > 0 || summary.total === 0 ? 1 : 0;
if (globalThis.Deno) globalThis.Deno.exit(code);
else globalThis.process.exitCode = code;
