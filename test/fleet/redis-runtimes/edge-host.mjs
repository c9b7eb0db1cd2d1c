// Runs edge-entry.mjs in @edge-runtime/vm's EdgeVM (the Vercel edge runtime: a vm context with
// only the edge primitives; scripts, not modules) and relays its protocol lines to stdout.
//   node test/fleet/redis-runtimes/edge-host.mjs '{"upstash":{"url":…,"token":…}}'
import { EdgeVM } from "@edge-runtime/vm";
import { bundleCode, packageVersion } from "./bundle.mjs";
import { errorText, line } from "./checks.mjs";

const config = JSON.parse(process.argv[2] ?? "{}");
let code = 1;
try {
  const script = await bundleCode("edge-entry.mjs", { format: "iife", conditions: ["edge-light", "worker", "browser"] });
  console.log(line({ type: "host", runtime: `@edge-runtime/vm ${await packageVersion("@edge-runtime/vm")} EdgeVM` }));
  const vm = new EdgeVM();
  // Strings only cross the VM boundary.
  vm.context.__emit = (text) => console.log(String(text));
  vm.evaluate(script);
  await vm.evaluate(`__redisRuntimes.run(${JSON.stringify({ upstash: config.upstash })})`);
  code = 0;
} catch (error) {
  console.log(line({ type: "fatal", error: errorText(error) }));
}
process.exit(code);
