import { copyHeaders, initOf } from "./request-init.js";
import type { StoredToken } from "./types.js";

/** A request as (url, init) with its body buffered up front, so it can be sent again after a 401. */
export class Replayable {
  private constructor(
    readonly url: URL,
    private readonly init: RequestInit,
    private readonly headers: Headers,
    private readonly body: BodyInit | null,
  ) {}

  static async from(input: string | URL | Request, init: RequestInit | undefined): Promise<Replayable> {
    if (input instanceof Request) {
      const request = init ? new Request(input, init) : input;
      const body = request.body ? await request.arrayBuffer() : null;
      return new Replayable(new URL(request.url), initOf(request), copyHeaders(request.headers), body);
    }
    const url = new URL(String(input), globalThis.location?.href);
    const raw = init?.body ?? null;
    const body = raw instanceof ReadableStream ? await new Response(raw).arrayBuffer() : raw;
    return new Replayable(url, init ?? {}, copyHeaders(init?.headers), body);
  }

  get signal(): AbortSignal | null | undefined {
    return this.init.signal;
  }

  get redirect(): RequestRedirect {
    return this.init.redirect ?? "follow";
  }

  build(token: StoredToken | undefined, redirect: RequestRedirect): [string, RequestInit] {
    const headers = new Headers(this.headers);
    if (token) headers.set("authorization", `Bearer ${token.accessToken}`);
    return [this.url.href, { ...this.init, headers, body: this.body, redirect }];
  }

  /** Fetch's redirect rules (fetch spec §4.4): 303, and 301/302 after POST, become GET without a body. */
  redirectTo(url: URL, status: number): Replayable {
    const method = (this.init.method ?? "GET").toUpperCase();
    const toGet = (status === 303 && method !== "HEAD") || ((status === 301 || status === 302) && method === "POST");
    const headers = new Headers(this.headers);
    if (toGet) for (const name of ["content-type", "content-length", "content-encoding", "content-language", "content-location"]) headers.delete(name);
    return new Replayable(url, { ...this.init, method: toGet ? "GET" : method }, headers, toGet ? null : this.body);
  }
}
