// denoKvStore under Deno, on real Deno KV files (`Deno.openKv(<tmp file>)`, --unstable-kv):
// the TokenStore contract and Deno-specific checks (one `it` each, run in one Deno process per
// suite), a lock race between 6 Deno processes on one SQLite file, and a fleet of Deno
// processes sharing one file through the middleware against the loopback OAuth server.
//
// Every Deno script imports dist/ by path: `npm run test:fleet` builds first. Without
// node_modules/.bin/deno the file is skipped locally and fails under CI=true.
import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storeContract } from "../portable/store-contract.js";
import { denoKvChecks } from "./deno/checks.mjs";
import { createTenant, delta, type LoopbackServer, NOTHING, startServer, type Tenant, tenantCounts, warmCost } from "./tenants.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const HERE = path.join(ROOT, "test", "fleet", "deno");
const DENO = path.join(ROOT, "node_modules", ".bin", "deno");
const CI = process.env.CI === "true" || process.env.CI === "1";
const HAVE_DENO = existsSync(DENO);

interface Message {
  type: string;
  [field: string]: unknown;
}

interface CheckResult {
  name: string;
  ok: boolean;
  error: string | null;
  note?: string | null;
  ms: number;
}

const live = new Set<ChildProcessWithoutNullStreams>();
let tmp = "";

