// Runs one suite against denoKvStore on a real Deno.openKv(<file>), in Deno:
//   deno run --unstable-kv --allow-read=<repo>,<tmp> --allow-write=<tmp> run-checks.mjs contract|specifics <file>
// Prints formatSummary's report plus one `MSG {"type":"results",…}` line for the vitest file.
// Imports the built package by path (dist/), as a user's code gets it.
import { denoKvStore } from "../../../dist/stores/deno.js";
import { runStoreContract } from "../../portable/store-contract.js";
import { formatSummary } from "../../runtimes/report.mjs";
import { denoKvChecks } from "./checks.mjs";
import { describeError, openKv, say } from "./common.mjs";

const [suite, file] = Deno.args;
const kv = await openKv(file);

async function runChecks() {
  const results = [];
  for (const check of denoKvChecks({ kv, denoKvStore })) {
    const started = Date.now();
    try {
      const note = await check.fn();
      results.push({ name: check.name, ok: true, skipped: false, error: null, note: note ?? null, ms: Date.now() - started });
    } catch (error) {
      results.push({ name: check.name, ok: false, skipped: false, error: describeError(error), ms: Date.now() - started });
    }
  }
  const passed = results.filter((r) => r.ok).length;
  return { runtime: "deno", passed, failed: results.length - passed, skipped: 0, total: results.length, results };
}

let summary;
try {
  summary =
    suite === "contract"
      ? await runStoreContract({ createStore: () => denoKvStore(kv), locks: true, runtime: `deno ${Deno.version.deno}` })
      : await runChecks();
} finally {
  kv.close();
}
console.log(formatSummary(`denoKvStore ${suite}`, summary));
say({ type: "results", results: summary.results });
Deno.exit(summary.failed > 0 || summary.total === 0 ? 1 : 0);
