import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { memoryStore, withClientCredentials } from "../src/index.js";
import { CLIENT_ID, CLIENT_SECRET, collectEvents, json, rejection, useMockServer } from "./helpers.js";

const { mock: install } = useMockServer();
const options = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };

/** Echoes what it received, so a test can see exactly which headers crossed. */
const echo = (url: string) =>
  http.all(url, async ({ request }) =>
    HttpResponse.json({ url: request.url, method: request.method, authorization: request.headers.get("authorization"), body: await request.text() }),
  );

/** Redirects requests that carry a token (the first, unauthenticated attempt falls through to the kit). */
const redirect = (method: "get" | "post", url: string, status: number, location: string) =>
  http[method](url, ({ request }) => (request.headers.get("authorization") ? new HttpResponse(null, { status, headers: { location } }) : undefined));

describe("request bodies are replayed after a 401", () => {
  it.each([
    ["a string", () => "plain text body"],
    ["a Uint8Array", () => new TextEncoder().encode("bytes body")],
    ["URLSearchParams", () => new URLSearchParams({ a: "1", b: "two" })],
    ["a Blob", () => new Blob(["blob body"])],
    [
      "a ReadableStream",
      () =>
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode("streamed "));
            controller.enqueue(new TextEncoder().encode("body"));
            controller.close();
          },
        }),
    ],
  ])("with %s", async (_name, makeBody) => {
    const mock = install();
    const body = makeBody();
    const expected = body instanceof ReadableStream ? "streamed body" : await new Response(makeBody()).text();
    const response = await withClientCredentials(options)(fetch)(mock.resource, { method: "POST", body, duplex: "half" } as RequestInit);
    expect(response.status).toBe(200);
    const bodies = mock.requestsTo("resource").map((r) => r.body);
    expect(bodies).toEqual([expected, expected]);
  });

  it("with a Request input, keeping its method and headers", async () => {
    const mock = install();
    const request = new Request(mock.resource, { method: "PUT", body: '{"x":1}', headers: { "content-type": "application/json", "x-trace": "abc" } });
    const response = await withClientCredentials(options)(fetch)(request);
    expect(response.status).toBe(200);
    const [first, second] = mock.requestsTo("resource");
    expect([first!.method, second!.method]).toEqual(["PUT", "PUT"]);
    expect(second!.body).toBe('{"x":1}');
    expect(second!.headers["x-trace"]).toBe("abc");
    expect(second!.headers["content-type"]).toBe("application/json");
    expect(second!.headers.authorization).toMatch(/^Bearer /);
  });

  it("with a Request input plus init overriding its body", async () => {
    const mock = install();
    const response = await withClientCredentials(options)(fetch)(new Request(mock.resource, { method: "POST", body: "old" }), { method: "POST", body: "new" });
    expect(((await json(response)) as { body: string }).body).toBe("new");
  });
});

