import { describe, expect, it } from "vitest";
import { callOnce, type JsonRpcMessage, PROTOCOL_VERSION, RpcHttpError, RpcTimeoutError } from "../../src/cli/rpc.js";

const SSE = { "content-type": "text/event-stream" };

interface Seen {
  method: string;
  rpc?: string;
  headers: Record<string, string>;
  body?: JsonRpcMessage;
}

/**
 * A Streamable HTTP server as a fetch function: `answers` maps an RPC method (or "DELETE", or
 * "POST" for a message without a method: a reply) to the Response it gets; every request is
 * recorded. The signal is handed on, as fetch honours it.
 */
function server(answers: Record<string, (message: JsonRpcMessage, signal: AbortSignal | undefined) => Response | Promise<Response>>) {
  const seen: Seen[] = [];
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const body = request.method === "POST" ? ((await request.json()) as JsonRpcMessage) : undefined;
    seen.push({ method: request.method, rpc: body?.method, headers: Object.fromEntries(request.headers), body });
    const answer = answers[body?.method ?? request.method];
    return answer ? answer(body!, init?.signal ?? undefined) : new Response(null, { status: 202 });
  }) as typeof fetch;
  return { seen, fetcher };
}

const URL_ = new URL("https://mcp.example.com/mcp");
const initialized = (message: JsonRpcMessage, session: string | null = "session-1") =>
  Response.json(
    { jsonrpc: "2.0", id: message.id, result: { protocolVersion: "2025-06-18", capabilities: {}, serverInfo: { name: "s", version: "1" } } },
    { headers: session ? { "mcp-session-id": session } : {} },
  );

