// Faults at the socket level from a real loopback server (servers/faulty.mjs): resets, stalls,
// truncated and oversized bodies, 429/5xx with Retry-After, redirects, 401 loops. Each case checks
// the typed error a user sees, how many requests each endpoint got (retries are bounded), that a
// failure caches nothing, and that neither the client secret nor any issued token leaks.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ClientCredentialsError, type ClientCredentialsEvent, type ClientCredentialsOptions, withClientCredentials } from "../../src/index.js";
import { type Behaviour, canary, type Endpoint, type FaultyServer, redirect, type Sink, start, startSink, status } from "./servers/faulty.mjs";

const CLIENT_ID = "faulty-client";
const SECRET = canary("secret");
/** What client_secret_basic sends: a leaked Authorization header shows the secret only in this form. */
const BASIC = Buffer.from(`${CLIENT_ID}:${SECRET}`).toString("base64");
/** Loose enough for a loaded machine; only a hang (or a wait the client should not make) exceeds it. */
const HANG_MS = 8_000;
const HTML_PAGE = "<!doctype html><html><body><h1>Bad Gateway</h1></body></html>";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const unhandled: string[] = [];
// Only what the reason is, never its text: a leaked secret must not reach the test output.
const onUnhandled = (reason: unknown) => void unhandled.push(reason instanceof ClientCredentialsError ? `${reason.code}` : typeof reason);
beforeAll(() => void process.on("unhandledRejection", onUnhandled));
afterAll(async () => {
  await sleep(100);
  process.off("unhandledRejection", onUnhandled);
  expect(unhandled, "unhandled rejections").toEqual([]);
});

// A server per test: a retry a broken client still owes an earlier test cannot land in this one's record.
let srv: FaultyServer;
let sink: Sink;
beforeEach(async () => {
  [srv, sink] = await Promise.all([start({ clientId: CLIENT_ID, clientSecret: SECRET }), startSink()]);
});
afterEach(async () => {
  await Promise.all([srv.close(), sink.close()]);
});

function client(options: Partial<ClientCredentialsOptions> = {}) {
  const events: ClientCredentialsEvent[] = [];
  const onEvent = (event: ClientCredentialsEvent) => void events.push(event);
  const authFetch = withClientCredentials({ clientId: CLIENT_ID, clientSecret: SECRET, timeoutMs: 300, onEvent, ...options })(fetch);
  return { authFetch, events };
}

/** Settles within HANG_MS, or fails saying it hung. */
function bounded<T>(promise: Promise<T>, ms = HANG_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, hung]).finally(() => clearTimeout(timer));
}

/** The rejection of `promise`, checked to be a ClientCredentialsError that leaks no canary. */
async function failure(promise: Promise<unknown>, events: ClientCredentialsEvent[], ms?: number): Promise<ClientCredentialsError> {
  const error = await bounded(promise, ms).then(
    () => new Error("it succeeded"),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ClientCredentialsError);
  expectNoLeak(events, error as Error);
  return error as ClientCredentialsError;
}

/** Names the places a canary showed up in, never the text itself. */
function expectNoLeak(events: ClientCredentialsEvent[], error?: Error): void {
  const places: Record<string, string> = { events: JSON.stringify(events) };
  if (error) {
    places["String(err)"] = String(error);
    places["err.stack"] = error.stack ?? "";
    places["JSON.stringify(err)"] = JSON.stringify(error) ?? "";
    places["String(err.cause)"] = String(error.cause);
  }
  const leaks = Object.entries(places)
    .filter(([, text]) => text.includes(SECRET) || text.includes(BASIC) || text.includes("canary-token-"))
    .map(([place]) => place);
  expect(leaks, "places where the client secret or an access token appeared").toEqual([]);
}