describe("caller headers", () => {
  it("are preserved next to the token", async () => {
    const mock = install();
    await withClientCredentials(options)(fetch)(mock.resource, {
      headers: { accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18" },
    });
    const retried = mock.requestsTo("resource")[1]!;
    expect(retried.headers.accept).toBe("application/json, text/event-stream");
    expect(retried.headers["mcp-protocol-version"]).toBe("2025-06-18");
  });

  it("a caller's own Authorization header means hands off", async () => {
    const mock = install();
    const response = await withClientCredentials(options)(fetch)(mock.resource, { headers: { Authorization: "Bearer mine" } });
    expect(response.status).toBe(401);
    expect(mock.requests.map((r) => r.endpoint)).toEqual(["resource"]);
    expect(mock.requestsTo("resource")[0]!.headers.authorization).toBe("Bearer mine");
  });
});

describe("caller headers on the hot path (a cached token)", () => {
  const shapes: Array<[string, () => HeadersInit]> = [
    ["a record", () => ({ "x-trace": "t" })],
    ["an array of pairs", () => [["x-trace", "t"]]],
    ["a Headers object", () => new Headers({ "x-trace": "t" })],
  ];

  it.each(shapes)("%s gets the token next to its own headers, and is never modified", async (_, make) => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    await authFetch(mock.resource);
    const headers = make();
    const before = JSON.stringify([...new Headers(headers)]);
    await authFetch(mock.resource, { headers });
    await authFetch(mock.resource, { headers });
    for (const sent of mock.requestsTo("resource").slice(-2)) {
      expect(sent.headers["x-trace"]).toBe("t");
      expect(sent.headers.authorization).toBe(`Bearer ${mock.tokens[0]!.accessToken}`);
    }
    expect(JSON.stringify([...new Headers(headers)])).toBe(before);
  });

  it.each([
    ["a record", { AUTHORIZATION: "Bearer mine" }],
    ["an array of pairs", [["Authorization", "Bearer mine"]]],
    ["a Headers object", new Headers({ authorization: "Bearer mine" })],
  ] as Array<[string, HeadersInit]>)("a caller's own Authorization in %s means hands off", async (_, headers) => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    await authFetch(mock.resource);
    mock.clearRequests();
    await authFetch(mock.resource, { headers });
    expect(mock.requests.map((r) => [r.endpoint, r.headers.authorization])).toEqual([["resource", "Bearer mine"]]);
  });

  it("headers given as an iterator or a Map keep every header, and a caller's Authorization in them means hands off", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    // Cold: the first request (a 401, then the retry) keeps them too.
    await authFetch(mock.resource, { headers: new Headers({ "x-trace": "cold" }).entries() as unknown as HeadersInit });
    expect(mock.requestsTo("resource").map((r) => r.headers["x-trace"])).toEqual(["cold", "cold"]);
    const pairs = (): Iterable<[string, string]> => new Headers({ "x-trace": "t", Authorization: "Bearer mine" }).entries();
    mock.clearRequests();
    await authFetch(mock.resource, { headers: pairs() as unknown as HeadersInit });
    expect(mock.requests.map((r) => [r.endpoint, r.headers.authorization, r.headers["x-trace"]])).toEqual([["resource", "Bearer mine", "t"]]);
    await authFetch(mock.resource, { headers: new Map([["x-trace", "m"]]) as unknown as HeadersInit });
    const sent = mock.requestsTo("resource").at(-1)!;
    expect([sent.headers.authorization, sent.headers["x-trace"]]).toEqual([`Bearer ${mock.tokens[0]!.accessToken}`, "m"]);
    // A cached token the resource rejects: the retry (a new token) still carries the iterator's headers.
    mock.revoke(mock.tokens[0]!.accessToken);
    mock.clearRequests();
    await authFetch(mock.resource, { headers: new Headers({ "x-trace": "again" }).entries() as unknown as HeadersInit });
    expect(mock.requestsTo("resource").map((r) => [r.headers["x-trace"], r.headers.authorization])).toEqual([
      ["again", `Bearer ${mock.tokens[0]!.accessToken}`],
      ["again", `Bearer ${mock.tokens[1]!.accessToken}`],
    ]);
  });

  it("a 303 on the hot path keeps headers from a Headers object of another realm", async () => {
    const mock = install(
      {},
      http.post("https://mcp.example.com/mcp/moved", () => new HttpResponse(null, { status: 303, headers: { location: "https://mcp.example.com/mcp/there" } })),
    );
    const authFetch = withClientCredentials(options)(fetch);
    await authFetch(mock.resource);
    const foreign = { forEach: (callback: (value: string, name: string) => void) => callback("trace-2", "x-trace") } as unknown as Headers;
    await authFetch("https://mcp.example.com/mcp/moved", { method: "POST", body: "x", headers: foreign });
    const followed = mock.requestsTo("resource").at(-1)!;
    expect([followed.method, followed.headers["x-trace"], followed.headers.authorization]).toEqual(["GET", "trace-2", `Bearer ${mock.tokens[0]!.accessToken}`]);
  });

  it("a stream body on a cached token is buffered, so a 401 for a revoked token can still be replayed", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    await authFetch(mock.resource);
    mock.revoke(mock.tokens[0]!.accessToken);
    const body = new Blob(['{"jsonrpc":"2.0","id":7}']).stream();
    const response = await authFetch(mock.resource, { method: "POST", body, duplex: "half" } as RequestInit);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { body: string }).body).toBe('{"jsonrpc":"2.0","id":7}');
    expect(mock.requestsTo("token")).toHaveLength(2);
  });

  it("an invalid URL rejects (as fetch does) instead of throwing synchronously", async () => {
    const authFetch = withClientCredentials(options)(fetch);
    let call: Promise<Response> | undefined;
    expect(() => {
      call = authFetch("http://[bad");
    }).not.toThrow();
    await expect(call).rejects.toThrow(TypeError);
  });
});

