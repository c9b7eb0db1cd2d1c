/**
 * Requests the stdio bridge forwarded and the remote server has not answered. A request whose
 * SSE stream ends without its answer, and without an event id to resume from, would leave the
 * client waiting for ever: it is answered with an error instead. The bridge also waits for
 * these before it closes the session when stdin ends (a script pipes its requests and leaves).
 */
export class PendingRequests {
  readonly #ids = new Set<string | number>();
  #drained: (() => void) | undefined;

  constructor(private readonly unanswered: (id: string | number) => void) {}

  add(id: string | number): void {
    this.#ids.add(id);
  }

  settle(id: string | number): void {
    if (this.#ids.delete(id) && this.#ids.size === 0) this.#drained?.();
  }

  /** Resolves when nothing is pending, or after `timeoutMs`. */
  drained(timeoutMs: number): Promise<void> {
    if (this.#ids.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * `next`, with each POSTed request's SSE answer watched: when the stream ends without an `id:`
   * field (nothing the transport could resume from), its requests still pending a moment later
   * are answered with an error.
   */
  watch(next: typeof fetch): typeof fetch {
    return async (input, init) => {
      const response = await next(input, init);
      const ids = init?.method === "POST" ? requestIds(init.body) : [];
      if (!ids.length || !response.body || !/^text\/event-stream/i.test(response.headers.get("content-type") ?? "")) return response;
      const decoder = new TextDecoder();
      let resumable = false;
      let head = ""; // the start of the line the last chunk ended in: an `id:` may be split across chunks
      const watched = response.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform: (chunk, controller) => {
            const text = head + decoder.decode(chunk, { stream: true });
            resumable ||= /(?:^|[\r\n])id:/.test(text);
            head = text.slice(Math.max(text.lastIndexOf("\n"), text.lastIndexOf("\r")) + 1).slice(0, 3);
            controller.enqueue(chunk);
          },
          // The transport parses what it already has after this: give it a moment to deliver the answer.
          flush: () => {
            if (resumable) return;
            setTimeout(() => {
              for (const id of ids) if (this.#ids.has(id)) this.unanswered(id);
            }, 1000).unref?.();
          },
        }),
      );
      return new Response(watched, { status: response.status, statusText: response.statusText, headers: response.headers });
    };
  }
}

/** The ids of the JSON-RPC requests in a POST body (one message or a batch). */
function requestIds(body: BodyInit | null | undefined): (string | number)[] {
  if (typeof body !== "string") return [];
  try {
    const parsed: unknown = JSON.parse(body);
    return (Array.isArray(parsed) ? parsed : [parsed]).flatMap((message: { id?: unknown; method?: unknown }) =>
      typeof message?.method === "string" && (typeof message.id === "string" || typeof message.id === "number") ? [message.id] : [],
    );
  } catch {
    return [];
  }
}
