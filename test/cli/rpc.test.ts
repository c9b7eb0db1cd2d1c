import { describe, expect, it } from "vitest";
import { callOnce, type JsonRpcMessage, PROTOCOL_VERSION, RpcHttpError, rpcMessages, sseEvents } from "../../src/cli/rpc.js";

const SSE = { "content-type": "text/event-stream" };

/** A body that arrives in exactly these byte chunks. */
function chunked(...chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      controller.close();
    },
  });
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe("sseEvents", () => {
  it("reassembles events split mid-line and mid-UTF-8 character", async () => {
    const bytes = new TextEncoder().encode('event: message\ndata: {"text":"é€😀"}\n\nid: 7\ndata: second\n\n');
    // Cut inside the two-byte é, the three-byte €, the four-byte emoji and a field name.
    const e = bytes.indexOf(0xc3) + 1;
    const euro = bytes.indexOf(0xe2) + 2;
    const emoji = bytes.indexOf(0xf0) + 3;
    const field = bytes.length - "ta: second\n\n".length; // inside the second "data"
    const cuts = [0, 3, e, euro, emoji, field, bytes.length];
    const parts = cuts.slice(1).map((end, index) => bytes.slice(cuts[index], end));
    const events = await collect(sseEvents(chunked(...parts)));
    expect(events.map(({ event, data, id }) => ({ event, data, id }))).toEqual([
      { event: "message", data: '{"text":"é€😀"}', id: undefined },
      { event: undefined, data: "second", id: "7" },
    ]);
  });

  it("skips comments and retry lines, and joins multi-line data", async () => {
    const events = await collect(sseEvents(chunked(": keep-alive\nretry: 1000\n\ndata: a\ndata: b\n\n")));
    expect(events.map((event) => event.data)).toEqual(["a\nb"]);
  });

  it("yields a last event the stream ends inside of only once it is terminated", async () => {
    expect((await collect(sseEvents(chunked("data: done\n\ndata: unterminated")))).map((event) => event.data)).toEqual(["done"]);
  });
});

describe("rpcMessages", () => {
  const ping = { jsonrpc: "2.0", id: 1, result: {} };

  it("reads one JSON message", async () => {
    expect(await collect(rpcMessages(Response.json(ping)))).toEqual([ping]);
  });

  it("reads a JSON batch, dropping items that are not JSON-RPC 2.0", async () => {
    const batch = [ping, { jsonrpc: "1.0", id: 2 }, "text", null, { jsonrpc: "2.0", method: "notifications/progress" }];
    expect(await collect(rpcMessages(Response.json(batch)))).toEqual([ping, { jsonrpc: "2.0", method: "notifications/progress" }]);
  });

  it("reads several SSE events, ignoring non-JSON and empty data", async () => {
    const body = chunked(
      ": comment\nretry: 500\n\n",
      `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/message" })}\n\n`,
      "data: not json\n\nevent: ping\ndata:\n\n",
      `data: ${JSON.stringify([ping, { jsonrpc: "2.0", id: 2, result: 3 }]).slice(0, 20)}`,
      `${JSON.stringify([ping, { jsonrpc: "2.0", id: 2, result: 3 }]).slice(20)}\n\n`,
    );
    const messages = await collect(rpcMessages(new Response(body, { headers: SSE })));
    expect(messages).toEqual([{ jsonrpc: "2.0", method: "notifications/message" }, ping, { jsonrpc: "2.0", id: 2, result: 3 }]);
  });

  it("reads nothing from an empty or non-JSON body", async () => {
    expect(await collect(rpcMessages(new Response(null, { status: 202 })))).toEqual([]);
    expect(await collect(rpcMessages(new Response("<html>", { headers: { "content-type": "text/html" } })))).toEqual([]);
  });
});

interface Seen {
  method: string;
  rpc?: string;
  headers: Record<string, string>;
  body?: JsonRpcMessage;
}

/**
 * A Streamable HTTP server as a fetch function: `answers` maps an RPC method (or "DELETE") to
 * the Response it gets; every request is recorded.
 */
function server(answers: Record<string, (message: JsonRpcMessage) => Response>) {
  const seen: Seen[] = [];
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const body = request.method === "POST" ? ((await request.json()) as JsonRpcMessage) : undefined;
    seen.push({ method: request.method, rpc: body?.method, headers: Object.fromEntries(request.headers), body });
    const answer = answers[body?.method ?? request.method];
    return answer ? answer(body!) : new Response(null, { status: 202 });
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