describe("403 insufficient_scope", () => {
  it("steps up once with the union of current and challenged scopes", async () => {
    const mock = install({ requiredScopes: ["mcp:write"] });
    const { events, onEvent } = collectEvents();
    const authFetch = withClientCredentials({ ...options, scope: "mcp:read", onEvent })(fetch);
    const response = await authFetch(mock.resource, { method: "POST", body: "payload" });
    expect(response.status).toBe(200);
    expect(mock.tokens.map((t) => t.scope)).toEqual(["mcp:read", "mcp:read mcp:write"]);
    expect(mock.requestsTo("resource").map((r) => r.body)).toEqual(["payload", "payload", "payload"]);
    expect(events.filter((e) => e.type === "retry").map((e) => e.type === "retry" && e.reason)).toEqual(["unauthorized", "insufficient_scope"]);
    // the wider token is remembered for later calls
    mock.clearRequests();
    await authFetch(mock.resource);
    expect(mock.requests.map((r) => r.endpoint)).toEqual(["resource"]);
  });

  it("does not step up again when the wider token is still refused", async () => {
    const mock = install({ requiredScopes: ["admin"], clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, scopes: ["mcp:read", "admin"] }] });
    const authFetch = withClientCredentials({ ...options, scope: "mcp:read" })(fetch);
    await authFetch.getToken(mock.resource);
    mock.clearRequests();
    mock.fault("resource", { kind: "status", status: 403, headers: { "www-authenticate": 'Bearer error="insufficient_scope", scope="admin"' } }, 5);
    const response = await authFetch(mock.resource);
    expect(response.status).toBe(403);
    expect(mock.requestsTo("resource")).toHaveLength(2);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("a 403 without insufficient_scope is returned as is", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    await authFetch(mock.resource);
    mock.clearRequests();
    mock.fault("resource", { kind: "status", status: 403, headers: { "www-authenticate": 'Bearer error="access_denied"' } });
    expect((await authFetch(mock.resource)).status).toBe(403);
    expect(mock.requests).toHaveLength(1);
  });
});

