// One contender of the multi-process lock race (test/fleet/deno.test.ts), in Deno:
//   deno run --unstable-kv --allow-read=<repo>,<tmp> --allow-write=<tmp> race.mjs <file> <name>
// Commands on stdin (one JSON per line):
//   { cmd: "acquire", round, key, ttlMs, at }  at epoch ms `at`: acquire, with 10 writes of its own
//                                              keys at the same time so the SQLite file is busy
//   { cmd: "release", round, key }             release if this process holds it
//   { cmd: "exit" }                            report the busy errors the store retried, and exit
import { denoKvStore } from "../../../dist/stores/deno.js";
import { commands, countBusy, describeError, openKv, say, until } from "./common.mjs";

const [file, name] = Deno.args;
const raw = await openKv(file);
const { kv, counts } = countBusy(raw);
const store = denoKvStore(kv);
const owner = `owner-${name}`;
say({ type: "ready", name });

for await (const command of commands()) {
  if (command.cmd === "acquire") {
    await until(command.at);
    const started = performance.now();
    try {
      const noise = Array.from({ length: 10 }, (_, i) => store.set(`mcc1:race-noise-${name}-${i}`, `round ${command.round}`, 60));
      const won = await store.acquire(command.key, owner, command.ttlMs);
      await Promise.all(noise);
      say({ type: "acquired", name, round: command.round, won, ms: Math.round(performance.now() - started) });
    } catch (error) {
      say({ type: "acquired", name, round: command.round, error: describeError(error) });
    }
  } else if (command.cmd === "release") {
    try {
      await store.release(command.key, owner);
      say({ type: "released", name, round: command.round });
    } catch (error) {
      say({ type: "released", name, round: command.round, error: describeError(error) });
    }
  } else if (command.cmd === "exit") {
    say({ type: "bye", name, busyRetried: counts.busy });
    break;
  }
}
raw.close();
Deno.exit(0);
