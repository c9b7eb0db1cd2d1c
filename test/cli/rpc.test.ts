import { describe, expect, it } from "vitest";
import { rpcMessages, sseEvents } from "../../src/cli/rpc.js";

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
