// One instance of the fleet (test/fleet/deno.test.ts), in Deno: the middleware with a Deno KV
// store on a file shared with the other processes, calling the loopback MCP resource.
//   deno run --unstable-kv --node-modules-dir=manual --allow-read=<repo>,<tmp> --allow-write=<tmp>
//            --allow-net=127.0.0.1 fleet.mjs <file> <name>
// Waits for one command on stdin, { cmd: "go", at, resource, clientId, clientSecret, requests }
// (credentials come this way, never on the command line), then POSTs `requests` JSON-RPC
// messages one after the other and reports the statuses and the middleware's events by type.
import { withClientCredentials } from "../../../dist/index.js";
import { denoKvStore } from "../../../dist/stores/deno.js";
import { commands, countBusy, describeError, openKv, say, until } from "./common.mjs";

const [file, name] = Deno.args;
const raw = await openKv(file);
const { kv, counts } = countBusy(raw);
say({ type: "ready", name });

let go;
for await (const command of commands()) {
  if (command.cmd === "go") {
    go = command;
    break;
  }
}

const events = {};
const errors = [];
const statuses = [];
try {
  const authFetch = withClientCredentials({
    clientId: go.clientId,
    clientSecret: go.clientSecret,
    store: denoKvStore(kv),
    onEvent(event) {
      events[event.type] = (events[event.type] ?? 0) + 1;
      // Events never carry secrets or tokens, so their messages can be reported.
      if (event.type === "error") errors.push(`${event.phase}: ${event.message}`);
    },
  })(fetch);
  await until(go.at);
  for (let i = 1; i <= go.requests; i++) {
    const response = await authFetch(go.resource, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/list", params: {} }),
    });
    statuses.push(response.status);
    await response.body?.cancel();
  }
} catch (error) {
  errors.push(describeError(error));
}
say({ type: "done", name, statuses, events, errors, busyRetried: counts.busy });
raw.close();
Deno.exit(0);
