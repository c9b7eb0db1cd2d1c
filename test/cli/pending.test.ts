import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PendingRequests } from "../../src/cli/pending.js";

beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] }));
afterEach(() => vi.useRealTimers());

/** Whether a promise has settled, once the microtasks queued so far have run. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => {
    settled = true;
  });
  for (let turn = 0; turn < 10; turn++) await Promise.resolve();
  return settled;
}

function pending() {
  const unanswered: (string | number)[] = [];
  return { requests: new PendingRequests((id) => unanswered.push(id)), unanswered };
}

describe("PendingRequests: drained", () => {
  it("resolves at once when nothing is pending", async () => {
    const { requests } = pending();
    expect(await isSettled(requests.drained(60_000))).toBe(true);
    requests.add(1);
    requests.settle(1);
    expect(await isSettled(requests.drained(60_000))).toBe(true);
  });

  it("resolves when the last pending request settles", async () => {
    const { requests } = pending();
    requests.add(1);
    requests.add("two");
    const drained = requests.drained(60_000);
    requests.settle(1);
    requests.settle(99); // never added: changes nothing
    expect(await isSettled(drained)).toBe(false);
    requests.settle("two");
    expect(await isSettled(drained)).toBe(true);
  });

  it("resolves after the timeout when a request is never answered", async () => {
    const { requests } = pending();
    requests.add(1);
    const drained = requests.drained(5000);
    vi.advanceTimersByTime(4999);
    expect(await isSettled(drained)).toBe(false);
    vi.advanceTimersByTime(1);
    expect(await isSettled(drained)).toBe(true);
  });
});

describe("PendingRequests: watch", () => {
  const SSE = { "content-type": "text/event-stream" };
  const request = (id: number) => ({ jsonrpc: "2.0", id, method: "tools/call", params: {} });
  const post = (body: unknown) => ({ method: "POST", body: JSON.stringify(body) });
  /** A fetch answering every request with this response. */
  const answering = (response: Response) => vi.fn(async () => response) as unknown as typeof fetch & ReturnType<typeof vi.fn>;

  it("reports the requests still pending a moment after an SSE stream ends without an event id, not the settled ones", async () => {
    const { requests, unanswered } = pending();
    requests.add(1);
    requests.add(2);
    const sse = new Response(`data: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress" })}\n\n`, { headers: SSE });
    const response = await requests.watch(answering(sse))("https://mcp.example.com/mcp", post([request(1), request(2)]));
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(await response.text()).toContain("notifications/progress");
    // The transport delivers what it read after the stream ended: 1 is answered in that moment.
    requests.settle(1);
    expect(unanswered).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(unanswered).toEqual([2]);
  });

  it("reports nothing when the stream carried an event id (the transport can resume it)", async () => {
    const { requests, unanswered } = pending();
    requests.add(1);
    const sse = new Response('id: event-1\ndata: {"jsonrpc":"2.0","method":"notifications/progress"}\n\n', { headers: SSE });
    const response = await requests.watch(answering(sse))("https://mcp.example.com/mcp", post(request(1)));
    await response.text();
    vi.advanceTimersByTime(10_000);
    expect(unanswered).toEqual([]);
  });

  it("returns a JSON response, a GET, and the answer to a notification untouched", async () => {
    const { requests, unanswered } = pending();
    requests.add(1);
    const json = Response.json({ jsonrpc: "2.0", id: 1, result: {} });
    expect(await requests.watch(answering(json))("https://mcp.example.com/mcp", post(request(1)))).toBe(json);
    const stream = new Response("data: x\n\n", { headers: SSE });
    expect(await requests.watch(answering(stream))("https://mcp.example.com/mcp", { method: "GET" })).toBe(stream);
    const notified = new Response("data: x\n\n", { headers: SSE });
    const notification = post({ jsonrpc: "2.0", method: "notifications/initialized" });
    expect(await requests.watch(answering(notified))("https://mcp.example.com/mcp", notification)).toBe(notified);
    await notified.text();
    vi.advanceTimersByTime(10_000);
    expect(unanswered).toEqual([]);
  });
});
