import { createParser, type EventSourceMessage } from "eventsource-parser";
import { parseJson } from "../http.js";

/** The protocol version `--rpc` asks for; the server answers with the one it speaks. */
export const PROTOCOL_VERSION = "2025-11-25";
declare const PACKAGE_VERSION: string | undefined;
export const VERSION = typeof PACKAGE_VERSION === "string" ? PACKAGE_VERSION : "0.0.0-dev";

export type JsonRpcMessage = { jsonrpc: "2.0"; id?: string | number | null; method?: string; params?: unknown; result?: unknown; error?: unknown };

/** The events of an SSE body as they arrive (eventsource-parser, as the MCP SDK uses). */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<EventSourceMessage> {
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => queue.push(event) });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
      while (queue.length) yield queue.shift()!;
    }
    parser.feed(decoder.decode());
    while (queue.length) yield queue.shift()!;
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** JSON-RPC messages from a Streamable HTTP response: a JSON body (one or a batch) or SSE events' data. */
export async function* rpcMessages(response: Response): AsyncGenerator<JsonRpcMessage> {
  const type = response.headers.get("content-type") ?? "";
  if (!response.body) return;
  if (/^text\/event-stream/i.test(type)) {
    for await (const event of sseEvents(response.body)) {
      if (!event.data) continue;
      const parsed = parseJson(event.data);
      if (parsed !== undefined) yield* asMessages(parsed);
    }
    return;
  }
  const text = await response.text();
  const parsed = parseJson(text);
  if (parsed !== undefined) yield* asMessages(parsed);
}

function* asMessages(value: unknown): Generator<JsonRpcMessage> {
  for (const item of Array.isArray(value) ? value : [value]) {
    if (item && typeof item === "object" && (item as { jsonrpc?: unknown }).jsonrpc === "2.0") yield item as JsonRpcMessage;
  }
}

export interface RpcCall {
  url: URL;
  method: string;
  params?: unknown;
  headers: Headers;
  fetch: typeof fetch;
  /**
   * How long initialize, and then the request, may take to be answered.
   * @default 60000, as the MCP SDK's Client waits (a tool may take a while)
   */
  timeoutMs?: number;
  /** Messages that are not the answer (progress, logging, server requests), as they arrive. */
  onOther?: (message: JsonRpcMessage) => void;
}

/** How long the closing DELETE may take: the answer is in hand, a slow goodbye must not hold it. */
const CLOSE_TIMEOUT_MS = 3000;

/**
 * One MCP request as a script needs it: initialize (the session and protocol version the server
 * hands out), notifications/initialized, the request, and the session closed again. `initialize`
 * itself is sent alone. Returns the response to the request, or throws with the HTTP status.
 */
export async function callOnce(options: RpcCall): Promise<JsonRpcMessage> {
  const call = { ...options, timeoutMs: options.timeoutMs ?? 60_000 };
  const headers = new Headers(call.headers);
  headers.set("content-type", "application/json");
  headers.set("accept", "application/json, text/event-stream");
  const post = async (message: JsonRpcMessage, signal?: AbortSignal) => {
    const response = await call.fetch(call.url, { method: "POST", headers, body: JSON.stringify(message), signal });
    if (!response.ok) {
      const text = (await response.text().catch(() => "")).slice(0, 500);
      throw new RpcHttpError(response.status, message.method ?? "request", text);
    }
    return response;
  };
  /** Sent while waiting: a server may ask something of us (a ping must be answered; the rest we cannot do). */
  const reply = (request: JsonRpcMessage) => {
    const answer = request.method === "ping" ? { result: {} } : { error: { code: -32601, message: "not supported by mcp-client-credentials fetch --rpc" } };
    post({ jsonrpc: "2.0", id: request.id, ...answer }, AbortSignal.timeout(CLOSE_TIMEOUT_MS)).then(
      (response) => response.body?.cancel(),
      () => {},
    );
  };
  const answer = async (response: Response, id: number, what: string) => {
    try {
      for await (const message of rpcMessages(response)) {
        if (message.id === id && message.method === undefined) return message;
        if (message.method !== undefined && message.id !== undefined && message.id !== null) reply(message);
        call.onOther?.(message);
      }
    } catch (error) {
      if ((error as { name?: string }).name === "TimeoutError") throw new RpcTimeoutError(what, call.timeoutMs);
      throw error;
    }
    throw new RpcHttpError(response.status, what, "the server closed the response without answering the request");
  };
  /** POSTs a request and reads its answer within the timeout. */
  const ask = async (message: JsonRpcMessage & { id: number; method: string }) => {
    const signal = AbortSignal.timeout(call.timeoutMs);
    try {
      return { response: await post(message, signal), signal };
    } catch (error) {
      if ((error as { name?: string }).name === "TimeoutError") throw new RpcTimeoutError(message.method, call.timeoutMs);
      throw error;
    }
  };
  const initialize: JsonRpcMessage = {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "mcp-client-credentials", version: VERSION } },
  };
  const alone = call.method === "initialize";
  const { response: initialized } = await ask(
    alone ? { ...initialize, id: 1, method: "initialize", params: call.params ?? initialize.params } : { ...initialize, id: 1, method: "initialize" },
  );
  const session = initialized.headers.get("mcp-session-id");
  if (session) headers.set("mcp-session-id", session);
  try {
    const result = (await answer(initialized, 1, "initialize")) as { result?: { protocolVersion?: unknown }; error?: unknown };
    if (alone || result.error) return result as JsonRpcMessage;
    if (typeof result.result?.protocolVersion === "string") headers.set("mcp-protocol-version", result.result.protocolVersion);
    await (
      await post({ jsonrpc: "2.0", method: "notifications/initialized" }, AbortSignal.timeout(call.timeoutMs)).catch((error: unknown) => {
        throw (error as { name?: string }).name === "TimeoutError" ? new RpcTimeoutError("notifications/initialized", call.timeoutMs) : error;
      })
    ).body?.cancel();
    return await answer((await ask({ jsonrpc: "2.0", id: 2, method: call.method, params: call.params })).response, 2, call.method);
  } finally {
    // A session left open holds server memory until it times out; 405 means the server keeps none.
    if (session) {
      const closed = await call.fetch(call.url, { method: "DELETE", headers, signal: AbortSignal.timeout(CLOSE_TIMEOUT_MS) }).catch(() => undefined);
      await closed?.body?.cancel().catch(() => {});
    }
  }
}

export class RpcHttpError extends Error {
  override readonly name = "RpcHttpError";
  constructor(
    readonly status: number,
    what: string,
    body: string,
  ) {
    super(`${what}: the server answered HTTP ${status}${body ? `: ${body.replace(/\s+/g, " ").trim()}` : ""}`);
  }
}

export class RpcTimeoutError extends Error {
  override readonly name = "RpcTimeoutError";
  constructor(what: string, timeoutMs: number) {
    super(`${what}: no answer within ${timeoutMs} ms (raise --timeout for a slow tool)`);
  }
}