describe("callOnce", () => {
  it("initializes, notifies, calls, and closes the session, carrying its headers", async () => {
    const progress = { jsonrpc: "2.0", method: "notifications/progress", params: { progress: 1 } };
    const { seen, fetcher } = server({
      initialize: (message) => initialized(message),
      "tools/list": (message) =>
        new Response(`data: ${JSON.stringify(progress)}\n\ndata: ${JSON.stringify({ jsonrpc: "2.0", id: message.id, result: { tools: [] } })}\n\n`, {
          headers: SSE,
        }),
      DELETE: () => new Response(null, { status: 200 }),
    });
    const others: JsonRpcMessage[] = [];
    const result = await callOnce({
      url: URL_,
      method: "tools/list",
      params: { cursor: "c" },
      headers: new Headers({ "x-caller": "yes" }),
      fetch: fetcher,
      onOther: (message) => others.push(message),
    });
    expect(result).toEqual({ jsonrpc: "2.0", id: 2, result: { tools: [] } });
    expect(others).toEqual([progress]);
    expect(seen.map((request) => `${request.method} ${request.rpc ?? ""}`.trim())).toEqual([
      "POST initialize",
      "POST notifications/initialized",
      "POST tools/list",
      "DELETE",
    ]);
    const [init, notified, call, close] = seen as [Seen, Seen, Seen, Seen];
    expect(init.body?.params).toMatchObject({ protocolVersion: PROTOCOL_VERSION, clientInfo: { name: "mcp-client-credentials" } });
    expect(init.headers["mcp-session-id"]).toBeUndefined();
    expect(init.headers["mcp-protocol-version"]).toBeUndefined();
    for (const request of [notified, call, close]) {
      expect(request.headers).toMatchObject({ "mcp-session-id": "session-1", "mcp-protocol-version": "2025-06-18", "x-caller": "yes" });
    }
    expect(notified.body?.id).toBeUndefined();
    expect(call.body).toEqual({ jsonrpc: "2.0", id: 2, method: "tools/list", params: { cursor: "c" } });
    expect(call.headers).toMatchObject({ "content-type": "application/json", accept: "application/json, text/event-stream" });
  });

  it("sends initialize alone, with the caller's params, and closes the session it opened", async () => {
    const { seen, fetcher } = server({ initialize: (message) => initialized(message) });
    const params = { protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "me", version: "2" } };
    const result = await callOnce({ url: URL_, method: "initialize", params, headers: new Headers(), fetch: fetcher });
    expect(result.result).toMatchObject({ protocolVersion: "2025-06-18" });
    expect(seen.map((request) => request.rpc ?? request.method)).toEqual(["initialize", "DELETE"]);
    expect(seen[0]!.body?.params).toEqual(params);
    expect(seen[1]!.headers["mcp-session-id"]).toBeDefined();
  });

  it("sends no DELETE and no session header when the server hands out no session", async () => {
    const { seen, fetcher } = server({
      initialize: (message) => initialized(message, null),
      ping: (message) => Response.json({ jsonrpc: "2.0", id: message.id, result: {} }),
    });
    await callOnce({ url: URL_, method: "ping", headers: new Headers(), fetch: fetcher });
    expect(seen.map((request) => request.rpc ?? request.method)).toEqual(["initialize", "notifications/initialized", "ping"]);
    expect(seen[2]!.headers["mcp-session-id"]).toBeUndefined();
  });

  it("throws RpcHttpError with the status of a refused request, and still closes the session", async () => {
    const { seen, fetcher } = server({
      initialize: (message) => initialized(message),
      "tools/call": () => new Response('{"error":"forbidden"}\n  here', { status: 403 }),
    });
    const error = await callOnce({ url: URL_, method: "tools/call", headers: new Headers(), fetch: fetcher }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcHttpError);
    expect((error as RpcHttpError).status).toBe(403);
    expect((error as Error).message).toBe('tools/call: the server answered HTTP 403: {"error":"forbidden"} here');
    expect(seen.at(-1)?.method).toBe("DELETE");
  });

  it("throws RpcHttpError when initialize itself is refused", async () => {
    const { seen, fetcher } = server({ initialize: () => new Response("", { status: 401 }) });
    const error = await callOnce({ url: URL_, method: "ping", headers: new Headers(), fetch: fetcher }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "RpcHttpError", status: 401, message: "initialize: the server answered HTTP 401" });
    expect(seen).toHaveLength(1);
  });

  it("returns an initialize error as is, sending nothing more than the DELETE of its session", async () => {
    const refusal = { jsonrpc: "2.0", id: 1, error: { code: -32602, message: "Unsupported protocol version" } };
    const { seen, fetcher } = server({ initialize: () => Response.json(refusal, { headers: { "mcp-session-id": "s" } }) });
    expect(await callOnce({ url: URL_, method: "ping", headers: new Headers(), fetch: fetcher })).toEqual(refusal);
    // Nothing but closing the session the server handed out anyway.
    expect(seen.map((request) => request.rpc ?? request.method)).toEqual(["initialize", "DELETE"]);
  });

  it("throws when the response stream ends without the answer", async () => {
    const { seen, fetcher } = server({
      initialize: (message) => initialized(message),
      ping: () => new Response(`data: ${JSON.stringify({ jsonrpc: "2.0", id: 99, result: {} })}\n\n`, { headers: SSE }),
    });
    const error = await callOnce({ url: URL_, method: "ping", headers: new Headers(), fetch: fetcher }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcHttpError);
    expect((error as Error).message).toContain("the server closed the response without answering the request");
    expect(seen.at(-1)?.method).toBe("DELETE");
  });
});