describe("tokens never leave their resource", () => {
  it("are not sent to another origin, nor to a path outside the resource on the same origin", async () => {
    const mock = install({}, echo("https://other.example.com/api"), echo("https://mcp.example.com/other"), echo("https://mcp.example.com/mcpx"));
    const authFetch = withClientCredentials(options)(fetch);
    await authFetch(mock.resource);
    for (const url of ["https://other.example.com/api", "https://mcp.example.com/other", "https://mcp.example.com/mcpx"]) {
      const seen = (await json(await authFetch(url, { method: "POST", body: "x" }))) as { authorization: string | null };
      expect(seen.authorization).toBeNull();
    }
  });

  it("are not sent along a redirect to another origin", async () => {
    const mock = install(
      {},
      redirect("get", "https://mcp.example.com/mcp/redirect", 302, "https://evil.example.com/steal"),
      echo("https://evil.example.com/steal"),
    );
    const authFetch = withClientCredentials(options)(fetch);
    await authFetch(mock.resource);
    const response = await authFetch("https://mcp.example.com/mcp/redirect");
    expect(response.status).toBe(200);
    expect(((await json(response)) as { authorization: string | null }).authorization).toBeNull();
  });

  it("are kept along a redirect that stays under the resource, with 307 keeping method and body", async () => {
    const mock = install({}, redirect("post", "https://mcp.example.com/mcp/old", 307, "/mcp/new"), echo("https://mcp.example.com/mcp/new"));
    const authFetch = withClientCredentials(options)(fetch);
    await authFetch(mock.resource);
    const seen = (await json(await authFetch("https://mcp.example.com/mcp/old", { method: "POST", body: "kept" }))) as Record<string, string>;
    expect(seen).toMatchObject({ method: "POST", body: "kept", authorization: `Bearer ${mock.tokens[0]!.accessToken}` });
  });

  it("a 303 after POST becomes a GET without a body", async () => {
    const mock = install({}, redirect("post", "https://mcp.example.com/mcp/submit", 303, "/mcp/result"), echo("https://mcp.example.com/mcp/result"));
    const authFetch = withClientCredentials(options)(fetch);
    await authFetch(mock.resource);
    const seen = (await json(await authFetch("https://mcp.example.com/mcp/submit", { method: "POST", body: "form" }))) as Record<string, string>;
    expect(seen).toMatchObject({ method: "GET", body: "" });
  });

  it("a caller's redirect: 'manual' is respected", async () => {
    const mock = install({}, redirect("get", "https://mcp.example.com/mcp/moved", 301, "https://elsewhere.example.com/"));
    const authFetch = withClientCredentials(options)(fetch);
    await authFetch(mock.resource);
    const response = await authFetch("https://mcp.example.com/mcp/moved", { redirect: "manual" });
    expect(response.status).toBe(301);
  });

  describe('redirect: "error" (workerd rejects it: sent as "manual", a redirect becomes our typed error)', () => {
    const seenModes = () => {
      const modes: Array<RequestRedirect | undefined> = [];
      const next = (input: string | URL | Request, init?: RequestInit) => {
        modes.push(init?.redirect);
        return fetch(input, init);
      };
      return { modes, next };
    };

    it("a plain answer goes through, on the first call (401, discovery, retry) and on the hot path", async () => {
      const mock = install();
      const { modes, next } = seenModes();
      const authFetch = withClientCredentials(options)(next);
      expect((await authFetch(mock.resource, { redirect: "error" })).status).toBe(200);
      expect((await authFetch(mock.resource, { redirect: "error" })).status).toBe(200);
      expect(mock.requestsTo("resource")).toHaveLength(3);
      // Only the resource requests carry the caller's mode; none reaches next as "error".
      expect(modes).not.toContain("error");
    });

    it.each([301, 302, 303, 307, 308])("a %i from the resource on the hot path rejects with unexpected_redirect", async (status) => {
      const mock = install({}, redirect("get", "https://mcp.example.com/mcp/moved", status, "https://elsewhere.example.com/"));
      const authFetch = withClientCredentials(options)(fetch);
      await authFetch(mock.resource);
      const error = await rejection(authFetch("https://mcp.example.com/mcp/moved", { redirect: "error" }));
      expect(error).toMatchObject({ phase: "resource", code: "unexpected_redirect", status, url: "https://mcp.example.com/mcp/moved" });
    });

    it("a redirect on the first call (no token yet) rejects the same way", async () => {
      const mock = install(
        {},
        http.get("https://mcp.example.com/mcp/first", () => new HttpResponse(null, { status: 302, headers: { location: "/x" } })),
      );
      const error = await rejection(withClientCredentials(options)(fetch)("https://mcp.example.com/mcp/first", { redirect: "error" }));
      expect(error).toMatchObject({ code: "unexpected_redirect", status: 302 });
      expect(mock.requestsTo("token")).toHaveLength(0);
    });

    it("a redirect after the retry with a new token rejects the same way", async () => {
      const mock = install({}, redirect("get", "https://mcp.example.com/mcp/after", 307, "/mcp"));
      const error = await rejection(withClientCredentials(options)(fetch)("https://mcp.example.com/mcp/after", { redirect: "error" }));
      expect(error).toMatchObject({ code: "unexpected_redirect", status: 307 });
      expect(mock.requestsTo("token")).toHaveLength(1);
    });

    it("requests that are not ours (another origin, a caller's Authorization, a Request) are checked too", async () => {
      install(
        {},
        http.get("https://other.example.com/*", () => new HttpResponse(null, { status: 302, headers: { location: "/" } })),
      );
      const authFetch = withClientCredentials(options)(fetch);
      const url = "https://other.example.com/a?secret=1";
      for (const call of [
        () => authFetch(url, { redirect: "error" }),
        () => authFetch(url, { redirect: "error", headers: { authorization: "Basic eDp5" } }),
        () => authFetch(new Request(url, { redirect: "error" })),
      ]) {
        const error = await rejection(call());
        expect(error).toMatchObject({ code: "unexpected_redirect", url: "https://other.example.com/a" });
        expect(error.message).not.toContain("secret");
      }
    });

    it('a Request input with redirect: "error" in init (workerd\'s Request constructor refuses it) is sent as manual', async () => {
      const mock = install();
      const { modes, next } = seenModes();
      const authFetch = withClientCredentials(options)(next);
      const response = await authFetch(new Request(mock.resource, { method: "POST", body: "kept" }), { redirect: "error" });
      expect(response.status).toBe(200);
      expect(modes).not.toContain("error");
      expect(mock.requestsTo("resource").map((r) => r.body)).toEqual(["kept", "kept"]);
    });

    it("a 304 or a 3xx that is not a redirect status is an answer, as in fetch", async () => {
      const mock = install(
        {},
        http.get("https://mcp.example.com/mcp/cached", () => new HttpResponse(null, { status: 304 })),
      );
      const authFetch = withClientCredentials(options)(fetch);
      await authFetch(mock.resource);
      expect((await authFetch("https://mcp.example.com/mcp/cached", { redirect: "error" })).status).toBe(304);
    });
  });

  it("stops after 20 redirects with a typed error", async () => {
    const mock = install({}, redirect("get", "https://mcp.example.com/mcp/loop", 302, "/mcp/loop"));
    const authFetch = withClientCredentials(options)(fetch);
    await authFetch(mock.resource);
    await expect(authFetch("https://mcp.example.com/mcp/loop")).rejects.toMatchObject({ phase: "resource", code: "too_many_redirects" });
  });

  it("are not attached to plain-http resources off loopback", async () => {
    const mock = install({ resource: "http://mcp.example.com/mcp" });
    await expect(withClientCredentials(options)(fetch)(mock.resource)).rejects.toMatchObject({ phase: "resource", code: "insecure_url" });
    expect(mock.requestsTo("token")).toHaveLength(0);
  });

  it("are attached to http on loopback", async () => {
    const mock = install({ resource: "http://127.0.0.1:9/mcp", issuer: "http://localhost:9" });
    expect((await withClientCredentials(options)(fetch)(mock.resource)).status).toBe(200);
  });
});

