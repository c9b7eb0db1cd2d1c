import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { memoryStore, withClientCredentials } from "../src/index.js";
import { faults } from "../src/msw/index.js";
import { CLIENT_ID, CLIENT_SECRET, useMockServer } from "./helpers.js";

// The first request to a resource nobody has bound yet goes alone; the others wait for its outcome.
const { mock: install, server } = useMockServer();
const options = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
const OPEN = "https://open.example.com/api";

/** An open endpoint (no token needed) that holds its first answer until `release()`, logging arrivals and answers. */
function openEndpoint() {
  const log: string[] = [];
  let release = () => {};
  const first = new Promise<void>((resolve) => {
    release = resolve;
  });
  let arrivals = 0;
  const handler = http.post(OPEN, async ({ request }) => {
    const n = arrivals++;
    log.push(`in ${await request.text()}`);
    if (n === 0) await first;
    log.push(`out ${n}`);
    return HttpResponse.json({ ok: true });
  });
  return { handler, log, release };
}

describe("cold gate", () => {
  it("1,000 concurrent cold requests (POST bodies, Request objects, streams): one 401, every body sent once with the token", async () => {
    const mock = install();
    const authFetch = withClientCredentials(options)(fetch);
    const calls = Array.from({ length: 1000 }, (_, i) => {
      const body = JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/list" });
      if (i % 3 === 1) return authFetch(new Request(mock.resource, { method: "POST", body }));
      if (i % 3 === 2) return authFetch(mock.resource, { method: "POST", body: new Blob([body]).stream(), duplex: "half" } as RequestInit);
      return authFetch(mock.resource, { method: "POST", body });
    });
    const responses = await Promise.all(calls);
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const resource = mock.requestsTo("resource");
    expect(resource.filter((r) => !r.headers.authorization)).toHaveLength(1);
    expect(resource).toHaveLength(1001);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("a resource that needs no token: the others go as soon as the first answers, and later requests do not wait at all", async () => {
    install();
    const open = openEndpoint();
    server.use(open.handler);
    const authFetch = withClientCredentials(options)(fetch);
    const first = authFetch(OPEN, { method: "POST", body: "0" });
    const rest = Array.from({ length: 5 }, (_, i) => authFetch(OPEN, { method: "POST", body: String(i + 1) }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(open.log).toEqual(["in 0"]); // the others wait at the gate
    open.release();
    expect((await Promise.all([first, ...rest])).every((r) => r.status === 200)).toBe(true);
    expect(open.log.slice(0, 2)).toEqual(["in 0", "out 0"]);
    expect(open.log).toHaveLength(12);

    // Known to be open now: concurrent requests arrive together.
    const log = open.log.length;
    const second = openEndpoint();
    server.use(second.handler);
    const together = Array.from({ length: 3 }, (_, i) => authFetch(OPEN, { method: "POST", body: `late ${i}` }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(second.log.filter((line) => line.startsWith("in"))).toHaveLength(3);
    second.release();
    await Promise.all(together);
    expect(open.log).toHaveLength(log);
  });

  it("a first answer that is an error (503) does not mark the resource open: the next cold burst is still gated", async () => {
    const mock = install();
    mock.fault("resource", faults.serverError(503));
    const authFetch = withClientCredentials(options)(fetch);
    expect((await authFetch(mock.resource, { method: "POST", body: "first" })).status).toBe(503);
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => authFetch(mock.resource, { method: "POST", body: String(i) })));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(mock.requestsTo("resource").filter((r) => !r.headers.authorization)).toHaveLength(2); // the 503, then one 401
  });

  it("when the first request fails, the others go on their own", async () => {
    const mock = install();
    mock.fault("resource", faults.networkError());
    const authFetch = withClientCredentials(options)(fetch);
    const [first, ...rest] = await Promise.allSettled(Array.from({ length: 5 }, () => authFetch(mock.resource, { method: "POST", body: "x" })));
    expect(first!.status).toBe("rejected");
    expect(rest.every((r) => r.status === "fulfilled" && r.value.status === 200)).toBe(true);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("a waiter's abort ends its wait at once; clearTokens() releases every waiter", async () => {
    install();
    const open = openEndpoint();
    server.use(open.handler);
    const authFetch = withClientCredentials(options)(fetch);
    const first = authFetch(OPEN, { method: "POST", body: "first" });
    const controller = new AbortController();
    const aborted = authFetch(OPEN, { method: "POST", body: "aborted", signal: controller.signal });
    const waiting = authFetch(OPEN, { method: "POST", body: "waiting" });
    controller.abort();
    await expect(aborted).rejects.toThrow(/abort/i);
    await authFetch.clearTokens();
    expect((await waiting).status).toBe(200); // released before the first answered
    expect(open.log).toContain("in waiting");
    expect(open.log).not.toContain("in aborted");
    open.release();
    expect((await first).status).toBe(200);
  });
});

describe("cold gate across a fleet sharing a store", () => {
  it("5 cold instances × 20 concurrent requests: one 401 in the whole fleet, one discovery, one token", async () => {
    const mock = install();
    mock.fault("resource-metadata", faults.delay(50)); // every instance is in the gate while the first discovers
    const store = memoryStore();
    const fleet = Array.from({ length: 5 }, () => withClientCredentials({ ...options, store })(fetch));
    const responses = await Promise.all(
      fleet.flatMap((authFetch) => Array.from({ length: 20 }, (_, i) => authFetch(mock.resource, { method: "POST", body: String(i) }))),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(mock.requestsTo("resource").filter((r) => !r.headers.authorization)).toHaveLength(1);
    expect(mock.requestsTo("resource-metadata")).toHaveLength(1);
    expect(mock.requestsTo("authorization-server-metadata")).toHaveLength(1);
    expect(mock.requestsTo("token")).toHaveLength(1);
  });

  it("a store without locks gates each instance on its own: one 401 per instance", async () => {
    const mock = install();
    const { acquire: _a, release: _r, ...lockless } = memoryStore();
    const fleet = Array.from({ length: 3 }, () => withClientCredentials({ ...options, store: lockless })(fetch));
    await Promise.all(fleet.flatMap((authFetch) => Array.from({ length: 10 }, () => authFetch(mock.resource))));
    expect(mock.requestsTo("resource").filter((r) => !r.headers.authorization).length).toBeLessThanOrEqual(3);
  });

  it("an instance whose first request finds the resource open does not hold the others: the fleet lock is released", async () => {
    install();
    const open = openEndpoint();
    server.use(open.handler);
    const store = memoryStore();
    const [a, b] = [withClientCredentials({ ...options, store })(fetch), withClientCredentials({ ...options, store })(fetch)];
    const first = a(OPEN, { method: "POST", body: "a" });
    await new Promise((resolve) => setTimeout(resolve, 30));
    const second = b(OPEN, { method: "POST", body: "b" }); // waits on the fleet lock while a's request is out
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(open.log).toEqual(["in a"]);
    open.release();
    expect((await Promise.all([first, second])).map((r) => r.status)).toEqual([200, 200]);
    expect(open.log).toEqual(["in a", "out 0", "in b", "out 1"]);
  });
});