/** The fault has cleared: the next call asks for a new token (nothing was cached) and gets through. */
async function expectRecovery(authFetch: ReturnType<typeof client>["authFetch"]): Promise<void> {
  const before = srv.count("token");
  const response = await bounded(authFetch(srv.url));
  expect(response.status).toBe(200);
  expect(srv.count("token")).toBe(before + 1);
  expect(srv.requests.at(-1)).toMatchObject({ endpoint: "mcp", token: `#${srv.requests.filter((r) => r.issued).length}`, status: 200 });
}

function gap(endpoint: Endpoint): number {
  const [first, second] = srv.requests.filter((r) => r.endpoint === endpoint);
  return second!.at - first!.at;
}

const HTML = { "content-type": "text/html" };

describe("token endpoint faults", () => {
  it.each<[string, string, Behaviour, Partial<ClientCredentialsError>]>([
    ["a connection reset", "network_error", "reset", {}],
    ["headers that never come", "timeout", "stallHeaders", {}],
    ["a body that never ends", "timeout", "stallBody", {}],
    ["500 with an HTML page", "http_error", status(500, HTML, HTML_PAGE), { status: 500 }],
    ["502 with an HTML page", "http_error", status(502, HTML, HTML_PAGE), { status: 502 }],
  ])("%s on every attempt: %s after retries + 1 = 3 attempts", async (_, code, behaviour, fields) => {
    srv.always("token", behaviour);
    const { authFetch, events } = client();
    const error = await failure(authFetch(srv.url), events);
    expect(error).toMatchObject({ phase: "token", code, ...fields });
    expect(srv.count("token")).toBe(3);
    srv.always("token", undefined);
    await expectRecovery(authFetch);
  });

  it("one reset, then an answer: succeeds on the second attempt", async () => {
    srv.script("token", "reset");
    const { authFetch } = client();
    expect((await bounded(authFetch(srv.url))).status).toBe(200);
    expect(srv.count("token")).toBe(2);
  });

  it("a reset in the middle of the body: retried like one before the headers, then network_error", async () => {
    srv.always("token", "resetMidBody");
    const { authFetch, events } = client();
    const error = await failure(authFetch(srv.url), events);
    expect(error).toMatchObject({ phase: "token", code: "network_error" });
    expect(srv.count("token")).toBe(3);
    srv.always("token", undefined);
    await expectRecovery(authFetch);
  });

  it.each<[string, Behaviour, Partial<ClientCredentialsError>]>([
    ["truncated JSON in a 200", "truncatedJson", { code: "invalid_token_response", status: 200 }],
    ["a chunked body over 1 MiB", "huge", { code: "response_too_large" }],
  ])("%s is an answer, not retried: %o", async (_, behaviour, expected) => {
    srv.script("token", behaviour);
    const { authFetch, events } = client();
    const error = await failure(authFetch(srv.url), events);
    expect(error).toMatchObject({ phase: "token", ...expected });
    expect(srv.count("token")).toBe(1);
    await expectRecovery(authFetch);
  });

  it("503 without Retry-After on every attempt: a token-phase error after 3 attempts", async () => {
    srv.always("token", status(503));
    const { authFetch, events } = client();
    const error = await failure(authFetch(srv.url), events);
    expect(error.phase).toBe("token");
    expect(error.code).toBeDefined();
    expect(srv.count("token")).toBe(3);
    srv.always("token", undefined);
    await expectRecovery(authFetch);
  });

  it("503 with Retry-After: 1 on every attempt: retry_later carrying retryAfter, after 3 attempts", async () => {
    srv.always("token", status(503, { "retry-after": "1" }));
    const { authFetch, events } = client();
    const error = await failure(authFetch(srv.url), events);
    expect(error).toMatchObject({ phase: "token", code: "retry_later", retryAfter: 1 });
    expect(srv.count("token")).toBe(3);
  });

  it("429 Retry-After: 1, then an answer: waits the second and succeeds", async () => {
    srv.script("token", status(429, { "retry-after": "1" }));
    const { authFetch } = client();
    expect((await bounded(authFetch(srv.url))).status).toBe(200);
    expect(srv.count("token")).toBe(2);
    expect(gap("token")).toBeGreaterThanOrEqual(950);
  });

  it("429 with an HTTP-date Retry-After ~2 s ahead, then an answer: waits and succeeds", async () => {
    // HTTP dates have whole seconds: 2.5 s ahead is 1.5 to 2.5 s of waiting.
    srv.script("token", status(429, { "retry-after": new Date(Date.now() + 2500).toUTCString() }));
    const { authFetch } = client();
    expect((await bounded(authFetch(srv.url))).status).toBe(200);
    expect(srv.count("token")).toBe(2);
    expect(gap("token")).toBeGreaterThanOrEqual(1000);
  });

  it.each<[string, () => string, Partial<ClientCredentialsOptions>, number]>([
    ["Retry-After: 86400", () => "86400", {}, 86400],
    ["an HTTP date a day ahead", () => new Date(Date.now() + 86_400_000).toUTCString(), {}, 86400],
    ["Retry-After: 2 with retryBudgetMs: 500", () => "2", { retryBudgetMs: 500 }, 2],
  ])("429 with %s beyond the retry budget fails at once with retry_later", async (_, retryAfter, options, seconds) => {
    srv.script("token", status(429, { "retry-after": retryAfter() }));
    const { authFetch, events } = client(options);
    // Well under any wait: the client must not sleep before telling.
    const error = await failure(authFetch(srv.url), events, 1500);
    expect(error).toMatchObject({ phase: "token", code: "retry_later", status: 429 });
    expect(error.retryAfter).toBeGreaterThanOrEqual(seconds - 2);
    expect(error.retryAfter).toBeLessThanOrEqual(seconds);
    expect(srv.count("token")).toBe(1);
    // Honoured without asking again while it lasts; the failure itself cached no token.
    const again = await failure(authFetch(srv.url), events, 1500);
    expect(again).toMatchObject({ phase: "token", code: "retry_later" });
    expect(again.retryAfter).toBeLessThanOrEqual(seconds);
    expect(srv.count("token")).toBe(1);
    if (seconds > 2) return;
    await sleep(seconds * 1000 + 100);
    await expectRecovery(authFetch);
  });

  it("a 307 to another origin is not followed: the client secret never travels there", async () => {
    srv.script("token", redirect(`${sink.origin}/token`));
    const { authFetch, events } = client();
    const error = await failure(authFetch(srv.url), events);
    expect(error).toMatchObject({ phase: "token", code: "redirect", status: 307 });
    expect(srv.count("token")).toBe(1);
    expect(sink.requests).toEqual([]);
    await expectRecovery(authFetch);
  });
});