/** A Deno process speaking the `MSG {json}` (stdout) / JSON line (stdin) protocol of deno/common.mjs. */
class DenoProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly messages: Message[] = [];
  stdout = "";
  stderr = "";
  readonly exited: Promise<number | null>;
  #waiters: Array<() => void> = [];

  constructor(script: string, args: string[]) {
    this.child = spawn(
      DENO,
      [
        "run",
        "--no-prompt",
        "--unstable-kv",
        // dist/index.js imports jose, ky and zod: resolved from node_modules, never downloaded.
        "--node-modules-dir=manual",
        `--allow-read=${ROOT},${tmp}`,
        `--allow-write=${tmp}`,
        "--allow-net=127.0.0.1",
        path.join(HERE, script),
        ...args,
      ],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"] },
    );
    live.add(this.child);
    let pending = "";
    this.child.stdout.on("data", (chunk: Buffer) => {
      this.stdout += chunk;
      pending += chunk;
      for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 1);
        if (line.startsWith("MSG ")) this.messages.push(JSON.parse(line.slice(4)) as Message);
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.child.stderr.on("data", (chunk: Buffer) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.on("error", (error) => {
        this.stderr += `\nspawn failed: ${error.message}`;
        resolve(null);
      });
      this.child.on("close", (code) => {
        live.delete(this.child);
        for (const wake of this.#waiters.splice(0)) wake();
        resolve(code);
      });
    });
  }

  send(command: object): void {
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  /** The first message matching `match`, waiting up to `timeoutMs` for it. */
  async next(match: (message: Message) => boolean, timeoutMs = 30_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null || Date.now() > deadline) {
        throw new Error(`no such message from ${this.child.spawnargs.slice(-3).join(" ")} (exit ${this.child.exitCode}); stderr:\n${this.stderr.slice(-2000)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** Runs run-checks.mjs for one suite in a fresh file and maps its results by name. */
async function runSuite(suite: string): Promise<Map<string, CheckResult>> {
  const deno = new DenoProcess("run-checks.mjs", [suite, path.join(tmp, `${suite}.sqlite`)]);
  const code = await deno.exited;
  const message = deno.messages.find((m) => m.type === "results");
  if (!message) throw new Error(`deno ${suite} run gave no results (exit ${code}):\n${deno.stdout.slice(-2000)}\n${deno.stderr.slice(-2000)}`);
  const results = message.results as CheckResult[];
  for (const r of results) console.info(`[deno ${suite}] ${r.ok ? "ok" : "not ok"} - ${r.name} (${r.ms} ms)${r.note ? ` — ${r.note}` : ""}`);
  return new Map(results.map((r) => [r.name, r]));
}

function expectCheck(results: Map<string, CheckResult> | undefined, name: string): void {
  const result = results?.get(name);
  if (!result) throw new Error(`the Deno process did not report "${name}"`);
  if (!result.ok) throw new Error(result.error ?? "failed");
}

describe.skipIf(!HAVE_DENO && !CI)("denoKvStore under Deno (Deno.openKv on a file)", () => {
  beforeAll(() => {
    if (!HAVE_DENO) throw new Error(`${DENO} is missing (npm ci installs the deno package); CI=true never skips`);
    for (const built of ["index.js", "stores/deno.js"]) {
      if (!existsSync(path.join(ROOT, "dist", built))) throw new Error(`dist/${built} is missing: run \`npm run build\` (npm run test:fleet does)`);
    }
    tmp = mkdtempSync(path.join(os.tmpdir(), "mcc-denokv-"));
  });

  afterAll(async () => {
    for (const child of live) child.kill("SIGKILL");
    await Promise.all([...live].map((child) => new Promise((resolve) => child.once("close", resolve))));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe("TokenStore contract with locks, in one Deno process", () => {
    let results: Map<string, CheckResult> | undefined;
    beforeAll(async () => {
      results = await runSuite("contract");
    }, 90_000);
    for (const test of storeContract({ createStore: () => undefined, locks: true })) {
      it(test.name, () => expectCheck(results, test.name));
    }
  });

  describe("Deno KV specifics, in one Deno process", () => {
    let results: Map<string, CheckResult> | undefined;
    beforeAll(async () => {
      results = await runSuite("specifics");
    }, 90_000);
    for (const check of denoKvChecks()) {
      it(check.name, () => expectCheck(results, check.name));
    }
  });

  it("a real Deno.Kv fits DenoKvLike (deno check against dist/stores/deno.d.ts)", async () => {
    const file = path.join(tmp, "kv-types.ts");
    const dist = path.join(ROOT, "dist", "stores");
    writeFileSync(
      file,
      [
        `// @ts-types="${path.join(dist, "deno.d.ts")}"`,
        `import { denoKvStore, type DenoKvStore } from "${path.join(dist, "deno.js")}";`,
        `const kv: Deno.Kv = await Deno.openKv(":memory:");`,
        `const store: DenoKvStore = denoKvStore(kv, { prefix: ["app", 1, 2n, true, new Uint8Array([1])], busyRetries: 3 });`,
        `const won: boolean = await store.acquire("k", "owner", 1000);`,
        `const value: string | undefined = await store.get("k");`,
        `console.log(won, value);`,
      ].join("\n"),
    );
    // dist's .d.ts files import their chunks as `.js`: sloppy imports map those to `.d.ts`.
    const run = promisify(execFile);
    await expect(
      run(DENO, ["check", "--unstable-kv", "--unstable-sloppy-imports", "--no-config", file], { cwd: tmp, env: { ...process.env, NO_COLOR: "1" } }),
    ).resolves.toBeDefined();
  });

  it("6 Deno processes race acquire on one key in one file, 8 rounds: exactly one winner each, no crash", async () => {
    const file = path.join(tmp, "race.sqlite");
    const names = ["p1", "p2", "p3", "p4", "p5", "p6"];
    const started = Date.now();
    const racers = names.map((name) => new DenoProcess("race.mjs", [file, name]));
    await Promise.all(racers.map((racer) => racer.next((m) => m.type === "ready")));
    const key = "mcc1:race";
    const winners: number[] = [];
    for (let round = 1; round <= 8; round++) {
      // Odd rounds race for a free (released) lock; even rounds for one whose holder let it expire,
      // which Deno KV still holds, so the takeover path races too.
      const expiring = round % 2 === 0;
      const at = Date.now() + 150;
      for (const racer of racers) racer.send({ cmd: "acquire", round, key, ttlMs: expiring ? 300 : 10_000, at });
      const answers = await Promise.all(racers.map((racer) => racer.next((m) => m.type === "acquired" && m.round === round)));
      const errors = answers.filter((a) => a.error).map((a) => `${a.name}: ${a.error}`);
      expect(errors, `round ${round}: errors`).toEqual([]);
      const won = answers.filter((a) => a.won === true);
      winners.push(won.length);
      console.info(
        `[race] round ${round} (${expiring ? "expired lock" : "free lock"}): winners ${won.map((a) => a.name).join(",") || "none"}; ms ${answers.map((a) => a.ms).join("/")}`,
      );
      expect(won.length, `round ${round}: winners`).toBe(1);
      if (expiring) await new Promise((resolve) => setTimeout(resolve, 450));
      else {
        for (const racer of racers) racer.send({ cmd: "release", round, key });
        const released = await Promise.all(racers.map((racer) => racer.next((m) => m.type === "released" && m.round === round)));
        expect(released.filter((r) => r.error).map((r) => r.error)).toEqual([]);
      }
    }
    for (const racer of racers) racer.send({ cmd: "exit" });
    const byes = await Promise.all(racers.map((racer) => racer.next((m) => m.type === "bye")));
    const codes = await Promise.all(racers.map((racer) => racer.exited));
    console.info(
      `[race] winners per round ${JSON.stringify(winners)}; busy errors retried per process ${JSON.stringify(byes.map((b) => b.busyRetried))}; ${Date.now() - started} ms`,
    );
    expect(codes).toEqual(names.map(() => 0));
    for (const racer of racers) expect(racer.stderr).not.toMatch(/database is locked|uncaught/i);
  }, 90_000);

  describe("a fleet of Deno processes sharing one Deno KV file through the middleware", () => {
    let server: LoopbackServer | undefined;
    let tenant: Tenant | undefined;
    const file = () => path.join(tmp, "fleet.sqlite");
    const counts = () => tenantCounts(server!.baseUrl, tenant!.id);

    /** Starts `size` processes on the shared file, lets them go at one instant, returns what they did. */
    async function fleet(size: number, requests: number, label: string): Promise<Message[]> {
      const instances = Array.from({ length: size }, (_, i) => new DenoProcess("fleet.mjs", [file(), `${label}${i + 1}`]));
      await Promise.all(instances.map((instance) => instance.next((m) => m.type === "ready")));
      const at = Date.now() + 200;
      for (const instance of instances) {
        instance.send({ cmd: "go", at, resource: tenant!.resource, clientId: "fleet", clientSecret: "fleet-secret", requests });
      }
      const done = await Promise.all(instances.map((instance) => instance.next((m) => m.type === "done", 45_000)));
      const codes = await Promise.all(instances.map((instance) => instance.exited));
      expect(codes, "exit codes").toEqual(instances.map(() => 0));
      return done;
    }

    beforeAll(async () => {
      server = await startServer();
      tenant = await createTenant(server.baseUrl);
    });

    afterAll(async () => {
      await server?.close();
    });

    it("cold file: 6 processes started together, 3 requests each: all 200, exactly 1 token request and one 401", async () => {
      const started = Date.now();
      const done = await fleet(6, 3, "cold");
      const seen = await counts();
      console.info(
        `[fleet cold] statuses ${JSON.stringify(done.map((d) => d.statuses))}; server counts token ${seen.token}, PRM ${seen.resourceMetadata}, AS ${seen.authorizationServerMetadata}, resource ${seen.resource} (without Authorization ${seen.unauthorized}); busy retried ${JSON.stringify(done.map((d) => d.busyRetried))}; errors ${JSON.stringify(done.flatMap((d) => d.errors as string[]))}; ${Date.now() - started} ms`,
      );
      expect(done.flatMap((d) => d.errors as string[])).toEqual([]);
      expect(done.flatMap((d) => d.statuses as number[])).toEqual(Array.from({ length: 18 }, () => 200));
      expect(seen.token).toBe(1);
      // The cold gate holds across processes through Deno KV's locks: one 401 for the fleet.
      expect(seen.unauthorized).toBe(1);
    }, 60_000);

    it("warm file: one more process needs no metadata and no token, and never calls without Authorization", async () => {
      const before = await counts();
      const started = Date.now();
      const [done] = await fleet(1, 3, "warm");
      const cost = warmCost(delta(before, await counts()));
      console.info(
        `[fleet warm] statuses ${JSON.stringify(done!.statuses)}; ${JSON.stringify(cost)}; errors ${JSON.stringify(done!.errors)}; ${Date.now() - started} ms`,
      );
      expect(done!.statuses).toEqual([200, 200, 200]);
      expect(cost).toEqual(NOTHING);
    }, 60_000);
  });
});
