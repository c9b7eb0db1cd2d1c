// A loopback stand-in for Upstash's REST API, in front of a real redis-server, so @upstash/redis
// can be tested for real (same client code, same HTTP, same Lua, same TTLs).
//
//   const rest = await startUpstashRest({ redisPort, token });   // { url, token, stats, close() }
//   new Redis({ url: rest.url, token: rest.token })               // from @upstash/redis
//
// What @upstash/redis 1.39 sends (read from its dist/chunk-*.mjs, HttpClient + Pipeline):
// - every request is a POST with `Authorization: Bearer <token>` and a JSON body;
// - a single command goes to `/` as `["set","k","v","ex",60]` → `{ "result": … }`, or HTTP 400
//   `{ "error": "ERR …" }` (the client throws UpstashError on any non-2xx);
// - `enableAutoPipelining` (on by default) batches commands to `/pipeline` as an array of command
//   arrays → an array of `{ result }` / `{ error }`, HTTP 200; `multi()` uses `/multi-exec`;
// - `Upstash-Encoding: base64` (the default `responseEncoding`) asks for every string in a result
//   base64-encoded (UTF-8 bytes), recursively in arrays; the client decodes them, and leaves a
//   bare "OK" alone;
// - `upstash-sync-token` (readYourWrites) is sent and read back; absent is fine;
// - `eval` is plain EVAL (only `createScript()` tries EVALSHA first); nothing else is needed.
//
// Each HTTP request gets its own RESP connection to redis-server (over node:net), so a Redis that
// was killed and restarted needs no reconnect logic here; while it is down every command
// answers HTTP 502 `{ error }`. `stats` counts requests and command names (never arguments:
// those carry tokens).

import http from "node:http";
import net from "node:net";

const CRLF = "\r\n";

function encodeCommand(args) {
  const parts = [`*${args.length}${CRLF}`];
  for (const arg of args) {
    const text = typeof arg === "string" ? arg : typeof arg === "object" && arg !== null ? JSON.stringify(arg) : String(arg);
    parts.push(`$${Buffer.byteLength(text)}${CRLF}${text}${CRLF}`);
  }
  return parts.join("");
}

class RespError {
  constructor(message) {
    this.message = message;
  }
}

/** Parses one RESP2 reply from `buffer` at `offset`: { value, next } or undefined if incomplete. */
function parseReply(buffer, offset) {
  const end = buffer.indexOf(CRLF, offset, "latin1");
  if (end < 0) return undefined;
  const type = String.fromCharCode(buffer[offset]);
  const line = buffer.toString("utf8", offset + 1, end);
  const after = end + 2;
  switch (type) {
    case "+":
      return { value: { simple: line }, next: after };
    case "-":
      return { value: new RespError(line), next: after };
    case ":":
      return { value: Number(line), next: after };
    case "$": {
      const length = Number(line);
      if (length < 0) return { value: null, next: after };
      if (buffer.length < after + length + 2) return undefined;
      return { value: buffer.subarray(after, after + length), next: after + length + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, next: after };
      const items = [];
      let next = after;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, next);
        if (!item) return undefined;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

/** Sends `commands` on one fresh connection and resolves with one reply per command. */
function exchange(port, commands, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let buffer = Buffer.alloc(0);
    const replies = [];
    const fail = (error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`redis did not answer within ${timeoutMs} ms`)));
    socket.once("error", fail);
    socket.once("close", () => {
      if (replies.length < commands.length) reject(new Error("redis closed the connection"));
    });
    socket.once("connect", () => socket.write(commands.map(encodeCommand).join("")));
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      let offset = 0;
      for (;;) {
        const parsed = parseReply(buffer, offset);
        if (!parsed) break;
        replies.push(parsed.value);
        offset = parsed.next;
      }
      buffer = buffer.subarray(offset);
      if (replies.length >= commands.length) {
        socket.end();
        resolve(replies);
      }
    });
  });
}

/** A RESP reply as Upstash's JSON `result`, base64-encoding strings when asked to. */
function toResult(value, base64) {
  if (value === null || typeof value === "number") return value;
  if (value instanceof RespError) return value.message;
  if (Array.isArray(value)) return value.map((item) => toResult(item, base64));
  if (Buffer.isBuffer(value)) return base64 ? value.toString("base64") : value.toString("utf8");
  const simple = value.simple;
  return base64 && simple !== "OK" ? Buffer.from(simple, "utf8").toString("base64") : simple;
}

function entry(value, base64) {
  return value instanceof RespError ? { error: value.message } : { result: toResult(value, base64) };
}

function isCommand(value) {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((arg) => ["string", "number", "boolean"].includes(typeof arg) || (typeof arg === "object" && arg !== null))
  );
}

/**
 * Starts the REST stand-in on 127.0.0.1 (a free port unless given), forwarding to redis-server
 * on `redisPort`.
 */
export async function startUpstashRest({ redisPort, token = "upstash-test-token", port = 0, timeoutMs = 5_000 }) {
  const stats = { requests: 0, unauthorized: 0, failures: 0, paths: {}, commands: {} };

  const server = http.createServer(async (req, res) => {
    const send = (status, value) => {
      const body = JSON.stringify(value);
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    try {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      stats.requests++;
      const path = new URL(req.url ?? "/", "http://rest").pathname.replace(/\/+$/, "") || "/";
      stats.paths[path] = (stats.paths[path] ?? 0) + 1;
      if (req.headers.authorization !== `Bearer ${token}`) {
        stats.unauthorized++;
        return send(401, { error: "Unauthorized" });
      }
      if (req.method !== "POST") return send(405, { error: "only POST is supported here" });
      const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return send(400, { error: "ERR body is not JSON" });
      }
      const batch = path === "/pipeline" || path === "/multi-exec";
      if (path !== "/" && !batch) return send(404, { error: `ERR unsupported path ${path}` });
      const commands = batch ? body : [body];
      if (!Array.isArray(commands) || commands.length === 0 || !commands.every(isCommand)) {
        return send(400, { error: "ERR expected a command array (or an array of them)" });
      }
      for (const command of commands) {
        const name = String(command[0]).toLowerCase();
        stats.commands[name] = (stats.commands[name] ?? 0) + 1;
      }
      let replies;
      try {
        if (path === "/multi-exec") {
          const all = await exchange(redisPort, [["MULTI"], ...commands, ["EXEC"]], timeoutMs);
          const exec = all.at(-1);
          replies = exec instanceof RespError || exec === null ? commands.map(() => exec ?? new RespError("EXECABORT transaction discarded")) : exec;
        } else {
          replies = await exchange(redisPort, commands, timeoutMs);
        }
      } catch (error) {
        stats.failures++;
        return send(502, { error: `ERR redis unavailable: ${error?.message ?? error}` });
      }
      if (batch)
        return send(
          200,
          replies.map((reply) => entry(reply, base64)),
        );
      const [reply] = replies;
      return reply instanceof RespError ? send(400, { error: reply.message }) : send(200, { result: toResult(reply, base64) });
    } catch (error) {
      if (!res.headersSent) send(500, { error: `ERR ${error?.message ?? error}` });
      else res.destroy();
    }
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  server.keepAliveTimeout = 1_000;
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    token,
    stats,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