describe("discovery faults", () => {
  it.each<[Endpoint, string, string, Behaviour]>([
    ["prm", "resets", "network_error", "reset"],
    ["prm", "answers 500", "http_error", status(500, HTML, HTML_PAGE)],
    ["prm", "stalls", "timeout", "stallHeaders"],
    ["as", "resets", "network_error", "reset"],
    ["as", "answers 500", "http_error", status(500, HTML, HTML_PAGE)],
    ["as", "stalls", "timeout", "stallHeaders"],
  ])("metadata endpoint %s %s on every attempt: %s after 3 attempts", async (endpoint, _, code, behaviour) => {
    srv.always(endpoint, behaviour);
    const { authFetch, events } = client();
    const error = await failure(authFetch(srv.url), events);
    expect(error).toMatchObject({ phase: "discovery", code });
    expect(srv.count(endpoint)).toBe(3);
    expect(srv.count("token")).toBe(0);
    srv.always(endpoint, undefined);
    await expectRecovery(authFetch);
  });
});

describe("a valid cached token outlives failing servers", () => {
  // A 10 s token: refreshed in the background from 5 s before expiry, callers wait only in its last 1.25 s.
  // Discovery's 1 s TTL has passed by then, so the refresh also asks for the AS metadata again.
  it.each<[string, Partial<Record<Endpoint, Behaviour>>]>([
    ["AS metadata 500, token endpoint resets", { as: status(500), token: "reset" }],
    ["metadata resets and stalls, token endpoint 503", { prm: "reset", as: "stallHeaders", token: status(503) }],
  ])("%s: every call is served with the same token while the refresh fails", async (_, faults) => {
    srv.tokenLifetime(10);
    const { authFetch, events } = client({ discoveryTtlSeconds: 1 });
    const obtained = Date.now();
    expect((await bounded(authFetch(srv.url))).status).toBe(200);
    for (const [endpoint, behaviour] of Object.entries(faults)) srv.always(endpoint as Endpoint, behaviour);
    const mark = srv.requests.length;
    const [asBefore, tokenBefore] = [srv.count("as"), srv.count("token")];
    await sleep(obtained + 5200 - Date.now());
    for (let i = 0; i < 6; i++) {
      expect((await bounded(authFetch(srv.url))).status).toBe(200);
      await sleep(200);
    }
    const served = srv.requests.slice(mark).filter((r) => r.endpoint === "mcp");
    expect(served.map((r) => `${r.token} ${r.status}`)).toEqual(Array(6).fill("#1 200"));
    // The failing servers were asked (the refresh ran), and nobody saw their failure.
    await bounded(Promise.all([srv.waitFor("as", asBefore + 1), srv.waitFor("token", tokenBefore + 1)]));
    expect(events.some((e) => e.type === "error" && e.phase === "token")).toBe(true);
    expectNoLeak(events);
  });
});

