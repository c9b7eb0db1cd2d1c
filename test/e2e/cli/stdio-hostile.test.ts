// `mcp-client-credentials stdio` driven raw (JSON lines on the child's stdin, read from its
// stdout), as a script or a hurried client drives it: a remote stream that ends without the
// answer, stdin closed right after the requests, a DELETE never answered, a signal while closing.
import { type ChildProcess, spawn } from "node:child_process";
import http from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { initializeMessage } from "../mcp-messages.js";
import { closer, listen } from "../servers/listen.mjs";
import { type Stack, start as startStack } from "../servers/stack.mjs";
import { baseEnv, CLI } from "./process.js";

/** Beyond this a bridge is hung: it is killed, and its exit code is null. */
const HANG_MS = 15_000;
type Message = { jsonrpc: "2.0"; id?: number | string; method?: string; result?: Record<string, unknown>; error?: { code: number; message: string } };

const INITIALIZE: Message & { params: unknown } = initializeMessage("raw-stdio");
const INITIALIZED: Message = { jsonrpc: "2.0", method: "notifications/initialized" };
const TOOLS_LIST: Message = { jsonrpc: "2.0", id: 2, method: "tools/list" };

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const children: ChildProcess[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** The bridge as a child: send() writes a line, next() waits (bounded) for a message, exited resolves with how it ended. */
function bridge(url: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, "stdio", url], { env: baseEnv(env), stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  const killer = setTimeout(() => child.kill("SIGKILL"), HANG_MS);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal });
    }),
  );
  const messages: Message[] = [];
  const waiting = new Set<() => void>();
  let buffered = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
      messages.push(JSON.parse(buffered.slice(0, newline)) as Message);
      buffered = buffered.slice(newline + 1);
    }
    for (const wake of waiting) wake();
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const send = (...lines: Message[]) => child.stdin!.write(lines.map((line) => `${JSON.stringify(line)}\n`).join(""));
  const next = (id: number | string) =>
    new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to request ${id} within ${HANG_MS} ms`)), HANG_MS);
      const wake = () => {
        const found = messages.find((message) => message.id === id && message.method === undefined);
        if (!found) return;
        clearTimeout(timer);
        waiting.delete(wake);
        resolve(found);
      };
      waiting.add(wake);
      wake();
    });
  return { child, send, next, exited, messages, stderr: () => stderr };
}

/**
 * Just enough Streamable HTTP: initialize → JSON with a session, notifications → 202, GET → 405;
 * tools/list → `request`, DELETE → `remove` (default 200).
 */
async function mcpServer(request: (message: Message, response: http.ServerResponse) => void, remove?: (response: http.ServerResponse) => void) {
  const seen: string[] = [];
  const server = http.createServer((req, response) => {
    let text = "";
    req.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
    req.on("end", () => {
      seen.push(req.method ?? "");
      if (req.method === "DELETE") return remove ? remove(response) : response.writeHead(200).end();
      if (req.method !== "POST") return response.writeHead(405).end();
      const message = JSON.parse(text) as Message;
      if (message.method === "initialize") {
        const result = { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "hostile", version: "1" } };
        return response
          .writeHead(200, { "content-type": "application/json", "mcp-session-id": "session-1" })
          .end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }));
      }
      if (message.id === undefined || message.method === undefined) return response.writeHead(202).end();
      request(message, response);
    });
  });
  const port = await listen(server, 0, "127.0.0.1");
  closers.push(closer(server));
  return { url: `http://127.0.0.1:${port}/mcp`, seen };
}

const anyCredentials = { MCP_CLIENT_ID: "stdio-hostile", MCP_CLIENT_SECRET: `stdio-hostile-${crypto.randomUUID()}` };
const answered = (message: Message, response: http.ServerResponse) =>
  response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result: { tools: [] } }));