describe("invalidate(resourceUrl, rejectedToken?)", () => {
  const metadataRequests = (mock: ReturnType<typeof install>) =>
    mock.requestsTo("resource-metadata").length + mock.requestsTo("authorization-server-metadata").length;

  it("forgets one resource's token and keeps discovery: the next call costs one token request and nothing else", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    await authFetch(mock.resource);
    const discovery = metadataRequests(mock);
    await authFetch.invalidate(mock.resource);
    const response = await authFetch(mock.resource);
    expect(response.status).toBe(200);
    expect(mock.requestsTo("token")).toHaveLength(2);
    expect(metadataRequests(mock)).toBe(discovery);
    // No 401 first: the request went out with the new token at once.
    expect(mock.requestsTo("resource").map((r) => r.headers.authorization)).toEqual([
      undefined,
      `Bearer ${mock.tokens[0]!.accessToken}`,
      `Bearer ${mock.tokens[1]!.accessToken}`,
    ]);
  });

  it("with a rejected token, forgets only that one: a token that replaced it stays", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    const first = await authFetch.getToken(mock.resource);
    await authFetch.invalidate(mock.resource, first.accessToken);
    const second = await authFetch.getToken(mock.resource);
    expect(second.accessToken).not.toBe(first.accessToken);
    await authFetch.invalidate(mock.resource, first.accessToken); // late news about the old token
    expect((await authFetch.getToken(mock.resource)).accessToken).toBe(second.accessToken);
    expect(mock.requestsTo("token")).toHaveLength(2);
  });

  it("deletes the token from a shared store, so a new instance on that store does not get it back", async () => {
    const mock = install();
    const store = memoryStore();
    const first = withClientCredentials({ ...options, store })(fetch);
    const token = await first.getToken(mock.resource);
    expect((await withClientCredentials({ ...options, store })(fetch).getToken(mock.resource)).accessToken).toBe(token.accessToken);
    await first.invalidate(mock.resource, token.accessToken);
    const fresh = await withClientCredentials({ ...options, store })(fetch).getToken(mock.resource);
    expect(fresh.accessToken).not.toBe(token.accessToken);
    expect(mock.requestsTo("token")).toHaveLength(2);
  });

  it("keeps a token another instance has since put in the store", async () => {
    const mock = install();
    const store = memoryStore();
    const first = withClientCredentials({ ...options, store })(fetch);
    const old = await first.getToken(mock.resource);
    await first.invalidate(mock.resource, old.accessToken);
    const replacement = await withClientCredentials({ ...options, store })(fetch).getToken(mock.resource);
    await first.invalidate(mock.resource, old.accessToken); // late news about the old token
    expect((await withClientCredentials({ ...options, store })(fetch).getToken(mock.resource)).accessToken).toBe(replacement.accessToken);
    expect(mock.requestsTo("token")).toHaveLength(2);
  });

  it("only touches the resource it names", async () => {
    const mock = install({ resource: "https://mcp.example.com/a" });
    const authFetch = withClientCredentials(options)(fetch);
    const token = await authFetch.getToken(mock.resource);
    await authFetch.invalidate("https://mcp.example.com/b");
    expect((await authFetch.getToken(mock.resource)).accessToken).toBe(token.accessToken);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("for a URL it never saw, resolves without a request", async () => {
    const mock = install();
    await withClientCredentials(options)(fetch).invalidate(mock.resource);
    expect(mock.requests).toHaveLength(0);
  });
});