describe("the caller's AbortSignal", () => {
  it("ends a wait for Retry-After at once, and the abandoned retry is never made", async () => {
    srv.script("token", status(429, { "retry-after": "3" }));
    const { authFetch, events } = client();
    const controller = new AbortController();
    const call = authFetch(srv.url, { signal: controller.signal });
    call.catch(() => {});
    await bounded(srv.waitFor("token", 1));
    await sleep(100);
    controller.abort();
    const error = await bounded(call, 2000).then(
      () => new Error("it succeeded"),
      (caught: unknown) => caught,
    );
    expect(error).toBe(controller.signal.reason);
    expect((error as Error).name).toBe("AbortError");
    await sleep(3500);
    expect(srv.count("token")).toBe(1);
    expectNoLeak(events);
  });
});

describe("the resource, through a real socket", () => {
  it("a 307 to another origin is followed without the token", async () => {
    srv.script("mcp", "normal", redirect(sink.url));
    const { authFetch, events } = client();
    const response = await bounded(authFetch(srv.url));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ sink: true });
    expect(srv.requests.filter((r) => r.endpoint === "mcp").map((r) => r.token ?? "none")).toEqual(["none", "#1"]);
    expect(sink.requests).toEqual([expect.objectContaining({ path: "/elsewhere", authorization: false })]);
    expectNoLeak(events);
  });

  it("a 401 on every request: the 401 comes back after one retry with a new token, no loop", async () => {
    const { authFetch, events } = client();
    expect((await bounded(authFetch(srv.url))).status).toBe(200);
    const mark = srv.requests.length;
    const challenge = `Bearer error="invalid_token", resource_metadata="${srv.resourceMetadataUrl}"`;
    srv.always("mcp", status(401, { "www-authenticate": challenge, "content-type": "application/json" }, '{"error":"invalid_token"}'));
    const response = await bounded(authFetch(srv.url));
    expect(response.status).toBe(401);
    expect(
      srv.requests
        .slice(mark)
        .filter((r) => r.endpoint === "mcp")
        .map((r) => r.token),
    ).toEqual(["#1", "#2"]);
    expect(srv.count("token")).toBeLessThanOrEqual(2);
    expectNoLeak(events);
  });
});