describe("stdio: requests the remote leaves unanswered are still answered", () => {
  it("an SSE answer that ends without the response and without an event id → a -32000 error for that request", async () => {
    const server = await mcpServer((message, response) => {
      // A progress event, then the stream ends: nothing to resume from, no answer.
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.end(`data: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: message.id, progress: 1 } })}\n\n`);
    });
    const running = bridge(server.url, anyCredentials);
    running.send(INITIALIZE);
    expect((await running.next(1)).result).toMatchObject({ serverInfo: { name: "hostile" } });
    running.send(INITIALIZED, TOOLS_LIST);
    const answer = await running.next(2);
    expect(answer.error?.code).toBe(-32000);
    expect(answer.result).toBeUndefined();
    // And the bridge is still usable afterwards: stdin ending closes it cleanly.
    running.child.stdin!.end();
    expect(await running.exited).toEqual({ code: 0, signal: null });
  });

  it("stdin closed while a request is still being answered: the answer is printed, and only then is the session closed", async () => {
    const server = await mcpServer((message, response) => {
      // A remote that takes its time: a bridge that closes at once sends its DELETE meanwhile.
      setTimeout(() => {
        server.seen.push("answer");
        answered(message, response);
      }, 500);
    });
    const running = bridge(server.url, anyCredentials);
    running.send(INITIALIZE);
    await running.next(1);
    running.send(INITIALIZED, TOOLS_LIST);
    running.child.stdin!.end();
    const exit = await running.exited;
    expect(running.messages.find((message) => message.id === 2)).toEqual({ jsonrpc: "2.0", id: 2, result: { tools: [] } });
    expect(server.seen.filter((seen) => seen === "answer" || seen === "DELETE")).toEqual(["answer", "DELETE"]);
    expect(exit).toEqual({ code: 0, signal: null });
  });

  // A script pipes everything at once; the bridge must not send what follows initialize before the session exists.
  it("stdin closed right after initialize, initialized and tools/list (the real stack): every request is answered, then exit 0", async () => {
    const mark = stack.mcp.requests.length;
    const running = bridge(stack.mcp.url, {
      MCP_CLIENT_ID: stack.credentials.clientSecret.clientId,
      MCP_CLIENT_SECRET: stack.credentials.clientSecret.clientSecret,
    });
    running.send(INITIALIZE, INITIALIZED, TOOLS_LIST);
    running.child.stdin!.end();
    const exit = await running.exited;
    const byId = (id: number) => running.messages.find((message) => message.id === id);
    expect(byId(1)?.result).toMatchObject({ serverInfo: { name: "e2e-protected-mcp-server" } });
    expect(byId(2)?.error).toBeUndefined();
    expect((byId(2)?.result?.tools as { name: string }[] | undefined)?.map((tool) => tool.name)).toEqual(expect.arrayContaining(["echo", "add", "whoami"]));
    expect(exit).toEqual({ code: 0, signal: null });
    // The session it opened is closed.
    expect(stack.mcp.requests.slice(mark).some((request) => request.method === "DELETE" && request.authorized)).toBe(true);
    expect(running.stderr().includes(stack.credentials.clientSecret.clientSecret)).toBe(false);
  });
});

describe("stdio: closing does not wait for ever", () => {
  it("a DELETE never answered: the bridge still exits 0 after stdin ends", async () => {
    const server = await mcpServer(answered, () => {});
    const running = bridge(server.url, anyCredentials);
    running.send(INITIALIZE);
    await running.next(1);
    running.child.stdin!.end();
    expect(await running.exited).toEqual({ code: 0, signal: null });
    expect(server.seen).toContain("DELETE");
  });

  it("SIGTERM while closing (the DELETE hangs) ends it at once, with 143", async () => {
    let deleting: () => void = () => {};
    const deleteSeen = new Promise<void>((resolve) => (deleting = resolve));
    const server = await mcpServer(answered, () => deleting());
    const running = bridge(server.url, anyCredentials);
    running.send(INITIALIZE);
    await running.next(1);
    running.child.stdin!.end();
    await deleteSeen;
    running.child.kill("SIGTERM");
    // 0 would mean the signal was ignored and the bridge gave up on the DELETE by itself.
    expect(await running.exited).toEqual({ code: 143, signal: null });
    expect(server.seen).toContain("DELETE");
  });
});
