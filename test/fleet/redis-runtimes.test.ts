// redisStore, as users get it (dist/stores/redis.js), in every runtime where a Redis client runs:
// the full store contract (locks included) against one real redis-server, with
// - @upstash/redis (REST over fetch) in workerd (miniflare), Vercel's EdgeVM, Deno, Bun, Node 22/24,
//   each through its own loopback stand-in for Upstash's REST API (so each can be shown to have
//   really talked to it);
// - ioredis and node-redis 6 (TCP) in Deno (Node compatibility), Bun and Node 22/24.
// Every (runtime, client) pair is a child process (test/fleet/redis-runtimes/) printing one line
// per contract check; each check is its own `it`. All pairs run at the same time (every check uses
// its own random keys). Locally a missing runtime skips its pairs; under CI=true it fails them.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeContract } from "../portable/store-contract.js";
import { LINE_PREFIX, type Message } from "./redis-runtimes/checks.mjs";
import { CLIENTS, type ClientName, type PairConfig, packageVersion, type RuntimeEntry, runtimes } from "./redis-runtimes/matrix.mjs";
import { type RedisServer, redisAvailable, startRedis } from "./redis-server.mjs";
import { startUpstashRest, type UpstashRest } from "./upstash-rest.mjs";

const CI = process.env.CI === "true" || process.env.CI === "1";
/** A pair that has not finished by then is killed (its checks fail as unreported), before vitest's 60 s test timeout. */
const PAIR_TIMEOUT_MS = 50_000;

type Check = Extract<Message, { type: "check" }>;
type Meta = Extract<Message, { type: "meta" }>;

// The names every pair must report, from the contract itself (the store is never called here).
const CHECKS = storeContract({ createStore: () => ({}), locks: true }).map((test) => test.name);

/** One (runtime, client) child process and what it reported so far. */
class PairRun {
  readonly checks = new Map<string, Check>();
  meta: Meta | undefined;
  host: string | undefined;
  fatal: string | undefined;
  done: { passed: number; failed: number } | undefined;
  exit: { code: number | null; signal: string | null } | undefined;
  stderr = "";
  readonly started = Date.now();
  ms = 0;
  readonly finished: Promise<void>;
  #child: ChildProcess;
  #waiters: Array<() => void> = [];

  constructor(
    readonly label: string,
    argv: string[],
    env: Record<string, string | undefined>,
  ) {
    const [command = "", ...args] = argv;
    // Its own process group, so a stuck host (miniflare's workerd) goes down with its children.
    this.#child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env, detached: true });
    live.add(this);
    this.#child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString("utf8")).slice(-3000);
    });
    createInterface({ input: this.#child.stdout! }).on("line", (text) => {
      if (!text.startsWith(LINE_PREFIX)) return;
      let message: Message;
      try {
        message = JSON.parse(text.slice(LINE_PREFIX.length)) as Message;
      } catch {
        return;
      }
      if (message.type === "check") this.checks.set(message.name, message);
      else if (message.type === "meta") this.meta = message;
      else if (message.type === "host") this.host = message.runtime;
      else if (message.type === "done") this.done = { passed: message.passed, failed: message.failed };
      else if (message.type === "fatal") this.fatal = message.error;
      this.#wake();
    });
    const timer = setTimeout(() => {
      this.stderr += `\n[test] killed after ${PAIR_TIMEOUT_MS} ms`;
      this.kill("SIGKILL");
    }, PAIR_TIMEOUT_MS);
    this.finished = new Promise<void>((resolve) => {
      const finish = (code: number | null, signal: string | null) => {
        if (this.exit) return;
        clearTimeout(timer);
        this.exit = { code, signal };
        this.ms = Date.now() - this.started;
        live.delete(this);
        this.#wake();
        resolve();
      };
      // "close": stdout is drained too, so every line is in before the exit counts.
      this.#child.once("close", (code, signal) => finish(code, signal));
      this.#child.once("error", (error) => {
        this.stderr += `\n[test] could not start ${command}: ${error.message}`;
        finish(null, null);
      });
    });
  }

  #wake() {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once `ready()` is true or the process is gone. */
  async until(ready: () => boolean): Promise<void> {
    while (!ready() && !this.exit) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Why a line is missing: the child's last words. */
  why(): string {
    const exit = this.exit ? `exit ${this.exit.code ?? this.exit.signal}` : "still running";
    return [`${this.label}: ${exit}`, this.fatal && `fatal: ${this.fatal}`, this.stderr.trim() && `stderr: ${this.stderr.trim().slice(-1500)}`]
      .filter(Boolean)
      .join("\n");
  }

  kill(signal: NodeJS.Signals) {
    const pid = this.#child.pid;
    if (pid === undefined || this.exit) return;
    try {
      process.kill(-pid, signal);
    } catch {
      this.#child.kill(signal);
    }
  }
}

const live = new Set<PairRun>();
process.once("exit", () => {
  for (const run of live) run.kill("SIGKILL");
});

