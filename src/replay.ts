import { authorize, initOf, ownHeaders, withField } from "./request-init.js";
import type { StoredToken } from "./types.js";

const CONTENT_HEADERS = ["content-type", "content-length", "content-encoding", "content-language", "content-location"];
/** What fetch (undici) drops on a redirect to another origin. */
const CROSS_ORIGIN_HEADERS = ["authorization", "proxy-authorization", "cookie"];

/**
 * A request as (url, init) whose body can be sent again after a 401: strings, bytes, forms and
 * blobs are reusable as they are; streams and `Request` bodies are buffered once.
 */
export class Replayable {
  constructor(
    readonly url: URL,
    private readonly init: RequestInit,
  ) {}

  /** A request whose body is already reusable; its headers become a copy of our own, whatever their shape or realm. */
  static of(url: URL, init: RequestInit): Replayable {
    return new Replayable(url, withField(init, "headers", ownHeaders(init.headers)));
  }

  static async from(input: string | URL | Request, init: RequestInit | undefined): Promise<Replayable> {
    if (input instanceof Request) {
      // workerd's Request constructor refuses redirect: "error"; it is kept on our side instead.
      const redirect = init?.redirect;
      const request = init ? new Request(input, redirect === "error" ? { ...init, redirect: "manual" } : init) : input;
      const body = request.body ? await request.arrayBuffer() : null;
      return new Replayable(new URL(request.url), { ...initOf(request), body, redirect: redirect ?? request.redirect });
    }
    const url = new URL(String(input), globalThis.location?.href);
    const body = init?.body;
    return Replayable.of(url, body instanceof ReadableStream ? withField(init ?? {}, "body", (await buffered(body)) as BodyInit) : (init ?? {}));
  }

  get signal(): AbortSignal | null | undefined {
    return this.init.signal;
  }

  get redirect(): RequestRedirect {
    return this.init.redirect ?? "follow";
  }

  /** As fetch sends it: the six standard methods upper-cased, any other verbatim (the proof's `htm` must match). */
  get method(): string {
    const method = this.init.method ?? "GET";
    return /^(?:delete|get|head|options|post|put)$/i.test(method) ? method.toUpperCase() : method;
  }

  /** The request to send, with the token (and for a DPoP-bound one, its proof) when given. */
  build(token: StoredToken | undefined, redirect: RequestRedirect, proof?: string): [string, RequestInit] {
    const init = { ...this.init, redirect };
    if (token) {
      const headers = ownHeaders(this.init.headers);
      // A caller that sets DPoP itself sets Authorization too, and is never authorized by us.
      if (proof !== undefined) {
        if (Array.isArray(headers)) headers.push(["dpop", proof]);
        else headers.dpop = proof;
      }
      init.headers = authorize(headers, `${proof === undefined ? "Bearer" : "DPoP"} ${token.accessToken}`);
    }
    return [this.url.href, init];
  }

  /** Fetch's redirect rules (fetch spec §4.4): 303, and 301/302 after POST, become GET without a body. */
  redirectTo(url: URL, status: number): Replayable {
    const method = (this.init.method ?? "GET").toUpperCase();
    const toGet = (status === 303 && method !== "HEAD") || ((status === 301 || status === 302) && method === "POST");
    const crossOrigin = url.origin !== this.url.origin;
    if (!toGet && !crossOrigin) return new Replayable(url, { ...this.init, method });
    const headers = new Headers(this.init.headers); // our own record or pairs (see of())
    if (toGet) for (const name of CONTENT_HEADERS) headers.delete(name);
    // As fetch does on a redirect to another origin: the caller's own credentials stay behind.
    if (crossOrigin) for (const name of CROSS_ORIGIN_HEADERS) headers.delete(name);
    return new Replayable(url, toGet ? { ...this.init, method: "GET", headers, body: null } : { ...this.init, method, headers });
  }
}

/** A stream's bytes: a reader loop, several times cheaper than `new Response(stream).arrayBuffer()`. */
export async function buffered(stream: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  const reader = stream.getReader();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    chunks.push(read.value as Uint8Array<ArrayBuffer>);
    size += read.value.byteLength;
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array<ArrayBuffer>;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