describe("composition", () => {
  it("wraps any fetch-like next and calls it for every request, including the authorization server's", async () => {
    const mock = install();
    const seen: string[] = [];
    const next = (input: string | URL | Request, init?: RequestInit) => {
      seen.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
      return fetch(input, init);
    };
    expect((await withClientCredentials(options)(next)(mock.resource)).status).toBe(200);
    expect(seen).toEqual(["/mcp", "/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server", "/token", "/mcp"]);
  });

  it("calls next as (url, init), never with a Request, so SDK middlewares can read init", async () => {
    const mock = install();
    const calls: Array<{ input: unknown; method?: string; auth: string | null }> = [];
    const next = (input: string | URL, init?: RequestInit) => {
      calls.push({ input, method: init?.method, auth: new Headers(init?.headers).get("authorization") });
      return fetch(input, init);
    };
    const response = await withClientCredentials(options)(next)(new Request(mock.resource, { method: "POST", body: "x" }));
    expect(response.status).toBe(200);
    expect(calls.every((call) => typeof call.input === "string")).toBe(true);
    expect(calls.map((call) => call.method)).toEqual(["POST", "GET", "GET", "POST", "POST"]);
    expect(calls[3]!.auth).toMatch(/^Basic /); // the token request's credentials are in init.headers
    expect(calls[4]!.auth).toMatch(/^Bearer /);
  });

  it("calls next as a plain function (browsers and workerd reject fetch called with a `this`)", async () => {
    const mock = install();
    const strictFetch = function (this: unknown, input: string | URL, init?: RequestInit) {
      if (this !== undefined) throw new TypeError("Illegal invocation");
      return fetch(input, init);
    };
    expect((await withClientCredentials(options)(strictFetch)(mock.resource)).status).toBe(200);
  });

  it("copies headers from a Headers object of another realm or polyfill", async () => {
    const mock = install();
    const foreign = { forEach: (callback: (value: string, name: string) => void) => callback("trace-1", "x-trace") } as unknown as Headers;
    await withClientCredentials(options)(fetch)(mock.resource, { headers: foreign });
    expect(mock.requestsTo("resource").map((r) => r.headers["x-trace"])).toEqual(["trace-1", "trace-1"]);
  });

  it("defaults next to the global fetch at call time (so test interceptors installed later apply)", async () => {
    const authFetch = withClientCredentials(options)();
    const mock = install();
    expect((await authFetch(mock.resource)).status).toBe(200);
  });
});