describe("callOnce: a server that asks, stalls or never says goodbye", () => {
  const encoder = new TextEncoder();
  /** An SSE body that stays open until closed, and errors as fetch's does when the request's signal aborts. */
  function openStream(signal: AbortSignal | undefined) {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
    });
    signal?.addEventListener("abort", () => controller.error(signal.reason));
    return {
      response: new Response(body, { headers: SSE }),
      send: (message: object) => controller.enqueue(encoder.encode(`data: ${JSON.stringify(message)}\n\n`)),
      close: () => controller.close(),
    };
  }
  /** A fetch that never answers, until its signal aborts. */
  const never = (signal: AbortSignal | undefined) =>
    new Promise<Response>((_resolve, reject) => signal?.addEventListener("abort", () => reject(signal.reason)));

  it("answers a ping on the request's stream, refuses another server request with -32601, then reads the answer", async () => {
    const answer = { jsonrpc: "2.0", id: 2, result: { content: [] } };
    let stream: ReturnType<typeof openStream> | undefined;
    const { seen, fetcher } = server({
      initialize: (message) => initialized(message),
      "tools/call": (_message, signal) => {
        stream = openStream(signal);
        stream.send({ jsonrpc: "2.0", id: 9, method: "ping" });
        stream.send({ jsonrpc: "2.0", id: 10, method: "sampling/createMessage", params: {} });
        return stream.response;
      },
      // The server answers the call only once both of its requests are answered.
      POST: () => {
        if (seen.filter((request) => request.method === "POST" && request.rpc === undefined).length === 2) {
          stream!.send(answer);
          stream!.close();
        }
        return new Response(null, { status: 202 });
      },
      DELETE: () => new Response(null, { status: 200 }),
    });
    const others: JsonRpcMessage[] = [];
    const result = await callOnce({ url: URL_, method: "tools/call", headers: new Headers(), fetch: fetcher, timeoutMs: 5000, onOther: (m) => others.push(m) });
    expect(result).toEqual(answer);
    const replies = seen.filter((request) => request.method === "POST" && request.rpc === undefined);
    expect(replies.map((reply) => reply.body).sort((a, b) => Number(a?.id) - Number(b?.id))).toEqual([
      { jsonrpc: "2.0", id: 9, result: {} },
      { jsonrpc: "2.0", id: 10, error: { code: -32601, message: "not supported by mcp-client-credentials fetch --rpc" } },
    ]);
    for (const reply of replies) expect(reply.headers).toMatchObject({ "mcp-session-id": "session-1", "mcp-protocol-version": "2025-06-18" });
    expect(others.map((message) => message.method)).toEqual(["ping", "sampling/createMessage"]);
  });

  it("gives up on an answer that never comes after timeoutMs, naming the method and the time, and closes the session", async () => {
    const { seen, fetcher } = server({
      initialize: (message) => initialized(message),
      "tools/call": (_message, signal) => {
        const stream = openStream(signal);
        stream.send({ jsonrpc: "2.0", method: "notifications/progress", params: { progress: 1 } });
        return stream.response;
      },
      DELETE: () => new Response(null, { status: 200 }),
    });
    const error = await callOnce({ url: URL_, method: "tools/call", headers: new Headers(), fetch: fetcher, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcTimeoutError);
    expect((error as Error).message).toBe("tools/call: no answer within 200 ms (raise --timeout for a slow tool)");
    expect(seen.at(-1)?.method).toBe("DELETE");
  }, 6000);

  it("gives up on an initialize whose response never starts", async () => {
    const { fetcher } = server({ initialize: (_message, signal) => never(signal) });
    const error = await callOnce({ url: URL_, method: "ping", headers: new Headers(), fetch: fetcher, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcTimeoutError);
    expect((error as Error).message).toBe("initialize: no answer within 200 ms (raise --timeout for a slow tool)");
  }, 6000);

  it("returns the answer when the closing DELETE never answers (abandoned after about 3 s)", async () => {
    const { seen, fetcher } = server({
      initialize: (message) => initialized(message),
      ping: (message) => Response.json({ jsonrpc: "2.0", id: message.id, result: {} }),
      DELETE: (_message, signal) => never(signal),
    });
    expect(await callOnce({ url: URL_, method: "ping", headers: new Headers(), fetch: fetcher })).toEqual({ jsonrpc: "2.0", id: 2, result: {} });
    expect(seen.at(-1)?.method).toBe("DELETE");
  }, 6000);
});
