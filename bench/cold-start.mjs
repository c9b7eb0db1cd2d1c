// A fresh client instance's first request: round trips the servers see until the first
// authorized response, and the wall time to it. Median of 50 fresh instances per contender.
// Run: node bench/cold-start.mjs   (loopback; figures in bench/README.md)
import { performance } from "node:perf_hooks";
import { memoryStore, OAUTH4WEBAPI_FOOTNOTE, oursBuild, rpcInit, contenders as sideBySide, withClientCredentials } from "./lib/clients.mjs";
import { environment, format, median, percentile, table, withRatio } from "./lib/report.mjs";
import { spawnServers } from "./lib/servers.mjs";

const INSTANCES = 50;
const WARM_UP = 5;

console.log(`${environment()}; ${oursBuild}`);
const servers = await spawnServers();

// Ours once more, as a fleet's new instance: a shared store (memoryStore, so no store latency)
// already holds the bindings, both metadata documents and the token.
const shared = memoryStore();
const sharedOptions = (target) => ({ clientId: target.clientId, clientSecret: target.clientSecret, store: shared });
await (await withClientCredentials(sharedOptions(servers))(fetch)(servers.resourceUrl, rpcInit(0))).arrayBuffer();
const contenders = [
  ...sideBySide.slice(0, 2),
  { name: "ours, discovery, warm shared store", make: (target) => withClientCredentials(sharedOptions(target))(target.next ?? fetch) },
  ...sideBySide.slice(2),
];

async function firstRequest(contender) {
  await servers.reset({ keepTokens: true }); // the warm shared store's token stays valid
  const started = performance.now();
  const authFetch = contender.make(servers);
  let status;
  let error;
  try {
    const response = await authFetch(servers.resourceUrl, rpcInit(1));
    await response.arrayBuffer();
    status = response.status;
  } catch (caught) {
    error = caught;
  }
  const ms = performance.now() - started;
  const c = await servers.counts();
  const roundTrips = c.token + c.tokenRejected + c.prm + c.asMetadata + c.unauthorized + c.authorized + c.other;
  return { ms, roundTrips, counts: c, ok: status === 200, error };
}

// Same warm-up for everyone (JIT, module init, one pooled keep-alive connection to each server).
for (let i = 0; i < WARM_UP; i++) for (const contender of contenders) await firstRequest(contender);

const runs = new Map(contenders.map(({ name }) => [name, []]));
// Round-robin: instance i of every contender, then instance i + 1, so noise hits all alike.
for (let i = 0; i < INSTANCES; i++) for (const contender of contenders) runs.get(contender.name).push(await firstRequest(contender));
await servers.close();

const summarize = (list) => ({
  roundTrips: median(list.map((r) => r.roundTrips)),
  token: median(list.map((r) => r.counts.token)),
  prm: median(list.map((r) => r.counts.prm)),
  as: median(list.map((r) => r.counts.asMetadata)),
  unauthorized: median(list.map((r) => r.counts.unauthorized)),
  ms: median(list.map((r) => r.ms)),
  p90: percentile(
    list.map((r) => r.ms),
    90,
  ),
  failures: list.filter((r) => !r.ok).length,
  firstError: list.find((r) => r.error)?.error,
});
const ours = summarize(runs.get(contenders[0].name));
const rows = contenders.map(({ name }) => {
  const s = summarize(runs.get(name));
  return [
    name,
    withRatio(s.roundTrips, ours.roundTrips),
    `${s.unauthorized} / ${s.prm} / ${s.as} / ${s.token}`,
    withRatio(s.ms, ours.ms, 2),
    format(s.p90, 2),
    format(s.failures),
  ];
});
console.log(`\n### First authorized response of a fresh instance (median of ${INSTANCES} instances each; ratios to "ours, discovery")\n`);
console.log(table(["contender", "round trips", "401 / PRM / AS metadata / token", "median (ms)", "p90 (ms)", "failures"], rows));
console.log(
  `\nRound trips include the authorized request itself. Keep-alive connections stay pooled between instances (same for all).\n\n${OAUTH4WEBAPI_FOOTNOTE}`,
);
for (const { name } of contenders) {
  const error = summarize(runs.get(name)).firstError;
  if (error) console.log(`\n${name}: first error: ${error.name}: ${error.message}`);
}
