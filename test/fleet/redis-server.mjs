// A throwaway redis-server on a free loopback port, for the fleet suite.
//
//   const redis = await startRedis();        // { port, url, pid, stop(), kill(), restart() }
//   redis.kill();                            // SIGKILL: what a crash looks like to clients
//   await redis.restart();                   // same port, empty (no persistence)
//   await redis.stop();                      // always, in afterAll
//
// It runs as a child process (no --daemonize) so its pid is known without a pidfile and its exit
// can be awaited; a process "exit" hook kills it if the test process dies first. Nothing is saved:
// --save '' --appendonly no. Under CI=true a missing redis-server throws: the suite must fail
// there, never skip (`.ci/run` installs it).

import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";

const CANDIDATES = ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/opt/homebrew/bin/redis-server"];

/** The redis-server binary, or null when there is none (REDIS_SERVER overrides). */
export function findRedisServer() {
  if (process.env.REDIS_SERVER) return existsSync(process.env.REDIS_SERVER) ? process.env.REDIS_SERVER : null;
  for (const path of CANDIDATES) if (existsSync(path)) return path;
  const which = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" });
  const found = which.status === 0 ? which.stdout.trim() : "";
  return found || null;
}

/** Whether the redis suites run here: always under CI=true (and then fail if it is missing). */
export function redisAvailable() {
  return process.env.CI === "true" || findRedisServer() !== null;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Sends PING over a fresh connection; resolves true on +PONG. */
export function ping(port, timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString("latin1").startsWith("+PONG")));
  });
}

const live = new Set();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/**
 * Starts redis-server on 127.0.0.1 (a free port unless `port` is given) and waits until it
 * answers PING.
 */
export async function startRedis({ port, timeoutMs = 10_000 } = {}) {
  const binary = findRedisServer();
  if (!binary) {
    throw new Error("redis-server not found (install it: apt-get install -y redis-server, or set REDIS_SERVER)");
  }
  const chosen = port ?? (await freePort());
  let child;
  let output = "";

  async function launch() {
    output = "";
    child = spawn(binary, ["--port", String(chosen), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(child);
    const exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
      child.once("error", (error) => resolve({ code: error.code ?? String(error), signal: null }));
    });
    child.exited = exited;
    exited.then(() => live.delete(child));
    for (const stream of [child.stdout, child.stderr]) stream.on("data", (chunk) => (output = (output + chunk).slice(-4000)));
    const started = Date.now();
    while (!(await ping(chosen))) {
      const early = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve(undefined), 50))]);
      if (early) throw new Error(`redis-server exited (${early.code ?? early.signal}) on port ${chosen}: ${output.trim()}`);
      if (Date.now() - started > timeoutMs) {
        child.kill("SIGKILL");
        throw new Error(`redis-server did not answer on port ${chosen} within ${timeoutMs} ms: ${output.trim()}`);
      }
    }
  }

  async function halt(signal) {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    current.kill(signal);
    await current.exited;
  }

  await launch();
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    get pid() {
      return child.pid;
    },
    /** SIGTERM and wait for the exit. Safe to call twice. */
    stop: () => halt("SIGTERM"),
    /** SIGKILL, no goodbye to clients; resolves once the process is gone. */
    kill: () => halt("SIGKILL"),
    /** Stops it if it is still running, then starts it again on the same port, empty. */
    async restart() {
      await halt("SIGTERM");
      await launch();
    },
  };
}
