// N concurrent cold requests through one fresh client instance per contender: how many token,
// metadata and 401 round trips the authorization server and resource see, and the wall time.
// Run: node bench/stampede.mjs [N …]   (default 100 1000 10000; loopback; figures in bench/README.md)
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { contenders, OAUTH4WEBAPI_FOOTNOTE, oursBuild, rpcInit } from "./lib/clients.mjs";
import { environment, format, median, table, withRatio } from "./lib/report.mjs";
import { spawnServers } from "./lib/servers.mjs";

const sizes = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [100, 1000, 10_000];
const repeats = (n) => (n >= 10_000 ? 1 : 3);

console.log(`${environment()}; ${oursBuild}`);
const servers = await spawnServers();

/** One cold stampede: a fresh instance, n POSTs started in one synchronous loop, all awaited. */
async function stampede(contender, n) {
  await servers.reset();
  await servers.closeIdle(); // every run starts without pooled keep-alive sockets
  await sleep(250);
  // The same thin wrapper under every contender: counts fetch failures underneath the
  // middleware (connection resets, timeouts), which the MCP SDKs rewrap without their cause.
  const transport = { failures: 0, causes: new Map() };
  const next = async (input, init) => {
    try {
      return await fetch(input, init);
    } catch (error) {
      transport.failures++;
      const cause = `${error.cause?.code ?? error.cause?.message ?? error.message}`;
      transport.causes.set(cause, (transport.causes.get(cause) ?? 0) + 1);
      throw error;
    }
  };
  const authFetch = contender.make({ ...servers, next });
  const started = performance.now();
  const outcomes = await Promise.allSettled(
    Array.from({ length: n }, async (_, i) => {
      const response = await authFetch(servers.resourceUrl, rpcInit(i));
      await response.arrayBuffer();
      return response.status;
    }),
  );
  const wallMs = performance.now() - started;
  const counts = await servers.counts();
  const rejected = outcomes.filter((o) => o.status === "rejected");
  const non200 = outcomes.filter((o) => o.status === "fulfilled" && o.value !== 200).length;
  const reason = rejected[0]?.reason;
  const firstError = reason ? `${reason.name}: ${reason.message}${reason.cause ? ` (cause: ${reason.cause.code ?? reason.cause.message})` : ""}` : undefined;
  const causes = [...transport.causes].map(([cause, count]) => `${cause} ×${count}`).join(", ");
  return {
    wallMs,
    counts,
    errors: rejected.length,
    non200,
    firstError: firstError && causes ? `${firstError}; failed fetches underneath: ${causes}` : firstError,
  };
}

// Same warm-up for everyone: one untimed stampede of 100 per contender (JIT, module init).
for (const contender of contenders) await stampede(contender, 100);

const results = new Map(); // `${n}|${name}` → runs
for (const n of sizes) {
  for (let round = 0; round < repeats(n); round++) {
    // Contenders alternate within each round so machine noise hits all alike.
    for (const contender of contenders) {
      const run = await stampede(contender, n);
      const key = `${n}|${contender.name}`;
      results.set(key, [...(results.get(key) ?? []), run]);
      const { counts } = run;
      console.error(
        `  N=${n} round ${round + 1} ${contender.name}: ${format(run.wallMs)} ms, token ${counts.token}, PRM ${counts.prm}, AS ${counts.asMetadata}, 401 ${counts.unauthorized}, errors ${run.errors}, non-200 ${run.non200}${run.firstError ? `, first error: ${run.firstError}` : ""}`,
      );
    }
  }
}
await servers.close();

const errorNotes = [];
for (const n of sizes) {
  const summary = (name) => {
    const runs = results.get(`${n}|${name}`);
    const pick = (f) => median(runs.map(f));
    return {
      token: pick((r) => r.counts.token),
      prm: pick((r) => r.counts.prm),
      as: pick((r) => r.counts.asMetadata),
      unauthorized: pick((r) => r.counts.unauthorized),
      wallMs: pick((r) => r.wallMs),
      errors: pick((r) => r.errors + r.non200),
      firstError: runs.find((r) => r.firstError)?.firstError,
      runs: runs.length,
    };
  };
  const ours = summary(contenders[0].name);
  const rows = contenders.map(({ name }) => {
    const s = summary(name);
    if (s.firstError) errorNotes.push(`N=${format(n)}, ${name}: ${s.firstError}`);
    return [
      name,
      withRatio(s.token, ours.token),
      withRatio(s.prm, ours.prm),
      withRatio(s.as, ours.as),
      withRatio(s.unauthorized, ours.unauthorized),
      format(s.errors),
      withRatio(Math.round(s.wallMs), Math.round(ours.wallMs)),
    ];
  });
  const runs = repeats(n);
  console.log(`\n### N = ${format(n)} concurrent cold requests (${runs === 1 ? "one run" : `median of ${runs} runs`}; ratios to "ours, discovery")\n`);
  console.log(table(["contender", "token requests", "PRM requests", "AS metadata requests", "401 round trips", "errors", "wall time (ms)"], rows));
}
console.log(`\n${OAUTH4WEBAPI_FOOTNOTE}`);
if (errorNotes.length > 0) console.log(`\nFirst error of each contender that had errors:\n${errorNotes.map((note) => `- ${note}`).join("\n")}`);