const MATRIX: RuntimeEntry[] = runtimes();
const usable = (entry: RuntimeEntry) => entry.unavailable === undefined || CI;

describe.skipIf(!redisAvailable())("redisStore in every runtime with a Redis client", () => {
  let redis: RedisServer;
  /** One stand-in per (runtime, @upstash/redis) pair, each with its own token. */
  const rests = new Map<string, UpstashRest>();
  const runs = new Map<string, PairRun>();
  const pairLabel = (runtime: RuntimeEntry, client: ClientName) => `${runtime.name} × ${CLIENTS[client].label}`;
  let startedAt = 0;
  /** TMPDIR of every pair (miniflare leaves its scratch folder behind): removed in afterAll. */
  let tmp = "";

  beforeAll(async () => {
    startedAt = Date.now();
    tmp = mkdtempSync(path.join(os.tmpdir(), "redis-runtimes-"));
    redis = await startRedis();
    for (const runtime of MATRIX) {
      if (runtime.unavailable !== undefined) continue;
      for (const client of runtime.clients) {
        const label = pairLabel(runtime, client);
        const config: PairConfig = { client };
        if (client === "upstash") {
          const rest = await startUpstashRest({ redisPort: redis.port, token: randomBytes(18).toString("base64url") });
          rests.set(label, rest);
          config.upstash = { url: rest.url, token: rest.token };
        } else {
          config.redisUrl = redis.url;
        }
        runs.set(label, new PairRun(label, runtime.command(config), { ...runtime.env, TMPDIR: tmp }));
      }
    }
  });

  afterAll(async () => {
    // Every pair ends by itself; anything left is stopped, then killed.
    const left = [...live];
    for (const run of left) run.kill("SIGTERM");
    await Promise.race([Promise.all(left.map((run) => run.finished)), new Promise((resolve) => setTimeout(resolve, 5_000))]);
    for (const run of live) run.kill("SIGKILL");
    await Promise.all([...rests.values()].map((rest) => rest.close()));
    await redis?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    const rows = [...runs.values()].map(
      (run) =>
        `[redis-runtimes] ${run.label.padEnd(34)} ${(run.host ?? run.meta?.runtime ?? "?").padEnd(60)} ` +
        `passed ${run.done?.passed ?? run.checks.size} failed ${run.done?.failed ?? "?"} ${(run.ms / 1000).toFixed(1)} s`,
    );
    const clients = Object.values(CLIENTS)
      .map((client) => `${client.package} ${packageVersion(client.package)}`)
      .join(", ");
    console.log(`${rows.join("\n")}\n[redis-runtimes] ${clients}; ${runs.size} pairs in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  });

  for (const runtime of MATRIX) {
    for (const client of runtime.clients) {
      const label = pairLabel(runtime, client);
      const info = CLIENTS[client];

      describe.skipIf(!usable(runtime))(label, () => {
        const run = () => {
          if (runtime.unavailable !== undefined) throw new Error(`${runtime.name} is unavailable: ${runtime.unavailable}`);
          const found = runs.get(label);
          if (!found) throw new Error(`${label} was never started`);
          return found;
        };

        it(`runs in ${runtime.name}, with the client recognised as ${info.kind}`, async () => {
          const pair = run();
          await pair.until(() => pair.meta !== undefined);
          expect(pair.meta, pair.why()).toBeDefined();
          expect(pair.meta?.error ?? null).toBeNull();
          expect(pair.meta?.runtime).toMatch(runtime.runtime);
          expect(pair.meta?.kind).toBe(info.kind);
        });

        for (const name of CHECKS) {
          it(name, async () => {
            const pair = run();
            await pair.until(() => pair.checks.has(name));
            const check = pair.checks.get(name);
            if (!check) expect.fail(`no result for this check\n${pair.why()}`);
            if (!check.ok) expect.fail(check.error ?? "failed");
          });
        }

        it("reports every check and exits cleanly", async () => {
          const pair = run();
          await pair.finished;
          expect(pair.fatal ?? null, pair.why()).toBeNull();
          expect(pair.done, pair.why()).toEqual({ passed: CHECKS.length, failed: 0 });
          expect(pair.exit, pair.why()).toEqual({ code: 0, signal: null });
        });

        if (client === "upstash") {
          it("@upstash/redis really talked to its REST stand-in (pipelines, EVAL, SET, DEL)", async () => {
            const pair = run();
            await pair.finished;
            const stats = rests.get(label)?.stats;
            expect(stats, "stand-in").toBeDefined();
            expect(stats?.unauthorized).toBe(0);
            expect(stats?.failures).toBe(0);
            expect(stats?.commands.eval ?? 0).toBeGreaterThan(0);
            expect(stats?.commands.set ?? 0).toBeGreaterThan(0);
            expect(stats?.commands.del ?? 0).toBeGreaterThan(0);
            expect(stats?.paths["/pipeline"] ?? 0).toBeGreaterThan(0);
          });
        }
      });
    }
  }
});
